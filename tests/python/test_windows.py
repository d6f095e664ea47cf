"""The Windows build of the command (sqnsupgrade.exe, x86_64-pc-windows-gnu) run under wine
against the modem simulator: the simulator's pty is a COM port of the wine prefix
(WINEPREFIX/dosdevices/comN), so the serialport crate's Windows code (CreateFile,
SetCommState, ReadFile with timeouts) talks to the modem model.

`make other-systems` (scripts/other-systems.sh) builds the .exe, prepares the prefix
(build/wine, with tests/windows/bcryptprimitives.c's DLL that Debian's wine lacks) and runs
this file with SQN_WINE (wine64), SQN_WINDOWS_EXE and WINEPREFIX set. Without them it is
skipped (a failure when SQN_REQUIRE_WINDOWS is set, as the script does).

What wine cannot show: Windows itself refuses a second open of a COM port (the "in use"
error); wine's serial layer does not, so that case is tested on Linux only.
"""

import os
import subprocess
from pathlib import Path

import pytest

from simtools import Sim, last_transfer_bytes, make_dup

WINE = os.environ.get("SQN_WINE")
EXE = os.environ.get("SQN_WINDOWS_EXE")
PREFIX = os.environ.get("WINEPREFIX")
if not (WINE and EXE and PREFIX):
    if os.environ.get("SQN_REQUIRE_WINDOWS"):
        raise RuntimeError("SQN_WINE, SQN_WINDOWS_EXE and WINEPREFIX must be set")
    pytest.skip("the Windows build under wine: run `make other-systems`", allow_module_level=True)


def win(path):
    """A path of this machine as the Windows program sees it (wine's Z: is /)."""
    return "Z:" + str(Path(path).absolute()).replace("/", "\\")


def wine(*args, timeout=180):
    env = dict(os.environ, WINEDEBUG="-all")
    return subprocess.run(
        [WINE, *args], capture_output=True, text=True, timeout=timeout, env=env
    )


class ComPort:
    """COMn of the wine prefix, wired to the simulator's pty while the test runs."""

    def __init__(self, number, pty):
        self.name = "COM%d" % number
        self.link = Path(PREFIX) / "dosdevices" / ("com%d" % number)
        if self.link.is_symlink() or self.link.exists():
            self.link.unlink()
        self.link.symlink_to(pty)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.link.unlink()


def test_the_exe_is_a_windows_program_that_runs():
    done = wine(EXE, "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("sqnsupgrade ")
    head = Path(EXE).read_bytes()[:2]
    assert head == b"MZ"


def test_update_through_a_com_port_byte_for_byte(tmp_path):
    dup = make_dup(tmp_path, "CATM1-41065.dup", 300_000)
    with Sim(tmp_path / "sim", "--upgrade-ms", "200") as sim, ComPort(11, sim.pty) as com:
        state = wine(EXE, "--port", com.name, "state")
        assert state.returncode == 0, state.stdout + state.stderr
        assert state.stdout.endswith("2 application mode (FFF)\n"), state.stdout
        done = wine(EXE, "--port", com.name, "run", win(dup))
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Upgrade completed!" in done.stdout
        # Progress on a pipe, with numbers.
        assert "  100% (300,000 of 300,000 bytes" in done.stdout
        assert "LR5.1.1.0-41065" in done.stdout
        log = sim.stop()
    assert last_transfer_bytes(log) == Path(dup).read_bytes()
    assert log["violations"] == []
    assert log["software_build"] == 41065


def test_a_port_that_does_not_exist():
    done = wine(EXE, "--port", "COM42", "state")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "error: COM42: there is no such serial port\n" in done.stderr
    assert "hint: check the name: sqnsupgrade list-ports" in done.stderr
    assert "modem: not changed\n" in done.stderr


def test_the_next_line_runs_as_printed_in_cmd(tmp_path):
    """A missing file in a folder with a space: the `next:` line, quoted for Windows, run
    by cmd.exe once the file is there, completes the update."""
    folder = tmp_path / "My Files"
    folder.mkdir()
    dup = folder / "CATM1-41065.dup"
    with Sim(tmp_path / "sim", "--upgrade-ms", "200") as sim, ComPort(12, sim.pty) as com:
        refused = wine(EXE, "--port", com.name, "run", win(dup))
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "file not found" in refused.stderr
        assert "modem: not changed\n" in refused.stderr
        line = [l for l in refused.stderr.splitlines() if l.startswith("next: ")][0][6:]
        # Windows quoting: double quotes, backslashes as they are.
        assert line.endswith('run "%s"' % win(dup)), line
        assert "'" not in line, line
        make_dup(folder, dup.name, 250_000)
        batch = tmp_path / "next.bat"
        batch.write_text("@echo off\r\n" + line + "\r\nexit /b %errorlevel%\r\n")
        done = wine("cmd", "/c", win(batch))
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Upgrade completed!" in done.stdout
        log = sim.stop()
    assert last_transfer_bytes(log) == dup.read_bytes()
    assert log["violations"] == []
