// board_uart.c: SQN_TESTBOARD's two CMSDK APB UARTs.
//
// UART0 (the REPL): a receive interrupt, as a board's REPL UART has. Ctrl-C (when
// MicroPython set it as the interrupt character, i.e. while code runs) schedules a
// KeyboardInterrupt right away, so it is noticed while code waits; every other byte goes
// into a ring buffer that the REPL reads. The port's mp_hal_stdin_rx_chr (which polls
// UART0 itself) and uart_init are wrapped (-Wl,--wrap=...) to use this. (With 256 bytes
// typed ahead and unread, a Ctrl-C waits behind them.)
//
// UART1 (the modem): interrupt-driven receive into a ring buffer, polled transmit, baud
// rate from BAUDDIV. machine.UART(1) (machine_uart_board.c) sits on top of this.
//
// QEMU takes a byte from the host only when the receive register is free, so the board
// loses nothing: when a ring buffer is full the receive interrupt is switched off and the
// byte stays in the UART (QEMU holds the rest) until the reader makes room.

#include "py/mphal.h"
#include "py/runtime.h"
#include "shared/runtime/interrupt_char.h"

#include "sqn_testboard.h"

// A single-producer (interrupt) single-consumer (thread) ring of bytes.
typedef struct {
    volatile uint32_t head; // written by the producer
    volatile uint32_t tail; // written by the consumer
    uint32_t size;          // a power of two
    uint8_t *data;
} board_ring_t;

static inline uint32_t ring_count(const board_ring_t *r) {
    return r->head - r->tail;
}

static inline bool ring_put(board_ring_t *r, uint8_t c) {
    if (ring_count(r) >= r->size) {
        return false;
    }
    r->data[r->head & (r->size - 1)] = c;
    __asm volatile ("" : : : "memory");
    r->head = r->head + 1;
    return true;
}

static inline int ring_get(board_ring_t *r) {
    if (ring_count(r) == 0) {
        return -1;
    }
    uint8_t c = r->data[r->tail & (r->size - 1)];
    __asm volatile ("" : : : "memory");
    r->tail = r->tail + 1;
    return c;
}

// ---- common ----

void board_uart_write(board_uart_regs_t *uart, const uint8_t *data, size_t len) {
    for (size_t i = 0; i < len; i++) {
        while (uart->STATE & UART_STATE_TXFULL) {
        }
        uart->DATA = data[i];
    }
}

// QEMU turns BAUDDIV into the host tty's speed (PCLK / BAUDDIV, then the nearest standard
// rate at or above it): round the divisor up so that e.g. 921600 gives 28 -> B921600 and
// 115200 gives 218 -> B115200. The UART needs a divisor of at least 16.
void board_uart_set_baud(board_uart_regs_t *uart, uint32_t baudrate) {
    uint32_t div = (BOARD_CORE_HZ + baudrate - 1) / baudrate;
    uart->BAUDDIV = div < 16 ? 16 : div;
}

// Input that does not fit waits in the UART (its receive interrupt off; QEMU keeps the
// rest) until the reader makes room: nothing typed or pasted is lost.
static void rx_hold_back(board_uart_regs_t *u) {
    u->CTRL &= ~UART_CTRL_RX_INT_EN;
}

// After the reader took bytes: move what waits in the UART, then take interrupts again.
static void rx_resume(board_uart_regs_t *u, void (*drain)(void), const board_ring_t *r) {
    if ((u->CTRL & UART_CTRL_RX_INT_EN) || !(u->CTRL & UART_CTRL_RX_EN)) {
        return;
    }
    uint32_t primask = board_irq_save();
    drain();
    if (ring_count(r) < r->size) {
        u->CTRL |= UART_CTRL_RX_INT_EN;
        drain(); // a byte that came while the interrupt was still off raised none
    }
    board_irq_restore(primask);
}

// ---- UART0: the REPL ----

static uint8_t repl_rx_data[256];
static board_ring_t repl_rx = { 0, 0, sizeof(repl_rx_data), repl_rx_data };

static void repl_rx_drain(void) {
    board_uart_regs_t *u = BOARD_UART0;
    while (u->STATE & UART_STATE_RXFULL) {
        if (ring_count(&repl_rx) >= repl_rx.size) {
            rx_hold_back(u);
            return;
        }
        int c = u->DATA & 0xff;
        if (c == mp_interrupt_char) {
            mp_sched_keyboard_interrupt();
        } else {
            ring_put(&repl_rx, (uint8_t)c);
        }
    }
}

void board_uart0_rx_isr(void) {
    BOARD_UART0->INTSTATUS = UART_INT_RX;
    repl_rx_drain();
}

void __real_uart_init(void);
void __wrap_uart_init(void) {
    __real_uart_init(); // the port's set-up of UART0 (enables TX and RX)
    BOARD_UART0->INTSTATUS = UART_INT_RX | UART_INT_TX;
    BOARD_UART0->CTRL |= UART_CTRL_RX_INT_EN;
    board_nvic_enable(BOARD_IRQ_UART0_RX);
}

int __wrap_mp_hal_stdin_rx_chr(void) {
    for (;;) {
        int c = ring_get(&repl_rx);
        if (c >= 0) {
            rx_resume(BOARD_UART0, repl_rx_drain, &repl_rx);
            return c;
        }
        mp_event_wait_indefinite();
    }
}

// ---- UART1: the modem ----

static uint8_t modem_rx_data[BOARD_MODEM_RX_BUF];
static board_ring_t modem_rx = { 0, 0, sizeof(modem_rx_data), modem_rx_data };
static volatile uint32_t modem_rx_stalls; // times the ring was full (input held back)

static void modem_rx_drain(void) {
    board_uart_regs_t *u = BOARD_UART1;
    while (u->STATE & UART_STATE_RXFULL) {
        if (ring_count(&modem_rx) >= modem_rx.size) {
            rx_hold_back(u);
            modem_rx_stalls++;
            return;
        }
        ring_put(&modem_rx, (uint8_t)u->DATA);
    }
}

void board_uart1_rx_isr(void) {
    BOARD_UART1->INTSTATUS = UART_INT_RX;
    modem_rx_drain();
}

void board_modem_uart_start(uint32_t baudrate) {
    board_uart_regs_t *u = BOARD_UART1;
    uint32_t primask = board_irq_save();
    board_uart_set_baud(u, baudrate);
    u->CTRL = UART_CTRL_TX_EN | UART_CTRL_RX_EN | UART_CTRL_RX_INT_EN;
    board_nvic_enable(BOARD_IRQ_UART1_RX);
    modem_rx_drain(); // a byte that came in before the interrupt was on
    board_irq_restore(primask);
}

size_t board_modem_rx_count(void) {
    return ring_count(&modem_rx) + ((BOARD_UART1->STATE & UART_STATE_RXFULL) ? 1 : 0);
}

size_t board_modem_rx_take(uint8_t *buf, size_t len) {
    size_t n = 0;
    while (n < len) {
        int c = ring_get(&modem_rx);
        if (c < 0) {
            break;
        }
        buf[n++] = (uint8_t)c;
    }
    if (n > 0) {
        rx_resume(BOARD_UART1, modem_rx_drain, &modem_rx);
    }
    return n;
}

bool board_modem_tx_full(void) {
    return (BOARD_UART1->STATE & UART_STATE_TXFULL) != 0;
}

uint32_t board_modem_rx_stalls(void) {
    return modem_rx_stalls;
}
