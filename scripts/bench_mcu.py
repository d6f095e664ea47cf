#!/usr/bin/env python3
"""Figures of the module on the emulated Cortex-M3 board (a benchmark, not a test).

    bash scripts/bench-mcu.sh        # after `make mcu cross` and `cargo build --release`

Prints, for the test firmware (build/mcu/firmware.elf) driving the simulator:
- the C stack per call (testboard.stack_peak() after each call from the REPL, and the
  module's own share below the depth a native call starts at);
- the MicroPython heap allocated per call (gc disabled, gc.mem_alloc() before and after);
- the instructions per image byte, under QEMU's -icount shift=0 (one virtual nanosecond per
  instruction): testboard.busy_ns() (time outside WFI) around a whole ON_THE_FLY run,
  minus the same image only read from its Python stream (what the image's own producer
  costs), divided by the image's size;
and the code size per target with the top contributors (build/cross/report.json).
"""

import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "python"))

from mcutools import Board, McuSim, missing_tools  # noqa: E402
from test_mcu_module import BOARD_CODE  # noqa: E402

NAME = "name='CATM1-41065.dup'"


def stack_and_heap(board, call):
    out = board.exec(
        "import gc\n"
        "gc.collect(); gc.disable()\n"
        "a0 = gc.mem_alloc()\n"
        "testboard.stack_reset()\n"
        "r = %s\n"
        "peak = testboard.stack_peak()\n"
        "a1 = gc.mem_alloc()\n"
        "gc.enable()\n"
        "print('@@', peak, a1 - a0, repr(r))\n" % call,
        timeout=600,
    )
    peak, heap, value = out.rpartition("@@ ")[2].split(None, 2)
    return int(peak), int(heap), value.strip()


def go_share(board, prepare):
    out = board.exec(
        "up = sqnsupgrade.Updater(uart=u, quiet=True)\n"
        "up.prepare(%s)\n"
        "st, share = measured(up, lock=True)\n"
        "print('@@', st, share)\n" % prepare,
        timeout=600,
    )
    st, share = out.rpartition("@@ ")[2].split()
    assert st == "0", out
    return int(share)


def main():
    why = missing_tools()
    if why:
        sys.exit(why)
    tmp = Path("/tmp/sqnsupgrade-bench-mcu-%d" % time.time_ns())
    rows = []
    calls = [
        ("run() FFF, 300,000 bytes", "2",
         "sqnsupgrade.run(Image(300000), size=300000, %s, uart=u)" % NAME,
         "Image(300000), size=300000, %s" % NAME),
        ("run() ON_THE_FLY, 300,000 bytes", "2",
         "sqnsupgrade.run(Image(300000), size=300000, %s, uart=u, load_fff=False)" % NAME,
         "Image(300000), size=300000, %s, load_fff=False" % NAME),
        ("run() recovery, updater.elf 60,000 + 200,000 bytes", "0",
         "sqnsupgrade.run(Image(200000), Image(60000, 'elf'), size=200000, %s, uart=u)" % NAME,
         "Image(200000), Image(60000, 'elf'), size=200000, %s" % NAME),
        ("info()", "2", "sqnsupgrade.info(uart=u)", "command='info'"),
        ("state()", "2", "sqnsupgrade.state(uart=u)", "command='state'"),
    ]
    for i, (label, state, call, prepare) in enumerate(calls):
        with McuSim(tmp / ("sim%d" % i), "--state", state) as sim, Board(sim.pty) as board:
            board.exec(BOARD_CODE)
            peak, heap, value = stack_and_heap(board, call)
        with McuSim(tmp / ("simg%d" % i), "--state", state) as sim, Board(sim.pty) as board:
            board.exec(BOARD_CODE)
            share = go_share(board, prepare)
        rows.append((label, peak, share, heap, value))
    print("C stack and heap per call (8 KiB stack, 64 KiB heap):")
    print("  %-52s %10s %12s %14s" % ("call", "whole call", "module share", "heap (run())"))
    for label, peak, share, heap, value in rows:
        print("  %-52s %8d B %10d B %12d B" % (label, peak, share, heap))
    print("  (module share: Updater.go() under micropython.heap_lock(), so it allocates 0 B)")

    size = 1_000_000
    # No erase and finish pauses in the simulator: they are waits, not the module's work.
    with McuSim(tmp / "simi", "--erase-ms", "0", "--finish-ms", "0") as sim, \
            Board(sim.pty, icount=True, boot_timeout=120) as board:
        board.exec(BOARD_CODE)
        out = board.exec(
            "buf = bytearray(2016)\n"
            "img = Image(%d)\n"
            "b0 = testboard.busy_ns()\n"
            "while img.readinto(buf):\n"
            "    pass\n"
            "b1 = testboard.busy_ns()\n"
            "sqnsupgrade.run(Image(%d), size=%d, %s, uart=u, load_fff=False)\n"
            "b2 = testboard.busy_ns()\n"
            "print('@@', b1 - b0, b2 - b1)\n" % (size, size, size, NAME),
            timeout=1800,
        )
        produce, whole = (int(x) for x in out.rpartition("@@ ")[2].split())
    print()
    print("Instructions per image byte on the Cortex-M3 (QEMU -icount shift=0), %d-byte "
          "ON_THE_FLY run:" % size)
    print("  whole run() incl. the Python stream producing the image: %6.1f" % (whole / size))
    print("  the Python stream alone (readinto into 2016-byte blocks): %6.1f" % (produce / size))
    print("  the module (whole run minus the stream):                  %6.1f" % ((whole - produce) / size))

    report = json.loads((REPO / "build" / "cross" / "report.json").read_text())
    print()
    for target, key in (("thumbv7m", "sizes"), ("xtensa-esp32", "sizes")):
        t = report["targets"][target]
        s = t[key]
        print("Code size, %s: text %d + rodata %d = %d bytes; bss %d" % (
            target, s["text"], s["rodata"], s["text"] + s["rodata"], s["bss"]))
        for item in [i for i in t["top"] if i["kind"] in ("text", "rodata")][:8]:
            print("  %6d  %-6s %s" % (item["size"], item["kind"], item["name"]))


if __name__ == "__main__":
    main()
