"""Smoke tests of the emulated board (`make mcu`): MicroPython's qemu port on a Cortex-M3
with the module and the frozen shim, its modem UART on the simulator's pty.

    python3 -m pytest -q tests/python/test_mcu.py

They check the board itself (boot, imports, machine.UART(1) at 921600 and 115200, the
stack measurement, Ctrl-C while waiting, no allocation in the UART under heap_lock), so
that tests of the module on it stand on firm ground.
"""

import os
import subprocess
import sys
import termios
import time

import pytest

from mcutools import FIRMWARE, Board, BoardError, McuSim, missing_tools
from simtools import REPO

# Talks AT over UART 1 without allocating once set up: a reply is collected byte by byte
# into a preallocated buffer, so the same code works under micropython.heap_lock().
AT_HELPERS = """
import machine, time
u = machine.UART(1, baudrate=921600, pins=('P5', 'P98', 'P7', 'P99'), timeout_chars=64)
acc = bytearray(256)
one = bytearray(1)

def at(cmd, ms=1500):
    # Sends cmd and returns how many reply bytes came until OK/ERROR (or ms passed).
    while u.any():
        u.readinto(one)
    u.write(cmd)
    got = 0
    t0 = time.ticks_ms()
    while time.ticks_diff(time.ticks_ms(), t0) < ms and got < len(acc):
        if u.readinto(one):
            acc[got] = one[0]
            got += 1
            if got >= 4 and acc[got - 4] == 0x4F and acc[got - 3] == 0x4B:  # 'OK\\r\\n'
                break
    return got
"""


@pytest.fixture(autouse=True)
def _tools():
    why = missing_tools()
    if why:
        pytest.fail(why)


def host_baud(pty):
    """The host-side rate of the modem pty, as the simulator reads it (termios)."""
    fd = os.open(pty, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        speed = termios.tcgetattr(fd)[5]
    finally:
        os.close(fd)
    return {termios.B115200: 115200, termios.B921600: 921600, termios.B9600: 9600}.get(speed, speed)


def test_boots_with_the_module_and_the_frozen_shim(tmp_path):
    with McuSim(tmp_path / "sim") as sim, Board(sim.pty) as board:
        out = board.exec(
            "import sys, sqnsupgrade, _sqnsupgrade, testboard, machine\n"
            "print(sys.implementation.name, sys.platform, sqnsupgrade.VERSION)\n"
            "print(hasattr(_sqnsupgrade, 'call'), hasattr(machine, 'UART'))\n"
            "print(testboard.stack_size(), testboard.stack_depth() < testboard.stack_size())\n"
        )
        assert out.split() == ["micropython", "qemu", "0.1.0", "True", "True", "8192", "True"], out
        # The shim is the frozen one (there is no filesystem with a copy on this board).
        assert board.eval("sqnsupgrade.__file__") in ("sqnsupgrade.py", ".frozen/sqnsupgrade.py")
        out = board.exec("print(machine.UART(1, baudrate=115200))")
        assert out.strip() == (
            "UART(1, baudrate=115200, bits=8, parity=None, stop=1, timeout_chars=2)"), out


def test_uart_talks_to_the_simulator_and_changes_rate(tmp_path):
    with McuSim(tmp_path / "sim") as sim, Board(sim.pty) as board:
        board.exec(AT_HELPERS)
        assert host_baud(sim.pty) == 921600
        out = board.exec("n = at(b'AT\\r\\n'); print(bytes(acc[:n]))")
        assert "OK" in out, out
        # 115200 on the board is 115200 on the host side of the pty, and the simulator
        # (a modem at 921600) then drops what it gets and answers nothing.
        board.exec("u.init(baudrate=115200)")
        assert host_baud(sim.pty) == 115200
        out = board.exec("n = at(b'AT\\r\\n', 600); print(n)")
        assert out.strip() == "0", out
        board.exec("u.init(baudrate=921600)")
        assert host_baud(sim.pty) == 921600
        out = board.exec("n = at(b'AT\\r\\n'); print(bytes(acc[:n]))")
        assert "OK" in out, out
    log = sim.log
    assert [c["cmd"] for c in log["commands"]].count("AT") == 2, log["commands"]
    assert log["violations"] == [], log["violations"]


def test_uart_at_115200_with_a_modem_in_recovery_mode(tmp_path):
    # A modem in recovery mode (state 0) talks at 115200 only.
    with McuSim(tmp_path / "sim", "--state", "0") as sim, Board(sim.pty) as board:
        board.exec(AT_HELPERS)
        assert board.exec("print(at(b'AT\\r\\n', 600))").strip() == "0"
        board.exec("u.init(baudrate=115200)")
        out = board.exec("n = at(b'AT\\r\\n'); print(bytes(acc[:n]))")
        assert "OK" in out, out
        assert host_baud(sim.pty) == 115200


def test_stack_measurement(tmp_path):
    with McuSim(tmp_path / "sim") as sim, Board(sim.pty) as board:
        out = board.exec(
            "import machine, sqnsupgrade, testboard\n"
            "testboard.stack_reset()\n"
            "before = testboard.stack_peak()\n"
            "r = sqnsupgrade.last_result()\n"
            "print(before, testboard.stack_peak(), testboard.stack_depth(), testboard.stack_size())\n"
        )
        before, peak, depth, size = (int(x) for x in out.split())
        assert size == 8192, out
        assert 0 < before <= peak, out
        assert depth < peak < size, out
        # Python recursion stops at MicroPython's limit (stack size - 1 KiB, as Pycom's
        # firmware sets it), before the C stack's guard.
        out = board.exec(
            "def f(n):\n"
            "    return f(n + 1)\n"
            "try:\n"
            "    f(0)\n"
            "except RuntimeError as e:\n"
            "    print(e, testboard.stack_peak())\n"
        )
        assert out.startswith("maximum recursion depth exceeded"), out
        assert 7168 <= int(out.split()[-1]) < 8192, out


def test_module_call_fits_the_8k_stack(tmp_path):
    with McuSim(tmp_path / "sim") as sim, Board(sim.pty) as board:
        out = board.exec(
            "import machine, sqnsupgrade, testboard\n"
            "u = machine.UART(1, baudrate=921600)\n"
            "testboard.stack_reset()\n"
            "s = sqnsupgrade.state(uart=u)\n"
            "print(s, testboard.stack_peak())\n",
            timeout=120,
        )
        state, peak = (int(x) for x in out.split())
        assert state == 2, out
        assert 0 < peak <= 8192, out


@pytest.mark.parametrize("wait", ["uart.read", "time.sleep_ms"])
def test_ctrl_c_while_waiting_raises_keyboard_interrupt(tmp_path, wait):
    call = {
        # 20000 character times at 9600 baud: a read that waits about 21 s for a byte.
        "uart.read": "u = machine.UART(1, baudrate=9600, timeout_chars=20000)\nu.read(10)",
        "time.sleep_ms": "time.sleep_ms(20000)",
    }[wait]
    with McuSim(tmp_path / "sim") as sim, Board(sim.pty) as board:
        board.start_exec(
            "import machine, time\n"
            "t0 = time.ticks_ms()\n"
            "try:\n"
            "    " + call.replace("\n", "\n    ") + "\n"
            "    print('returned')\n"
            "except KeyboardInterrupt:\n"
            "    print('KeyboardInterrupt after', time.ticks_diff(time.ticks_ms(), t0))\n"
        )
        time.sleep(1.0)
        board.send(b"\x03")
        out = board.finish_exec(timeout=15)
        assert out.startswith("KeyboardInterrupt after"), out
        assert int(out.split()[-1]) < 10000, out  # noticed in the wait, not after it
        # Uncaught, it ends the block with a traceback; the REPL carries on.
        # (UART(1) keeps its settings: the same long read.)
        board.start_exec({"uart.read": "machine.UART(1).read(10)",
                          "time.sleep_ms": "time.sleep_ms(20000)"}[wait])
        time.sleep(0.5)
        board.send(b"\x03")
        with pytest.raises(BoardError, match="KeyboardInterrupt"):
            board.finish_exec(timeout=15)
        assert board.exec("print(6 * 7)").strip() == "42"
        board.leave_raw()
        board.send(b"print('friendly', 1 + 1)\r")
        assert b"friendly 2" in board.read_until(b">>> ", 10)


def test_uart_init_read_write_under_heap_lock(tmp_path):
    with McuSim(tmp_path / "sim") as sim, Board(sim.pty) as board:
        board.exec(AT_HELPERS)
        out = board.exec(
            "import micropython\n"
            "err = n = k = r = None  # globals made before the lock: a new one grows the dict\n"
            "micropython.heap_lock()\n"
            "try:\n"
            "    u.init(baudrate=115200)\n"
            "    u.init(baudrate=921600, timeout_chars=64)\n"
            "    n = at(b'AT\\r\\n')\n"
            "    k = u.any()\n"
            "    r = u.readinto(one)\n"
            "except Exception as e:\n"
            "    err = e\n"
            "micropython.heap_unlock()\n"
            "print(repr(err), bytes(acc[:n]), k, r)\n"
        )
        assert out.startswith("None "), out
        assert "OK" in out, out


def test_no_panic_path_in_the_firmware():
    """No Rust panic path is linked into the firmware (scripts/cross_report.py
    --panics-only lists core::panicking::*, panic_bounds_check, slice index failures,
    unwrap_failed, ... from the firmware's symbols)."""
    args = [sys.executable, str(REPO / "scripts" / "cross_report.py"), "--panics-only",
            "--fail-on-panics", "--elf", str(FIRMWARE)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    print(done.stdout)
    assert ("0 Rust panic symbol(s) in %s" % FIRMWARE) in done.stdout, done.stdout
    assert done.returncode == 0, done.stdout + done.stderr
