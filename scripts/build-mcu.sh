#!/usr/bin/env bash
# build-mcu.sh [extra make args...]
#
# Build the SQN_TESTBOARD firmware: MicroPython's qemu port (MPS2-AN385, Cortex-M3) with
# the board of tests/mcu/board, this project as a user C module (the Rust engine built for
# thumbv7m-none-eabi by mpy_glue/micropython.mk) and the shim frozen in
# (tests/mcu/manifest.py). Results in build/mcu/:
#   firmware.elf, firmware.map   the firmware and its link map
#   bindgen-flags, bindgen-flags.env   the exact bindgen flags and cargo settings of the
#                                build (scripts/cross.sh reuses them)
#   qemu/                        the port's build folder
# The Rust library itself is in build/cross/target (shared with scripts/cross.sh).
# Extra arguments go to the port's make (e.g. V=1).
#
# SQN_TESTBOARD_STACK=N (bytes) builds a board with another C stack size instead (e.g.
# 12288, a Pycom board with PSRAM): build/mcu/firmware-stackN.elf and .map (the flags
# files are not written then: they describe the 8 KiB board's build).
#
# MICROPY_DIR selects the MicroPython tree (default <repo>/build/micropython, fetched with
# scripts/fetch-micropython.sh when missing). Only its ports/qemu sources and mpy-cross are
# used; every build product but mpy-cross lands in this repository's build/ folder.
# Run it:  qemu-system-arm -machine mps2-an385 -nographic -monitor null -semihosting \
#              -serial mon:stdio -serial <modem pty> -kernel build/mcu/firmware.elf
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
MICROPY_DIR=${MICROPY_DIR:-$REPO/build/micropython}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
OUT=$REPO/build/mcu

log() { echo "build-mcu: $*"; }

if [ ! -f "$MICROPY_DIR/py/obj.h" ]; then
    "$SCRIPT_DIR/fetch-micropython.sh" "$MICROPY_DIR"
fi
MICROPY_DIR=$(cd "$MICROPY_DIR" && pwd -P)

missing=()
command -v arm-none-eabi-gcc >/dev/null 2>&1 || missing+=(gcc-arm-none-eabi)
[ -f /usr/lib/arm-none-eabi/include/stdlib.h ] || missing+=(libnewlib-arm-none-eabi)
[ -x /usr/bin/rustc ] || missing+=(rustc-web)
[ -d /usr/lib/rustlib/src/rust/library/core ] || missing+=(rust-web-src)
if [ ${#missing[@]} -gt 0 ]; then
    echo "build-mcu: missing Debian packages: ${missing[*]} (run scripts/setup.sh)" >&2
    exit 1
fi

# mpy-cross compiles the frozen shim; the port's build would make it too, but on its own
# it gets the host compiler for sure.
if [ ! -x "$MICROPY_DIR/mpy-cross/build/mpy-cross" ]; then
    log "building mpy-cross"
    make -C "$MICROPY_DIR/mpy-cross" -j"$JOBS"
fi

STACK=${SQN_TESTBOARD_STACK:-}
if [ -n "$STACK" ]; then
    # Its own cargo target dir too (inside its build folder): its bindgen flags name its
    # build folder, and sharing build/cross/target would rebuild the library back and forth.
    BUILD_DIR=$OUT/qemu-stack$STACK
    NAME=firmware-stack$STACK
    VARIANT=(SQN_TESTBOARD_STACK="$STACK")
else
    BUILD_DIR=$OUT/qemu
    NAME=firmware
    VARIANT=(SQN_TARGET_DIR="$REPO/build/cross/target" SQN_BINDGEN_FLAGS_OUT="$OUT/bindgen-flags")
fi

# The frozen shim's C is made again every time: MicroPython's manifest tool keeps an
# existing frozen_content.c whose .mpy files did not change, even when the firmware's own
# qstrs did (the glue's option and key names, from mpy_glue/sqn_schema.h), and the stale
# file then declares those qstrs a second time.
rm -f "$BUILD_DIR/frozen_content.c"

# shellcheck source=scripts/mcu-port.sh
. "$SCRIPT_DIR/mcu-port.sh"
log "make -C $MICROPY_DIR/ports/qemu BUILD=$BUILD_DIR ${VARIANT[*]} $*"
mcu_port_make "$BUILD_DIR" "${VARIANT[@]}" "$@"
cp "$BUILD_DIR/firmware.elf" "$OUT/$NAME.elf"
cp "$BUILD_DIR/firmware.map" "$OUT/$NAME.map"
log "built $OUT/$NAME.elf"
