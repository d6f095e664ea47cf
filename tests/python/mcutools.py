"""The emulated board for the Python tests: build/mcu/firmware.elf (`make mcu`) under
qemu-system-arm (MPS2-AN385, Cortex-M3), its REPL on a pipe and its modem UART (UART1,
machine.UART(1)) on the pty of a modem simulator (target/release/sqnsim).

    with McuSim(tmp_path / "sim") as sim, Board(sim.pty) as board:
        out = board.exec("import machine\\nprint(machine.UART(1))")
        board.send(b"\\x03")                      # Ctrl-C while something runs

Board.exec runs a block of Python through the raw REPL (Ctrl-A), as mpremote does, and
returns what it printed; an exception on the board raises BoardError with its traceback.
Board.start_exec / Board.finish_exec split that around something else (a Ctrl-C sent
while the block waits). Everything is stopped by the context managers (QEMU killed, the
simulator sent SIGTERM so that it writes its log).
"""

import json
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

from simtools import REPO, Sim

FIRMWARE = Path(os.environ.get("SQN_MCU_FIRMWARE", REPO / "build" / "mcu" / "firmware.elf"))
QEMU = os.environ.get("SQN_QEMU", "qemu-system-arm")
SIM_RELEASE = REPO / "target" / "release" / "sqnsim"


class BoardError(Exception):
    """The board raised an exception (its traceback is the message), or did not answer."""


class McuSim(Sim):
    """simtools.Sim with the release simulator (target/release/sqnsim, `cargo build
    --release`): it keeps up with a guest at 921600 baud without pacing."""

    def __init__(self, record, *args):
        self.record = Path(record)
        self.record.mkdir(parents=True, exist_ok=True)
        binary = os.environ.get("SQN_SIM", str(SIM_RELEASE))
        self.proc = subprocess.Popen(
            [binary, *args, "--record", str(self.record), "--exit-after-ms", "600000"],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.pty = json.loads(self.proc.stdout.readline())["pty"]
        self.log = None


def missing_tools():
    """Why the board cannot run here, or None."""
    if not FIRMWARE.exists():
        return "no firmware at %s: run `make mcu`" % FIRMWARE
    if shutil.which(QEMU) is None:
        return "%s not found: run scripts/setup.sh (Debian package qemu-system-arm)" % QEMU
    binary = Path(os.environ.get("SQN_SIM", str(SIM_RELEASE)))
    if not binary.exists():
        return "no simulator at %s: run `cargo build --release`" % binary
    return None


class Board:
    """QEMU running the test firmware. `modem` is the pty for UART1 (None: nothing)."""

    BANNER = b"Type \"help()\" for more information.\r\n>>> "

    def __init__(self, modem=None, firmware=FIRMWARE, icount=False, boot_timeout=30):
        cmd = [QEMU, "-machine", "mps2-an385", "-nographic", "-monitor", "none",
               "-semihosting", "-serial", "stdio",
               "-serial", modem if modem else "null", "-kernel", str(firmware)]
        if icount:
            cmd[1:1] = ["-icount", "shift=0"]
        self.cmd = cmd
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, bufsize=0)
        self._buf = bytearray()
        self._cond = threading.Condition()
        self._eof = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.in_raw = False
        self.read_until(self.BANNER, boot_timeout, "the banner and prompt")

    # ---- the byte stream ----

    def _read(self):
        fd = self.proc.stdout.fileno()
        while True:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            with self._cond:
                if not chunk:
                    self._eof = True
                    self._cond.notify_all()
                    return
                self._buf += chunk
                self._cond.notify_all()

    def output(self):
        """Everything the board printed and nobody consumed yet (for error messages)."""
        with self._cond:
            return bytes(self._buf)

    def read_until(self, marker, timeout, what=None):
        """Consumes and returns the output up to and including `marker`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                i = self._buf.find(marker)
                if i >= 0:
                    out = bytes(self._buf[:i + len(marker)])
                    del self._buf[:i + len(marker)]
                    return out
                left = deadline - time.monotonic()
                if self._eof or left <= 0:
                    if self._eof:
                        try:
                            self.proc.wait(timeout=5)
                        except subprocess.TimeoutExpired:
                            pass
                    state = "QEMU exited (status %s)" % self.proc.poll() if self._eof else \
                        "no %s after %.0f s" % (what or repr(marker), timeout)
                    raise BoardError("%s; board output:\n%s" % (
                        state, bytes(self._buf).decode("utf-8", "replace")))
                self._cond.wait(min(left, 0.5))

    def send(self, data):
        """Raw bytes to the REPL UART (e.g. b"\\x03", Ctrl-C, while a call runs)."""
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    # ---- the raw REPL ----

    def enter_raw(self, timeout=10):
        if self.in_raw:
            return
        self.send(b"\r\x03\x03")  # stop whatever runs
        time.sleep(0.05)
        with self._cond:
            self._buf.clear()
        self.send(b"\x01")       # Ctrl-A: raw REPL
        self.read_until(b"raw REPL; CTRL-B to exit\r\n>", timeout, "the raw REPL prompt")
        self.in_raw = True

    def leave_raw(self, timeout=10):
        if not self.in_raw:
            return
        self.send(b"\x02")       # Ctrl-B: friendly REPL
        self.read_until(b">>> ", timeout, "the friendly prompt")
        self.in_raw = False

    def start_exec(self, code, timeout=30):
        """Sends a block of code to the raw REPL and starts it (returns once the board
        said OK, i.e. it compiled the block and runs it)."""
        self.enter_raw()
        data = code.encode() if isinstance(code, str) else code
        # The board takes one byte at a time; send in slices so that a slow start shows.
        for i in range(0, len(data), 256):
            self.send(data[i:i + 256])
        self.send(b"\x04")
        got = self.read_until(b"OK", timeout, "OK from the raw REPL")
        if not got.endswith(b"OK"):
            raise BoardError("unexpected raw REPL answer: %r" % got)

    def finish_exec(self, timeout=60):
        """Waits for the running block: returns its output; raises BoardError with the
        board's traceback when it raised."""
        out = self.read_until(b"\x04", timeout, "the end of the output")[:-1]
        err = self.read_until(b"\x04", timeout, "the end of the error output")[:-1]
        self.read_until(b">", timeout, "the raw REPL prompt")
        if err:
            raise BoardError(err.decode("utf-8", "replace"))
        return out.decode("utf-8", "replace")

    def exec(self, code, timeout=60):
        """Runs a block of Python on the board and returns what it printed."""
        self.start_exec(code, timeout)
        return self.finish_exec(timeout)

    def eval(self, expr, timeout=60):
        """The repr of an expression, evaluated on the board, read back with eval()."""
        out = self.exec("print(repr(%s))" % expr, timeout)
        return eval(out.strip())  # noqa: S307 - our own board's repr of plain values

    # ---- the end ----

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._reader.join(timeout=5)
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
