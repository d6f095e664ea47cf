// modsqnsupgrade.c: the thin C glue of the `_sqnsupgrade` MicroPython module.
//
// Only what bindgen cannot express lives here: the module table, the function objects,
// the qstrs, the registration, and the nlr_push wrappers through which the Rust engine
// calls into MicroPython. No protocol logic: every decision is made in Rust (src/mpy/).
//
// Python API (used by python_shim/sqnsupgrade.py):
//   _sqnsupgrade.call(command, link, options) -> status int
//       command   "run", "info", "state", "load", "uart" (the preparation for mirror mode)
//                 or "ensure" (ensure()'s decision: nothing to do, which image, or no
//                 more tries; the update itself is a "run")
//       link      an object with the stream protocol (machine.UART, a file on a pty)
//       options   a dict of the options by name. The names, their kinds and where each
//                 value goes are defined in Rust (src/report/call.rs) and generated into
//                 sqn_schema.h (SQN_OPTIONS); this file holds none of them. A name the
//                 engine does not know raises TypeError; None is "not given". The kinds:
//                 int, bool, str; a list of str (the names ensure() chooses among, 1 to
//                 8); an image: (stream, size, name, is_path), or (None, -code, name,
//                 is_path) for one that could not be opened (an errno, or an SQN_OPEN_*
//                 code: the module has them as OPEN_* constants), where a stream is any
//                 object with the stream protocol, or a readinto(buf) or read(n) method,
//                 and one with a method _sqn_confirm(ahead) -> 0 same, 1 differs, 2 read
//                 once is asked to confirm its digest when the engine decides; a callback:
//                 a callable, or (object, 'method') such as (wdt, 'feed'), loaded here so
//                 that calling it allocates nothing; the baud rate's change: a
//                 callable(baudrate), or a tuple of extra keyword pairs ('pins', (...),
//                 'timeout_chars', 64) for link.init(baudrate=..., ...), which is then
//                 called from here without allocating (the UART of a board)
//     Calling it allocates nothing on the MicroPython heap (it works under heap_lock()),
//     as long as the callables given allocate nothing.
//     An exception raised inside (by the link, an image stream, a callback, Ctrl-C) is
//     raised again from here once the engine has returned.
//   _sqnsupgrade.result() -> the last call's record: a dict with the engine's keys
//       (SQN_KEYS, generated from src/report/record.rs) and values (sqn_rs_result), or
//       None before the first.
//   _sqnsupgrade.welcome() prints the welcome line (the engine's catalogue, its version).
//   _sqnsupgrade.OPEN_HTTP_STATUS, OPEN_NO_LENGTH, OPEN_REDIRECTS, OPEN_NO_TLS,
//       OPEN_NOT_A_STREAM, OPEN_NO_SERVER, OPEN_BAD_SHA256: the codes of images that could
//       not be opened (OPEN_BAD_SHA256: not opened, its sha256= is not 64 hex digits).
//
// Compatibility, from MicroPython 1.11 (Pycom's last firmware) to 1.25:
// - plain `static` everywhere (the STATIC macro is gone since 1.23; 1.11 defines it as
//   static anyway);
// - registration: before 1.19 the build finds MP_REGISTER_MODULE(name, module, enabled)
//   with a regular expression over this file's text (py/makemoduledefs.py of that
//   version), after the preprocessor nothing; since 1.19 it reads the preprocessed output,
//   two arguments. So the three-argument form comes first, and the two-argument form is
//   the last statement of the file, where the old expression cannot take it for the start
//   of a registration (tests/python/test_glue.py checks both readings);
// - mp_handle_pending() lost/gained its argument in 1.13; mp_event_wait_ms() is 1.22+.
// On forks older than 1.10 (Pycom v1.8.6), add the module to MICROPY_PORT_BUILTIN_MODULES
// in the port's mpconfigport.h instead.

#include <string.h>
#if defined(__unix__)
#include <poll.h>
#include <stdlib.h>
#endif
#if defined(ESP_PLATFORM)
#include "esp_system.h"
#endif

#include "py/mphal.h"
#include "py/nlr.h"
#include "py/obj.h"
#include "py/objarray.h"
#include "py/runtime.h"
#include "py/stream.h"

#include "sqn_glue.h"

#if MICROPY_VERSION >= 0x010D00 // 1.13
#define SQN_HANDLE_PENDING() mp_handle_pending(true)
#elif MICROPY_ENABLE_SCHEDULER
#define SQN_HANDLE_PENDING() mp_handle_pending()
#else // 1.11 without the scheduler (Pycom): the pending Ctrl-C is raised here
#define SQN_HANDLE_PENDING() sqn_handle_pending()
static void sqn_handle_pending(void) {
    mp_obj_t exc = MP_STATE_VM(mp_pending_exception);
    if (exc != MP_OBJ_NULL) {
        MP_STATE_VM(mp_pending_exception) = MP_OBJ_NULL;
        nlr_raise(exc);
    }
}
#endif

#ifdef MP_OBJ_ARRAY_TYPECODE_FLAG_RW
#define SQN_VIEW_RW MP_OBJ_ARRAY_TYPECODE_FLAG_RW
#else // a MicroPython whose memoryviews are all writable
#define SQN_VIEW_RW 0
#endif

#ifndef MP_ERROR_TEXT // before 1.13
#define MP_ERROR_TEXT(text) text
#endif

static int32_t sqn_keep(sqn_ctx_t *ctx, nlr_buf_t *nlr) {
    if (ctx->exc == NULL) {
        ctx->exc = nlr->ret_val;
        ctx->exc_is_interrupt = mp_obj_is_subclass_fast(
            MP_OBJ_FROM_PTR(mp_obj_get_type(MP_OBJ_FROM_PTR(ctx->exc))),
            MP_OBJ_FROM_PTR(&mp_type_KeyboardInterrupt));
    }
    return SQN_GLUE_RAISED;
}

int32_t sqn_glue_read(sqn_ctx_t *ctx, void *stream, uint8_t *buf, size_t len, uint32_t *got) {
    *got = 0;
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        int err = 0;
        mp_uint_t n = mp_stream_rw(MP_OBJ_FROM_PTR(stream), buf, len, &err,
            MP_STREAM_RW_READ | MP_STREAM_RW_ONCE);
        nlr_pop();
        if (err != 0 && n == 0) {
            if (mp_is_nonblocking_error(err)) {
                return 0;
            }
            ctx->err = err;
            return SQN_GLUE_ERRNO;
        }
        *got = (uint32_t)n;
        return 0;
    }
    return sqn_keep(ctx, &nlr);
}

int32_t sqn_glue_read_image(sqn_ctx_t *ctx, const sqn_image_t *img, uint8_t *buf, size_t len,
    uint32_t *got) {
    if (img->access == SQN_ACCESS_STREAM) {
        return sqn_glue_read(ctx, img->stream, buf, len, got);
    }
    *got = 0;
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t args[3] = { MP_OBJ_FROM_PTR(img->method[0]), MP_OBJ_FROM_PTR(img->method[1]) };
        mp_obj_t r;
        if (img->access == SQN_ACCESS_READINTO) {
            // A writable view (a plain one is read-only: readinto could not fill it).
            args[2] = mp_obj_new_memoryview('B' | SQN_VIEW_RW, len, buf);
            r = mp_call_method_n_kw(1, 0, args);
            // None: nothing now (a non-blocking object); the engine reads again.
            *got = r == mp_const_none ? 0 : (uint32_t)mp_obj_get_int(r);
        } else {
            args[2] = mp_obj_new_int_from_uint(len);
            r = mp_call_method_n_kw(1, 0, args);
            mp_buffer_info_t data = { 0 };
            if (r != mp_const_none) {
                mp_get_buffer_raise(r, &data, MP_BUFFER_READ);
            }
            // The count as the object gave it (the engine checks it); what fits is kept.
            *got = (uint32_t)data.len;
            memcpy(buf, data.buf, data.len < len ? data.len : len);
        }
        nlr_pop();
        return 0;
    }
    return sqn_keep(ctx, &nlr);
}

int32_t sqn_glue_confirm(sqn_ctx_t *ctx, const sqn_image_t *img, uint32_t ahead) {
    if (img->confirm[0] == NULL) {
        return 0;
    }
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t args[3] = { MP_OBJ_FROM_PTR(img->confirm[0]), MP_OBJ_FROM_PTR(img->confirm[1]),
            mp_obj_new_bool(ahead) };
        mp_int_t r = mp_obj_get_int(mp_call_method_n_kw(1, 0, args));
        nlr_pop();
        return (int32_t)r;
    }
    return sqn_keep(ctx, &nlr);
}

int32_t sqn_glue_write(sqn_ctx_t *ctx, const uint8_t *data, size_t len) {
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        int err = 0;
        mp_uint_t n = mp_stream_rw(MP_OBJ_FROM_PTR(ctx->link), (void *)data, len, &err,
            MP_STREAM_RW_WRITE);
        nlr_pop();
        if (err != 0 || n != len) {
            ctx->err = err;
            return SQN_GLUE_ERRNO;
        }
        return (int32_t)n;
    }
    return sqn_keep(ctx, &nlr);
}

#if defined(__unix__)
// The file descriptor behind a stream on a hosted port (a tty opened as a file), or -1.
// May raise (a fileno() method of the link's own).
static int sqn_fileno(mp_obj_t link) {
    #if defined(MP_STREAM_GET_FILENO)
    const mp_stream_p_t *s = mp_get_stream(link);
    if (s->ioctl != NULL) {
        int err = 0;
        mp_uint_t fd = s->ioctl(link, MP_STREAM_GET_FILENO, 0, &err);
        if (fd != MP_STREAM_ERROR) {
            return (int)fd;
        }
    }
    #endif
    // The unix port's files of 1.11 do not answer MP_STREAM_GET_FILENO: their fileno()
    // method (loaded, not bound, and returning a small int: nothing allocated).
    mp_obj_t method[2];
    mp_load_method_maybe(link, MP_QSTR_fileno, method);
    if (method[0] != MP_OBJ_NULL) {
        mp_obj_t fd = mp_call_method_n_kw(0, 0, method);
        if (mp_obj_is_small_int(fd)) {
            return (int)MP_OBJ_SMALL_INT_VALUE(fd);
        }
    }
    return -1;
}
#endif

// 1 readable, 0 not, 2 cannot tell (no poll support). May raise.
static int32_t sqn_poll(mp_obj_t link) {
    const mp_stream_p_t *s = mp_get_stream(link);
    if (s->ioctl != NULL) {
        int err = 0;
        mp_uint_t r = s->ioctl(link, MP_STREAM_POLL, MP_STREAM_POLL_RD, &err);
        if (r != MP_STREAM_ERROR) {
            return (r & MP_STREAM_POLL_RD) ? 1 : 0;
        }
    }
    #if defined(__unix__)
    // Files on the unix port do not answer MP_STREAM_POLL: ask the kernel.
    int fd = sqn_fileno(link);
    if (fd >= 0) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        return poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN) ? 1 : 0;
    }
    #endif
    return 2;
}

// Sleeps until something may have changed, at most timeout_ms. May raise (Ctrl-C).
static void sqn_wait_event(mp_obj_t link, uint32_t timeout_ms) {
    #if defined(__unix__)
    // A file or tty on the unix port: the kernel wakes us when a byte comes.
    int fd = sqn_fileno(link);
    if (fd >= 0) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        poll(&pfd, 1, timeout_ms > 100 ? 100 : (int)timeout_ms);
        SQN_HANDLE_PENDING(); // a Ctrl-C (SIGINT) ends poll() early
        return;
    }
    #endif
    #if MICROPY_VERSION >= 0x011600 // 1.22: pending events, then sleep until an interrupt
    mp_event_wait_ms(timeout_ms);
    #elif defined(MICROPY_EVENT_POLL_HOOK) // older ports: their own wait (Pycom: 1 ms)
    (void)timeout_ms;
    MICROPY_EVENT_POLL_HOOK
    #else
    (void)timeout_ms;
    mp_hal_delay_ms(1);
    #endif
}

int32_t sqn_glue_wait_readable(sqn_ctx_t *ctx, uint32_t timeout_ms) {
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t link = MP_OBJ_FROM_PTR(ctx->link);
        mp_uint_t start = mp_hal_ticks_ms();
        int32_t ready = sqn_poll(link);
        while (ready == 0) {
            mp_uint_t waited = mp_hal_ticks_ms() - start;
            if (waited >= timeout_ms) {
                break;
            }
            sqn_wait_event(link, timeout_ms - (uint32_t)waited);
            ready = sqn_poll(link);
        }
        nlr_pop();
        return ready;
    }
    return sqn_keep(ctx, &nlr);
}

int32_t sqn_glue_set_baud(sqn_ctx_t *ctx, uint32_t baud) {
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        if (ctx->init[0] != NULL) {
            // link.init(baudrate=baud, name=value, ...): arguments on this stack, the
            // method loaded beforehand, so nothing is allocated.
            mp_obj_t args[2 + 2 + 2 * SQN_INIT_KW_MAX];
            args[0] = MP_OBJ_FROM_PTR(ctx->init[0]);
            args[1] = MP_OBJ_FROM_PTR(ctx->init[1]);
            args[2] = MP_OBJ_NEW_QSTR(MP_QSTR_baudrate);
            args[3] = mp_obj_new_int_from_uint(baud);
            for (size_t i = 0; i < 2 * ctx->init_kw_n; i++) {
                args[4 + i] = MP_OBJ_FROM_PTR(ctx->init_kw[i]);
            }
            mp_call_method_n_kw(0, 1 + ctx->init_kw_n, args);
        } else if (ctx->baud != NULL) {
            mp_call_function_1(MP_OBJ_FROM_PTR(ctx->baud), mp_obj_new_int_from_uint(baud));
        }
        nlr_pop();
        return 0;
    }
    return sqn_keep(ctx, &nlr);
}

int32_t sqn_glue_sleep_ms(sqn_ctx_t *ctx, uint32_t ms) {
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_hal_delay_ms(ms);
        nlr_pop();
        return 0;
    }
    return sqn_keep(ctx, &nlr);
}

int32_t sqn_glue_interrupted(sqn_ctx_t *ctx) {
    if (ctx->exc != NULL) {
        return 1;
    }
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        SQN_HANDLE_PENDING();
        nlr_pop();
        return 0;
    }
    sqn_keep(ctx, &nlr);
    return 1;
}

int32_t sqn_glue_callback(sqn_ctx_t *ctx, uint32_t slot, uint32_t n, uint32_t a, uint32_t b) {
    if (slot >= SQN_CALLBACKS || ctx->callback[slot][0] == NULL || ctx->exc != NULL) {
        return 0;
    }
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        // A method loaded beforehand (self set), or a plain callable (self NULL).
        mp_obj_t args[4] = {
            MP_OBJ_FROM_PTR(ctx->callback[slot][0]), MP_OBJ_FROM_PTR(ctx->callback[slot][1]),
            mp_obj_new_int_from_uint(a), mp_obj_new_int_from_uint(b),
        };
        if (args[1] != MP_OBJ_NULL) {
            mp_call_method_n_kw(n, 0, args);
        } else {
            mp_call_function_n_kw(args[0], n, 0, args + 2);
        }
        nlr_pop();
        return 0;
    }
    return sqn_keep(ctx, &nlr);
}

int32_t sqn_glue_print(sqn_ctx_t *ctx, const char *text, size_t len) {
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_print_strn(&mp_plat_print, text, len, 0, ' ', 0);
        nlr_pop();
        return 0;
    }
    return sqn_keep(ctx, &nlr);
}

void sqn_glue_panic(const char *text, size_t len) {
    // Not expected to be reachable (make test checks that no Rust panic path is linked);
    // should one be, say what happened instead of hanging, and restart the board.
    static const char head[] = "\r\nsqnsupgrade: internal error: ";
    static const char tail[] = "\r\nsqnsupgrade: resetting the board\r\n";
    mp_hal_stdout_tx_strn(head, sizeof(head) - 1);
    mp_hal_stdout_tx_strn(text, len);
    mp_hal_stdout_tx_strn(tail, sizeof(tail) - 1);
    #if defined(ESP_PLATFORM)
    esp_restart();
    #elif defined(__unix__)
    abort(); // a hosted port: end the process
    #elif defined(__ARM_ARCH_6M__) || defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__) \
    || defined(__ARM_ARCH_8M_BASE__) || defined(__ARM_ARCH_8M_MAIN__)
    // Cortex-M: system reset request (SCB->AIRCR = VECTKEY | SYSRESETREQ); the reset
    // takes a few cycles.
    *(volatile uint32_t *)0xE000ED0CUL = 0x05FA0004UL;
    #endif
    for (;;) {
    }
}

// ---- argument parsing (before Rust runs; may raise normally) ----

// The texts the Rust code reads (image names, port=), copied out of their Python str
// objects into internal RAM: on Pycom boards with PSRAM the objects live in PSRAM, which
// code built without the ESP32's PSRAM cache workaround (the Rust library, from LLVM)
// must not touch. A text that does not fit stays where it is (paths are short on a board).
#define SQN_TEXTS_SIZE 512
static char sqn_texts[SQN_TEXTS_SIZE];
static size_t sqn_texts_used;
static uint8_t sqn_running; // a call is inside Rust: a nested call must leave its texts alone

static const char *sqn_intern(const char *text, size_t len) {
    if (sqn_running || len > SQN_TEXTS_SIZE - sqn_texts_used) {
        return text;
    }
    char *copy = sqn_texts + sqn_texts_used;
    memcpy(copy, text, len);
    sqn_texts_used += len;
    return copy;
}

// The stream protocol of an object, or NULL. Not mp_get_stream(): on 1.20+ it reads the
// type's protocol slot without asking whether the type has one, and a Python class that
// does not derive from io.IOBase has none (what is read there is not a protocol).
static const mp_stream_p_t *sqn_stream_of(mp_obj_t o) {
    if (!mp_obj_is_obj(o)) {
        return NULL;
    }
    #if defined(MP_OBJ_TYPE_GET_SLOT_OR_NULL)
    return (const mp_stream_p_t *)MP_OBJ_TYPE_GET_SLOT_OR_NULL(mp_obj_get_type(o), protocol);
    #else // before 1.20: a plain field, NULL when not set
    return (const mp_stream_p_t *)mp_obj_get_type(o)->protocol;
    #endif
}

static void sqn_image(mp_obj_t spec, sqn_image_t *img) {
    memset(img, 0, sizeof(*img));
    if (spec == mp_const_none) {
        return;
    }
    mp_obj_t *items;
    mp_obj_get_array_fixed_n(spec, 4, &items);
    img->name = mp_obj_str_get_data(items[2], &img->name_len);
    img->name = sqn_intern(img->name, img->name_len);
    img->is_path = mp_obj_is_true(items[3]);
    mp_int_t size = mp_obj_get_int(items[1]);
    if (items[0] == mp_const_none) {
        // It could not be opened: size carries -errno or -SQN_OPEN_*, the engine words it.
        img->open_error = size < 0 ? (int32_t)-size : 1;
        return;
    }
    mp_obj_t o = items[0];
    const mp_stream_p_t *stream = sqn_stream_of(o);
    if (stream != NULL && stream->read != NULL) {
        img->access = SQN_ACCESS_STREAM;
    } else {
        mp_load_method_maybe(o, MP_QSTR_readinto, (mp_obj_t *)img->method);
        img->access = SQN_ACCESS_READINTO;
        if (img->method[0] == MP_OBJ_NULL) {
            mp_load_method_maybe(o, MP_QSTR_read, (mp_obj_t *)img->method);
            img->access = SQN_ACCESS_READ;
        }
        if (img->method[0] == MP_OBJ_NULL) {
            img->open_error = SQN_OPEN_NOT_A_STREAM; // the engine says what it needs
            return;
        }
    }
    mp_load_method_maybe(o, MP_QSTR__sqn_confirm, (mp_obj_t *)img->confirm);
    img->stream = MP_OBJ_TO_PTR(o);
    img->size = (uint32_t)size;
}

// How the link's baud rate is changed: a callable, or link.init with extra keywords.
static void sqn_baud(sqn_ctx_t *ctx, mp_obj_t link, mp_obj_t spec) {
    if (spec == mp_const_none) {
        return;
    }
    if (!mp_obj_is_type(spec, &mp_type_tuple)) {
        ctx->baud = MP_OBJ_TO_PTR(spec);
        return;
    }
    size_t n;
    mp_obj_t *kw;
    mp_obj_tuple_get(spec, &n, &kw);
    if (n % 2 != 0 || n > 2 * SQN_INIT_KW_MAX) {
        mp_raise_ValueError(MP_ERROR_TEXT("baud: up to 4 (name, value) pairs"));
    }
    mp_obj_t method[2];
    mp_load_method(link, MP_QSTR_init, method);
    ctx->init[0] = MP_OBJ_TO_PTR(method[0]);
    ctx->init[1] = MP_OBJ_TO_PTR(method[1]);
    for (size_t i = 0; i < n; i += 2) {
        // Keyword names must be qstrs (string literals already are: nothing allocated).
        ctx->init_kw[i] = MP_OBJ_TO_PTR(MP_OBJ_NEW_QSTR(mp_obj_str_get_qstr(kw[i])));
        ctx->init_kw[i + 1] = MP_OBJ_TO_PTR(kw[i + 1]);
    }
    ctx->init_kw_n = (uint32_t)(n / 2);
}

// A callback: (object, 'method') is loaded here, (function, self), so that calling it
// allocates nothing (a machine.WDT's feed); anything else is called as it is.
static void sqn_callback(mp_obj_t spec, void *slot[2]) {
    if (mp_obj_is_type(spec, &mp_type_tuple)) {
        mp_obj_t *om;
        mp_obj_get_array_fixed_n(spec, 2, &om);
        mp_obj_t method[2];
        mp_load_method(om[0], mp_obj_str_get_qstr(om[1]), method);
        slot[0] = MP_OBJ_TO_PTR(method[0]);
        slot[1] = MP_OBJ_TO_PTR(method[1]);
    } else {
        slot[0] = MP_OBJ_TO_PTR(spec);
    }
}

static sqn_text_t sqn_text_of(mp_obj_t o) {
    sqn_text_t t;
    t.text = mp_obj_str_get_data(o, &t.len);
    t.text = sqn_intern(t.text, t.len);
    return t;
}

// The options, the commands and the record's keys, from their one definition (Rust, via
// the generated sqn_schema.h): the names as qstrs, so a name is found without comparing
// strings (a name MicroPython never interned cannot be one of them).
typedef struct sqn_option_entry {
    uint16_t name;
    uint16_t kind : 4;     // enum sqn_kind
    uint16_t place : 12;   // offset in sqn_options_t (checked below), or callback slot
} sqn_option_entry_t;
_Static_assert(sizeof(sqn_options_t) < 4096, "an option's offset needs 12 bits");
#define SQN_OPTION_ENTRY(name, kind, place) { MP_QSTR_##name, kind, place },
static const sqn_option_entry_t sqn_options[] = { SQN_OPTIONS(SQN_OPTION_ENTRY) };
#define SQN_QSTR_ENTRY(name) MP_QSTR_##name,
static const uint16_t sqn_commands[] = { SQN_COMMANDS(SQN_QSTR_ENTRY) };
static const uint16_t sqn_keys[] = { SQN_KEYS(SQN_QSTR_ENTRY) };

// The qstr of a str object: its own, or the interned one with the same text (0 when
// there is none: then it names nothing here). Allocates nothing.
static qstr sqn_qstr_of(mp_obj_t o) {
    if (mp_obj_is_qstr(o)) {
        return MP_OBJ_QSTR_VALUE(o);
    }
    size_t len;
    const char *s = mp_obj_str_get_data(o, &len);
    return qstr_find_strn(s, len);
}

// Index of q in table (n entries), or -1.
static int sqn_find(const uint16_t *table, size_t n, qstr q) {
    for (size_t i = 0; i < n; i++) {
        if (table[i] == q) {
            return (int)i;
        }
    }
    return -1;
}

// One option: the table says what it is and where its value goes.
static void sqn_option(sqn_ctx_t *ctx, sqn_request_t *req, mp_obj_t key, mp_obj_t value) {
    qstr q = sqn_qstr_of(key);
    size_t i = 0;
    while (i < SQN_OPTION_COUNT && sqn_options[i].name != q) {
        i++;
    }
    if (i == SQN_OPTION_COUNT) {
        mp_raise_TypeError(MP_ERROR_TEXT("unknown option"));
    }
    if (value == mp_const_none) {
        return; // not given
    }
    const sqn_option_entry_t *opt = &sqn_options[i];
    char *field = (char *)&req->options + opt->place;
    switch (opt->kind) {
        case SQN_KIND_INT:
            *(int32_t *)field = (int32_t)mp_obj_get_int(value);
            break;
        case SQN_KIND_BOOL:
            *(int32_t *)field = mp_obj_is_true(value);
            break;
        case SQN_KIND_TEXT:
            *(sqn_text_t *)field = sqn_text_of(value);
            break;
        case SQN_KIND_NAMES: {
            sqn_names_t *names = (sqn_names_t *)field;
            size_t n;
            mp_obj_t *items;
            mp_obj_get_array(value, &n, &items);
            if (n == 0 || n > SQN_NAMES_MAX) {
                mp_raise_ValueError(MP_ERROR_TEXT("names: 1 to 8 image names"));
            }
            for (size_t k = 0; k < n; k++) {
                names->name[k] = sqn_text_of(items[k]);
            }
            names->n = (uint32_t)n;
            break;
        }
        case SQN_KIND_IMAGE:
            sqn_image(value, (sqn_image_t *)field);
            break;
        case SQN_KIND_CALLBACK:
            sqn_callback(value, ctx->callback[opt->place]);
            break;
        default: // SQN_KIND_BAUD
            sqn_baud(ctx, MP_OBJ_FROM_PTR(ctx->link), value);
            break;
    }
    req->given |= (uint32_t)1 << i;
}

static mp_obj_t sqn_call(mp_obj_t command, mp_obj_t link, mp_obj_t options) {
    sqn_ctx_t ctx;
    sqn_request_t req;
    memset(&ctx, 0, sizeof(ctx));
    memset(&req, 0, sizeof(req));
    if (!sqn_running) {
        sqn_texts_used = 0;
    }
    int c = sqn_find(sqn_commands, MP_ARRAY_SIZE(sqn_commands), sqn_qstr_of(command));
    if (c < 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("unknown command"));
    }
    req.command = (uint32_t)c;
    mp_get_stream_raise(link, MP_STREAM_OP_READ | MP_STREAM_OP_WRITE);
    ctx.link = MP_OBJ_TO_PTR(link);
    if (!mp_obj_is_type(options, &mp_type_dict)) {
        mp_raise_TypeError(MP_ERROR_TEXT("options: a dict"));
    }
    mp_map_t *map = mp_obj_dict_get_map(options);
    for (size_t i = 0; i < map->alloc; i++) {
        if (mp_map_slot_is_filled(map, i)) {
            sqn_option(&ctx, &req, map->table[i].key, map->table[i].value);
        }
    }

    // sqn_rs_call never raises (every call into MicroPython inside it is wrapped).
    uint8_t nested = sqn_running;
    sqn_running = 1;
    int32_t status = sqn_rs_call(&ctx, &req);
    sqn_running = nested;
    if (ctx.exc != NULL) {
        // Rust has returned: now the exception can take its normal way up.
        nlr_raise(MP_OBJ_FROM_PTR(ctx.exc));
    }
    return MP_OBJ_NEW_SMALL_INT(status);
}
static MP_DEFINE_CONST_FUN_OBJ_3(sqn_call_obj, sqn_call);

// _sqnsupgrade.welcome(): see sqn_rs_welcome. Allocates nothing.
static mp_obj_t sqn_welcome(void) {
    sqn_ctx_t ctx;
    memset(&ctx, 0, sizeof(ctx));
    sqn_rs_welcome(&ctx);
    if (ctx.exc != NULL) {
        nlr_raise(MP_OBJ_FROM_PTR(ctx.exc));
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_0(sqn_welcome_obj, sqn_welcome);

// The last call's record as a dict: key i of SQN_KEYS with field i as the Rust side
// gives it; None before the first call. The seconds are a float where the port has
// floats.
static mp_obj_t sqn_result(void) {
    sqn_field_t f;
    if (!sqn_rs_result(0, &f)) {
        return mp_const_none;
    }
    mp_obj_t d = mp_obj_new_dict(MP_ARRAY_SIZE(sqn_keys));
    for (uint32_t i = 0; i < MP_ARRAY_SIZE(sqn_keys) && sqn_rs_result(i, &f); i++) {
        mp_obj_t v;
        switch (f.kind) {
            case SQN_VALUE_BOOL:
                v = mp_obj_new_bool(f.num);
                break;
            case SQN_VALUE_INT:
                v = mp_obj_new_int(f.num);
                break;
            case SQN_VALUE_TEXT:
                v = mp_obj_new_str(f.text, f.len);
                break;
            case SQN_VALUE_MILLIS:
                #if MICROPY_PY_BUILTINS_FLOAT
                v = mp_obj_new_float((mp_float_t)f.num / 1000);
                #else
                v = mp_obj_new_int(f.num / 1000);
                #endif
                break;
            default:
                v = mp_const_none;
                break;
        }
        mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(sqn_keys[i]), v);
    }
    return d;
}
static MP_DEFINE_CONST_FUN_OBJ_0(sqn_result_obj, sqn_result);

static const mp_rom_map_elem_t sqn_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR__sqnsupgrade) },
    { MP_ROM_QSTR(MP_QSTR_call), MP_ROM_PTR(&sqn_call_obj) },
    { MP_ROM_QSTR(MP_QSTR_result), MP_ROM_PTR(&sqn_result_obj) },
    { MP_ROM_QSTR(MP_QSTR_welcome), MP_ROM_PTR(&sqn_welcome_obj) },
    { MP_ROM_QSTR(MP_QSTR_OPEN_HTTP_STATUS), MP_ROM_INT(SQN_OPEN_HTTP_STATUS) },
    { MP_ROM_QSTR(MP_QSTR_OPEN_NO_LENGTH), MP_ROM_INT(SQN_OPEN_NO_LENGTH) },
    { MP_ROM_QSTR(MP_QSTR_OPEN_REDIRECTS), MP_ROM_INT(SQN_OPEN_REDIRECTS) },
    { MP_ROM_QSTR(MP_QSTR_OPEN_NO_TLS), MP_ROM_INT(SQN_OPEN_NO_TLS) },
    { MP_ROM_QSTR(MP_QSTR_OPEN_NOT_A_STREAM), MP_ROM_INT(SQN_OPEN_NOT_A_STREAM) },
    { MP_ROM_QSTR(MP_QSTR_OPEN_NO_SERVER), MP_ROM_INT(SQN_OPEN_NO_SERVER) },
    { MP_ROM_QSTR(MP_QSTR_OPEN_BAD_SHA256), MP_ROM_INT(SQN_OPEN_BAD_SHA256) },
};
static MP_DEFINE_CONST_DICT(sqn_module_globals, sqn_module_globals_table);

const mp_obj_module_t sqn_user_cmodule = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&sqn_module_globals,
};

// Registration (see "Compatibility" at the top): keep the two-argument form last.
#if MICROPY_VERSION < 0x011300
MP_REGISTER_MODULE(MP_QSTR__sqnsupgrade, sqn_user_cmodule, 1);
#else
MP_REGISTER_MODULE(MP_QSTR__sqnsupgrade, sqn_user_cmodule);
#endif
