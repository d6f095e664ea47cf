"""The module's ESP32 library on an emulated Xtensa core (`make xtensa`).

The board (tests/xtensa/board, QEMU lx60-nommu with the de212 core: the windowed register
ABI of the ESP32) links build/cross/xtensa-esp32/libsqnsupgrade.a exactly as `make cross`
ships it, with GNU ld. Each test runs one call of the module against the simulator, as
`_sqnsupgrade.call` makes it on a firmware, and checks what the simulator recorded: the
images byte for byte, no protocol violation, and for the calls that must not change the
modem, no changing command. After every call the board says how deep the module went
below the stack pointer it was called with (painted, with every register window spilled
to its save area at each call into the board): within the module's 4 KiB share.
"""

import re
import time

import pytest

from simtools import changing_commands, make_dup, make_elf, transfer_bytes
from xtensatools import XtensaSim, board, missing_tools, start_board

MODULE_BUDGET = 4 * 1024
SIZE = 300_000


@pytest.fixture(autouse=True)
def _tools():
    why = missing_tools()
    if why:
        pytest.fail(why)


def assert_within_budget(run, what):
    print("%s: module's stack share %d bytes (painted, windows spilled)" % (what, run.stack))
    assert 0 < run.stack <= MODULE_BUDGET, run.output


@pytest.mark.parametrize("method", ["--fff", "--on-the-fly"])
def test_run_byte_for_byte(tmp_path, method):
    image = make_dup(tmp_path, "CATM1-41065.dup", SIZE)
    with XtensaSim(tmp_path / "sim") as sim:
        run = board(sim, "run", str(image), method)
    assert run.status == 0, run.output
    assert "Upgrade completed!" in run.output
    assert re.search(r"Sending %d bytes: \[#{40}\] 100%%" % SIZE, run.output), run.output
    assert "LR5.1.1.0-41065" in run.output
    r = run.result
    assert (r["state_before"], r["state_after"]) == (2, 2), r
    assert (r["build_before"], r["build_after"], r["bytes"]) == (38638, 41065, SIZE), r
    assert r["method"] == ("FFF" if method == "--fff" else "ON_THE_FLY"), r
    assert transfer_bytes(sim.log, 1) == image.read_bytes()
    assert sim.log["violations"] == []
    stpu = [c["cmd"] for c in sim.log["commands"] if c["cmd"].startswith("AT+SMSTPU")]
    assert stpu == (["AT+SMSTPU"] if method == "--fff" else ['AT+SMSTPU="ON_THE_FLY"']), stpu
    assert_within_budget(run, "run %s" % method)


def test_recovery_with_updater_elf(tmp_path):
    image = make_dup(tmp_path, "CATM1-41065.dup", 200_000)
    elf = make_elf(tmp_path, 60_000)
    with XtensaSim(tmp_path / "sim", "--state", "0") as sim:
        run = board(sim, "run", str(image), "--updater", str(elf))
    assert run.status == 0, run.output
    assert "Upgrader loaded successfully" in run.output, run.output
    assert (run.result["state_before"], run.result["state_after"]) == (0, 2), run.result
    assert transfer_bytes(sim.log, 1) == elf.read_bytes()
    assert transfer_bytes(sim.log, 2) == image.read_bytes()
    assert sim.log["violations"] == []
    # (The rate changes of recovery are not seen here: this UART cannot show the simulator
    # 921600, so it understands any rate and answers the first try. test_mcu_module.py
    # checks them on the Cortex-M3 board, whose UART can.)
    assert_within_budget(run, "run recovery")


def test_a_corrupted_reply_is_resent_and_the_image_arrives_whole(tmp_path):
    image = make_dup(tmp_path, "CATM1-41065.dup", SIZE)
    with XtensaSim(tmp_path / "sim", "--fault", "corrupt-reply@block=5") as sim:
        run = board(sim, "run", str(image), "--on-the-fly")
    assert run.status == 0, run.output
    transfer = sim.log["transfers"][0]
    assert transfer["resends"] >= 1, transfer
    assert transfer_bytes(sim.log, 1) == image.read_bytes()
    assert sim.log["violations"] == []
    assert_within_budget(run, "run with a corrupted reply")


def test_a_reboot_mid_transfer_says_upgrade_mode_and_the_next_run_completes(tmp_path):
    image = make_dup(tmp_path, "CATM1-41065.dup", SIZE)
    with XtensaSim(tmp_path / "sim", "--fault", "reboot@block=10") as sim:
        failed = board(sim, "run", str(image), "--on-the-fly")
        again = board(sim, "run", str(image))
    assert failed.status == 1, failed.output
    assert "modem: 4 upgrade mode" in failed.output, failed.output
    assert "next: sqnsupgrade.run('%s', load_fff=False)" % image in failed.output, failed.output
    assert failed.result["state_after"] == 4, failed.result
    assert again.status == 0, again.output
    assert again.result["state_before"] == 4 and again.result["state_after"] == 2
    assert transfer_bytes(sim.log, len(sim.log["transfers"])) == image.read_bytes()
    assert sim.log["violations"] == []
    assert_within_budget(failed, "run that failed")


@pytest.mark.parametrize("state", [2, 0, 4])
def test_info_and_state(tmp_path, state):
    with XtensaSim(tmp_path / "sim", "--state", str(state)) as sim:
        info = board(sim, "info")
        st = board(sim, "state")
    assert info.status == 0 and st.status == 0, info.output + st.output
    line = {
        2: "Your modem is in application mode. Here is the current version:",
        0: "Your modem is in recovery mode! Use firmware.dup and updater.elf to flash new firmware.",
        4: "Your modem is in upgrade mode! Use firmware.dup to flash new firmware.",
    }[state]
    assert line in info.output, info.output
    if state == 2:
        assert "LR5.1.1.0-38638" in info.output and "IMEI: 354347090000123" in info.output
        assert info.result["imei"] == "354347090000123"
    assert st.result["state_after"] == state, st.result
    assert changing_commands(sim.log) == []
    assert_within_budget(info, "info() state %d" % state)
    assert_within_budget(st, "state() state %d" % state)


def test_ctrl_c_during_a_transfer_then_state_works(tmp_path):
    image = make_dup(tmp_path, "CATM1-41065.dup", 2_000_000)
    with XtensaSim(tmp_path / "sim") as sim:
        proc = start_board(sim, "run", str(image), "--on-the-fly")
        seen = b""
        deadline = time.monotonic() + 120
        while b"Sending 2000000 bytes: [#" not in seen and time.monotonic() < deadline:
            chunk = proc.stdout.read(1)
            if not chunk:
                break
            seen += chunk
        proc.stdin.write(b"\x03")
        proc.stdin.flush()
        rest, _ = proc.communicate(timeout=120)
        out = (seen + rest).decode("utf-8", "replace")
        after = board(sim, "state")
    assert proc.returncode == 130, out
    assert "EXCEPTION KeyboardInterrupt" in out, out
    assert "modem: 4 upgrade mode" in out, out
    assert after.status == 0 and after.result["state_after"] == 4, after.output
    assert sim.log["violations"] == [], sim.log["violations"]


@pytest.mark.parametrize("bad", ["html", "missing", "elf_as_firmware"])
def test_bad_input_is_refused_without_touching_the_modem(tmp_path, bad):
    if bad == "html":
        path = tmp_path / "CATM1-41065.dup"
        path.write_bytes(b"<!DOCTYPE html><html>" + bytes(300_000))
    elif bad == "elf_as_firmware":
        path = make_elf(tmp_path, 300_000)
    else:
        path = tmp_path / "nothing-here.dup"
    with XtensaSim(tmp_path / "sim") as sim:
        run = board(sim, "run", str(path))
    assert run.status == 2, run.output
    assert "error: " in run.output and "modem: not changed" in run.output, run.output
    assert run.result["modem_changed"] is False
    assert sim.log["commands"] == [], "the modem was not even asked: the file came first"


def test_the_board_links_the_shipped_library_with_no_panic_path():
    import subprocess
    import sys

    from simtools import REPO

    sys.path.insert(0, str(REPO / "scripts"))
    from cross_report import PANIC_RE  # noqa: E402

    board_map = (REPO / "build" / "xtensa" / "board.map").read_text()
    shipped = REPO / "build" / "cross" / "xtensa-esp32" / "libsqnsupgrade.a"
    assert "%s(sqnsupgrade.o)" % shipped in board_map, "the board must link make cross's library"
    names = subprocess.run(["xtensa-lx106-elf-nm", "-C", str(REPO / "build" / "xtensa" / "board.elf")],
                           capture_output=True, text=True, check=True).stdout
    assert "sqnsupgrade::" in names, "demangled Rust names: the check below can see them"
    panics = [line for line in names.splitlines() if PANIC_RE.search(line)]
    assert panics == [], panics


def test_the_digest_is_checked_where_the_engine_decides(tmp_path):
    import hashlib

    image = make_dup(tmp_path, "CATM1-41065.dup", SIZE)
    right = hashlib.sha256(image.read_bytes()).hexdigest()
    wrong = "0" * 64
    # FFF: the image is stored, then its digest differs: no AT+SMUPGRADE, the old build.
    with XtensaSim(tmp_path / "sim-fff") as sim:
        fff = board(sim, "run", str(image), "--fff", "--sha256", wrong)
    assert fff.status == 1, fff.output
    assert "is not the image the SHA-256 given names" in fff.output, fff.output
    assert "modem: 2 application mode" in fff.output, fff.output
    cmds = [c["cmd"] for c in sim.log["commands"]]
    assert "AT+SMSTPU" in cmds and "AT+SMUPGRADE" not in cmds, cmds
    assert sim.log["software_build"] == 38638 and sim.log["violations"] == []
    # ON_THE_FLY: checked whole before anything changes the modem.
    with XtensaSim(tmp_path / "sim-otf") as sim:
        otf = board(sim, "run", str(image), "--on-the-fly", "--sha256", wrong)
    assert otf.status == 2 and "modem: not changed" in otf.output, otf.output
    assert changing_commands(sim.log) == []
    # The right digest: read ahead, back to where reading was, then byte for byte.
    with XtensaSim(tmp_path / "sim-right") as sim:
        ok = board(sim, "run", str(image), "--on-the-fly", "--sha256", right)
    assert ok.status == 0, ok.output
    assert transfer_bytes(sim.log, 1) == image.read_bytes()
    assert_within_budget(ok, "run with a digest checked ahead")
