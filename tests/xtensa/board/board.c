// board.c: the Xtensa test board's main program: one call of the module, as a firmware's
// `_sqnsupgrade.call` makes it, from the command line QEMU passes by semihosting.
//
//   board run FILE [--updater ELF] [--bootrom FILE] [--fff|--on-the-fly]
//               [--block-size N (0: the session's max; default 2016, as run()'s)]
//               [--sha256 HEX] [--resume] [--allow-truncated] [--debug]
//   board info | state
//
// It prints the module's console output, then `RESULT key=value ...` (the result record
// the glue gets back) and `STACK <bytes>`: how deep the module went below the stack pointer
// it was called with, by painting (the whole free stack is filled with a pattern before the
// call, and the lowest word no longer holding it is found after), with every register
// window spilled to the stack at each call into the board (see glue.c). QEMU exits with
// the call's status (0 success, 1 modem failure, 2 bad input, 130 Ctrl-C).
//
// The C stack is 8 KiB at the bottom of the core's data RAM (as the MicroPython task's on a
// Pycom board without PSRAM): nothing is mapped below it, so an overflow faults.
#include "board.h"
#include "sqn_glue.h"

extern uint32_t _board_stack_bottom, _board_stack_top;
extern uint32_t _board_bss_start, _board_bss_end;

#define STACK_PAINT 0xC5AC5AC5u
#define FPGA_CLOCK_HZ (*(volatile uint32_t *)0x9d020004u)

// ---- console ----

void board_write(const char *text, size_t len) {
    while (len > 0) {
        long n = board_simcall(BOARD_SYS_WRITE, 1, (long)text, (long)len, 0);
        if (n <= 0) {
            return;
        }
        text += n;
        len -= (size_t)n;
    }
}

static size_t text_len(const char *s) {
    size_t n = 0;
    while (s[n]) {
        n++;
    }
    return n;
}

void board_puts(const char *text) {
    board_write(text, text_len(text));
}

void board_put_u32(uint32_t value) {
    char buf[10];
    size_t i = sizeof(buf);
    do {
        buf[--i] = (char)('0' + value % 10u);
        value /= 10u;
    } while (value != 0);
    board_write(buf + i, sizeof(buf) - i);
}

void board_put_i32(int32_t value) {
    if (value < 0) {
        board_puts("-");
        board_put_u32((uint32_t)0 - (uint32_t)value);
    } else {
        board_put_u32((uint32_t)value);
    }
}

static void put_hex(uint32_t value) {
    char buf[10] = { '0', 'x' };
    for (int i = 0; i < 8; i++) {
        uint32_t d = (value >> (28 - 4 * i)) & 15u;
        buf[2 + i] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
    }
    board_write(buf, sizeof(buf));
}

static int console_closed;
static int ctrl_c_seen;

int board_ctrl_c(void) {
    if (ctrl_c_seen || console_closed) {
        return ctrl_c_seen;
    }
    uint32_t no_wait[2] = { 0, 0 };
    while (board_simcall(BOARD_SYS_SELECT_ONE, 0, 1 /* read */, (long)no_wait, 0) > 0) {
        uint8_t c;
        if (board_simcall(BOARD_SYS_READ, 0, (long)&c, 1, 0) != 1) {
            console_closed = 1; // end of input: nobody can press Ctrl-C any more
            break;
        }
        if (c == 0x03) {
            ctrl_c_seen = 1;
            break;
        }
    }
    return ctrl_c_seen;
}

void board_exit(int status) {
    for (;;) {
        board_simcall(BOARD_SYS_EXIT, status, 0, 0, 0);
    }
}

// ---- clock ----

static uint32_t cycles_per_ms;
static uint32_t clock_last, clock_ms, clock_rest;
static uint64_t clock_cycles;
uint64_t board_idle_cycles;

static void clock_init(void) {
    uint32_t hz = FPGA_CLOCK_HZ;
    cycles_per_ms = hz >= 1000u ? hz / 1000u : 10000u;
    clock_last = board_ccount();
}

// Called often enough (every few ms: every wait and sleep is sliced) that the 32-bit
// counter never wraps twice between two calls.
uint32_t board_ms(void) {
    uint32_t now = board_ccount();
    uint32_t delta = now - clock_last;
    clock_last = now;
    clock_cycles += delta;
    clock_ms += delta / cycles_per_ms;
    clock_rest += delta % cycles_per_ms;
    if (clock_rest >= cycles_per_ms) {
        clock_rest -= cycles_per_ms;
        clock_ms++;
    }
    return clock_ms;
}

uint64_t board_cycles(void) {
    board_ms();
    return clock_cycles;
}

void board_idle_ms(uint32_t ms) {
    uint32_t before = board_ccount();
    board_idle(ms * cycles_per_ms);
    board_idle_cycles += board_ccount() - before;
}

// ---- faults (start.s jumps here with a fresh stack) ----

uint32_t board_fatal_frame[5]; // kind, EXCCAUSE, EPC1, EXCVADDR, DEPC

void board_fatal(void) {
    static const char *const kinds[] = { "exception", "double exception", "interrupt" };
    uint32_t kind = board_fatal_frame[0];
    board_puts("\r\n*** FATAL: ");
    board_puts(kind < 3 ? kinds[kind] : "?");
    board_puts(" cause ");
    board_put_u32(board_fatal_frame[1]);
    board_puts(" at pc ");
    put_hex(board_fatal_frame[2]);
    board_puts(" address ");
    put_hex(board_fatal_frame[3]);
    uintptr_t bottom = (uintptr_t)&_board_stack_bottom;
    if (board_fatal_frame[3] < bottom && board_fatal_frame[3] + 256u >= bottom) {
        board_puts(" (C stack overflow)");
    }
    board_puts("\r\n");
    board_exit(98);
}

// ---- the call ----

static int same(const char *a, const char *b) {
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

static int hex_digest(const char *s, uint8_t out[32]) {
    for (int i = 0; i < 64; i++) {
        char c = s[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (v < 0) {
            return 0;
        }
        out[i / 2] = (uint8_t)(i % 2 ? out[i / 2] | v : v << 4);
    }
    return s[64] == 0;
}

static uint32_t number(const char *s) {
    uint32_t v = 0;
    while (*s >= '0' && *s <= '9') {
        v = v * 10u + (uint32_t)(*s++ - '0');
    }
    return v;
}

static __attribute__((noreturn)) void usage(const char *why) {
    board_puts("board: ");
    board_puts(why);
    board_puts("\r\nusage: board run FILE [--updater ELF] [--bootrom FILE] [--fff|--on-the-fly]"
               " [--block-size N] [--sha256 HEX] [--resume] [--allow-truncated] [--debug] | info | state\r\n");
    board_exit(64);
}

static char arg_space[2048];

// An image argument: opened here, as the shim opens a path for the glue.
static void image(sqn_image_t *img, board_stream_t *file, const char *path) {
    img->name = path;
    img->name_len = text_len(path);
    img->is_path = 1;
    int err = board_file_open(file, path);
    if (err != 0) {
        img->open_error = err;
        return;
    }
    img->stream = file;
    img->size = file->size;
}

static void number_field(const char *key, int32_t value) {
    board_puts(" ");
    board_puts(key);
    board_puts("=");
    board_put_i32(value);
}

// A JSON string: the record's texts as bytes, quotes, backslashes and control characters
// escaped.
static void json_text(const char *text, size_t len) {
    static const char hex[] = "0123456789abcdef";
    board_puts("\"");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '"' || c == '\\') {
            char esc[2] = { '\\', (char)c };
            board_write(esc, 2);
        } else if (c < 0x20) {
            char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
            board_write(esc, 6);
        } else {
            board_write((const char *)&c, 1);
        }
    }
    board_puts("\"");
}

// The engine's record, key by key as it gives them (sqn_rs_result), as one JSON object:
// what the glue turns into the dict of last_result().
#define SQN_KEY_TEXT(name) #name,
static const char *const keys[] = { SQN_KEYS(SQN_KEY_TEXT) };

static void print_record(void) {
    sqn_field_t f;
    board_puts("RECORD {");
    for (uint32_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && sqn_rs_result(i, &f); i++) {
        if (i > 0) {
            board_puts(", ");
        }
        json_text(keys[i], text_len(keys[i]));
        board_puts(": ");
        switch (f.kind) {
            case SQN_VALUE_BOOL:
                board_puts(f.num ? "true" : "false");
                break;
            case SQN_VALUE_INT:
                board_put_i32(f.num);
                break;
            case SQN_VALUE_TEXT:
                json_text(f.text, f.len);
                break;
            case SQN_VALUE_MILLIS: // seconds, to the millisecond
            {
                char ms[4] = { '.', (char)('0' + f.num / 100 % 10),
                    (char)('0' + f.num / 10 % 10), (char)('0' + f.num % 10) };
                board_put_i32(f.num / 1000);
                board_write(ms, 4);
                break;
            }
            default:
                board_puts("null");
                break;
        }
    }
    board_puts("}\r\n");
}

static sqn_ctx_t ctx;
static sqn_request_t req;

// An option, as the glue fills it from the shim's dict: its value in its field of
// req.options (sqn_schema.h, generated from the engine's definition), its bit in given.
static void set_image(sqn_image_t *img, uint32_t bit, board_stream_t *file, const char *path) {
    image(img, file, path);
    req.given |= 1u << bit;
}

// The call, in its own frame: its locals (the context and the request, as the glue's
// `_sqnsupgrade.call` has them) are not the module's share of the stack.
static __attribute__((noinline)) int32_t call(sqn_ctx_t *c, const sqn_request_t *r,
    uintptr_t *base) {
    *base = board_sp();
    return sqn_rs_call(c, r);
}

void board_main(void) {
    for (uint32_t *p = &_board_bss_start; p < &_board_bss_end; p++) {
        *p = 0;
    }
    clock_init();
    board_uart_init(921600);

    long argc = board_simcall(BOARD_SYS_ARGC, 0, 0, 0, 0);
    long need = board_simcall(BOARD_SYS_ARGV_SZ, 0, 0, 0, 0);
    if (argc < 2 || need <= 0 || (size_t)need > sizeof(arg_space)) {
        usage("no command");
    }
    board_simcall(BOARD_SYS_ARGV, (long)arg_space, 0, 0, 0);
    char **argv = (char **)arg_space;

    static board_stream_t firmware, updater, bootrom;
    ctx.link = &board_modem;
    ctx.baud = &board_modem; // the rate is changed (glue.c: the UART's divisor)
    ctx.callback[SQN_CALLBACK_PROGRESS][0] = &board_progress_events; // counted (glue.c)
    req.given |= 1u << SQN_OPT_PROGRESS;
    req.options.print = 1;
    req.given |= 1u << SQN_OPT_PRINT;
    req.options.block_size = 2016; // run()'s default (python_shim/sqnsupgrade.py)
    req.given |= 1u << SQN_OPT_BLOCK_SIZE;
    req.options.baudrate = 921600;
    req.given |= 1u << SQN_OPT_BAUDRATE;
    // The commands are numbered in SQN_COMMANDS' order: run, info, state (load, uart and
    // ensure need a board's MicroPython).
    const char *op = argv[1];
    int run = same(op, "run");
    if (run) {
        req.command = 0;
    } else if (same(op, "info")) {
        req.command = 1;
    } else if (same(op, "state")) {
        req.command = 2;
    } else {
        usage("unknown command");
    }
    int files = 0;
    for (long i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (same(a, "--updater") && next) {
            set_image(&req.options.updater, SQN_OPT_UPDATER, &updater, next);
            i++;
        } else if (same(a, "--bootrom") && next) {
            set_image(&req.options.bootrom, SQN_OPT_BOOTROM, &bootrom, next);
            i++;
        } else if (same(a, "--block-size") && next) {
            req.options.block_size = (int32_t)number(next);
            i++;
        } else if (same(a, "--sha256") && next) {
            if (!hex_digest(next, firmware.want)) {
                usage("--sha256 takes 64 hex digits");
            }
            firmware.has_digest = 1;
            i++;
        } else if (same(a, "--fff")) {
            req.options.fff = 1;
            req.given |= 1u << SQN_OPT_FFF;
        } else if (same(a, "--on-the-fly")) {
            req.options.on_the_fly = 1;
            req.given |= 1u << SQN_OPT_ON_THE_FLY;
        } else if (same(a, "--resume")) {
            req.options.resume = 1;
            req.given |= 1u << SQN_OPT_RESUME;
        } else if (same(a, "--allow-truncated")) {
            req.options.allow_truncated = 1;
            req.given |= 1u << SQN_OPT_ALLOW_TRUNCATED;
        } else if (same(a, "--debug")) {
            req.options.debug = 1;
            req.given |= 1u << SQN_OPT_DEBUG;
        } else if (a[0] != '-' && run && files == 0) {
            set_image(&req.options.firmware, SQN_OPT_FIRMWARE, &firmware, a);
            files++;
        } else {
            usage("unexpected argument");
        }
    }
    if (run && files == 0) {
        usage("run needs FILE");
    }

    // Paint the free stack (below this frame, leaving room for `call`'s own frame).
    uintptr_t here = board_sp();
    for (uint32_t *p = &_board_stack_bottom; (uintptr_t)p < here - 128u; p++) {
        *p = STACK_PAINT;
    }
    uintptr_t base;
    int32_t status = call(&ctx, &req, &base);
    uint32_t *low = &_board_stack_bottom;
    while ((uintptr_t)low < here - 128u && *low == STACK_PAINT) {
        low++;
    }

    print_record();
    board_puts("RESULT");
    number_field("status", status);
    number_field("progress_events", (int32_t)board_progress_events);
    number_field("baud_changes", (int32_t)board_baud_changes);
    number_field("baud", (int32_t)board_uart_baud());
    number_field("cycles_per_ms", (int32_t)cycles_per_ms);
    number_field("busy_cycles", (int32_t)(board_cycles() - board_idle_cycles));
    board_puts("\r\n");
    if (ctx.exc != NULL) {
        board_puts("EXCEPTION KeyboardInterrupt\r\n");
    }
    board_puts("STACK ");
    board_put_u32((uint32_t)(base - (uintptr_t)low));
    board_puts("\r\n");
    board_exit(status);
}
