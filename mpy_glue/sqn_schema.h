// sqn_schema.h: the board call's options, commands and result keys, generated from
// their one definition in Rust (src/report/call.rs, src/report/record.rs). Do not
// edit: after changing them, run
//     SQN_BLESS=1 cargo test -p sqnsupgrade --lib schema
// (the test fails while this file differs). Included by sqn_glue.h.
#ifndef SQN_SCHEMA_H
#define SQN_SCHEMA_H

// The options' values (a field for each option that is not a callback or the baud
// rate's change, which go to the call's context).
typedef struct sqn_options {
    sqn_image_t firmware;
    sqn_image_t updater;
    sqn_image_t bootrom;
    int32_t fff;
    int32_t on_the_fly;
    int32_t block_size;
    int32_t reply_timeout;
    int32_t resume;
    int32_t verbose;
    int32_t allow_truncated;
    int32_t ffh_mode;
    int32_t print;
    int32_t debug;
    int32_t baudrate;
    sqn_text_t port;
    int32_t target;
    int32_t tries;
    int32_t max_tries;
    sqn_names_t names;
} sqn_options_t;

// Every option: X(name, kind, place): place is the value's offset in sqn_options_t,
// or the callback's slot in ctx->callback (0 for the baud rate's change).
#define SQN_OPTIONS(X) \
    X(firmware, SQN_KIND_IMAGE, offsetof(sqn_options_t, firmware)) \
    X(updater, SQN_KIND_IMAGE, offsetof(sqn_options_t, updater)) \
    X(bootrom, SQN_KIND_IMAGE, offsetof(sqn_options_t, bootrom)) \
    X(fff, SQN_KIND_BOOL, offsetof(sqn_options_t, fff)) \
    X(on_the_fly, SQN_KIND_BOOL, offsetof(sqn_options_t, on_the_fly)) \
    X(block_size, SQN_KIND_INT, offsetof(sqn_options_t, block_size)) \
    X(reply_timeout, SQN_KIND_INT, offsetof(sqn_options_t, reply_timeout)) \
    X(resume, SQN_KIND_BOOL, offsetof(sqn_options_t, resume)) \
    X(verbose, SQN_KIND_BOOL, offsetof(sqn_options_t, verbose)) \
    X(allow_truncated, SQN_KIND_BOOL, offsetof(sqn_options_t, allow_truncated)) \
    X(ffh_mode, SQN_KIND_BOOL, offsetof(sqn_options_t, ffh_mode)) \
    X(print, SQN_KIND_BOOL, offsetof(sqn_options_t, print)) \
    X(debug, SQN_KIND_BOOL, offsetof(sqn_options_t, debug)) \
    X(baudrate, SQN_KIND_INT, offsetof(sqn_options_t, baudrate)) \
    X(port, SQN_KIND_TEXT, offsetof(sqn_options_t, port)) \
    X(target, SQN_KIND_INT, offsetof(sqn_options_t, target)) \
    X(tries, SQN_KIND_INT, offsetof(sqn_options_t, tries)) \
    X(max_tries, SQN_KIND_INT, offsetof(sqn_options_t, max_tries)) \
    X(names, SQN_KIND_NAMES, offsetof(sqn_options_t, names)) \
    X(baud, SQN_KIND_BAUD, 0) \
    X(progress, SQN_KIND_CALLBACK, 0) \
    X(alive, SQN_KIND_CALLBACK, 1) \

// Their numbers: bit n of sqn_request_t.given says option n was given.
enum sqn_option {
    SQN_OPT_FIRMWARE = 0,
    SQN_OPT_UPDATER = 1,
    SQN_OPT_BOOTROM = 2,
    SQN_OPT_FFF = 3,
    SQN_OPT_ON_THE_FLY = 4,
    SQN_OPT_BLOCK_SIZE = 5,
    SQN_OPT_REPLY_TIMEOUT = 6,
    SQN_OPT_RESUME = 7,
    SQN_OPT_VERBOSE = 8,
    SQN_OPT_ALLOW_TRUNCATED = 9,
    SQN_OPT_FFH_MODE = 10,
    SQN_OPT_PRINT = 11,
    SQN_OPT_DEBUG = 12,
    SQN_OPT_BAUDRATE = 13,
    SQN_OPT_PORT = 14,
    SQN_OPT_TARGET = 15,
    SQN_OPT_TRIES = 16,
    SQN_OPT_MAX_TRIES = 17,
    SQN_OPT_NAMES = 18,
    SQN_OPT_BAUD = 19,
    SQN_OPT_PROGRESS = 20,
    SQN_OPT_ALIVE = 21,
    SQN_OPTION_COUNT = 22
};

// The callbacks' slots in ctx->callback.
enum sqn_callback {
    SQN_CALLBACK_PROGRESS = 0,
    SQN_CALLBACK_ALIVE = 1,
};
#define SQN_CALLBACKS 2

// The commands, X(name), numbered from 0 in this order (sqn_request_t.command).
#define SQN_COMMANDS(X) X(run) X(info) X(state) X(load) X(uart) X(ensure)

// The result record's keys, X(name), in the order of sqn_rs_result's fields.
#define SQN_KEYS(X) \
    X(ok) \
    X(status) \
    X(command) \
    X(state_before) \
    X(state_after) \
    X(modem_changed) \
    X(method) \
    X(build_before) \
    X(build_after) \
    X(firmware) \
    X(imei) \
    X(bytes) \
    X(seconds) \
    X(error) \
    X(hint) \
    X(modem) \
    X(next) \
    X(choice) \

#endif // SQN_SCHEMA_H
