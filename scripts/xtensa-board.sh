#!/usr/bin/env bash
# xtensa-board.sh --modem PTY [--icount] run FILE [--updater ELF] [--bootrom FILE]
#                 [--fff|--on-the-fly] [--block-size N] [--resume] [--allow-truncated]
#                 [--debug]
# xtensa-board.sh --modem PTY [--icount] info|state
#
# Runs one call of the module on the Xtensa test board (build/xtensa/board.elf, `make
# xtensa`): QEMU's lx60-nommu machine with the de212 core (windowed registers: the ESP32's
# ABI), its 16550 UART wired to the modem's pty (a simulator's: start it with
# --ignore-baud, this UART's rates stop at 115200 on the host's side), the console and the
# files through semihosting (FILE and ELF are files of this computer, the board's "SD
# card"). It prints the board's console (the module's familiar output), then the engine's
# result record as last_result() has it (`RECORD {json}`), the board's figures
# (`RESULT key=value ...`) and `STACK <bytes>` (the module's stack share, painted,
# with the register windows' save areas), and exits with the call's status: 0 success,
# 1 the modem failed, 2 bad input, 130 stopped by Ctrl-C (byte 0x03 on standard input).
#
# --icount runs QEMU with -icount shift=0 (one instruction per virtual nanosecond): the
# RESULT line's busy_cycles then count instructions (benchmarks).
# Environment: SQN_XTENSA_BOARD (the ELF), QEMU_XTENSA (qemu-system-xtensa).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
ELF=${SQN_XTENSA_BOARD:-$REPO/build/xtensa/board.elf}
QEMU=${QEMU_XTENSA:-qemu-system-xtensa}

usage() {
    sed -n '2,6p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 64
}

modem=
qemu_extra=()
while [ $# -gt 0 ]; do
    case $1 in
        --modem) [ $# -ge 2 ] || usage; modem=$2; shift 2 ;;
        --icount) qemu_extra+=(-icount shift=0); shift ;;
        -h|--help) usage ;;
        *) break ;;
    esac
done
[ -n "$modem" ] && [ $# -ge 1 ] || usage
case $1 in run|info|state) ;; *) usage ;; esac
if [ ! -f "$ELF" ]; then
    echo "xtensa-board: no board at $ELF: run \`make xtensa\`" >&2
    exit 1
fi
if [ ! -e "$modem" ]; then
    echo "xtensa-board: no modem at $modem (the simulator's pty)" >&2
    exit 1
fi

# The board's command line, by semihosting (a comma in an argument is doubled for QEMU).
config=enable=on,target=native,arg=board
for a in "$@"; do
    config+=",arg=${a//,/,,}"
done
exec "$QEMU" -M lx60-nommu -cpu de212 -nodefaults -display none -monitor none \
    "${qemu_extra[@]}" -serial "$modem" -semihosting-config "$config" -kernel "$ELF"
