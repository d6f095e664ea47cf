// board.c: SQN_TESTBOARD start-up, clock, sleep and fault handling.
//
// MicroPython's qemu port (ports/qemu) runs on the MPS2-AN385 with a 16-entry vector table,
// no timer and a stack at the top of its 4 MiB RAM. This board gives it what a Pycom board
// has and the port lacks:
// - its own boot vector table (sqn_testboard.ld puts it at 0) with the UART interrupts;
// - a reset handler that lays out memory, arms an MPU guard under the 8 KiB C stack, starts
//   SysTick, moves thread mode onto that C stack (PSP) and then runs the port's _start;
// - mp_hal_ticks_* and mp_hal_delay_* on SysTick (1 kHz from the 25 MHz core clock);
//   waits sleep with WFI (MICROPY_INTERNAL_WFE) and handle pending events, so Ctrl-C
//   raises KeyboardInterrupt in them;
// - fault handlers that say what happened (a C stack overflow by name) and stop QEMU;
// - the stack limit main.c sets, fitted to this stack as Pycom's firmware does.

#include <string.h>

#include "py/mphal.h"
#include "py/runtime.h"
#include "shared/runtime/semihosting_arm.h"

#include "sqn_testboard.h"

// ---- Cortex-M3 system registers ----
#define REG32(addr) (*(volatile uint32_t *)(addr))
#define SCB_ICSR REG32(0xE000ED04u)
#define SCB_VTOR REG32(0xE000ED08u)
#define SCB_SHCSR REG32(0xE000ED24u)
#define SCB_CFSR REG32(0xE000ED28u)
#define SCB_HFSR REG32(0xE000ED2Cu)
#define SCB_MMFAR REG32(0xE000ED34u)
#define SCB_BFAR REG32(0xE000ED38u)
#define SYST_CSR REG32(0xE000E010u)
#define SYST_RVR REG32(0xE000E014u)
#define SYST_CVR REG32(0xE000E018u)
#define NVIC_ISER(n) REG32(0xE000E100u + 4u * (n))
#define MPU_CTRL REG32(0xE000ED94u)
#define MPU_RNR REG32(0xE000ED98u)
#define MPU_RBAR REG32(0xE000ED9Cu)
#define MPU_RASR REG32(0xE000EDA0u)

#define ICSR_PENDSTSET (1u << 26)
#define SHCSR_MEMFAULTENA (1u << 16)
#define SHCSR_BUSFAULTENA (1u << 17)
#define SHCSR_USGFAULTENA (1u << 18)
#define SYST_CSR_ENABLE (1u << 0)
#define SYST_CSR_TICKINT (1u << 1)
#define SYST_CSR_CLKSOURCE (1u << 2) // the core clock
#define CFSR_MMARVALID (1u << 7)
#define CFSR_MSTKERR (1u << 4)
#define CFSR_BFARVALID (1u << 15)
#define CFSR_STKERR (1u << 12)
#define MPU_CTRL_ENABLE (1u << 0)
#define MPU_CTRL_PRIVDEFENA (1u << 2)
#define MPU_RASR_ENABLE (1u << 0)
#define MPU_RASR_XN (1u << 28)
#define MPU_RBAR_VALID (1u << 4)

// ---- linker script symbols ----
extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss;
extern uint32_t _board_handler_stack_top, _board_guard_start, _board_guard_size;
#define BOARD_GUARD_START ((uintptr_t)&_board_guard_start)
#define BOARD_GUARD_SIZE ((uintptr_t)&_board_guard_size)

// ---- the port's pieces this board starts ----
void _start(void); // ports/qemu/mcu/arm/startup.c: semihosting, uart_init, main

// ---- clock state ----
static volatile uint64_t board_ms;  // SysTick interrupts since boot
static uint64_t board_idle_ticks;   // core clock ticks spent in WFI

// ---- vector table ----
void board_reset(void);
void board_uart0_rx_isr(void); // board_uart.c
void board_uart1_rx_isr(void); // board_uart.c
static void board_systick_isr(void);
static void board_unexpected_isr(void);
static void board_nmi(void);
static void board_hardfault(void);
static void board_memmanage(void);
static void board_busfault(void);
static void board_usagefault(void);

typedef void (*board_vector_t)(void);

#define X board_unexpected_isr
__attribute__((section(".board_vectors"), used))
const board_vector_t board_vectors[16 + BOARD_NUM_IRQS] = {
    // System exceptions
    (board_vector_t)&_board_handler_stack_top, // initial MSP: the handler stack
    board_reset,
    board_nmi,
    board_hardfault,
    board_memmanage,
    board_busfault,
    board_usagefault,
    0, 0, 0, 0,
    X,                  // SVCall
    X,                  // DebugMonitor
    0,
    X,                  // PendSV
    board_systick_isr,  // SysTick
    // External interrupts 0-31 (AN385): 0 UART0 RX, 1 UART0 TX, 2 UART1 RX, 3 UART1 TX, ...
    board_uart0_rx_isr, X, board_uart1_rx_isr, X, X, X, X, X,
    X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X,
    X, X, X, X, X, X, X, X,
};
#undef X

// ---- reset ----

// Thread mode from here on runs on the C stack (PSP); the main stack (MSP) is the handler
// stack, restarted from its top. Then the port's _start, which never returns.
__attribute__((naked, noreturn)) static void board_enter_thread_mode(void) {
    __asm volatile (
        "ldr r0, =_estack\n"
        "msr psp, r0\n"
        "movs r0, #2\n"             // CONTROL.SPSEL: thread mode uses PSP
        "msr control, r0\n"
        "isb\n"
        "ldr r0, =_board_handler_stack_top\n"
        "msr msp, r0\n"
        "bl _start\n"
        "b .\n"
        );
}

// The MPU's only region: no access at all to the 64 KiB under the C stack (unmapped
// address space on this machine, so the guard costs no RAM). The rest of the memory map
// keeps its default attributes (PRIVDEFENA).
static void board_mpu_guard(void) {
    uint32_t size_field = 0; // region size = 2^(size_field + 1)
    while ((2u << size_field) < BOARD_GUARD_SIZE) {
        size_field++;
    }
    MPU_RNR = 0;
    MPU_RBAR = BOARD_GUARD_START | MPU_RBAR_VALID | 0;
    MPU_RASR = MPU_RASR_XN | (0u << 24) /* AP: no access */ | (size_field << 1) | MPU_RASR_ENABLE;
    MPU_CTRL = MPU_CTRL_PRIVDEFENA | MPU_CTRL_ENABLE;
    __asm volatile ("dsb\n isb" : : : "memory");
}

void board_reset(void) {
    // .data is in place when QEMU loads the ELF into RAM (load address = run address);
    // copy it when a layout gives it a separate load address.
    if (&_sidata != &_sdata) {
        for (uint32_t *src = &_sidata, *dst = &_sdata; dst < &_edata;) {
            *dst++ = *src++;
        }
    }
    for (uint32_t *dst = &_sbss; dst < &_ebss;) {
        *dst++ = 0;
    }
    // Paint the whole C stack so that testboard.stack_peak() works from boot.
    for (volatile uint32_t *p = &_sstack; p < &_estack;) {
        *p++ = BOARD_STACK_PAINT;
    }

    SCB_VTOR = (uint32_t)(uintptr_t)board_vectors;
    board_mpu_guard();
    SCB_SHCSR |= SHCSR_MEMFAULTENA | SHCSR_BUSFAULTENA | SHCSR_USGFAULTENA;

    SYST_RVR = BOARD_TICKS_PER_MS - 1;
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;

    board_enter_thread_mode();
}

void board_nvic_enable(unsigned irq) {
    NVIC_ISER(irq / 32) = 1u << (irq % 32);
}

// ---- clock ----

static void board_systick_isr(void) {
    board_ms = board_ms + 1;
}

// Ticks since boot; interrupts must be off.
static uint64_t board_clock_ticks_locked(void) {
    uint64_t ms = board_ms;
    uint32_t val = SYST_CVR;
    if (SCB_ICSR & ICSR_PENDSTSET) {
        // The counter wrapped and its interrupt has not run yet: count that millisecond.
        val = SYST_CVR;
        ms += 1;
    }
    return ms * BOARD_TICKS_PER_MS + (BOARD_TICKS_PER_MS - 1 - val);
}

uint64_t board_clock_ticks(void) {
    uint32_t primask = board_irq_save();
    uint64_t t = board_clock_ticks_locked();
    board_irq_restore(primask);
    return t;
}

uint64_t board_busy_ticks(void) {
    uint32_t primask = board_irq_save();
    uint64_t busy = board_clock_ticks_locked() - board_idle_ticks;
    board_irq_restore(primask);
    return busy;
}

// MICROPY_INTERNAL_WFE: sleep until the next interrupt (SysTick wakes within 1 ms), and
// count the time asleep. With interrupts masked, WFI still wakes on a pending interrupt,
// which then runs once they are unmasked: no wake-up is lost between the check and WFI.
void board_wait_for_interrupt(void) {
    uint32_t primask = board_irq_save();
    uint64_t t0 = board_clock_ticks_locked();
    __asm volatile ("dsb\n wfi" : : : "memory");
    board_idle_ticks += board_clock_ticks_locked() - t0;
    board_irq_restore(primask);
}

mp_uint_t mp_hal_ticks_ms(void) {
    return (mp_uint_t)board_ms;
}

mp_uint_t mp_hal_ticks_us(void) {
    return (mp_uint_t)(board_clock_ticks() / (BOARD_CORE_HZ / 1000000u));
}

mp_uint_t mp_hal_ticks_cpu(void) {
    return (mp_uint_t)board_clock_ticks();
}

// Sleeps, handling pending events (Ctrl-C raises KeyboardInterrupt here).
void mp_hal_delay_ms(mp_uint_t ms) {
    uint64_t start = board_clock_ticks();
    uint64_t span = (uint64_t)ms * BOARD_TICKS_PER_MS;
    for (;;) {
        uint64_t elapsed = board_clock_ticks() - start;
        if (elapsed >= span) {
            break;
        }
        mp_event_wait_ms((mp_uint_t)((span - elapsed + BOARD_TICKS_PER_MS - 1) / BOARD_TICKS_PER_MS));
    }
}

// Waits without handling events (C code may call it where nothing may raise): whole
// milliseconds asleep, the rest spinning on the clock.
void mp_hal_delay_us(mp_uint_t us) {
    uint64_t start = board_clock_ticks();
    uint64_t span = (uint64_t)us * (BOARD_CORE_HZ / 1000000u);
    for (;;) {
        uint64_t elapsed = board_clock_ticks() - start;
        if (elapsed >= span) {
            break;
        }
        if (span - elapsed > BOARD_TICKS_PER_MS) {
            board_wait_for_interrupt();
        }
    }
}

// ---- the stack limit ----
// ports/qemu/main.c asks for mp_stack_set_limit(10240), more than this board's whole C
// stack. Like Pycom's firmware (stack size - 1 KiB), keep 1 KiB of margin under the limit
// for the C code that runs below the last check. Linked with -Wl,--wrap=mp_stack_set_limit.
void __real_mp_stack_set_limit(mp_uint_t limit);
void __wrap_mp_stack_set_limit(mp_uint_t limit) {
    mp_uint_t fit = (mp_uint_t)(BOARD_CSTACK_SIZE - 1024);
    __real_mp_stack_set_limit(limit < fit ? limit : fit);
}

// ---- faults ----
// Printed straight on the REPL UART (nothing of MicroPython is trusted any more), then
// QEMU is stopped through semihosting with a failure status.

static void board_fault_puts(const char *s) {
    board_uart_write(BOARD_UART0, (const uint8_t *)s, strlen(s));
}

static void board_fault_hex(const char *label, uint32_t v) {
    char buf[12];
    buf[0] = ' ';
    buf[1] = '0';
    buf[2] = 'x';
    for (int i = 0; i < 8; i++) {
        buf[3 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 0xf];
    }
    buf[11] = 0;
    board_fault_puts(label);
    board_fault_puts(buf);
}

static bool board_in_guard(uintptr_t addr) {
    return addr >= BOARD_GUARD_START && addr < BOARD_GUARD_START + BOARD_GUARD_SIZE;
}

__attribute__((noreturn, used)) void board_fault_report(uint32_t kind, uint32_t *frame, uint32_t exc_return) {
    static const char *const names[] = {
        "?", "?", "NMI", "HardFault", "MemManage", "BusFault", "UsageFault",
    };
    uint32_t cfsr = SCB_CFSR;
    uint32_t mmfar = SCB_MMFAR;
    uint32_t psp;
    __asm volatile ("mrs %0, psp" : "=r" (psp));
    bool stacking_failed = (cfsr & (CFSR_MSTKERR | CFSR_STKERR)) != 0;
    bool overflow = board_in_guard((uintptr_t)frame) || board_in_guard(psp)
        || ((cfsr & CFSR_MMARVALID) && board_in_guard(mmfar));

    board_fault_puts("\r\n*** FATAL: ");
    if (overflow) {
        board_fault_puts("C stack overflow (the C stack ran into its MPU guard)");
    } else {
        board_fault_puts(names[kind < 7 ? kind : 0]);
    }
    board_fault_puts("\r\n");
    board_fault_hex("  CFSR", cfsr);
    board_fault_hex(" HFSR", SCB_HFSR);
    if (cfsr & CFSR_MMARVALID) {
        board_fault_hex(" MMFAR", mmfar);
    }
    if (cfsr & CFSR_BFARVALID) {
        board_fault_hex(" BFAR", SCB_BFAR);
    }
    board_fault_hex(" SP", (uint32_t)(uintptr_t)frame);
    board_fault_hex(" EXC_RETURN", exc_return);
    if (!stacking_failed && !board_in_guard((uintptr_t)frame)) {
        board_fault_hex(" PC", frame[6]);
        board_fault_hex(" LR", frame[5]);
    }
    board_fault_puts("\r\n");
    mp_semihosting_exit(kind + 100);
    for (;;) {
        __asm volatile ("wfi");
    }
}

// Each fault enters here with its kind in r0; r1 = the stack the exception frame was
// pushed on (PSP from thread mode, MSP from a handler).
#define BOARD_FAULT_ENTRY(name, kind) \
    __attribute__((naked)) static void name(void) { \
        __asm volatile ( \
            "movs r0, #" #kind "\n" \
            "mov r2, lr\n" \
            "tst r2, #4\n" \
            "ite eq\n" \
            "mrseq r1, msp\n" \
            "mrsne r1, psp\n" \
            "b board_fault_report\n" \
            ); \
    }

BOARD_FAULT_ENTRY(board_nmi, 2)
BOARD_FAULT_ENTRY(board_hardfault, 3)
BOARD_FAULT_ENTRY(board_memmanage, 4)
BOARD_FAULT_ENTRY(board_busfault, 5)
BOARD_FAULT_ENTRY(board_usagefault, 6)

static void board_unexpected_isr(void) {
    uint32_t ipsr;
    __asm volatile ("mrs %0, ipsr" : "=r" (ipsr));
    board_fault_puts("\r\n*** FATAL: unexpected interrupt");
    board_fault_hex(" IPSR", ipsr);
    board_fault_puts("\r\n");
    mp_semihosting_exit(99);
    for (;;) {
    }
}
