"""The Python package on a computer (`pip install .`: the Rust extension module
`sqnsupgrade`, host/src/py.rs, and the `sqnsupgrade` console script) against the modem
simulator.

`make python-package` builds the wheel with maturin, installs it into a fresh virtual
environment (build/venv-test) and runs this file with that environment's Python, so that
`import sqnsupgrade` is the installed package (never python_shim/, the board's module).
By hand, from the repository's root:

    build/venv-test/bin/python -m pytest -q tests/python/test_cpython_shim.py

Without the package installed the file is skipped (a failure when SQN_REQUIRE_PACKAGE is
set, as `make python-package` does). The simulator is target/debug/sqnsim (built here when
missing), started as tests/common/mod.rs starts it (first stdout line JSON with pty and
record, SIGTERM to stop, its log in RECORD/log.json).
"""

import os
import select
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import simtools
from simtools import REPO, SIM, Sim, last_transfer_bytes

SHIM_DIR = REPO / "python_shim"
FFF_LIMIT = 4 * 1024 * 1024

try:
    import sqnsupgrade as _package
except ImportError as e:
    if os.environ.get("SQN_REQUIRE_PACKAGE"):
        raise
    pytest.skip(
        "the sqnsupgrade package is not installed in this Python (%s): run "
        "`make python-package`, or `pip install .` in a virtual environment" % e,
        allow_module_level=True,
    )


def _script():
    """The installed `sqnsupgrade` command: next to this Python, else on the PATH."""
    here = Path(sys.executable).parent / "sqnsupgrade"
    return str(here) if here.exists() else shutil.which("sqnsupgrade")


def _build():
    if SIM.exists():
        return
    done = subprocess.run(
        ["cargo", "build", "-p", "sqnsim"], cwd=REPO, capture_output=True, text=True
    )
    if done.returncode != 0 or not SIM.exists():
        pytest.fail("cargo build failed:\n" + done.stderr[-3000:])


@pytest.fixture(scope="session")
def shim():
    _build()
    return _package


def test_the_package_is_the_extension_module(shim):
    # The installed package (the Rust extension in site-packages), not the board's file.
    path = Path(shim.__file__).resolve()
    assert "site-packages" in path.parts and SHIM_DIR not in path.parents
    assert Path(shim.sqnsupgrade.__file__).name.startswith("sqnsupgrade.abi3.")
    assert shim.VERSION == shim.__version__
    fresh = subprocess.run(
        [sys.executable, "-c", "import sqnsupgrade; print(sqnsupgrade.last_result())"],
        capture_output=True,
        text=True,
    )
    assert fresh.stdout == "None\n", fresh.stderr  # before the first call
    for name in ("run", "info", "version", "state", "last_result", "main"):
        assert callable(getattr(shim, name))


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


def test_run_takes_the_vendors_zip(shim, start_sim, tmp_path, capsys):
    import zipfile

    sim = start_sim("--upgrade-ms", "300")
    full = Path(make_dup(tmp_path / "CATM1-41065.dup", 200_000))
    diff = Path(make_dup(tmp_path / "upgdiff_38638-to-41065.dup", 60_000, "upgdiff_38638-to-41065"))
    package = tmp_path / "CATM1-41065.zip"
    with zipfile.ZipFile(package, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(full, "CATM1-41065/" + full.name)
        z.write(diff, "CATM1-41065/" + diff.name)
    assert shim.run(sim.pty, str(package)) is True
    out = capsys.readouterr().out
    assert "Using upgdiff_38638-to-41065.dup from the package: the upgdiff from build 38638" in out
    assert shim.last_result()["build_after"] == 41065
    log = sim.stop()
    assert last_transfer(log) == diff.read_bytes()


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


def test_options_are_checked_by_the_engine(shim, start_sim, tmp_path, capsys):
    sim = start_sim()
    dup = make_dup(tmp_path / "CATM1-41065.dup", 1000)
    assert shim.run(sim.pty, dup, block_size=5) is False
    out = capsys.readouterr().out
    assert "error: block size 5: must be from 16 to 8176 bytes\n" in out
    assert "next: sqnsupgrade.run(%r, %r)\n" % (sim.pty, dup) in out
    assert shim.run(sim.pty, dup, force_fff=True, load_fff=False) is False
    assert shim.last_result()["status"] == 2
    assert shim.run(sim.pty, dup, reply_timeout=86_401) is False
    assert shim.last_result()["status"] == 2
    # A path that is not text (not UTF-8 on the file system): a file that cannot be read.
    assert shim.run(sim.pty, str(tmp_path / "fw\udcff.dup")) is False
    result = shim.last_result()
    assert result["status"] == 2 and result["error"] == "firmware image: cannot be read"
    capsys.readouterr()
    assert_untouched(sim.stop())


def test_whole_max_transfer_blocks(shim, start_sim, tmp_path, capsys):
    sim = start_sim("--upgrade-ms", "200")
    dup = make_dup(tmp_path / "CATM1-41065.dup", 200_000)
    assert shim.run(sim.pty, dup, block_size=None, resume=0, debug=0) is True
    capsys.readouterr()
    log = sim.stop()
    assert last_transfer(log) == Path(dup).read_bytes()
    assert log["violations"] == []


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


# ----- (d2) sha256= ------------------------------------------------------------------------------


def _sha256(path):
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_a_wrong_sha256_is_refused_before_the_modem_changes(shim, start_sim, tmp_path, capsys):
    dup = make_dup(tmp_path / "CATM1-41065.dup", 300_000)
    wrong = "0" * 64
    assert wrong != _sha256(dup)
    # ON_THE_FLY: refused before anything changes the modem.
    sim = start_sim()
    assert shim.run(sim.pty, dup, load_fff=False, sha256=wrong) is False
    out = capsys.readouterr().out
    assert "error: %s: firmware image: is not the image the SHA-256 given names" % dup in out
    assert "modem: not changed\n" in out
    assert "next: sqnsupgrade.run(%r, %r, load_fff=False, sha256=%r)\n" % (sim.pty, dup, wrong) in out
    result = shim.last_result()
    assert result["status"] == 2 and not result["ok"] and not result["modem_changed"]
    log = sim.stop()
    assert_untouched(log)
    assert log["state"] == 2 and log["software_build"] == 38638
    # FFF: stored, never committed (no AT+SMUPGRADE); application mode at its build.
    sim = start_sim()
    assert shim.run(sim.pty, dup, force_fff=True, sha256=wrong) is False
    out = capsys.readouterr().out
    assert "SHA-256 given names" in out and "modem: 2 application mode" in out
    result = shim.last_result()
    assert result["status"] == 1 and result["modem_changed"], result
    log = sim.stop()
    cmds = [c["cmd"] for c in log["commands"]]
    assert "AT+SMSTPU" in cmds and "AT+SMUPGRADE" not in cmds
    assert log["state"] == 2 and log["software_build"] == 38638
    assert log["violations"] == []
    # Not 64 hex digits: a bad option, the modem not asked.
    sim = start_sim()
    assert shim.run(sim.pty, dup, sha256="sha256:" + _sha256(dup)) is False
    out = capsys.readouterr().out
    assert "error: the SHA-256 given is not 64 hexadecimal digits\n" in out
    assert "next: sqnsupgrade.run(%r, %r)\n" % (sim.pty, dup) in out
    assert shim.last_result()["status"] == 2
    log = sim.stop()
    assert_untouched(log)
    assert log.get("commands") == []


@pytest.mark.parametrize("load_fff", [True, False], ids=["FFF", "ON_THE_FLY"])
def test_the_right_sha256_completes_byte_for_byte(shim, start_sim, tmp_path, capsys, load_fff):
    sim = start_sim("--upgrade-ms", "300")
    dup = make_dup(tmp_path / "CATM1-41065.dup", 300_000)
    assert shim.run(sim.pty, dup, load_fff=load_fff, sha256=_sha256(dup).upper()) is True
    capsys.readouterr()
    assert shim.last_result()["method"] == ("FFF" if load_fff else "ON_THE_FLY")
    log = sim.stop()
    assert last_transfer(log) == Path(dup).read_bytes()
    assert log["violations"] == []
    assert log["software_build"] == 41065


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
        "choice": None,
    }
    assert list(result) == [k for k in simtools.record_keys() if k != "seconds"]
    # A copy: changing it changes nothing.
    result["ok"] = False
    assert shim.last_result()["ok"] is True


# ----- Ctrl-C ---------------------------------------------------------------------------------


class _InterruptOnTransfer:
    """stdout that sends SIGINT to this process when the progress bar starts: at once
    (the KeyboardInterrupt then comes out of this write, inside the engine's console) or
    0.3 s later from another thread (it is then the engine's cancel check that runs
    Python's signal handler)."""

    def __init__(self, out, delay):
        self.out = out
        self.delay = delay
        self.sent = False

    def write(self, text):
        if not self.sent and text.startswith("Sending "):
            self.sent = True
            if self.delay:
                threading.Timer(self.delay, os.kill, (os.getpid(), signal.SIGINT)).start()
            else:
                os.kill(os.getpid(), signal.SIGINT)
        return self.out.write(text)

    def flush(self):
        self.out.flush()


def _wait_flashed(sim):
    # The engine closed the STP session on Ctrl-C and the simulator then "flashes" what it
    # got for --upgrade-ms; a resume sent meanwhile is refused (the engine does not poll
    # AT+SMUPGRADE? before resuming), so wait for the simulator's verdict, as a user would.
    deadline = time.monotonic() + 5
    while (sim.current_log().get("result") or {}).get("upgrade") not in ("success", "fail"):
        assert time.monotonic() < deadline, "the simulator never finished flashing"
        time.sleep(0.05)


@pytest.mark.parametrize("delay", [0, 0.3], ids=["in-write", "in-cancel-check"])
def test_ctrl_c_cancels_and_next_continues(shim, start_sim, tmp_path, capsys, monkeypatch, delay):
    sim = start_sim("--upgrade-ms", "300")
    dup = make_dup(tmp_path / "CATM1-41065.dup", 5 * 1000 * 1000)
    monkeypatch.setattr(sys, "stdout", _InterruptOnTransfer(sys.stdout, delay))
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        shim.run(sim.pty, dup)
    assert time.monotonic() - started < 10
    monkeypatch.undo()
    out = capsys.readouterr().out
    # The four lines, printed before the KeyboardInterrupt came out of run().
    next_call = "sqnsupgrade.run(%r, %r)" % (sim.pty, dup)
    assert "\nerror: stopped by the user\nhint: " in out
    assert "\nmodem: 4 upgrade mode\nnext: %s\n" % next_call in out
    result = shim.last_result()
    assert result["status"] == 130 and result["modem_changed"] and not result["ok"]
    assert result["error"] == "stopped by the user"
    assert result["modem"] == "4 upgrade mode"
    assert result["next"] == next_call
    assert result["bytes"] < 5 * 1000 * 1000
    assert shim.state(sim.pty) == 4  # upgrade mode, as the failure said
    _wait_flashed(sim)
    # The command printed after `next:` continues the update.
    assert eval(result["next"], {"sqnsupgrade": shim}) is True
    log = sim.stop()
    assert last_transfer(log) == Path(dup).read_bytes()
    assert log["transfers"][-1]["complete"] is True
    assert log["software_build"] == 41065


_USER_SCRIPT = """
import sqnsupgrade, sys
try:
    sqnsupgrade.run(sys.argv[1], sys.argv[2])
except KeyboardInterrupt:
    print("KeyboardInterrupt; status", sqnsupgrade.last_result()["status"])
"""


def test_ctrl_c_from_the_terminal(shim, start_sim, tmp_path):
    # As a user sees it: a Python program on a pipe (no pytest around), SIGINT from outside.
    sim = start_sim("--upgrade-ms", "300")
    dup = make_dup(tmp_path / "CATM1-41065.dup", 5 * 1000 * 1000)
    proc = subprocess.Popen(
        [sys.executable, "-c", _USER_SCRIPT, sim.pty, dup],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        got = _read_until(proc, b"Sending ")
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    out = (got + out).decode()
    assert proc.returncode == 0, err.decode()
    assert "\nerror: stopped by the user\n" in out
    assert "\nmodem: 4 upgrade mode\nnext: sqnsupgrade.run(%r, %r)\n" % (sim.pty, dup) in out
    assert out.endswith("KeyboardInterrupt; status 130\n")
    sim.stop()


_STOPPED_SCRIPT = """
import os, signal, sys, time, sqnsupgrade
number = getattr(signal, sys.argv[3])
try:
    sqnsupgrade.run(sys.argv[1], sys.argv[2])
except KeyboardInterrupt:
    print("KeyboardInterrupt; status", sqnsupgrade.last_result()["status"], flush=True)
print("state", sqnsupgrade.state(sys.argv[1]), flush=True)
print("handler back:", signal.getsignal(number) == signal.SIG_DFL, flush=True)
os.kill(os.getpid(), number)
time.sleep(5)
print("still running")
"""


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_stop_a_call_like_ctrl_c(shim, start_sim, tmp_path, name):
    # A plain Python program stopped by a service manager (SIGTERM) or a closed terminal
    # (SIGHUP) in the middle of a transfer: the four lines, status 130, the session closed
    # (state() answers at once), then the signal's own effect is back.
    number = getattr(signal, name)
    sim = start_sim("--upgrade-ms", "300")
    dup = make_dup(tmp_path / "CATM1-41065.dup", 5 * 1000 * 1000)
    proc = subprocess.Popen(
        [sys.executable, "-c", _STOPPED_SCRIPT, sim.pty, dup, name],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # As from a shell: the signal at its default, whatever pytest was started with.
        preexec_fn=lambda: signal.signal(number, signal.SIG_DFL),
    )
    try:
        got = _read_until(proc, b"Sending ")
        time.sleep(0.2)
        proc.send_signal(number)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    out = (got + out).decode()
    assert "\nerror: stopped by the user\n" in out, err.decode()
    assert "\nmodem: 4 upgrade mode\nnext: sqnsupgrade.run(%r, %r)\n" % (sim.pty, dup) in out
    assert "KeyboardInterrupt; status 130\n" in out
    assert "\nstate 4\n" in out
    assert "handler back: True\n" in out
    assert "still running" not in out
    assert proc.returncode == -number, err.decode()
    _wait_flashed(sim)
    assert shim.run(sim.pty, dup) is True
    log = sim.stop()
    assert last_transfer(log) == Path(dup).read_bytes()
    assert log["violations"] == []


def test_ctrl_c_while_the_modem_is_silent(shim, start_sim, tmp_path, capsys):
    # Nothing answers: the engine waits and knocks (sleeps, short reads). Ctrl-C ends it
    # within about a second, nothing changed.
    sim = start_sim("--fault", "silent")
    dup = make_dup(tmp_path / "CATM1-41065.dup", 1000)
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    started = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            shim.run(sim.pty, dup)
    finally:
        timer.cancel()
    assert time.monotonic() - started < 3
    out = capsys.readouterr().out
    assert "error: stopped by the user\n" in out
    assert "modem: not changed\n" in out
    result = shim.last_result()
    assert result["status"] == 130 and not result["modem_changed"]
    assert_untouched(sim.stop())


# ----- the console script and main() ----------------------------------------------------------


def _read_until(proc, marker, timeout=30):
    """Reads the process's stdout until `marker` shows; returns what was read."""
    got = b""
    deadline = time.monotonic() + timeout
    fd = proc.stdout.fileno()
    while marker not in got:
        left = deadline - time.monotonic()
        assert left > 0 and proc.poll() is None, got.decode(errors="replace")
        if select.select([fd], [], [], left)[0]:
            got += os.read(fd, 4096)
    return got


@pytest.fixture
def script():
    path = _script()
    assert path, "the sqnsupgrade command was not installed with the package"
    return path


def test_console_script_updates_byte_for_byte(shim, script, start_sim, tmp_path):
    sim = start_sim("--upgrade-ms", "300")
    dup = make_dup(tmp_path / "CATM1-41065.dup", 300_000)
    done = subprocess.run(
        [script, "--port", sim.pty, "run", dup], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("<<< Welcome to the SQN3330 firmware updater [%s] >>>\n" % shim.VERSION)
    # The command's progress on a pipe: the size, then a line at every 10 %.
    assert "Sending the image: 300000 bytes\n" in done.stdout
    assert "  100% (300,000 of 300,000 bytes" in done.stdout
    assert "Upgrade completed!" in done.stdout
    assert "error:" not in done.stdout + done.stderr
    log = sim.stop()
    assert last_transfer(log) == Path(dup).read_bytes()
    assert log["violations"] == []
    assert log["software_build"] == 41065
    version = subprocess.run([script, "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout == "sqnsupgrade %s\n" % shim.VERSION


def test_console_script_bad_input(shim, script, start_sim, tmp_path):
    sim = start_sim()
    missing = str(tmp_path / "nope.dup")
    done = subprocess.run([script, "--port", sim.pty, "run", missing], capture_output=True, text=True)
    assert done.returncode == 2
    assert "error: %s: firmware image: file not found\n" % missing in done.stderr
    assert "modem: not changed\n" in done.stderr
    assert "next: %s --port %s run %s\n" % (script, sim.pty, missing) in done.stderr
    assert_untouched(sim.stop())


def test_console_script_ctrl_c_then_next(shim, script, start_sim, tmp_path):
    sim = start_sim("--upgrade-ms", "300")
    dup = make_dup(tmp_path / "CATM1-41065.dup", 5 * 1000 * 1000)
    proc = subprocess.Popen(
        [script, "--port", sim.pty, "run", dup], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        _read_until(proc, b"Sending ")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    err = err.decode()
    assert proc.returncode == 130, err
    assert "error: stopped by the user\n" in err
    assert "modem: 4 upgrade mode\n" in err
    next_line = [l for l in err.splitlines() if l.startswith("next: ")][0][len("next: "):]
    assert shlex.split(next_line) == [script, "--port", sim.pty, "run", dup]
    _wait_flashed(sim)
    # The printed command continues the update.
    done = subprocess.run(shlex.split(next_line), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    log = sim.stop()
    assert last_transfer(log) == Path(dup).read_bytes()
    assert log["software_build"] == 41065


def test_main_runs_the_cli_in_process(shim, tmp_path, capfd, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["sqnsupgrade", "--version"])
    assert shim.main() == 0
    assert capfd.readouterr().out == "sqnsupgrade %s\n" % shim.VERSION
    port = str(tmp_path / "no-such-tty")
    assert shim.main(["sqnsupgrade", "--port", port, "state"]) == 2
    err = capfd.readouterr().err
    assert "error: %s: there is no such serial port\n" % port in err
    assert "next: sqnsupgrade --port %s state\n" % port in err
    # Python's Ctrl-C is back: a SIGINT is a KeyboardInterrupt again.
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(2)


def test_main_gives_sigterm_back(shim, tmp_path):
    # The CLI handles SIGTERM while main() runs; afterwards it ends the process again.
    code = (
        "import os, signal, time, sqnsupgrade\n"
        "sqnsupgrade.main(['sqnsupgrade', '--port', %r, 'state'])\n"
        "os.kill(os.getpid(), signal.SIGTERM)\n"
        "time.sleep(5)\n"
        "print('still running')\n" % str(tmp_path / "no-such-tty")
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=30,
        preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL),
    )
    assert "there is no such serial port" in done.stderr
    assert "still running" not in done.stdout
    assert done.returncode == -signal.SIGTERM, done.stdout + done.stderr


# ----- the board's module on a computer -----------------------------------------------------------


def test_the_boards_module_on_a_computer_says_pip_install():
    done = subprocess.run(
        [sys.executable, "-c", "import sqnsupgrade"],
        cwd=SHIM_DIR,
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert "ImportError" in done.stderr
    assert "this file is the board's module" in done.stderr
    assert "pip install ." in done.stderr
