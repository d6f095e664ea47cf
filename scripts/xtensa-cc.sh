#!/usr/bin/env bash
# xtensa-cc.sh SRC.c OUT.o [clang flags...]
#
# C for the ESP32's CPU with Debian's LLVM 22, by the same route as the Rust library
# (scripts/xtensa-asm-lib.sh): clang-22 compiles to LLVM IR (its driver knows no ESP32
# CPU), llc-22 lowers it for `-mcpu=esp32` without MUL32_HIGH (as the library is built) to
# assembly, scripts/xtensa_asm.py puts the literal pools where GNU ld accepts them (and
# takes the 16-bit instructions), and llvm-mc-22 assembles it. Freestanding: no C library is assumed, and the compiler turns
# no loop into a call of memcpy & co.
#
# Environment: CLANG (clang-22), LLC (llc-22), LLVM_MC (llvm-mc-22), PYTHON (python3).
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 SRC.c OUT.o [clang flags...]" >&2
    exit 2
fi
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$1
OUT=$2
shift 2
CLANG=${CLANG:-clang-22}
LLC=${LLC:-llc-22}
LLVM_MC=${LLVM_MC:-llvm-mc-22}
PYTHON=${PYTHON:-python3}

unit=$(basename "$SRC" .c)
base=${OUT%.o}
"$CLANG" --target=xtensa -ffreestanding -fno-builtin -Os -ffunction-sections -fdata-sections \
    -fno-asynchronous-unwind-tables -Wall -Werror -S -emit-llvm "$@" "$SRC" -o "$base.ll"
"$LLC" -mtriple=xtensa -mcpu=esp32 -mattr=-mul32high "$base.ll" -o "$base.llc.s"
"$PYTHON" "$SCRIPT_DIR/xtensa_asm.py" --unit "$unit" "$base.llc.s" "$base.s"
"$LLVM_MC" -triple=xtensa -mcpu=esp32 -filetype=obj "$base.s" -o "$OUT"
