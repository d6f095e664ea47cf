#!/usr/bin/env bash
# build-xtensa.sh: the Xtensa test board (tests/xtensa/board), with the module's ESP32
# library exactly as `make cross` ships it (build/cross/xtensa-esp32/libsqnsupgrade.a).
#
#   board C files   scripts/xtensa-cc.sh (clang-22, llc-22 -mcpu=esp32 without MUL32_HIGH,
#                   the literal fix, llvm-mc-22)
#   start.s         llvm-mc-22 (vectors, start-up, semihosting, cycle counter, spills)
#   link            GNU ld (xtensa-lx106-elf-ld --no-relax --gc-sections) with
#                   tests/xtensa/board/board.ld; any error, a "dangerous relocation" above
#                   all, fails the build
#
# Results in build/xtensa/: board.elf, board.map, link.log, obj/. Run it with
# scripts/xtensa-board.sh.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
BOARD=$REPO/tests/xtensa/board
OUT=$REPO/build/xtensa
LIB=$REPO/build/cross/xtensa-esp32/libsqnsupgrade.a
LLVM_MC=${LLVM_MC:-llvm-mc-22}

log() { echo "build-xtensa: $*"; }

if [ ! -f "$LIB" ]; then
    echo "build-xtensa: $LIB is missing: run \`make cross\` first" >&2
    exit 1
fi
missing=()
for tool in clang-22 llc-22 llvm-mc-22 xtensa-lx106-elf-ld; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "build-xtensa: missing ${missing[*]} (run scripts/setup.sh)" >&2
    exit 1
fi

mkdir -p "$OUT/obj"
objs=("$OUT/obj/start.o")
"$LLVM_MC" -triple=xtensa -mcpu=esp32 -filetype=obj "$BOARD/start.s" -o "$OUT/obj/start.o"
for src in "$BOARD"/*.c; do
    obj=$OUT/obj/$(basename "$src" .c).o
    bash "$SCRIPT_DIR/xtensa-cc.sh" "$src" "$obj" -I"$BOARD" -I"$REPO/mpy_glue" 2>/dev/null
    objs+=("$obj")
done
rm -f "$OUT/board.elf"
if ! xtensa-lx106-elf-ld --no-relax --gc-sections -T "$BOARD/board.ld" -Map "$OUT/board.map" \
    -o "$OUT/board.elf" "${objs[@]}" "$LIB" > "$OUT/link.log" 2>&1 \
    || grep -qv -e 'GNU-stack' -e 'deprecated' -e 'RWX' "$OUT/link.log"; then
    cat "$OUT/link.log" >&2
    echo "build-xtensa: GNU ld did not link the board (above)" >&2
    rm -f "$OUT/board.elf"
    exit 1
fi
log "built $OUT/board.elf"
