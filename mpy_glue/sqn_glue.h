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
    SQN_OP_ENSURE = 6,       // ensure()'s decision, read-only: nothing to do, which image,
                             // or no more tries (the update itself is an SQN_OP_RUN)
};

// Status returned by sqn_rs_call (and by _sqnsupgrade.call).
enum sqn_status {
    SQN_OK = 0,
    SQN_MODEM_FAILURE = 1,   // the modem failed; see the result for state and next step
    SQN_BAD_INPUT = 2,       // a file or option is wrong; the modem was not touched
    SQN_BUSY = 3,            // another call is running (the engine is not reentrant)
    SQN_CANCELLED = 130,     // stopped (Ctrl-C or an exception kept in ctx->exc)
};

// Event kinds passed to sqn_glue_event.
enum sqn_event {
    SQN_EVENT_PROGRESS = 1,  // a = bytes done, b = total: the progress callback
    SQN_EVENT_ALIVE = 2,     // the engine is alive (every 250 ms at most): the alive
                             // callable (a watchdog's feed)
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

// One call's context. Lives on the C stack of the module function, so the garbage
// collector sees the objects it holds while Rust runs.
typedef struct sqn_ctx {
    void *link;        // mp_obj_t: the serial stream (machine.UART, a file on a pty, ...)
    void *baud;        // mp_obj_t: callable(baudrate), or NULL
    void *init[2];     // mp_obj_t: link.init loaded as a method (function, self), or NULLs
    void *init_kw[2 * SQN_INIT_KW_MAX]; // mp_obj_t: extra (name, value) pairs for init
    uint32_t init_kw_n; // number of pairs in init_kw
    void *progress;    // mp_obj_t: callable(done, total) or NULL
    void *alive[2];    // mp_obj_t: called with no argument at every SQN_EVENT_ALIVE: a
                       // method loaded beforehand (function, self), or (callable, NULL)
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
    int32_t open_error; // errno or SQN_OPEN_* when it could not be opened (stream is NULL)
    uint8_t is_path;   // 1: the user gave a path (the shim opened it); 0: a stream object
    uint8_t access;    // enum sqn_access
    void *method[2];   // readinto or read, loaded (function, self), for those accesses
    void *confirm[2];  // its _sqn_confirm(ahead) method, loaded, or NULLs: the digest check
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
    // SQN_OP_ENSURE: the build the modem must run, the tries made so far and the most
    // allowed, the names of the images to choose from (not NUL-terminated)
    uint32_t target_build;
    uint32_t tries;
    uint32_t max_tries;
    uint32_t names_n;
    const char *names[SQN_NAMES_MAX];
    size_t names_len[SQN_NAMES_MAX];
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
    int32_t choice;            // SQN_OP_ENSURE: the index of the image to use, -1 none
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
// SQN_EVENT_PROGRESS: ctx->progress(a, b) with small ints (allocates nothing), if given;
// SQN_EVENT_ALIVE: ctx->alive(), if given.
int32_t sqn_glue_event(sqn_ctx_t *ctx, uint32_t kind, uint32_t a, uint32_t b);
// Prints text on MicroPython's console.
int32_t sqn_glue_print(sqn_ctx_t *ctx, const char *text, size_t len);
// A Rust panic (none is reachable by design): prints the message and resets the board.
void sqn_glue_panic(const char *text, size_t len);

// ---- the Rust entry points (src/mpy/mod.rs) ----
int32_t sqn_rs_call(sqn_ctx_t *ctx, const sqn_request_t *req, sqn_result_t *res);
// Prints the welcome line (the engine's catalogue). An exception while printing is kept in
// ctx->exc.
void sqn_rs_welcome(sqn_ctx_t *ctx);

#endif // SQN_GLUE_H
