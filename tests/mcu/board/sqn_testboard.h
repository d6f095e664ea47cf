// sqn_testboard.h: what the SQN_TESTBOARD sources share (MPS2-AN385 Cortex-M3 under QEMU).
//
// The board's clock is SysTick on the 25 MHz core clock: it interrupts at 1 kHz and its
// counter gives 40 ns steps between interrupts. Thread mode runs on the 8 KiB C stack
// (PSP) laid out by sqn_testboard.ld; interrupts and faults run on the handler stack (MSP).
#ifndef SQN_TESTBOARD_BOARD_H
#define SQN_TESTBOARD_BOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BOARD_CORE_HZ (25000000u)
#define BOARD_TICKS_PER_MS (BOARD_CORE_HZ / 1000u)
#define BOARD_NS_PER_TICK (1000000000u / BOARD_CORE_HZ)

// Linker script symbols (addresses only).
extern uint32_t _sstack, _estack;
extern uint32_t _board_cstack_size;
#define BOARD_CSTACK_BOTTOM ((uintptr_t)&_sstack)
#define BOARD_CSTACK_TOP ((uintptr_t)&_estack)
#define BOARD_CSTACK_SIZE ((size_t)(uintptr_t)&_board_cstack_size)

// The word the unused C stack is painted with (testboard.stack_reset / stack_peak).
#define BOARD_STACK_PAINT (0xC5AC5AC5u)

// ---- CMSDK APB UART (MPS2) ----
typedef struct {
    volatile uint32_t DATA;
    volatile uint32_t STATE;
    volatile uint32_t CTRL;
    volatile uint32_t INTSTATUS;
    volatile uint32_t BAUDDIV;
} board_uart_regs_t;

#define BOARD_UART0 ((board_uart_regs_t *)0x40004000u) // the REPL (QEMU's first -serial)
#define BOARD_UART1 ((board_uart_regs_t *)0x40005000u) // the modem (QEMU's second -serial)

#define UART_STATE_TXFULL (1u << 0)
#define UART_STATE_RXFULL (1u << 1)
#define UART_CTRL_TX_EN (1u << 0)
#define UART_CTRL_RX_EN (1u << 1)
#define UART_CTRL_TX_INT_EN (1u << 2)
#define UART_CTRL_RX_INT_EN (1u << 3)
#define UART_INT_TX (1u << 0)
#define UART_INT_RX (1u << 1)

// NVIC numbers of the UART receive interrupts on the AN385 (transmit = receive + 1).
#define BOARD_IRQ_UART0_RX (0)
#define BOARD_IRQ_UART1_RX (2)
#define BOARD_NUM_IRQS (32)

// ---- board.c ----
// Interrupts off; returns the previous PRIMASK for board_irq_restore.
static inline uint32_t board_irq_save(void) {
    uint32_t primask;
    __asm volatile ("mrs %0, primask\n cpsid i" : "=r" (primask) : : "memory");
    return primask;
}
static inline void board_irq_restore(uint32_t primask) {
    __asm volatile ("msr primask, %0" : : "r" (primask) : "memory");
}
static inline uintptr_t board_sp(void) {
    uintptr_t sp;
    __asm volatile ("mov %0, sp" : "=r" (sp));
    return sp;
}
void board_nvic_enable(unsigned irq);
// Core clock ticks (40 ns each) since boot.
uint64_t board_clock_ticks(void);
// Core clock ticks spent outside WFI since boot.
uint64_t board_busy_ticks(void);
// Sleeps (WFI) until the next interrupt; at most 1 ms thanks to SysTick.
void board_wait_for_interrupt(void);

// ---- board_uart.c ----
void board_uart_write(board_uart_regs_t *uart, const uint8_t *data, size_t len);
void board_uart_set_baud(board_uart_regs_t *uart, uint32_t baudrate);
// UART1, the modem link: interrupt-driven receive into a ring buffer.
#define BOARD_MODEM_RX_BUF (1024u)
void board_modem_uart_start(uint32_t baudrate);
size_t board_modem_rx_count(void);
size_t board_modem_rx_take(uint8_t *buf, size_t len);
bool board_modem_tx_full(void);
uint32_t board_modem_rx_stalls(void);

#endif // SQN_TESTBOARD_BOARD_H
