#!/usr/bin/env bash
# build-micropython.sh [USER_C_MODULES_DIR] [extra make args...]
#
# Build MicroPython's unix port (variant $VARIANT, default "standard"), with
# the user C modules found in USER_C_MODULES_DIR (a folder holding module
# folders, each with a micropython.mk) compiled in.
#
# MICROPY_DIR selects the MicroPython tree (default <repo>/build/micropython,
# fetched there with scripts/fetch-micropython.sh when missing); point it at a
# git clone or a vendor fork to build against that instead.
#
# Result: $MICROPY_DIR/ports/unix/build-$VARIANT/micropython
# (its build-$VARIANT/genhdr/ headers are what bindgen needs).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$SCRIPT_DIR/.." && pwd)
MICROPY_DIR=${MICROPY_DIR:-$REPO_DIR/build/micropython}
VARIANT=${VARIANT:-standard}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

log() { echo "build-micropython: $*"; }

USERMOD_ARGS=()
if [ $# -ge 1 ]; then
    USERMOD_ARGS=("USER_C_MODULES=$(cd "$1" && pwd)")
    shift
fi

if [ ! -f "$MICROPY_DIR/py/obj.h" ]; then
    "$SCRIPT_DIR/fetch-micropython.sh" "$MICROPY_DIR"
fi

# Tools the unix port build needs.
missing=()
command -v make >/dev/null 2>&1 || missing+=(make)
command -v gcc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "build-micropython: missing ${missing[*]}; install them or run as root" >&2
        exit 1
    fi
    log "installing ${missing[*]}"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"; then
        apt-get update
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
    fi
fi

# The +ds source package has no lib/berkeley-db, lib/mbedtls, lib/libffi and
# lib/micropython-lib submodules: switch off what needs them.
MAKE_CMD=(make -C "$MICROPY_DIR/ports/unix" -j"$JOBS" VARIANT="$VARIANT"
    "${USERMOD_ARGS[@]}"
    FROZEN_MANIFEST= MICROPY_PY_BTREE=0 MICROPY_PY_FFI=0
    MICROPY_SSL_AXTLS=0 MICROPY_SSL_MBEDTLS=0 MICROPY_PY_SSL=0 STRIP=true
    "$@")
log "${MAKE_CMD[*]}"
"${MAKE_CMD[@]}"
log "built $MICROPY_DIR/ports/unix/build-$VARIANT/micropython"
