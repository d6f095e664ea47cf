"""`import sqnsupgrade` on a real MicroPython: the unix-port binary built with this
project as a user C module (`make micropython`) runs tests/micropython/scenario.py,
which drives the simulator over a pty through the familiar API; here we check what the
simulator recorded (byte for byte, no violations) and what MicroPython printed.

    SQN_MICROPYTHON=build/micropython-sqn python3 -m pytest -q tests/python/test_micropython.py
"""

import ast
import os
import re
import subprocess

import pytest

from simtools import (REPO, Sim, changing_commands, last_transfer_bytes, make_dup, make_elf,
                      record_keys, transfer_bytes)

MICROPYTHON = os.environ.get("SQN_MICROPYTHON", str(REPO / "build" / "micropython-sqn"))
SCENARIO = REPO / "tests" / "micropython" / "scenario.py"
# The engine's welcome line (src/messages.txt) with the engine's version (Cargo.toml), as
# the CLI and the Python package print it too.
ENGINE_VERSION = re.search(r'^version = "([^"]+)"', (REPO / "Cargo.toml").read_text(), re.M).group(1)
WELCOME = "<<< Welcome to the SQN3330 firmware updater [%s] >>>\n" % ENGINE_VERSION


def mp(name, sim, *args, timeout=240):
    """Runs a scenario; returns (exit code, output, {tag: value})."""
    if not os.path.exists(MICROPYTHON):
        pytest.fail("no MicroPython binary at %s: run `make micropython` first" % MICROPYTHON)
    env = dict(os.environ, MICROPYPATH=os.environ.get("SQN_SHIM_DIR", str(REPO / "python_shim")))
    done = subprocess.run(
        [MICROPYTHON, str(SCENARIO), name, sim.pty, *map(str, args)],
        capture_output=True, text=True, timeout=timeout, env=env,
    )
    out = done.stdout + done.stderr
    tags = {}
    for line in done.stdout.splitlines():
        if line.startswith("@@"):
            key, _, value = line[2:].partition("=")
            tags[key] = ast.literal_eval(value)
    return done.returncode, out, tags


def assert_clean(log):
    assert log["violations"] == [], log["violations"]


def test_run_fff(tmp_path):
    dup = make_dup(tmp_path, "upgdiff_38638-to-41065.dup", 700_000, "upgdiff_38638-to-41065")
    with Sim(tmp_path / "sim") as sim:
        code, out, t = mp("run", sim, dup)
    assert code == 0 and t["ok"] is True, out
    # Not a Pycom board (the unix port): the welcome line alone.
    assert out.startswith(WELCOME) and ">>> " not in out.splitlines()[1], out
    assert "Sending 700000 bytes: [########################################] 100%" in out
    assert t["result"]["state_after"] == 2 and t["result"]["build_after"] == 41065, t
    assert_clean(sim.log)
    assert sim.log["transfers"][0]["via"] == "AT+SMSTPU"
    assert last_transfer_bytes(sim.log) == dup.read_bytes()


def test_run_on_the_fly(tmp_path):
    dup = make_dup(tmp_path, "CATM1-41065.dup", 900_000)
    with Sim(tmp_path / "sim") as sim:
        code, out, t = mp("run_on_the_fly", sim, dup)
    assert code == 0 and t["ok"] is True, out
    assert "Starting STP ON_THE_FLY" in out
    assert_clean(sim.log)
    assert sim.log["transfers"][0]["via"] == 'AT+SMSTPU="ON_THE_FLY"'
    assert last_transfer_bytes(sim.log) == dup.read_bytes()


def test_run_recovery_with_updater_elf(tmp_path):
    dup = make_dup(tmp_path, "CATM1-41065.dup", 800_000)
    elf = make_elf(tmp_path)
    with Sim(tmp_path / "sim", "--state", "0") as sim:
        code, out, t = mp("run_recovery", sim, dup, elf)
    assert code == 0 and t["ok"] is True, out
    assert "Attempting AT auto-negotiation..." in out
    assert_clean(sim.log)
    assert sim.log["transfers"][0]["via"] == "AT+STP"
    assert transfer_bytes(sim.log, 1) == elf.read_bytes()
    assert transfer_bytes(sim.log, 2) == dup.read_bytes()
    assert sim.log["state"] == 2


@pytest.mark.parametrize("state,line", [
    (0, "Your modem is in recovery mode! Use firmware.dup and updater.elf to flash new firmware."),
    (1, "Your modem is in mTools mode."),
    (2, "Your modem is in application mode. Here is the current version:"),
    (4, "Your modem is in upgrade mode! Use firmware.dup to flash new firmware."),
])
def test_state_and_info_in_every_mode(tmp_path, state, line):
    with Sim(tmp_path / "sim", "--state", str(state)) as sim:
        code, out, t = mp("state", sim)
        assert code == 0 and t["state"] == state, out
        code, out, t = mp("info", sim)
    assert code == 0 and t["ok"] is True, out
    assert line in out
    if state == 2:
        assert "LR5.1.1.0-38638" in out and "IMEI: 354347090000123" in out
        assert t["imei"] == "354347090000123"
    assert_clean(sim.log)
    assert changing_commands(sim.log) == []


def test_uart_prepares_the_modem_in_application_mode(tmp_path):
    with Sim(tmp_path / "sim") as sim:
        code, out, t = mp("uart", sim, "-")
    assert code == 0 and t["ok"] is True and t["state"] == 2, out
    assert "FFH mode is not necessary... ignoring!" in out
    assert_clean(sim.log)
    cmds = [c["cmd"] for c in sim.log["commands"]]
    assert "AT+CFUN=4" in cmds and 'AT+SQNSUPGRADENTF="started"' in cmds, cmds
    assert not any(c.startswith("AT+SMSWBOOT") for c in cmds), cmds
    assert sim.log["transfers"] == []


def test_uart_loads_the_updater_in_recovery_mode(tmp_path):
    elf = make_elf(tmp_path)
    with Sim(tmp_path / "sim", "--state", "0") as sim:
        code, out, t = mp("uart", sim, elf)
    assert code == 0 and t["ok"] is True and t["state"] == 1, out
    assert_clean(sim.log)
    assert transfer_bytes(sim.log, 1) == elf.read_bytes()


def test_heap_locked_multi_megabyte_on_the_fly(tmp_path):
    dup = make_dup(tmp_path, "NB1-41019.dup", 5_835_531, "NB1-41019")
    with Sim(tmp_path / "sim") as sim:
        code, out, t = mp("heap_lock", sim, dup)
    assert code == 0 and t["status"] == 0, out
    assert "MemoryError" not in out
    assert "Sending 5835531 bytes: [########################################] 100%" in out
    assert t["progress"] == (5_835_531, 5_835_531)
    assert_clean(sim.log)
    assert last_transfer_bytes(sim.log) == dup.read_bytes()


@pytest.mark.parametrize("scenario", ["ctrl_c_progress", "ctrl_c_stream"])
def test_ctrl_c_from_callback_or_stream_read(tmp_path, scenario):
    dup = make_dup(tmp_path, "CATM1-41065.dup", 900_000)
    with Sim(tmp_path / "sim") as sim:
        code, out, t = mp(scenario, sim, dup)
    assert code == 0, out
    assert t["raised"] == "KeyboardInterrupt", out
    assert t["state"] == 4, out  # interrupted after the switch: upgrade mode, and it answers
    assert_clean(sim.log)
    # The same four lines as the CLI's, printed before the KeyboardInterrupt propagates,
    # and the same record as on a computer.
    r = t["result"]
    assert set(r) == RECORD_KEYS, r
    assert r["status"] == 130 and r["ok"] is False and r["modem_changed"] is True, r
    assert r["bytes"] > 0, r
    assert r["state_after"] == 4 and r["modem"] == "4 upgrade mode", r
    lines = four_lines(out)
    assert lines["error"] == "stopped by the user", out
    assert lines["modem"] == "4 upgrade mode", out
    assert lines["hint"].startswith("the modem waits in upgrade mode"), out
    assert lines["next"] == r["next"] and lines["next"].startswith("sqnsupgrade.run("), out
    assert "load_fff=False" in lines["next"] and "port='%s'" % sim.pty in lines["next"], out


RECORD_KEYS = set(record_keys())


def test_a_call_from_a_callback_is_refused_and_leaves_the_running_call_alone(tmp_path):
    dup = make_dup(tmp_path, "CATM1-41065.dup", 900_000)
    with Sim(tmp_path / "sim") as sim:
        code, out, t = mp("nested_call", sim, dup)
    assert code == 0, out
    ok, inner = t["inner"]
    assert ok is False and inner["status"] == 3, t["inner"]
    assert inner["error"] == "another sqnsupgrade call is running", inner
    # The outer call's record was written whole at its end, with its own texts (the glue
    # keeps them in one buffer: the refused call must not have written over them).
    r = t["result"]
    assert t["raised"] == "KeyboardInterrupt" and r["status"] == 130, out
    assert r["error"] == "stopped by the user" and r["modem"] == "4 upgrade mode", r
    assert r["next"] == "sqnsupgrade.run('%s', load_fff=False, port='%s')" % (dup, sim.pty), r
    assert four_lines(out)["next"] == r["next"], out
    assert_clean(sim.log)


def on_a_board(tmp_path, sim, code, timeout=120):
    """Runs `code` as a Pycom GPy would (tests/micropython/board_standins.py, installed
    first: UART 1 is the simulator's pty, network.LTE counts reconnect_uart(), os.uname()
    names a GPy); returns (exit code, output, {tag: value}) as mp() does."""
    script = tmp_path / "board.py"
    script.write_text("import sys\nimport board_standins\n\nboard_standins.install(sys.argv[1])\n"
                      "\n\ndef show(tag, value):\n    print('@@%s=%r' % (tag, value))\n\n\n" + code)
    flash = tmp_path / "flash"
    flash.mkdir()
    shim = os.environ.get("SQN_SHIM_DIR", str(REPO / "python_shim"))
    env = dict(os.environ, SQN_MODEM=sim.pty,
               MICROPYPATH="%s:%s" % (shim, REPO / "tests" / "micropython"))
    done = subprocess.run([MICROPYTHON, str(script), str(flash)], capture_output=True, text=True,
                          timeout=timeout, env=env)
    tags = {}
    for line in done.stdout.splitlines():
        if line.startswith("@@"):
            key, _, value = line[2:].partition("=")
            tags[key] = ast.literal_eval(value)
    return done.returncode, done.stdout + done.stderr, tags


IMEI_AND_INFO = """
import os
import sqnsupgrade
from network import LTE

show("version", sqnsupgrade.VERSION)
show("imei", sqnsupgrade.imei())
show("lte_imei", LTE.reconnects)
show("imei_kept", sqnsupgrade.imei(hangup=False))
show("lte_imei_kept", LTE.reconnects)
show("imei_port", sqnsupgrade.imei(port=os.getenv("SQN_MODEM")))
show("lte_imei_port", LTE.reconnects)
show("info", sqnsupgrade.info())
show("lte_info", LTE.reconnects)
"""


def test_imei_gives_the_uart_back_to_the_lte_driver_as_info_does(tmp_path):
    with Sim(tmp_path / "sim") as sim:
        code, out, t = on_a_board(tmp_path, sim, IMEI_AND_INFO)
    assert code == 0 and t["info"] is True, out
    assert t["imei"] == t["imei_kept"] == t["imei_port"] == "354347090000123", out
    # hangup=True (the default): the UART 1 it opened goes back to the LTE driver, as after
    # info() and run(); hangup=False keeps it; a port= the caller gave is not the driver's.
    assert t["lte_imei"] == 1 and t["lte_imei_kept"] == 1 and t["lte_imei_port"] == 1, out
    assert t["lte_info"] == 2, out
    assert_clean(sim.log)
    assert changing_commands(sim.log) == []


def test_the_welcome_line_on_a_board_is_the_engines(tmp_path):
    with Sim(tmp_path / "sim") as sim:
        code, out, t = on_a_board(tmp_path, sim, IMEI_AND_INFO)
    assert code == 0 and t["info"] is True, out
    # info() alone says it (imei() is quiet), then the line naming the board (os.uname()).
    assert out.count("<<< Welcome") == 1, out
    assert WELCOME + ">>> GPy with firmware version 1.20.2.r6\n" in out, out
    assert t["version"] == ENGINE_VERSION, out


def four_lines(out):
    """The failure lines MicroPython printed: {'error': ..., 'hint': ..., 'modem': ..., 'next': ...}."""
    lines = {}
    for line in out.splitlines():
        key, sep, value = line.partition(": ")
        if sep and key in ("error", "hint", "modem", "next"):
            lines[key] = value
    assert set(lines) == {"error", "hint", "modem", "next"}, out
    return lines


def test_exception_from_stream_surfaces(tmp_path):
    dup = make_dup(tmp_path, "CATM1-41065.dup", 900_000)
    with Sim(tmp_path / "sim") as sim:
        code, out, t = mp("stream_raises", sim, dup)
    assert code == 0, out
    assert t["raised"] == "ValueError: stream broke", out
    assert t["state"] in (2, 4), out
    # The stream's exception is not a Ctrl-C: a failed read, the state, a next step that
    # asks for the stream again.
    lines = four_lines(out)
    assert lines["error"] == "the image could not be read", out
    assert t["result"]["status"] == 1, t["result"]
    assert lines["next"].startswith("sqnsupgrade.run(<the image stream, from its start>, size=900000"), out


def test_info_over_a_link_that_raises(tmp_path):
    dup = make_dup(tmp_path, "CATM1-41065.dup", 9000)
    with Sim(tmp_path / "sim") as sim:
        code, out, t = mp("info_link_raises", sim, dup)
    assert code == 0, out
    assert t["raised"] == "ValueError: link broke", out
    lines = four_lines(out)
    assert lines["error"] == "the serial link to the modem failed", out
    assert lines["modem"] == "not changed", out
    assert lines["next"] == "sqnsupgrade.info()", out
    r = t["result"]
    assert set(r) == RECORD_KEYS and r["status"] == 1 and r["command"] == "info", r


def test_state_over_a_link_known_only_by_its_fileno(tmp_path):
    # The unix port's files in MicroPython 1.11 answer neither MP_STREAM_POLL nor
    # MP_STREAM_GET_FILENO, only fileno(): the glue must wait on that descriptor. In
    # recovery mode the modem does not answer AT, and a read of the pty without waiting
    # would block for ever.
    with Sim(tmp_path / "sim", "--state", "0") as sim:
        code, out, t = mp("state_fileno_link", sim, timeout=60)
    assert code == 0 and t["state"] == 0, out


def test_streamed_update_from_bytesio(tmp_path):
    dup = make_dup(tmp_path, "CATM1-41065.dup", 1_500_000)
    with Sim(tmp_path / "sim") as sim:
        code, out, t = mp("bytesio", sim, dup)
    assert code == 0 and t["ok"] is True, out
    assert_clean(sim.log)
    assert last_transfer_bytes(sim.log) == dup.read_bytes()


def _bytes(folder, name, data):
    p = folder / name
    p.write_bytes(data)
    return p


def _html(folder):
    p = folder / "CATM1-41065.dup"
    p.write_bytes(b"<!DOCTYPE html>\n<html lang=\"en\">" + b" " * 4000)
    return p


BAD_INPUTS = {
    "missing": (lambda d: ([d / "nothere" / "CATM1-41065.dup"], []), "file not found"),
    "html": (lambda d: ([_html(d)], []), "looks like a web page (HTML)"),
    "too_small": (lambda d: ([make_dup(d, "CATM1-41065.dup", 100, "x")], []), "too small to be firmware"),
    "not_dup": (lambda d: ([_bytes(d, "CATM1-41065.dup", b"\x55" * 1000)], []), "does not start with UPGR"),
    "elf_as_firmware": (lambda d: ([make_elf(d, 5000), make_dup(d, "x.dup", 5000)], ["--state", "0"]),
                        "is updater.elf, given where the .dup goes"),
    "updater_not_elf": (lambda d: ([make_dup(d, "CATM1-41065.dup", 5000), _bytes(d, "updater.elf", b"\x01" * 3000)], ["--state", "0"]),
                        "is not an ELF file"),
    "fff_too_big": (lambda d: ([make_dup(d, "CATM1-41065.dup", 4 * 1024 * 1024 + 1), "-", "fff"], []),
                    "too big for FFF"),
    "dup_as_updater": (lambda d: ([make_dup(d, "a.dup", 5000), make_dup(d, "b.dup", 5000)], ["--state", "0"]),
                       "is a .dup image, given where updater.elf goes"),
    "diff_with_updater": (lambda d: ([make_dup(d, "upgdiff_38638-to-41065.dup", 5000, "upgdiff_38638-to-41065"), make_elf(d)], []),
                          "is an upgdiff, which is never used with updater.elf"),
    "diff_from_mismatch": (lambda d: ([make_dup(d, "upgdiff_33080-to-41065.dup", 5000, "upgdiff_33080-to-41065")], []),
                           "upgdiff from build 33080, but the modem runs build 38638"),
    "recovery_without_updater": (lambda d: ([make_dup(d, "CATM1-41065.dup", 5000)], ["--state", "0"]),
                                 "Your modem is in recovery mode! Use firmware.dup and updater.elf"),
    "bootrom_needed": (lambda d: ([make_dup(d, "CATM1-41065.dup", 5000), make_elf(d)], ["--bootloader0", "33080"]),
                       "Unable to upgrade bootrom."),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_inputs_give_clear_errors(tmp_path, case):
    build, expected = BAD_INPUTS[case]
    files, sim_args = build(tmp_path)
    with Sim(tmp_path / "sim", *sim_args) as sim:
        code, out, t = mp("bad_input", sim, *files)
    assert code == 0 and t["ok"] is False, out
    assert expected in t["result"]["error"], out
    assert "error: " in out and "hint: " in out and "modem: not changed" in out, out
    assert t["result"]["status"] == 2
    assert changing_commands(sim.log) == [], sim.log["commands"]
