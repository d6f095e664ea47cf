// board.h: the Xtensa test board (QEMU lx60-nommu, de212 core: windowed registers, the
// ESP32's ABI) that runs the module's ESP32 library exactly as `make cross` ships it.
//
// What a Pycom firmware gives the module (the C glue over MicroPython, ESP-IDF's UART
// driver, its clock), this board gives it in plain C (glue.c): the modem on a 16550 UART
// (QEMU's -serial, wired to the simulator's pty), the clock from the cycle counter, the
// console and the images ("the SD card") through QEMU's semihosting, Ctrl-C as byte 0x03 on
// the console.
#ifndef SQN_XTENSA_BOARD_H
#define SQN_XTENSA_BOARD_H

#include <stddef.h>
#include <stdint.h>

#include "sha256.h"

// ---- start.s ----
long board_simcall(long nr, long a, long b, long c, long d);
uint32_t board_ccount(void);
uintptr_t board_sp(void);
void board_spill_windows(void);
void board_idle(uint32_t cycles);

// QEMU's Xtensa semihosting calls (target/xtensa/xtensa-semi.c).
enum {
    BOARD_SYS_EXIT = 1,
    BOARD_SYS_READ = 3,
    BOARD_SYS_WRITE = 4,
    BOARD_SYS_OPEN = 5,
    BOARD_SYS_CLOSE = 6,
    BOARD_SYS_LSEEK = 19,
    BOARD_SYS_SELECT_ONE = 29,
    BOARD_SYS_ARGC = 1000,
    BOARD_SYS_ARGV_SZ = 1001,
    BOARD_SYS_ARGV = 1002,
};

// ---- board.c ----
// The console (QEMU's standard output).
void board_write(const char *text, size_t len);
void board_puts(const char *text);
void board_put_u32(uint32_t value);
void board_put_i32(int32_t value);
// 1 once a Ctrl-C (byte 0x03) came on the console (QEMU's standard input).
int board_ctrl_c(void);
// Ends the run: QEMU exits with this status.
__attribute__((noreturn)) void board_exit(int status);

// The clock: milliseconds since start (wrapping), from the cycle counter.
uint32_t board_ms(void);
// Sleeps at most `ms`: until the modem's UART interrupts (a received byte, or room to
// send, as board_uart_set_irq chose) or the time is up.
void board_idle_ms(uint32_t ms);
// Cycles spent asleep in board_idle_ms, and in all (64-bit, from the wrapping counter).
extern uint64_t board_idle_cycles;
uint64_t board_cycles(void);

// ---- uart16550.c: the modem's UART ----
void board_uart_init(uint32_t baud);
void board_uart_set_baud(uint32_t baud);
uint32_t board_uart_baud(void);
int board_uart_readable(void);
size_t board_uart_read(uint8_t *buf, size_t len);
void board_uart_write(const uint8_t *data, size_t len);
// Which UART events wake board_idle_ms (IER bits: 1 a received byte, 2 room to send).
enum { BOARD_UART_IRQ_NONE = 0, BOARD_UART_IRQ_RX = 1, BOARD_UART_IRQ_TX = 2 };
void board_uart_set_irq(uint32_t events);

// ---- glue.c ----
// What a call's link and images are on this board (the glue's void * streams).
enum board_stream_kind { BOARD_STREAM_MODEM = 1, BOARD_STREAM_FILE = 2 };
typedef struct board_stream {
    uint32_t kind;
    int32_t fd;        // BOARD_STREAM_FILE: the semihosting file
    uint32_t size;
    uint32_t pos;      // bytes read so far
    uint8_t has_digest; // --sha256 was given for it
    uint8_t want[32];  // that digest
    board_sha256_t sha; // the digest of what was read
} board_stream_t;
// Opens a file of the computer; 0, or the errno of the failure.
int board_file_open(board_stream_t *file, const char *path);
// Reads from a file, hashing what it reads; the count, or -1.
long board_file_read(board_stream_t *file, uint8_t *buf, size_t len);
// The image's digest against --sha256 (sqn_glue_confirm's contract): 0 the same (or no
// digest given), 1 it differs, SQN_GLUE_ERRNO when the file cannot be read.
int32_t board_file_confirm(board_stream_t *file, uint32_t ahead);
extern board_stream_t board_modem;
// Counters the run reports.
extern uint32_t board_progress_events;
extern uint32_t board_baud_changes;

#endif // SQN_XTENSA_BOARD_H
