"""`pip install .` as the README tells users: the environment SQN_VENV (build/venv-src, made
by `make python-package` with `python -m venv` and `pip install .` from the repository's
root) has the module `sqnsupgrade` and the `sqnsupgrade` command, and both update the
simulator byte for byte.

This file runs under another Python (build/venv-test, which has pytest); the installed
package is driven through SQN_VENV's own Python and command. Without SQN_VENV it is
skipped (a failure when SQN_REQUIRE_PACKAGE is set).
"""

import os
import subprocess
from pathlib import Path

import pytest

from simtools import Sim, last_transfer_bytes, make_dup

VENV = os.environ.get("SQN_VENV")
if not VENV:
    if os.environ.get("SQN_REQUIRE_PACKAGE"):
        raise RuntimeError("SQN_VENV is not set: the environment given `pip install .`")
    pytest.skip("SQN_VENV is not set (make python-package sets it)", allow_module_level=True)

PYTHON = Path(VENV).absolute() / "bin" / "python"
COMMAND = Path(VENV).absolute() / "bin" / "sqnsupgrade"


def test_the_installed_module_is_the_package_not_the_boards_file(tmp_path):
    done = subprocess.run(
        [str(PYTHON), "-c", "import sqnsupgrade; print(sqnsupgrade.__file__); print(sqnsupgrade.VERSION)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    where, version = done.stdout.split()
    assert Path(where).resolve().is_relative_to(Path(VENV).resolve())
    assert "python_shim" not in where
    command = subprocess.run([str(COMMAND), "--version"], capture_output=True, text=True)
    assert command.returncode == 0, command.stderr
    assert command.stdout == "sqnsupgrade %s\n" % version


def test_run_from_the_installed_module(tmp_path):
    dup = make_dup(tmp_path, "CATM1-41065.dup", 200_000)
    with Sim(tmp_path / "sim", "--upgrade-ms", "200") as sim:
        done = subprocess.run(
            [
                str(PYTHON),
                "-c",
                "import sys, sqnsupgrade; ok = sqnsupgrade.run(sys.argv[1], sys.argv[2]); "
                "print(sqnsupgrade.last_result()['status']); sys.exit(0 if ok else 1)",
                sim.pty,
                str(dup),
            ],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Upgrade completed!" in done.stdout
        assert done.stdout.endswith("\n0\n")
        log = sim.stop()
    assert last_transfer_bytes(log) == Path(dup).read_bytes()
    assert log["violations"] == []
    assert log["software_build"] == 41065


def test_the_installed_command_updates(tmp_path):
    dup = make_dup(tmp_path, "CATM1-41065.dup", 200_000)
    with Sim(tmp_path / "sim", "--upgrade-ms", "200") as sim:
        done = subprocess.run(
            [str(COMMAND), "--port", sim.pty, "run", str(dup)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Upgrade completed!" in done.stdout
        log = sim.stop()
    assert last_transfer_bytes(log) == Path(dup).read_bytes()
    assert log["violations"] == []
