#!/usr/bin/env bash
# xtensa-asm-lib.sh DEPS_DIR OUT.a
#
# The ESP32 static library from the assembly rustc wrote for it. rustc-web's LLVM (22.1.8)
# emits Xtensa objects that GNU ld rejects (misplaced literal pools; see
# scripts/xtensa_asm.py), so the library that ships is made from its assembly instead:
#
#   cargo rustc ... --target <esp32 target> -- --emit=asm,link   (the caller runs this)
#   scripts/xtensa_asm.py    literal pools where GNU ld wants them, equal literals merged,
#                            calls inside the library made direct, 16-bit instructions
#                            where the Code Density option has them
#   llvm-mc-22               assembles it (Debian's llvm-22)
#   llvm-ar-22               OUT.a with that one object
#
# DEPS_DIR is cargo's deps folder of that build (<target dir>/<target>/<profile>/deps),
# where rustc left sqnsupgrade-<hash>.s; the newest one is used. Rust's compiler_builtins
# is not in OUT.a: the firmware's C library and libgcc give the few helpers the library
# needs (memcpy, memmove, memset, memcmp, abort, __muldi3; `make cross` checks the list).
#
# Environment: LLVM_MC (default llvm-mc-22), LLVM_AR (default llvm-ar-22), PYTHON
# (default python3).
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 DEPS_DIR OUT.a" >&2
    exit 2
fi
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DEPS=$1
OUT=$2
LLVM_MC=${LLVM_MC:-llvm-mc-22}
LLVM_AR=${LLVM_AR:-llvm-ar-22}
PYTHON=${PYTHON:-python3}

for tool in "$LLVM_MC" "$LLVM_AR"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "xtensa-asm-lib: $tool not found: install Debian's llvm-22 (scripts/setup.sh)" >&2
        exit 1
    fi
done
# shellcheck disable=SC2012
asm=$(ls -t "$DEPS"/sqnsupgrade-*.s 2>/dev/null | head -1 || true)
if [ -z "$asm" ]; then
    echo "xtensa-asm-lib: no sqnsupgrade-*.s in $DEPS: build with \`-- --emit=asm,link\`" >&2
    exit 1
fi
work=$(dirname "$OUT")/asm
mkdir -p "$work"
"$PYTHON" "$SCRIPT_DIR/xtensa_asm.py" --unit sqnsupgrade "$asm" "$work/sqnsupgrade.s"
"$LLVM_MC" -triple=xtensa -mcpu=esp32 -filetype=obj "$work/sqnsupgrade.s" -o "$work/sqnsupgrade.o"
rm -f "$OUT.tmp"
"$LLVM_AR" rcs "$OUT.tmp" "$work/sqnsupgrade.o"
mv "$OUT.tmp" "$OUT"
echo "xtensa-asm-lib: $OUT (from $(basename "$asm"))"
