#!/usr/bin/env bash
# python-package.sh: the Python package for computers (pyproject.toml: the extension
# module of host/src/py.rs and the `sqnsupgrade` command), built and tested as a user gets
# it. Everything stays under build/ (the cargo build itself under target/, or
# CARGO_TARGET_DIR):
#   build/venv       maturin's environment, reused while it works;
#   build/wheels     the wheel, built afresh;
#   build/venv-test  a fresh environment with only the wheel and pytest installed, whose
#                    Python runs tests/python/test_cpython_shim.py against the simulator,
#                    and tests/python/test_one_record.py (the package's record against the
#                    CLI's and the board's: build/micropython-sqn, from `make micropython`);
#   build/venv-src   a fresh environment given `pip install .`, as the README tells users
#                    (pip fetches maturin into its own build environment), whose module
#                    and command then update the simulator.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
CARGO=${CARGO:-cargo}
BUILD_VENV=build/venv
TEST_VENV=build/venv-test
SRC_VENV=build/venv-src
WHEELS=build/wheels
MATURIN='maturin>=1.9.4,<2'

log() { echo "python-package: $*"; }

# maturin, from the package index, in its own environment (a broken one is made again).
if ! "$BUILD_VENV/bin/python" -m pip --version >/dev/null 2>&1; then
    log "creating $BUILD_VENV"
    rm -rf "$BUILD_VENV"
    "$PYTHON" -m venv "$BUILD_VENV"
fi
# A no-op (and offline) when a fitting maturin is already there.
"$BUILD_VENV/bin/python" -m pip install -q "$MATURIN"

log "building the wheel"
rm -rf "$WHEELS"
"$BUILD_VENV/bin/maturin" build --release --out "$WHEELS"
wheels=("$WHEELS"/sqnsupgrade-*.whl)
[ ${#wheels[@]} -eq 1 ] && [ -f "${wheels[0]}" ] || {
    echo "python-package: expected one wheel in $WHEELS, found: ${wheels[*]}" >&2
    exit 1
}

log "installing ${wheels[0]} into a fresh $TEST_VENV"
rm -rf "$TEST_VENV"
"$PYTHON" -m venv "$TEST_VENV"
"$TEST_VENV/bin/python" -m pip install -q "${wheels[0]}" pytest

# The binding's own unit tests. PYO3_BUILD_EXTENSION_MODULE (what maturin sets): no
# libpython to link, as in the extension itself.
PYO3_BUILD_EXTENSION_MODULE=1 "$CARGO" test -q -p sqnsupgrade-host --features python --lib

# The simulator the tests drive (target/debug/sqnsim), and the CLI the records are
# compared with (target/debug/sqnsupgrade).
"$CARGO" build -q -p sqnsim -p sqnsupgrade-host

log "testing the installed package"
SQN_REQUIRE_PACKAGE=1 "$TEST_VENV/bin/python" -m pytest -q tests/python/test_cpython_shim.py \
    tests/python/test_one_record.py

# What the README tells users: `pip install .` from this directory into a fresh environment.
log "pip install . into a fresh $SRC_VENV"
rm -rf "$SRC_VENV"
"$PYTHON" -m venv "$SRC_VENV"
"$SRC_VENV/bin/python" -m pip install -q .
SQN_VENV="$SRC_VENV" "$TEST_VENV/bin/python" -m pytest -q tests/python/test_pip_install.py
