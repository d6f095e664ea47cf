// mpconfigboard.h: MicroPython configuration of SQN_TESTBOARD (MP_CONFIGFILE).
// The qemu port's own configuration, plus what this board adds.
#include "mpconfigport.h"

// machine.UART(1): the modem UART (machine_uart_board.c, found through -I<board dir>).
#define MICROPY_PY_MACHINE_UART (1)
#define MICROPY_PY_MACHINE_UART_INCLUDEFILE "machine_uart_board.c"
#define MICROPY_PY_MACHINE_UART_CLASS_CONSTANTS

// Ctrl-C on the REPL UART raises KeyboardInterrupt (board_uart.c's receive interrupt).
#define MICROPY_KBD_EXCEPTION (1)

// time: ticks and sleeps on the board's SysTick clock (board.c).
#undef MICROPY_PY_TIME
#define MICROPY_PY_TIME (1)

// Waiting for an event (mp_event_wait_ms / _indefinite) sleeps the CPU until the next
// interrupt; SysTick wakes it at least every millisecond, so any timeout is honoured.
#define MICROPY_INTERNAL_WFE(TIMEOUT_MS) \
    do { \
        if ((TIMEOUT_MS) != 0) { \
            board_wait_for_interrupt(); \
        } \
    } while (0)
void board_wait_for_interrupt(void);
