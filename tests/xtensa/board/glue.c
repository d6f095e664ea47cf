// glue.c: what the module's C glue (mpy_glue/modsqnsupgrade.c) and MicroPython give the
// Rust library on a firmware, given here by the test board, with the same contract
// (mpy_glue/sqn_glue.h):
// - the link is the modem's UART, the images are files of the computer;
// - a Ctrl-C on the console is kept as the call's exception (a KeyboardInterrupt on
//   MicroPython) and reported by the wrapper that saw it, which then returns
//   SQN_GLUE_RAISED, as the glue's nlr_push wrappers do;
// - waits sleep (board_idle_ms: WAITI until the UART's receive interrupt or a timer) and
//   end as soon as the UART has a byte; sleeps and waits look at the console for Ctrl-C
//   every few milliseconds (MicroPython runs its pending events there);
// - every wrapper first spills the register windows of its callers onto the stack, as an
//   interrupt or a task switch would on the ESP32 at any moment, so that painting the stack
//   counts the windows' save areas too.
#include "board.h"
#include "sqn_glue.h"

board_stream_t board_modem = { BOARD_STREAM_MODEM, -1, 0 };
uint32_t board_progress_events;
uint32_t board_baud_changes;

// What ctx->exc points at after a Ctrl-C (MicroPython's KeyboardInterrupt object).
static const uint32_t board_keyboard_interrupt = 0x03;

#define CTRL_C_POLL_MS 5u

int board_file_open(board_stream_t *file, const char *path) {
    long fd = board_simcall(BOARD_SYS_OPEN, (long)path, 0 /* O_RDONLY */, 0, 0);
    if (fd < 0) {
        // The semihosting call leaves errno in a3, which C cannot see: say "missing" for
        // the usual cause.
        return 2;
    }
    long end = board_simcall(BOARD_SYS_LSEEK, fd, 0, 2 /* SEEK_END */, 0);
    board_simcall(BOARD_SYS_LSEEK, fd, 0, 0 /* SEEK_SET */, 0);
    if (end < 0) {
        board_simcall(BOARD_SYS_CLOSE, fd, 0, 0, 0);
        return 5;
    }
    file->kind = BOARD_STREAM_FILE;
    file->fd = (int32_t)fd;
    file->size = (uint32_t)end;
    file->pos = 0;
    board_sha256_init(&file->sha);
    return 0;
}

long board_file_read(board_stream_t *file, uint8_t *buf, size_t len) {
    long n = board_simcall(BOARD_SYS_READ, file->fd, (long)buf, (long)len, 0);
    if (n > 0) {
        // Hashed only when a digest was given (as the shim wraps a source only then):
        // the board's SHA-256 is not the module's work per byte.
        if (file->has_digest) {
            board_sha256_update(&file->sha, buf, (size_t)n);
        }
        file->pos += (uint32_t)n;
    }
    return n;
}

int32_t board_file_confirm(board_stream_t *file, uint32_t ahead) {
    if (!file->has_digest) {
        return 0;
    }
    uint8_t got[32];
    if (ahead) {
        // Read the rest once, hash the whole, then back to where reading was.
        board_sha256_t whole = file->sha;
        uint8_t buf[64];
        long n;
        while ((n = board_simcall(BOARD_SYS_READ, file->fd, (long)buf, sizeof(buf), 0)) > 0) {
            board_sha256_update(&whole, buf, (size_t)n);
        }
        board_simcall(BOARD_SYS_LSEEK, file->fd, (long)file->pos, 0 /* SEEK_SET */, 0);
        if (n < 0) {
            return SQN_GLUE_ERRNO;
        }
        board_sha256_final(&whole, got);
    } else {
        board_sha256_final(&file->sha, got);
    }
    for (int i = 0; i < 32; i++) {
        if (got[i] != file->want[i]) {
            return 1;
        }
    }
    return 0;
}

// Keeps a Ctrl-C as the call's exception; 1 when the call has one.
static int keep_interrupt(sqn_ctx_t *ctx) {
    if (ctx->exc != NULL) {
        return 1;
    }
    if (board_ctrl_c()) {
        ctx->exc = (void *)&board_keyboard_interrupt;
        ctx->exc_is_interrupt = 1;
        return 1;
    }
    return 0;
}

int32_t sqn_glue_read(sqn_ctx_t *ctx, void *stream, uint8_t *buf, size_t len, uint32_t *got) {
    board_spill_windows();
    (void)ctx;
    board_stream_t *s = stream;
    *got = 0;
    if (s->kind == BOARD_STREAM_MODEM) {
        *got = (uint32_t)board_uart_read(buf, len);
        return 0;
    }
    long n = board_file_read(s, buf, len);
    if (n < 0) {
        return SQN_GLUE_ERRNO;
    }
    *got = (uint32_t)n;
    return 0;
}

// The board's images are files (SQN_ACCESS_STREAM): read as the link's stream is.
int32_t sqn_glue_read_image(sqn_ctx_t *ctx, const sqn_image_t *img, uint8_t *buf, size_t len,
    uint32_t *got) {
    return sqn_glue_read(ctx, img->stream, buf, len, got);
}

// A digest the board was given (--sha256) is checked by the file's own hash.
int32_t sqn_glue_confirm(sqn_ctx_t *ctx, const sqn_image_t *img, uint32_t ahead) {
    board_spill_windows();
    (void)ctx;
    return board_file_confirm((board_stream_t *)img->stream, ahead);
}

int32_t sqn_glue_write(sqn_ctx_t *ctx, const uint8_t *data, size_t len) {
    board_spill_windows();
    (void)ctx;
    board_uart_write(data, len);
    return (int32_t)len;
}

// One slice of a wait that started at `start` and lasts `ms`: SQN_GLUE_RAISED after a
// Ctrl-C, 0 when the time is up, else 1 after sleeping a few milliseconds at most (woken
// early by the UART events in `irq`).
static int32_t wait_slice(sqn_ctx_t *ctx, uint32_t start, uint32_t ms, uint32_t irq) {
    if (keep_interrupt(ctx)) {
        return SQN_GLUE_RAISED;
    }
    uint32_t waited = board_ms() - start;
    if (waited >= ms) {
        return 0;
    }
    uint32_t left = ms - waited;
    board_uart_set_irq(irq);
    board_idle_ms(left < CTRL_C_POLL_MS ? left : CTRL_C_POLL_MS);
    board_uart_set_irq(BOARD_UART_IRQ_RX);
    return 1;
}

int32_t sqn_glue_wait_readable(sqn_ctx_t *ctx, uint32_t timeout_ms) {
    board_spill_windows();
    uint32_t start = board_ms();
    for (;;) {
        if (board_uart_readable()) {
            return 1;
        }
        int32_t r = wait_slice(ctx, start, timeout_ms, BOARD_UART_IRQ_RX);
        if (r != 1) {
            return r;
        }
    }
}

int32_t sqn_glue_set_baud(sqn_ctx_t *ctx, uint32_t baud) {
    board_spill_windows();
    (void)ctx;
    board_uart_set_baud(baud);
    board_baud_changes++;
    return 0;
}

int32_t sqn_glue_sleep_ms(sqn_ctx_t *ctx, uint32_t ms) {
    board_spill_windows();
    uint32_t start = board_ms();
    int32_t r;
    // Bytes may wait unread meanwhile (their interrupt would end every slice): only the
    // time wakes.
    while ((r = wait_slice(ctx, start, ms, BOARD_UART_IRQ_NONE)) == 1) {
    }
    return r;
}

int32_t sqn_glue_interrupted(sqn_ctx_t *ctx) {
    board_spill_windows();
    return keep_interrupt(ctx);
}

int32_t sqn_glue_callback(sqn_ctx_t *ctx, uint32_t slot, uint32_t n, uint32_t a, uint32_t b) {
    board_spill_windows();
    (void)n;
    (void)a;
    (void)b;
    // board.c put the counter where the engine's progress callback goes.
    if (slot < SQN_CALLBACKS && ctx->callback[slot][0] == &board_progress_events) {
        board_progress_events++;
    }
    return 0;
}

int32_t sqn_glue_print(sqn_ctx_t *ctx, const char *text, size_t len) {
    board_spill_windows();
    (void)ctx;
    board_write(text, len);
    return 0;
}

void sqn_glue_panic(const char *text, size_t len) {
    board_puts("\r\nsqnsupgrade: internal error: ");
    board_write(text, len);
    board_puts("\r\n");
    board_exit(99);
}

// MicroPython's clock, which the engine reads directly (it cannot raise).
uintptr_t mp_hal_ticks_ms(void) {
    board_spill_windows();
    return board_ms();
}
