#!/usr/bin/env bash
# cross.sh: the module's static library for the boards' CPUs, and what it costs there.
#
# Builds libsqnsupgrade.a (feature micropython, cargo profile firmware) for
#   - thumbv7m-none-eabi (Cortex-M3, the emulated test board)  -> build/cross/thumbv7m/
#   - the ESP32 (Xtensa LX6), target file scripts/cross/xtensa-esp32-none-elf.json
#                                                              -> build/cross/xtensa-esp32/
# with the bindgen flags and cargo settings that `make mcu` (scripts/build-mcu.sh) saved in
# build/mcu/bindgen-flags{,.env}: the bindings of the 32-bit qemu port configuration, the
# same cargo target dir (build/cross/target), so the Cortex-M3 library is the firmware's
# own and is not built twice. Then scripts/cross_report.py writes build/cross/report.json
# and prints sizes, the top contributors, the deepest static stack from sqn_rs_call, the
# undefined-symbol check (fails on a symbol outside the allow-list) and the Rust panic
# paths left in build/mcu/firmware.elf (fails on any; SQN_FAIL_ON_PANICS=0 only lists them).
#
# No ESP32 linker or C compiler here: Xtensa is compile-and-measure only.
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

# The cargo command of mpy_glue/micropython.mk, for another target.
build_lib() { # target, extra cargo flags...
    local target=$1
    shift
    local rustc_args=()
    if [ -n "${SQN_RUSTC_FLAGS// /}" ]; then
        # shellcheck disable=SC2206
        rustc_args=(-- $SQN_RUSTC_FLAGS)
    fi
    # shellcheck disable=SC2086
    (cd "$REPO" && env $SQN_CARGO_ENV MICROPY_DIR="$MICROPY_DIR" SQN_BINDGEN_FLAGS="$BINDGEN_FLAGS" \
        $SQN_CARGO rustc -p sqnsupgrade --profile "$SQN_PROFILE" --lib --crate-type staticlib \
        --no-default-features --features micropython \
        --target-dir "$SQN_TARGET_DIR" --target "$target" $SQN_CARGO_FLAGS "$@" "${rustc_args[@]}")
}

thumb_lib=$SQN_TARGET_DIR/$SQN_RUST_TARGET/$SQN_PROFILE/libsqnsupgrade.a
before=$(stat -c %Y "$thumb_lib" 2>/dev/null || echo none)
log "Cortex-M3 ($SQN_RUST_TARGET): the firmware's library"
build_lib "$SQN_RUST_TARGET"
if [ "$before" != "$(stat -c %Y "$thumb_lib")" ]; then
    log "note: $thumb_lib was rebuilt (Rust sources changed since \`make mcu\`, or this"
    log "      script's cargo command no longer matches mpy_glue/micropython.mk's)"
fi
mkdir -p "$OUT/thumbv7m" "$OUT/xtensa-esp32"
cp "$thumb_lib" "$OUT/thumbv7m/libsqnsupgrade.a"

log "ESP32 (Xtensa, $(basename "$XTENSA_SPEC"))"
flags=()
case " $SQN_CARGO_FLAGS " in *" -Zjson-target-spec "*) ;; *) flags+=(-Zjson-target-spec) ;; esac
build_lib "$XTENSA_SPEC" "${flags[@]}"
cp "$SQN_TARGET_DIR/$(basename "$XTENSA_SPEC" .json)/$SQN_PROFILE/libsqnsupgrade.a" "$OUT/xtensa-esp32/libsqnsupgrade.a"

report_args=()
[ "${SQN_FAIL_ON_PANICS:-1}" = 1 ] && report_args+=(--fail-on-panics)
python3 "$SCRIPT_DIR/cross_report.py" --repo "$REPO" "${report_args[@]}"
