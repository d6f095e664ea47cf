#!/usr/bin/env bash
# setup.sh: install what this project needs on a Debian machine (idempotent).
# Rust (cargo, with rustfmt and clippy) must already be there; everything else comes
# from Debian's packages and PyPI.
set -euo pipefail

log() { echo "setup: $*"; }

command -v cargo >/dev/null 2>&1 || {
    echo "setup: cargo not found: install Rust (rustup) first" >&2
    exit 1
}
for comp in rustfmt clippy; do
    if ! cargo "${comp/rustfmt/fmt}" --version >/dev/null 2>&1; then
        log "adding rustup component $comp"
        rustup component add "$comp"
    fi
done

# cargo-fuzz for the fuzz targets (`make fuzz`; libFuzzer itself is built from its crate).
if ! cargo fuzz --version >/dev/null 2>&1; then
    log "installing cargo-fuzz"
    cargo install --locked cargo-fuzz
fi

# Debian packages: a C toolchain for the MicroPython build, libclang for bindgen,
# dpkg-dev/xz-utils to unpack MicroPython's source package, pkg-config, python3-venv for
# the Python package's environments (`make python-package` puts maturin and the test
# environment under build/, from the package index).
pkgs=(build-essential pkg-config python3 python3-venv libclang-dev dpkg-dev xz-utils)
# The boards' side (`make mcu`, `make cross`): a rustc (rustc-web, 1.96) that
# targets Cortex-M and the ESP32 (Xtensa) with its standard library source (-Zbuild-std),
# the ARM bare-metal compiler and C library for the emulated board, QEMU to run it, and
# binutils that read Xtensa objects.
pkgs+=(rustc-web rust-web-src gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm
    binutils-xtensa-lx106)
# The ESP32's side (`make cross`, `make xtensa`): LLVM 22's assembler and archiver, clang and
# llc for C (the library is made from rustc's assembly, see scripts/xtensa-asm-lib.sh), GNU
# ld for Xtensa (binutils-xtensa-lx106, above), and QEMU's Xtensa cores for the test board.
pkgs+=(llvm-22 clang-22 qemu-system-misc)
# Windows builds of the computer side (`make other-systems`): the MinGW-w64 linker; `file`
# to check what was built; wine (64-bit) to run the Windows tests and the .exe against the
# simulator.
pkgs+=(gcc-mingw-w64-x86-64 file wine64)
missing=()
for p in "${pkgs[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup: missing Debian packages: ${missing[*]} (run as root or install them)" >&2
        exit 1
    fi
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Python packages for the CPython shim's tests.
if ! python3 -c "import serial" >/dev/null 2>&1; then
    log "installing pyserial"
    python3 -m pip install -q pyserial || python3 -m pip install -q --break-system-packages pyserial
fi
if ! python3 -c "import pytest" >/dev/null 2>&1; then
    log "installing pytest"
    python3 -m pip install -q pytest || python3 -m pip install -q --break-system-packages pytest
fi
# pyelftools: scripts/cross_report.py reads the libraries' objects with it.
if ! python3 -c "import elftools" >/dev/null 2>&1; then
    log "installing pyelftools"
    python3 -m pip install -q pyelftools || python3 -m pip install -q --break-system-packages pyelftools
fi
log "ok"
