// sqn_glue.h: the C side of the border between MicroPython and the Rust engine.
//
// Shared by the C glue (modsqnsupgrade.c) and by bindgen (build.rs), so both sides see
// the same structs. Every function declared here that calls into MicroPython runs that
// call under nlr_push: a MicroPython exception never unwinds through Rust frames. The
// exception is kept in ctx->exc and raised by the glue after Rust has returned.
#ifndef SQN_GLUE_H
#define SQN_GLUE_H

#include <stddef.h>
#include <stdint.h>

// What Python asked for.
enum sqn_op {
    SQN_OP_RUN = 1,          // the whole update
    SQN_OP_INFO = 2,         // state, versions, IMEI (printed)
    SQN_OP_STATE = 3,        // state only
    SQN_OP_LOAD = 4,         // load updater.elf (recovery -> mTools)
    SQN_OP_MIRROR_PREP = 5,  // what uart() does before mirror mode
};

// Status returned by sqn_rs_call (and by _sqnsupgrade.call).
enum sqn_status {
    SQN_OK = 0,
    SQN_MODEM_FAILURE = 1,   // the modem failed; see the result for state and next step
    SQN_BAD_INPUT = 2,       // a file or option is wrong; the modem was not touched
    SQN_BUSY = 3,            // another call is running (the engine is not reentrant)
    SQN_CANCELLED = 130,     // stopped (Ctrl-C or an exception kept in ctx->exc)
};

// Event kinds passed to the optional Python progress callback.
enum sqn_event {
    SQN_EVENT_PROGRESS = 1,  // a = bytes done, b = total
};

// Most extra keyword pairs for link.init(baudrate=..., ...).
#define SQN_INIT_KW_MAX 4

// One call's context. Lives on the C stack of the module function, so the garbage
// collector sees the objects it holds while Rust runs.
typedef struct sqn_ctx {
    void *link;        // mp_obj_t: the serial stream (machine.UART, a file on a pty, ...)
    void *baud;        // mp_obj_t: callable(baudrate), or NULL
    void *init[2];     // mp_obj_t: link.init loaded as a method (function, self), or NULLs
    void *init_kw[2 * SQN_INIT_KW_MAX]; // mp_obj_t: extra (name, value) pairs for init
    uint32_t init_kw_n; // number of pairs in init_kw
    void *progress;    // mp_obj_t: callable(done, total) or NULL
    void *exc;         // mp_obj_t: the first exception caught by a wrapper, or NULL
    uint8_t exc_is_interrupt; // 1 when exc is a KeyboardInterrupt (Ctrl-C)
    uint8_t print;     // print messages and the progress bar
    uint8_t debug;     // also print AT commands and replies
} sqn_ctx_t;

// A file or stream to send.
typedef struct sqn_image {
    void *stream;      // mp_obj_t with the stream protocol, or NULL when not given
    uint32_t size;     // its size in bytes
    const char *name;  // the name the user gave (path), not NUL-terminated
    size_t name_len;
    int32_t open_error; // errno when the file could not be opened (stream is then NULL)
    uint8_t is_path;   // 1: the user gave a path (the shim opened it); 0: a stream object
} sqn_image_t;

// The request, filled by the glue from Python's arguments.
typedef struct sqn_request {
    uint32_t op;               // enum sqn_op
    sqn_image_t firmware;
    sqn_image_t updater;
    sqn_image_t bootrom;
    uint32_t method;           // 0 auto, 1 FFF, 2 ON_THE_FLY
    uint32_t block_size;       // 0 = the session's max transfer - 16
    uint32_t reply_timeout_s;  // per STP reply
    uint8_t resume;
    uint8_t verbose;
    uint8_t ffh_mode;          // uart(ffh_mode=True)
    uint8_t allow_truncated;   // flash a .dup shorter than its header announces
    uint32_t baudrate;         // the link's rate when the call starts
    const char *port;          // port= as the user gave it (not NUL-terminated), or NULL
    size_t port_len;
} sqn_request_t;

// The outcome, written by Rust into static memory owned by the glue: the fields of the
// result record (src/report.rs), the same on every front end.
typedef struct sqn_result {
    int32_t status;            // enum sqn_status
    uint8_t command;           // enum sqn_op
    uint8_t modem_changed;
    uint8_t method;            // 0 none, 1 FFF, 2 ON_THE_FLY
    int32_t state_before;      // -1 unknown
    int32_t state_after;       // -1 unknown
    uint32_t build_before;     // 0 unknown
    uint32_t build_after;      // 0 unknown
    uint32_t bytes;            // bytes the modem acknowledged
    uint32_t millis;           // how long the call took
    char firmware[32];         // the LR line, NUL-terminated, "" unknown
    char imei[16];
    char error[320];           // the failure lines, "" on success
    char hint[320];
    char modem[48];
    char next[320];
} sqn_result_t;

// ---- wrappers the Rust side calls (implemented in modsqnsupgrade.c) ----
// Each returns >= 0 on success, SQN_GLUE_RAISED when a MicroPython exception was caught
// (kept in ctx->exc), SQN_GLUE_ERRNO when the stream reported an error code.
#define SQN_GLUE_RAISED (-1)
#define SQN_GLUE_ERRNO (-2)

// Reads at most len bytes once from stream into buf. *got is the count the stream
// returned, unchecked (0 = end of stream; the engine checks it against len).
int32_t sqn_glue_read(sqn_ctx_t *ctx, void *stream, uint8_t *buf, size_t len, uint32_t *got);
// Writes all of data to the link.
int32_t sqn_glue_write(sqn_ctx_t *ctx, const uint8_t *data, size_t len);
// Waits until the link has bytes to read, at most timeout_ms, sleeping until the next
// event (no fixed sleeps): 1 readable, 0 nothing in time, 2 the link cannot tell.
int32_t sqn_glue_wait_readable(sqn_ctx_t *ctx, uint32_t timeout_ms);
// Sets the link's baud rate: ctx->baud(baud), or link.init(baudrate=baud, <init_kw>);
// nothing when neither was given. The init path allocates nothing.
int32_t sqn_glue_set_baud(sqn_ctx_t *ctx, uint32_t baud);
// mp_hal_delay_ms (which also runs pending events such as Ctrl-C).
int32_t sqn_glue_sleep_ms(sqn_ctx_t *ctx, uint32_t ms);
// Takes a pending exception (KeyboardInterrupt) into ctx->exc; 1 when one is kept.
int32_t sqn_glue_interrupted(sqn_ctx_t *ctx);
// Calls ctx->progress(a, b) with small ints (allocates nothing) if given.
int32_t sqn_glue_event(sqn_ctx_t *ctx, uint32_t kind, uint32_t a, uint32_t b);
// Prints text on MicroPython's console.
int32_t sqn_glue_print(sqn_ctx_t *ctx, const char *text, size_t len);
// A Rust panic (none is reachable by design): prints the message and resets the board.
void sqn_glue_panic(const char *text, size_t len);

// ---- the Rust entry point (src/mpy/mod.rs) ----
int32_t sqn_rs_call(sqn_ctx_t *ctx, const sqn_request_t *req, sqn_result_t *res);

#endif // SQN_GLUE_H
