#!/usr/bin/env bash
# bench-mcu.sh: figures of the module on the emulated Cortex-M3 board and its code size on
# both boards' CPUs (README "On the board"). A benchmark, not a test.
# Needs `make mcu cross` (build/mcu/firmware.elf, build/cross/report.json) and
# `cargo build --release` (the simulator).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
exec python3 scripts/bench_mcu.py
