// uart16550.c: the modem's UART on the test board, the 16550 of QEMU's xtfpga boards
// (lx60-nommu: at 0x9d050020, registers 4 bytes apart), polled.
//
// QEMU hands the guest a byte from the host only when the receive FIFO has room, so a
// polling board loses nothing. Its interrupt (external 0) wakes board_idle: on a received
// byte, and while a write waits for the transmitter. Its 16550 takes 115200 as its base rate: a divisor cannot go
// below 1, so every rate above 115200 is 115200 on the host's side of the wire (QEMU sets
// the pty's termios from the divisor). The board keeps the rate the module asked for
// (board_uart_baud) and the simulator is told to understand any rate (--ignore-baud).
#include "board.h"

#define UART_BASE 0x9d050020u
#define UART_REG(n) (*(volatile uint32_t *)(UART_BASE + 4u * (n)))
#define UART_RBR UART_REG(0) // receive (read), transmit (write), divisor low (DLAB)
#define UART_IER UART_REG(1) // interrupts enabled, divisor high (DLAB)
#define UART_FCR UART_REG(2)
#define UART_LCR UART_REG(3)
#define UART_MCR UART_REG(4)
#define UART_LSR UART_REG(5)

#define LCR_8N1 0x03u
#define LCR_DLAB 0x80u
#define FCR_FIFO_ON_AND_CLEAR 0x07u
#define MCR_DTR_RTS 0x03u
#define MCR_OUT2 0x08u // gates the interrupt line on a PC's 16550 (set as a driver would)

#define LSR_DATA_READY 0x01u
#define LSR_THR_EMPTY 0x20u

#define UART_BASE_RATE 115200u

static uint32_t uart_baud;

void board_uart_set_baud(uint32_t baud) {
    uint32_t divisor = baud ? UART_BASE_RATE / baud : 1u;
    if (divisor == 0) {
        divisor = 1;
    }
    UART_LCR = LCR_8N1 | LCR_DLAB;
    UART_RBR = divisor & 0xffu;
    UART_IER = (divisor >> 8) & 0xffu;
    UART_LCR = LCR_8N1;
    UART_IER = BOARD_UART_IRQ_RX;
    uart_baud = baud;
}

uint32_t board_uart_baud(void) {
    return uart_baud;
}

// The line is level-triggered: a byte left unread keeps it up, so a sleep that must not
// end early (sqn_glue_sleep_ms) leaves the receive event out.
void board_uart_set_irq(uint32_t events) {
    UART_IER = events;
}

void board_uart_init(uint32_t baud) {
    UART_IER = 0;
    UART_FCR = FCR_FIFO_ON_AND_CLEAR;
    UART_MCR = MCR_DTR_RTS | MCR_OUT2;
    board_uart_set_baud(baud);
}

int board_uart_readable(void) {
    return (UART_LSR & LSR_DATA_READY) != 0;
}

size_t board_uart_read(uint8_t *buf, size_t len) {
    size_t n = 0;
    while (n < len && (UART_LSR & LSR_DATA_READY)) {
        buf[n++] = (uint8_t)UART_RBR;
    }
    return n;
}

// Waits for room in the transmitter asleep, as a firmware's driver blocks on its transmit
// buffer: QEMU keeps THRE clear while the pty takes no more (the simulator reads slower).
void board_uart_write(const uint8_t *data, size_t len) {
    for (size_t i = 0; i < len; i++) {
        while (!(UART_LSR & LSR_THR_EMPTY)) {
            board_uart_set_irq(BOARD_UART_IRQ_TX);
            board_idle_ms(1);
            board_uart_set_irq(BOARD_UART_IRQ_RX);
        }
        UART_RBR = data[i];
    }
}
