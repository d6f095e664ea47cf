"""The CPython shim (python_shim/sqnsupgrade.py) against the modem simulator.

The shim drives the Rust engine in target/debug/libsqnsupgrade_host.so (built by `cargo build`,
run here when missing) through ctypes; the simulator is target/debug/sqnsim, started as
tests/common/mod.rs starts it (first stdout line JSON with pty and record, SIGTERM to stop,
its log in RECORD/log.json).

    python3 -m pytest -q tests/python/test_cpython_shim.py
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import simtools
from simtools import REPO, SIM, Sim, last_transfer_bytes

LIB = REPO / "target" / "debug" / "libsqnsupgrade_host.so"
SHIM_DIR = REPO / "python_shim"
FFF_LIMIT = 4 * 1024 * 1024


def _build():
    if SIM.exists() and LIB.exists():
        return
    done = subprocess.run(["cargo", "build", "--workspace"], cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0 or not (SIM.exists() and LIB.exists()):
        pytest.fail("cargo build failed:\n" + done.stderr[-3000:])


@pytest.fixture(scope="session")
def shim():
    _build()
    os.environ["SQNSUPGRADE_LIB"] = str(LIB)
    sys.path.insert(0, str(SHIM_DIR))
    try:
        import sqnsupgrade
    finally:
        sys.path.remove(str(SHIM_DIR))
    return sqnsupgrade


@pytest.fixture
def start_sim(tmp_path, shim):
    sims = []

    def start(*args):
        sim = Sim(tmp_path / ("sim%d" % len(sims)), *args)
        sims.append(sim)
        return sim

    yield start
    for sim in sims:
        sim.stop()


def make_dup(path, size, description="CATM1-41065"):
    return str(simtools.make_dup(Path(path).parent, Path(path).name, size, description))


def last_transfer(log):
    return last_transfer_bytes(log)


def assert_untouched(log):
    changing = [c for c in log.get("commands", []) if c.get("changes_modem")]
    assert changing == [], changing
    assert not log.get("transfers"), log.get("transfers")


BAR = "[" + "#" * 40 + "] 100%"


# ----- (a) a normal update -------------------------------------------------------------


def test_run_sends_the_image_byte_for_byte(shim, start_sim, tmp_path, capsys):
    sim = start_sim("--upgrade-ms", "300")
    dup = make_dup(tmp_path / "CATM1-41065.dup", 300_000)
    assert shim.run(sim.pty, dup) is True
    out = capsys.readouterr().out
    assert out.startswith("<<< Welcome to the SQN3330 firmware updater [%s] >>>\n" % shim.VERSION)
    assert "Attempting AT wakeup..." in out
    assert "Sending 300000 bytes: " + BAR + "\n" in out
    assert "Upgrade completed!" in out
    assert "LR5.1.1.0-41065" in out
    assert "error:" not in out
    log = sim.stop()
    assert last_transfer(log) == Path(dup).read_bytes()
    assert log["violations"] == []
    assert log["software_build"] == 41065


# ----- (b) a big image goes ON_THE_FLY by itself ---------------------------------------------


def test_big_image_goes_on_the_fly(shim, start_sim, tmp_path, capsys):
    sim = start_sim("--upgrade-ms", "300")
    size = 5 * 1000 * 1000
    assert size > FFF_LIMIT
    dup = make_dup(tmp_path / "CATM1-41065.dup", size)
    assert shim.run(sim.pty, dup) is True
    out = capsys.readouterr().out
    assert "Firmware file is too big to load via FFF method. Using ON_THE_FLY" in out
    assert "Sending %d bytes: %s" % (size, BAR) in out
    assert shim.last_result()["method"] == "ON_THE_FLY"
    log = sim.stop()
    assert "ON_THE_FLY" in log["transfers"][-1]["via"]
    assert any(c["cmd"] == "AT+SMSWBOOT=3,1" for c in log["commands"])
    assert last_transfer(log) == Path(dup).read_bytes()
    assert log["violations"] == []


def test_load_fff_false_and_force_fff(shim, start_sim, tmp_path, capsys):
    sim = start_sim("--upgrade-ms", "200")
    small = make_dup(tmp_path / "CATM1-41065.dup", 200_000)
    assert shim.run(sim.pty, small, load_fff=False, fc=True) is True
    out = capsys.readouterr().out
    assert "flow control is not supported; continuing without" in out
    assert shim.last_result()["method"] == "ON_THE_FLY"
    # FFF forced for a file over 4 MiB: refused before the modem is touched.
    big = make_dup(tmp_path / "big.dup", FFF_LIMIT + 1000)
    commands_before = len(sim.current_log()["commands"])
    assert shim.run(sim.pty, big, force_fff=True) is False
    out = capsys.readouterr().out
    assert "too big for FFF" in out
    assert shim.last_result()["status"] == 2
    log = sim.stop()
    assert not [c for c in log["commands"][commands_before:] if c["changes_modem"]]
    assert len(log["transfers"]) == 1
    assert log["violations"] == []


# ----- (c) state and info -------------------------------------------------------------------


@pytest.mark.parametrize(
    "number, name, line",
    [
        (2, "application mode (FFF)", "Your modem is in application mode. Here is the current version:"),
        (4, "upgrade mode", "Your modem is in upgrade mode! Use firmware.dup to flash new firmware."),
    ],
)
def test_state_and_info(shim, start_sim, capsys, number, name, line):
    sim = start_sim("--state", str(number))
    assert shim.state(sim.pty) == number
    assert capsys.readouterr().out == "%d %s\n" % (number, name)
    shim.info(sim.pty)
    out = capsys.readouterr().out
    assert out.startswith(line + "\n")
    result = shim.last_result()
    assert result["ok"] and result["state_after"] == number
    if number == 2:
        assert "UE5.0.0.0d\nLR5.1.1.0-38638\nIMEI: 354347090000123\n" in out
        assert result["build_after"] == 38638
        assert result["imei"] == "354347090000123"
    else:
        assert "IMEI" not in out
    shim.version(sim.pty)
    assert capsys.readouterr().out == out
    log = sim.stop()
    assert_untouched(log)
    assert log["violations"] == []


def test_verbose_info_prints_the_version_block(shim, start_sim, capsys):
    sim = start_sim()
    shim.info(sim.pty, verbose=True, debug=True)
    out = capsys.readouterr().out
    assert "Software" in out and "[38638]" in out
    assert "[debug] " in out


# ----- (d) bad input --------------------------------------------------------------------------


def test_html_file_is_refused_before_the_modem_is_touched(shim, start_sim, tmp_path, capsys):
    sim = start_sim()
    page = tmp_path / "CATM1-41065.dup"
    page.write_text(
        "<!DOCTYPE html>\n<html><head><title>Firmware download</title></head>\n<body>"
        + "<a href='CATM1-41065.dup'>download</a>" * 10
        + "</body></html>\n"
    )
    assert shim.run(sim.pty, str(page)) is False
    out = capsys.readouterr().out
    assert "error: %s: firmware image: looks like a web page (HTML), not the file\n" % page in out
    assert "hint: download the file itself, not the page that links to it\n" in out
    assert "modem: not changed\n" in out
    # The call that continues runs as printed, once the file is right.
    assert "next: sqnsupgrade.run(%r, %r)\n" % (sim.pty, str(page)) in out
    result = shim.last_result()
    assert result["status"] == 2 and not result["modem_changed"]
    log = sim.stop()
    assert_untouched(log)


def test_missing_file_and_bad_port(shim, start_sim, tmp_path, capsys):
    sim = start_sim()
    assert shim.run(sim.pty, str(tmp_path / "nope.dup")) is False
    assert "firmware image: file not found" in capsys.readouterr().out
    dup = make_dup(tmp_path / "CATM1-41065.dup", 1000)
    assert shim.run(str(tmp_path / "no-such-tty"), dup) is False
    out = capsys.readouterr().out
    assert "error: %s: there is no such serial port" % (tmp_path / "no-such-tty") in out
    assert "modem: not changed\n" in out
    # A port that cannot be opened is a bad input: nothing was changed.
    assert shim.last_result()["status"] == 2
    assert_untouched(sim.stop())


def test_silent_modem(shim, start_sim, tmp_path, capsys):
    sim = start_sim("--fault", "silent")
    dup = make_dup(tmp_path / "CATM1-41065.dup", 1000)
    assert shim.run(sim.pty, dup) is False
    out = capsys.readouterr().out
    assert "error: Cannot determine modem state!" in out
    assert "modem: not changed\n" in out
    assert "hint: unplug the board's power" in out
    assert "next: sqnsupgrade.state(%r)\n" % sim.pty in out
    assert shim.last_result()["status"] == 1


# ----- (e) last_result after success ------------------------------------------------------------


def test_last_result_after_success(shim, start_sim, tmp_path, capsys):
    sim = start_sim("--upgrade-ms", "200")
    size = 250_000
    dup = make_dup(tmp_path / "CATM1-41065.dup", size)
    assert shim.run(sim.pty, dup) is True
    capsys.readouterr()
    result = shim.last_result()
    seconds = result.pop("seconds")
    assert 0 < seconds < 30
    assert result == {
        "ok": True,
        "status": 0,
        "command": "run",
        "state_before": 2,
        "state_after": 2,
        "modem_changed": True,
        "method": "FFF",
        "build_before": 38638,
        "build_after": 41065,
        "firmware": "LR5.1.1.0-41065",
        "imei": "354347090000123",
        "bytes": size,
        "error": "",
        "hint": "",
        "modem": "",
        "next": "",
    }
    # A copy: changing it changes nothing.
    result["ok"] = False
    assert shim.last_result()["ok"] is True


# ----- Ctrl-C ---------------------------------------------------------------------------------


class _InterruptOnTransfer:
    """stdout that sends SIGINT to this process when the progress bar starts."""

    def __init__(self, out):
        self.out = out
        self.sent = False

    def write(self, text):
        if not self.sent and text.startswith("Sending "):
            self.sent = True
            os.kill(os.getpid(), signal.SIGINT)
        return self.out.write(text)

    def flush(self):
        self.out.flush()


def test_ctrl_c_cancels_and_next_continues(shim, start_sim, tmp_path, capsys, monkeypatch):
    sim = start_sim("--upgrade-ms", "300")
    dup = make_dup(tmp_path / "CATM1-41065.dup", 5 * 1000 * 1000)
    monkeypatch.setattr(sys, "stdout", _InterruptOnTransfer(sys.stdout))
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        shim.run(sim.pty, dup)
    assert time.monotonic() - started < 10
    monkeypatch.undo()
    out = capsys.readouterr().out
    assert "error: stopped by the user\n" in out
    result = shim.last_result()
    assert result["status"] == 130 and result["modem_changed"]
    assert result["next"] == "sqnsupgrade.run(%r, %r)" % (sim.pty, dup)
    assert shim.state(sim.pty) == 4  # upgrade mode, as the failure said
    # The engine closed the STP session on Ctrl-C and the simulator then "flashes" what it
    # got for --upgrade-ms; a resume sent meanwhile is refused (the engine does not poll
    # AT+SMUPGRADE? before resuming), so wait for the simulator's verdict, as a user would.
    deadline = time.monotonic() + 5
    while (sim.current_log().get("result") or {}).get("upgrade") not in ("success", "fail"):
        assert time.monotonic() < deadline, "the simulator never finished flashing"
        time.sleep(0.05)
    # The command printed after `next:` continues the update.
    assert eval(result["next"], {"sqnsupgrade": shim}) is True
    log = sim.stop()
    assert last_transfer(log) == Path(dup).read_bytes()
    assert log["transfers"][-1]["complete"] is True
    assert log["software_build"] == 41065


# ----- the library lookup ---------------------------------------------------------------------


def test_missing_library_says_how_to_build_it(tmp_path):
    env = dict(os.environ, SQNSUPGRADE_LIB=str(tmp_path / "libsqnsupgrade_host.so"))
    done = subprocess.run(
        [sys.executable, "-c", "import sqnsupgrade"],
        cwd=SHIM_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert "ImportError" in done.stderr
    assert "cargo build --release" in done.stderr
