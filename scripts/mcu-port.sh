# mcu-port.sh: sourced by scripts/build-mcu.sh and scripts/cross.sh. The one make command
# of the emulated Cortex-M3 board: MicroPython's qemu port (MICROPY_DIR) with the board of
# tests/mcu/board, the shim frozen in and this project (REPO) as a user C module, built by
# mpy_glue/micropython.mk as any firmware builds it.
#
#   mcu_port_make BUILD_DIR [make arguments...]     (JOBS: parallel jobs, default 2)
mcu_port_make() {
    local build=$1
    shift
    make -C "$MICROPY_DIR/ports/qemu" -j"${JOBS:-2}" \
        BOARD=SQN_TESTBOARD BOARD_DIR="$REPO/tests/mcu/board" BUILD="$build" \
        FROZEN_MANIFEST="$REPO/tests/mcu/manifest.py" \
        USER_C_MODULES="$REPO" SQN_RUST_TARGET=thumbv7m-none-eabi "$@"
}
