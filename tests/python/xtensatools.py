"""The Xtensa test board for the Python tests: build/xtensa/board.elf (`make xtensa`) under
qemu-system-xtensa, driven through scripts/xtensa-board.sh, against the simulator.

    with XtensaSim(tmp_path / "sim") as sim:
        run = board(sim, "run", str(image), "--fff")
        assert run.status == 0 and run.result["bytes"] == size and run.stack <= 4096

The board's modem UART (QEMU's 16550) cannot go above 115200 baud on the host's side of
the pty, so the simulator understands any rate (--ignore-baud); the rate the module asked
for is in the board's result line (`baud`, `baud_changes`).
"""

import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from mcutools import McuSim
from simtools import REPO

BOARD_ELF = Path(os.environ.get("SQN_XTENSA_BOARD", REPO / "build" / "xtensa" / "board.elf"))
BOARD_SCRIPT = REPO / "scripts" / "xtensa-board.sh"
QEMU = os.environ.get("QEMU_XTENSA", "qemu-system-xtensa")
SIM_RELEASE = REPO / "target" / "release" / "sqnsim"


class XtensaSim(McuSim):
    """The release simulator, understanding bytes at any baud rate."""

    def __init__(self, record, *args):
        super().__init__(record, "--ignore-baud", *args)


def missing_tools():
    """Why the board cannot run here, or None."""
    if not BOARD_ELF.exists():
        return "no board at %s: run `make xtensa`" % BOARD_ELF
    if shutil.which(QEMU) is None:
        return "%s not found: run scripts/setup.sh (Debian package qemu-system-misc)" % QEMU
    if not Path(os.environ.get("SQN_SIM", str(SIM_RELEASE))).exists():
        return "no simulator at %s: run `cargo build --release`" % SIM_RELEASE
    return None


@dataclass
class Run:
    """One call on the board: its exit status, console, result record and stack share."""
    status: int
    output: str
    result: dict = field(default_factory=dict)
    stack: int = -1
    seconds: float = 0.0


def parse(status, output, seconds=0.0):
    run = Run(status, output, seconds=seconds)
    # The engine's record (its keys and values, as last_result() has them), then the
    # board's own figures.
    m = re.search(r"^RECORD (.*)$", output, re.M)
    if m:
        run.result.update(json.loads(m.group(1)))
    m = re.search(r"^RESULT (.*)$", output, re.M)
    if m:
        for item in m.group(1).split():
            key, _, value = item.partition("=")
            run.result[key] = int(value)
    m = re.search(r"^STACK (\d+)\s*$", output, re.M)
    if m:
        run.stack = int(m.group(1))
    return run


def board(sim, *args, icount=False, timeout=300, stdin=subprocess.DEVNULL):
    """Runs scripts/xtensa-board.sh with the simulator's pty as the modem."""
    cmd = ["bash", str(BOARD_SCRIPT), "--modem", sim.pty]
    if icount:
        cmd.append("--icount")
    cmd += list(args)
    start = time.monotonic()
    proc = subprocess.run(cmd, stdin=stdin, capture_output=True, timeout=timeout)
    out = proc.stdout.decode("utf-8", "replace") + proc.stderr.decode("utf-8", "replace")
    return parse(proc.returncode, out, time.monotonic() - start)


def start_board(sim, *args):
    """Starts the board with a pipe on its console (to send Ctrl-C); returns the process."""
    return subprocess.Popen(["bash", str(BOARD_SCRIPT), "--modem", sim.pty, *args],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, bufsize=0)
