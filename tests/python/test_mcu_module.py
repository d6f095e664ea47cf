"""The module on the emulated board (`make mcu`): the test firmware (MicroPython's qemu
port on a Cortex-M3 with an 8 KiB C stack and a 64 KiB heap, the shim frozen in) drives
the simulator through its second UART with the familiar API, `uart=machine.UART(1)`.

The qemu port has no filesystem, so images are Python stream objects that produce them
(`run(stream, size=N, name=...)`); the simulator records what it received and every test
compares it byte for byte with the same image made here. After each call the board says
how deep its C stack went (`testboard.stack_peak()`, by painting): a whole call from the
REPL must stay within 6 KiB of the board's 8 KiB, the module's own share (its Rust and
glue frames and what they call) within 4 KiB.
"""

import hashlib
import re
import time

import pytest

from mcutools import Board, BoardError, McuSim, missing_tools
from simtools import changing_commands, transfer_bytes

WHOLE_CALL_BUDGET = 6 * 1024
MODULE_BUDGET = 4 * 1024

# Board side: an image made on the fly (a .dup header then byte i = (i ^ i>>8 ^ i>>16) &
# 255, or the ELF magic for updater.elf), whose readinto allocates nothing; and a call of
# the native module exactly as Updater.go() makes it, with the C stack measured around it.
BOARD_CODE = r"""
import io, machine, micropython, testboard, sqnsupgrade, _sqnsupgrade

class Image(io.IOBase):
    def __init__(self, size, kind='dup', head=None):
        self.size = size
        self.pos = 0
        if head is None:
            if kind == 'dup':
                head = (b'UPGR' + (3).to_bytes(4, 'little') + (size - 46).to_bytes(4, 'little')
                        + b'CATM1-41065\x00')
            else:
                head = b'\x7fELF'
        self.head = head
        self.hlen = len(head)

    def readinto(self, buf):
        n = len(buf)
        pos = self.pos
        if n > self.size - pos:
            n = self.size - pos
        head = self.head
        hlen = self.hlen
        for j in range(n):
            i = pos + j
            if i < hlen:
                buf[j] = head[i]
            else:
                buf[j] = (i ^ (i >> 8) ^ (i >> 16)) & 255
        self.pos = pos + n
        return n

u = machine.UART(1, baudrate=921600)
peaks = []

def measured(updater, lock=False):
    # _sqnsupgrade.call as Updater.go() makes it, from this frame: the module's share of
    # the stack is the peak below the depth a native call starts at here.
    # (Plain arguments: a call with *args would allocate.)
    command, link, opts = updater._command, updater.link.stream, updater._opts
    base = testboard.stack_depth()
    testboard.stack_reset()
    if lock:
        micropython.heap_lock()
    try:
        status = _sqnsupgrade.call(command, link, opts)
    finally:
        if lock:
            micropython.heap_unlock()
    return status, testboard.stack_peak() - base
"""


def image_bytes(size, kind="dup"):
    """The image the board's Image(size, kind) produces."""
    if kind == "dup":
        head = b"UPGR" + (3).to_bytes(4, "little") + (size - 46).to_bytes(4, "little") + \
            b"CATM1-41065\x00"
    else:
        head = b"\x7fELF"
    data = bytearray((i ^ (i >> 8) ^ (i >> 16)) & 255 for i in range(size))
    data[:len(head)] = head
    return bytes(data)


@pytest.fixture(autouse=True)
def _tools():
    why = missing_tools()
    if why:
        pytest.fail(why)


def whole_call(board, call, timeout=300):
    """Runs `call` (an expression) from the REPL with the stack painted before it; returns
    (what it printed, repr of its value, the stack peak)."""
    out = board.exec(
        "testboard.stack_reset()\n"
        "r = %s\n"
        "print('@@', repr(r), testboard.stack_peak())\n" % call,
        timeout=timeout,
    )
    printed, _, tail = out.rpartition("@@ ")
    value, peak = tail.strip().rsplit(" ", 1)
    return printed, value, int(peak)


def last_result(board):
    return board.eval("sqnsupgrade.last_result()")


@pytest.mark.parametrize("method,size", [("FFF", 300_000), ("ON_THE_FLY", 300_000)])
def test_run_from_a_stream(tmp_path, method, size):
    load_fff = method == "FFF"
    with McuSim(tmp_path / "sim") as sim, Board(sim.pty) as board:
        board.exec(BOARD_CODE)
        printed, value, peak = whole_call(
            board,
            "sqnsupgrade.run(Image(%d), size=%d, name='CATM1-41065.dup', uart=u, load_fff=%s)"
            % (size, size, load_fff),
        )
        result = last_result(board)
    assert value == "True", printed
    assert "Upgrade completed!" in printed
    assert re.search(r"Sending %d bytes: \[#{40}\] 100%%" % size, printed), printed
    assert result["ok"] and result["state_after"] == 2 and result["bytes"] == size, result
    assert transfer_bytes(sim.log, 1) == image_bytes(size)
    assert sim.log["violations"] == []
    stpu = [c["cmd"] for c in sim.log["commands"] if c["cmd"].startswith("AT+SMSTPU")]
    assert stpu == (["AT+SMSTPU"] if load_fff else ['AT+SMSTPU="ON_THE_FLY"']), stpu
    print("whole run() %s: C stack peak %d bytes" % (method, peak))
    assert peak <= WHOLE_CALL_BUDGET


def test_run_in_recovery_with_updater_elf(tmp_path):
    size, elf = 200_000, 60_000
    with McuSim(tmp_path / "sim", "--state", "0") as sim, Board(sim.pty) as board:
        board.exec(BOARD_CODE)
        printed, value, peak = whole_call(
            board,
            "sqnsupgrade.run(Image(%d), Image(%d, 'elf'), size=%d, name='CATM1-41065.dup', uart=u)"
            % (size, elf, size),
        )
        result = last_result(board)
    assert value == "True", printed
    assert "Upgrader loaded successfully" in printed, printed
    assert result["state_before"] == 0 and result["state_after"] == 2, result
    assert transfer_bytes(sim.log, 1) == image_bytes(elf, "elf")
    assert transfer_bytes(sim.log, 2) == image_bytes(size)
    assert sim.log["violations"] == []
    print("whole run() recovery: C stack peak %d bytes" % peak)
    assert peak <= WHOLE_CALL_BUDGET


@pytest.mark.parametrize("state", [2, 0, 4])
def test_info_and_state(tmp_path, state):
    with McuSim(tmp_path / "sim", "--state", str(state)) as sim, Board(sim.pty) as board:
        board.exec(BOARD_CODE)
        printed, value, info_peak = whole_call(board, "sqnsupgrade.info(uart=u)")
        _, number, state_peak = whole_call(board, "sqnsupgrade.state(uart=u)")
    assert value == "True", printed
    line = {
        2: "Your modem is in application mode. Here is the current version:",
        0: "Your modem is in recovery mode! Use firmware.dup and updater.elf to flash new firmware.",
        4: "Your modem is in upgrade mode! Use firmware.dup to flash new firmware.",
    }[state]
    assert line in printed, printed
    if state == 2:
        assert "LR5.1.1.0-38638" in printed and "IMEI: 354347090000123" in printed, printed
    assert int(number) == state
    assert changing_commands(sim.log) == []
    print("info() state %d: C stack peak %d bytes; state(): %d" % (state, info_peak, state_peak))
    assert max(info_peak, state_peak) <= WHOLE_CALL_BUDGET


@pytest.mark.parametrize("flow", ["ON_THE_FLY", "recovery"])
def test_updater_go_allocates_nothing(tmp_path, flow):
    size, elf = 300_000, 60_000
    state = "2" if flow == "ON_THE_FLY" else "0"
    mfile = "Image(%d, 'elf')" % elf if flow == "recovery" else "None"
    with McuSim(tmp_path / "sim", "--state", state) as sim, Board(sim.pty) as board:
        board.exec(BOARD_CODE)
        out = board.exec(
            "up = sqnsupgrade.Updater(uart=u)\n"
            "up.prepare(Image(%d), %s, size=%d, name='CATM1-41065.dup', load_fff=False)\n"
            "status, share = measured(up, lock=True)\n"
            "print('@@', status, share)\n" % (size, mfile, size),
            timeout=300,
        )
        result = last_result(board)
    status, share = (int(x) for x in out.rpartition("@@ ")[2].split())
    assert status == 0, out
    assert result["ok"] and result["state_after"] == 2, result
    transfers = sim.log["transfers"]
    if flow == "recovery":
        assert transfer_bytes(sim.log, 1) == image_bytes(elf, "elf")
        # The switch to 115200 and back went through UART.init under the heap lock.
        assert any(c["cmd"] == "AT+IPR=921600" for c in sim.log["commands"])
    assert transfer_bytes(sim.log, len(transfers)) == image_bytes(size)
    assert sim.log["violations"] == []
    print("Updater.go() %s under heap_lock: module's C stack share %d bytes" % (flow, share))
    assert share <= MODULE_BUDGET


def test_ctrl_c_during_a_transfer_then_state_works(tmp_path):
    size = 2_000_000
    with McuSim(tmp_path / "sim") as sim, Board(sim.pty) as board:
        board.exec(BOARD_CODE)
        board.start_exec(
            "try:\n"
            "    sqnsupgrade.run(Image(%d), size=%d, name='CATM1-41065.dup', uart=u,\n"
            "                    load_fff=False)\n"
            "    print('@@ returned')\n"
            "except KeyboardInterrupt:\n"
            "    print('@@ KeyboardInterrupt')\n" % (size, size)
        )
        board.read_until(b"Sending %d bytes: [" % size, 120, "the transfer's start")
        board.read_until(b"#", 60, "progress")
        board.send(b"\x03")
        out = board.finish_exec(timeout=120)
        assert "@@ KeyboardInterrupt" in out, out
        assert last_result(board)["status"] == 130
        # The modem answers again, in upgrade mode: the transfer was ended cleanly.
        assert board.eval("sqnsupgrade.state(uart=u)") == 4
    assert sim.log["violations"] == [], sim.log["violations"]


@pytest.mark.parametrize("bad", ["html", "elf_as_firmware", "too_small"])
def test_bad_input_is_refused_without_touching_the_modem(tmp_path, bad):
    image = {
        "html": "Image(300000, head=b'<!DOCTYPE html><html>')",
        "elf_as_firmware": "Image(300000, 'elf')",
        "too_small": "Image(100)",
    }[bad]
    with McuSim(tmp_path / "sim") as sim, Board(sim.pty) as board:
        board.exec(BOARD_CODE)
        printed, value, _ = whole_call(
            board, "sqnsupgrade.run(%s, size=%s.size, name='CATM1-41065.dup', uart=u)"
            % (image, image))
        result = last_result(board)
    assert value == "False", printed
    assert "error: " in printed and "modem: not changed" in printed, printed
    assert result["status"] == 2 and not result["modem_changed"], result
    assert changing_commands(sim.log) == []
    assert sim.log["commands"] == [], "the modem was not even asked: the file came first"


def test_fff_checks_the_digest_before_the_modem_commits(tmp_path):
    # sha256= on a stream: FFF hashes what it sends and checks it after the transfer,
    # before AT+SMUPGRADE (hashlib on the board). A digest that differs commits nothing.
    size = 200_000
    right = hashlib.sha256(image_bytes(size)).hexdigest()
    wrong = hashlib.sha256(b"another image").hexdigest()
    call = "sqnsupgrade.run(Image(%d), size=%d, name='CATM1-41065.dup', uart=u, sha256=%r)"
    with McuSim(tmp_path / "sim") as sim, Board(sim.pty) as board:
        board.exec(BOARD_CODE)
        printed, value, wrong_peak = whole_call(board, call % (size, size, wrong))
        assert value == "False", printed
        assert "is not the image the SHA-256 given names" in printed, printed
        assert "modem: 2 application mode (FFF)" in printed, printed
        refused = last_result(board)
        printed, value, right_peak = whole_call(board, call % (size, size, right))
        result = last_result(board)
    # Stored, not committed: the modem was touched (a modem failure's status, not a bad input's).
    assert refused["status"] == 1 and refused["state_after"] == 2, refused
    cmds = [c["cmd"] for c in sim.log["commands"]]
    # One AT+SMUPGRADE: the second run's; the first stopped before it.
    assert cmds.count("AT+SMUPGRADE") == 1, cmds
    assert cmds.index("AT+SMUPGRADE") > cmds.index("AT+SMSTPU", cmds.index("AT+SMSTPU") + 1), cmds
    assert value == "True" and result["ok"] and result["build_after"] == 41065, printed
    assert len(sim.log["transfers"]) == 2
    assert transfer_bytes(sim.log, 1) == transfer_bytes(sim.log, 2) == image_bytes(size)
    assert sim.log["violations"] == []
    print("run() FFF with sha256: C stack peak %d / %d bytes" % (wrong_peak, right_peak))
    assert max(wrong_peak, right_peak) <= WHOLE_CALL_BUDGET


@pytest.mark.parametrize("source", ["dict", "single"])
def test_ensure_with_a_stream_source(tmp_path, source):
    # No filesystem on this board: the record is a dict that ensure() keeps up to date.
    size = 200_000
    src = {"dict": "{'full': Image(%d)}" % size,
           "single": "Image(%d), 41065, name='CATM1-41065.dup'" % size}[source]
    if source == "dict":
        src += ", 41065"
    call = "sqnsupgrade.ensure(%s, record=rec, uart=u)" % src
    with McuSim(tmp_path / "sim") as sim, Board(sim.pty) as board:
        board.exec(BOARD_CODE + "rec = {}\n")
        printed, value, peak = whole_call(board, call)
        first = last_result(board)
        time.sleep(0.5)  # the simulator writes its log after each exchange
        before = len(sim.current_log()["commands"])
        again, _, again_peak = whole_call(board, call)
        second = last_result(board)
        rec = board.eval("rec")
    assert first["ok"] and first["command"] == "run" and first["build_after"] == 41065, printed
    assert "The modem runs build 38638, not 41065: updating." in printed, printed
    assert transfer_bytes(sim.log, 1) == image_bytes(size)
    assert "The modem already runs build 41065: nothing to do." in again, again
    assert second["ok"] and second["command"] == "ensure" and not second["modem_changed"], second
    later = sim.log["commands"][before:]
    assert later and not [c for c in later if c["changes_modem"]], later
    assert len(sim.log["transfers"]) == 1
    assert rec["target"] == 41065 and rec["tries"] == 1 and rec["status"] == 0, rec
    assert sim.log["violations"] == []
    print("ensure() %s: C stack peak %d, then %d bytes" % (source, peak, again_peak))
    assert max(peak, again_peak) <= WHOLE_CALL_BUDGET
