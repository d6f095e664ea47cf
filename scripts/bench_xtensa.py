#!/usr/bin/env python3
"""Figures of the module on the Xtensa test board (a benchmark, not a test).

    make bench-xtensa        # or, after `make xtensa`: python3 scripts/bench_xtensa.py

Prints, for the ESP32 library as `make cross` ships it, on QEMU's de212 core (the ESP32's
windowed ABI) driving the simulator:
- the module's stack share per call (painted, every register window spilled to its save
  area at each call into the board; includes the 160 bytes of the board's spill routine);
- the instructions per image byte, under QEMU's -icount shift=0 (one instruction per
  virtual nanosecond): the board counts the cycles it is not asleep in WAITI (busy
  cycles, 25 instructions each at the board's 40 MHz), for a whole ON_THE_FLY run of N
  and of 2N bytes; the difference divided by N is the cost of one more byte (CRC,
  framing, copies, and the board's UART driver, one polled register write per byte),
  without the fixed cost of detection and boot switches;
- the code size from GNU ld's link (build/cross/report.json).
"""

import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "python"))

from simtools import make_dup, make_elf  # noqa: E402
from xtensatools import XtensaSim, board, missing_tools  # noqa: E402


def busy_instructions(run):
    r = run.result
    return r["busy_cycles"] * 1_000_000 // r["cycles_per_ms"]


def main():
    why = missing_tools()
    if why:
        sys.exit(why)
    tmp = Path("/tmp/sqnsupgrade-bench-xtensa-%d" % time.time_ns())
    tmp.mkdir(parents=True)
    image = make_dup(tmp, "CATM1-41065.dup", 300_000)
    small = make_dup(tmp, "small.dup", 200_000)
    elf = make_elf(tmp, 60_000)

    print("Module's stack share per call (painted, windows spilled):")
    calls = [
        ("run() FFF, 300,000-byte image", "2", ["run", str(image), "--fff"]),
        ("run() ON_THE_FLY, 300,000 bytes", "2", ["run", str(image), "--on-the-fly"]),
        ("run() recovery, updater.elf 60,000 + 200,000 bytes", "0",
         ["run", str(small), "--updater", str(elf)]),
        ("info()", "2", ["info"]),
        ("state()", "2", ["state"]),
    ]
    for i, (label, state, args) in enumerate(calls):
        with XtensaSim(tmp / ("sim%d" % i), "--state", state) as sim:
            run = board(sim, *args)
        if run.status != 0:
            sys.exit("%s failed:\n%s" % (label, run.output))
        print("  %-52s %5d B" % (label, run.stack))

    print("\nInstructions per image byte (QEMU -icount shift=0, ON_THE_FLY):")
    n = 1_000_000
    counts = {}
    for size in (n, 2 * n):
        img = make_dup(tmp, "img%d.dup" % size, size)
        with XtensaSim(tmp / ("icount%d" % size), "--erase-ms", "0", "--finish-ms", "0") as sim:
            run = board(sim, "run", str(img), "--on-the-fly", icount=True, timeout=1200)
        if run.status != 0:
            sys.exit("icount run of %d bytes failed:\n%s" % (size, run.output))
        counts[size] = busy_instructions(run)
        print("  whole run of %9d bytes: %12d busy instructions (%.1f per byte), %.0f s"
              % (size, counts[size], counts[size] / size, run.seconds))
    per_byte = (counts[2 * n] - counts[n]) / n
    print("  one more byte: %.1f instructions" % per_byte)

    report = json.loads((REPO / "build" / "cross" / "report.json").read_text())
    x = report["targets"]["xtensa-esp32"]
    code = x["sizes"]["text"] + x["sizes"]["rodata"]
    print("\nESP32 module (GNU ld link): text %d + rodata %d = %d B (Rust %d, C glue %d); "
          "budget %d, headroom %d" % (
              x["sizes"]["text"], x["sizes"]["rodata"], code,
              x["sizes_rust"]["text"] + x["sizes_rust"]["rodata"],
              x["sizes_glue"]["text"] + x["sizes_glue"]["rodata"],
              x["code_budget"], x["code_headroom"]))


if __name__ == "__main__":
    main()
