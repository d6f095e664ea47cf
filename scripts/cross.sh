#!/usr/bin/env bash
# cross.sh: the module's static library for the boards' CPUs, and what it costs there.
#
# Builds libsqnsupgrade.a (feature micropython, cargo profile firmware) for
#   - thumbv7m-none-eabi (Cortex-M3, the emulated test board)  -> build/cross/thumbv7m/
#   - the ESP32 (Xtensa LX6), target file scripts/cross/xtensa-esp32-none-elf.json
#                                                              -> build/cross/xtensa-esp32/
# through mpy_glue/micropython.mk's own rule, run by the qemu port's make in the emulated
# board's build (`make mcu` first): the bindings of that 32-bit port configuration, the
# same cargo target dir (build/cross/target), so the Cortex-M3 library is the firmware's
# own and is not built twice.
#
# The ESP32 library is made from rustc's assembly (micropython.mk's SQN_XTENSA_ASM,
# scripts/xtensa-asm-lib.sh: LLVM 22.1.8's Xtensa objects are rejected by GNU ld). Then, as
# a firmware builder would:
#   - the C glue is compiled for the ESP32's CPU too (scripts/xtensa-cc.sh, clang-22 and
#     llc-22, MicroPython's headers in the same 32-bit configuration, ROM text compression
#     off as on Pycom's 1.11): build/cross/xtensa-esp32/modsqnsupgrade.o;
#   - GNU ld (xtensa-lx106-elf-ld --no-relax: the ESP-IDF linker's Xtensa backend, as
#     Debian packages it) links the library and the glue with --gc-sections from the
#     module's registration (sqn_user_cmodule) and entry (sqn_rs_call), with the firmware's
#     symbols left open: build/cross/xtensa-esp32/module.elf and module.map. Any error
#     (a "dangerous relocation" above all) fails this script.
# scripts/cross_report.py then writes build/cross/report.json and prints sizes (the
# Cortex-M3 firmware link and this ESP32 link), the top contributors, the deepest static
# stack from sqn_rs_call on the Cortex-M3 (on the ESP32 the stack is measured on the test
# board: `make xtensa`), the undefined-symbol check (fails on a symbol outside the
# allow-list) and the Rust panic paths left in both links (fails on any;
# SQN_FAIL_ON_PANICS=0 only lists them).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
MCU=$REPO/build/mcu
OUT=$REPO/build/cross
XTENSA_SPEC=$REPO/scripts/cross/xtensa-esp32-none-elf.json

log() { echo "cross: $*"; }

for f in "$MCU/bindgen-flags" "$MCU/bindgen-flags.env" "$MCU/firmware.elf" "$MCU/firmware.map"; do
    if [ ! -f "$f" ]; then
        echo "cross: $f is missing: run \`make mcu\` first" >&2
        exit 1
    fi
done

# MICROPY_DIR, SQN_CARGO, SQN_CARGO_ENV, SQN_CARGO_FLAGS, SQN_RUSTC_FLAGS, SQN_PROFILE,
# SQN_TARGET_DIR, SQN_RUST_TARGET as the firmware build had them.
# shellcheck disable=SC1091
. "$MCU/bindgen-flags.env"
BINDGEN_FLAGS=$(cat "$MCU/bindgen-flags")

# Both libraries through mpy_glue/micropython.mk's own rule, in the Cortex-M3 board's build
# (its generated headers and port configuration), as a firmware build makes them.
# shellcheck source=scripts/mcu-port.sh
. "$SCRIPT_DIR/mcu-port.sh"
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
MCU_BUILD=$REPO/build/mcu/qemu

thumb_lib=$SQN_TARGET_DIR/$SQN_RUST_TARGET/$SQN_PROFILE/libsqnsupgrade.a
before=$(stat -c %Y "$thumb_lib" 2>/dev/null || echo none)
log "Cortex-M3 ($SQN_RUST_TARGET): the firmware's library"
mcu_port_make "$MCU_BUILD" SQN_TARGET_DIR="$SQN_TARGET_DIR" "$thumb_lib"
if [ "$before" != "$(stat -c %Y "$thumb_lib")" ]; then
    log "note: $thumb_lib was rebuilt (Rust sources changed since \`make mcu\`)"
fi
mkdir -p "$OUT/thumbv7m" "$OUT/xtensa-esp32"
cp "$thumb_lib" "$OUT/thumbv7m/libsqnsupgrade.a"

# The ESP32's: the same rule for the Xtensa target file, which makes the library from
# rustc's assembly (SQN_XTENSA_ASM, scripts/xtensa-asm-lib.sh). Bindings of the same 32-bit
# configuration, parsed for the Cortex-M3 target (libclang 14 has no Xtensa).
log "ESP32 (Xtensa, $(basename "$XTENSA_SPEC")): from rustc's assembly"
bindgen_target=()
eval "set -- $BINDGEN_FLAGS"
while [ $# -gt 0 ]; do
    case $1 in
        --target=*) bindgen_target+=("$1") ;;
        -isystem) bindgen_target+=("$1" "$2"); shift ;;
    esac
    shift
done
xt_lib=$SQN_TARGET_DIR/$(basename "$XTENSA_SPEC" .json)/$SQN_PROFILE/gnu-ld/libsqnsupgrade.a
mcu_port_make "$MCU_BUILD" SQN_TARGET_DIR="$SQN_TARGET_DIR" SQN_RUST_TARGET="$XTENSA_SPEC" \
    SQN_BINDGEN_TARGET_FLAGS="${bindgen_target[*]}" "$xt_lib"
XT=$OUT/xtensa-esp32
cp "$xt_lib" "$XT/libsqnsupgrade.a"

log "ESP32: the C glue for the ESP32's CPU (clang-22, llc-22)"
# The 32-bit port configuration of the bindings, for clang's Xtensa target: its own
# freestanding headers and newlib's, not arm-none-eabi-gcc's; no ROM text compression.
glue_flags=()
eval "set -- $BINDGEN_FLAGS"
while [ $# -gt 0 ]; do
    case $1 in
        --target=*) ;;
        -isystem)
            case $2 in */arm-none-eabi/include) glue_flags+=(-isystem "$2") ;; esac
            shift ;;
        -DMICROPY_ROM_TEXT_COMPRESSION=*) ;;
        *) glue_flags+=("$1") ;;
    esac
    shift
done
bash "$SCRIPT_DIR/xtensa-cc.sh" "$REPO/mpy_glue/modsqnsupgrade.c" "$XT/modsqnsupgrade.o" \
    "${glue_flags[@]}" -DMICROPY_ROM_TEXT_COMPRESSION=0

log "ESP32: GNU ld links the library and the glue as a firmware would"
rm -f "$XT/module.elf" "$XT/module.map"
if ! xtensa-lx106-elf-ld --no-relax --gc-sections -T "$SCRIPT_DIR/cross/xtensa-module.ld" \
    -u sqn_user_cmodule -u sqn_rs_call --unresolved-symbols=ignore-all \
    -Map "$XT/module.map" -o "$XT/module.elf" "$XT/modsqnsupgrade.o" "$XT/libsqnsupgrade.a" \
    > "$XT/link.log" 2>&1 || grep -qv -e 'GNU-stack' -e 'deprecated' -e 'RWX' "$XT/link.log"; then
    cat "$XT/link.log" >&2
    echo "cross: GNU ld rejected the ESP32 library (above): a firmware link would fail too" >&2
    exit 1
fi

report_args=()
[ "${SQN_FAIL_ON_PANICS:-1}" = 1 ] && report_args+=(--fail-on-panics)
python3 "$SCRIPT_DIR/cross_report.py" --repo "$REPO" "${report_args[@]}"
