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

// Status returned by sqn_rs_call (and by _sqnsupgrade.call).
enum sqn_status {
    SQN_OK = 0,
    SQN_MODEM_FAILURE = 1,   // the modem failed; see the result for state and next step
    SQN_BAD_INPUT = 2,       // a file or option is wrong; the modem was not touched
    SQN_BUSY = 3,            // another call is running (the engine is not reentrant)
    SQN_CANCELLED = 130,     // stopped (Ctrl-C or an exception kept in ctx->exc)
};

// How the glue reads an option's value, and where it keeps it (the options, their kinds
// and places: SQN_OPTIONS in sqn_schema.h, generated from src/report/call.rs).
enum sqn_kind {
    SQN_KIND_INT = 0,      // mp_obj_get_int -> an int32_t field of req.options
    SQN_KIND_BOOL = 1,     // truth -> an int32_t field (0 or 1)
    SQN_KIND_TEXT = 2,     // str -> an sqn_text_t field
    SQN_KIND_NAMES = 3,    // a list or tuple of 1 to SQN_NAMES_MAX str -> an sqn_names_t field
    SQN_KIND_IMAGE = 4,    // (object, size, name, is_path) -> an sqn_image_t field
    SQN_KIND_CALLBACK = 5, // a callable, or (object, 'method') -> ctx.callback[slot]
    SQN_KIND_BAUD = 6,     // a callable(baudrate), or a tuple of (name, value) pairs for
                           // link.init(baudrate=..., ...) -> ctx
};

// The kinds of a result field's value (sqn_rs_result; the keys are SQN_KEYS).
enum sqn_value {
    SQN_VALUE_NONE = 0,
    SQN_VALUE_BOOL = 1,    // num 0 or 1
    SQN_VALUE_INT = 2,     // num
    SQN_VALUE_TEXT = 3,    // text, len
    SQN_VALUE_MILLIS = 4,  // num milliseconds, shown as seconds
};

// How an image object is read (sqn_image_t.access).
enum sqn_access {
    SQN_ACCESS_STREAM = 0,   // MicroPython's stream protocol (files, sockets, io.IOBase)
    SQN_ACCESS_READINTO = 1, // its readinto(buf) method (any Python object)
    SQN_ACCESS_READ = 2,     // its read(n) method
};

// sqn_image_t.open_error: an errno, or one of these (an image that could not be opened;
// the engine words the error). The shim passes them as a negative size.
#define SQN_OPEN_HTTP_STATUS 10000   // + the HTTP status the server answered
#define SQN_OPEN_NO_LENGTH 20001     // the server sent no Content-Length
#define SQN_OPEN_REDIRECTS 20002     // too many redirects, or to something not http(s)
#define SQN_OPEN_NO_TLS 20003        // https, and the firmware has no ssl
#define SQN_OPEN_NOT_A_STREAM 20004  // an object with no readinto() or read()
#define SQN_OPEN_BAD_SHA256 20005    // the sha256= given is not 64 hex digits (not opened)
#define SQN_OPEN_NO_SERVER 30000     // + the errno of the connection that failed

// Most image names ensure() chooses among (a folder's files, a mapping's entries).
#define SQN_NAMES_MAX 8

// Most extra keyword pairs for link.init(baudrate=..., ...).
#define SQN_INIT_KW_MAX 4

// A text the user gave (not NUL-terminated).
typedef struct sqn_text {
    const char *text;
    size_t len;
} sqn_text_t;

// A file or stream to send.
typedef struct sqn_image {
    void *stream;      // mp_obj_t with the stream protocol, or NULL when not given
    uint32_t size;     // its size in bytes
    const char *name;  // the name the user gave (path), not NUL-terminated
    size_t name_len;
    int32_t open_error; // errno or SQN_OPEN_* when it could not be opened (stream is NULL)
    uint8_t is_path;   // 1: the user gave a path (the shim opened it); 0: a stream object
    uint8_t access;    // enum sqn_access
    void *method[2];   // readinto or read, loaded (function, self), for those accesses
    void *confirm[2];  // its _sqn_confirm(ahead) method, loaded, or NULLs: the digest check
} sqn_image_t;

// The names ensure() chooses among.
typedef struct sqn_names {
    uint32_t n;
    sqn_text_t name[SQN_NAMES_MAX];
} sqn_names_t;

// The options' struct, their table, the commands and the record's keys, generated.
#include "sqn_schema.h"

// One call's context. Lives on the C stack of the module function, so the garbage
// collector sees the objects it holds while Rust runs.
typedef struct sqn_ctx {
    void *link;        // mp_obj_t: the serial stream (machine.UART, a file on a pty, ...)
    void *baud;        // mp_obj_t: callable(baudrate), or NULL
    void *init[2];     // mp_obj_t: link.init loaded as a method (function, self), or NULLs
    void *init_kw[2 * SQN_INIT_KW_MAX]; // mp_obj_t: extra (name, value) pairs for init
    uint32_t init_kw_n; // number of pairs in init_kw
    void *callback[SQN_CALLBACKS][2]; // mp_obj_t: a method loaded beforehand
                       // (function, self), or (callable, NULL), or NULLs: not given
    void *exc;         // mp_obj_t: the first exception caught by a wrapper, or NULL
    int32_t err;       // the stream's error code (errno) behind the last SQN_GLUE_ERRNO
    uint8_t exc_is_interrupt; // 1 when exc is a KeyboardInterrupt (Ctrl-C)
} sqn_ctx_t;

// The request, filled by the glue from Python's arguments.
typedef struct sqn_request {
    uint32_t command;             // its number in SQN_COMMANDS
    uint32_t given;               // bit n: option n (enum sqn_option) was given
    sqn_options_t options;        // their values
} sqn_request_t;

// One field of the last call's record (sqn_rs_result), in the order of SQN_KEYS: valid
// until the next call.
typedef struct sqn_field {
    uint32_t kind;     // enum sqn_value
    int32_t num;
    const char *text;
    size_t len;
} sqn_field_t;

// ---- wrappers the Rust side calls (implemented in modsqnsupgrade.c) ----
// Each returns >= 0 on success, SQN_GLUE_RAISED when a MicroPython exception was caught
// (kept in ctx->exc), SQN_GLUE_ERRNO when the stream reported an error code.
#define SQN_GLUE_RAISED (-1)
#define SQN_GLUE_ERRNO (-2)

// Reads at most len bytes once from the link into buf. *got is the count the stream
// returned, unchecked (the engine checks it against len).
int32_t sqn_glue_read(sqn_ctx_t *ctx, void *stream, uint8_t *buf, size_t len, uint32_t *got);
// Reads at most len bytes once from an image, as its access says. *got as above (0 = end).
int32_t sqn_glue_read_image(sqn_ctx_t *ctx, const sqn_image_t *img, uint8_t *buf, size_t len,
    uint32_t *got);
// Asks an image to confirm its digest (img->confirm, when it has one): ahead 1 before the
// transfer (read it whole, then come back), 0 after it. 0 the same, 1 it differs, 2 it can
// be read only once; 0 too when the image has nothing to confirm.
int32_t sqn_glue_confirm(sqn_ctx_t *ctx, const sqn_image_t *img, uint32_t ahead);
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
// Calls ctx->callback[slot], if given, with n (0 or 2) small-int arguments a, b
// (allocates nothing when they are small and the callable allocates nothing).
int32_t sqn_glue_callback(sqn_ctx_t *ctx, uint32_t slot, uint32_t n, uint32_t a, uint32_t b);
// Prints text on MicroPython's console.
int32_t sqn_glue_print(sqn_ctx_t *ctx, const char *text, size_t len);
// A Rust panic (none is reachable by design): prints the message and resets the board.
void sqn_glue_panic(const char *text, size_t len);

// ---- the Rust side (src/mpy/mod.rs) ----
// Field i of the last call's record (key i of SQN_KEYS) into *field: 1, or 0 past the
// last field (or before the first call).
int32_t sqn_rs_result(uint32_t i, sqn_field_t *field);
// Runs the request; returns its status (enum sqn_status). Never raises.
int32_t sqn_rs_call(sqn_ctx_t *ctx, const sqn_request_t *req);
// Prints the welcome line (the engine's catalogue). An exception while printing is kept in
// ctx->exc.
void sqn_rs_welcome(sqn_ctx_t *ctx);

#endif // SQN_GLUE_H
