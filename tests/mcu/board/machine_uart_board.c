// machine_uart_board.c: machine.UART of SQN_TESTBOARD. Not compiled on its own: it is
// included by extmod/machine_uart.c (MICROPY_PY_MACHINE_UART_INCLUDEFILE).
//
// UART(1) is the modem UART (UART1 of the MPS2, QEMU's second -serial), shaped like the
// UART of a Pycom board:
//   UART(1, baudrate=921600, bits=8, parity=None, stop=1, *, timeout_chars=2,
//        pins=(...), rx_buffer_size=...)
//   init(...) takes the same keywords, every one optional: what is not given keeps its
//   value, so init(baudrate=115200) changes only the rate. pins= is accepted and ignored
//   (calls written for a GPy work unchanged); rx_buffer_size= too (the buffer is a fixed
//   static 1 KiB). The hardware is 8N1 only.
//   read(n) waits for the first byte at most timeout_chars character times (at least
//   1 ms), then reads until n bytes or a gap of that length; None when nothing came.
// Nothing here allocates on the MicroPython heap: the object is static, init parses its
// arguments on the C stack, reads and writes use the caller's buffers. So init, readinto,
// write, any and poll work under micropython.heap_lock().
// UART(0) is the REPL and is not offered.

#include "py/mperrno.h"
#include "sqn_testboard.h"

#define BOARD_MODEM_UART_ID (1)
#define BOARD_UART_MAX_BAUD (BOARD_CORE_HZ / 16)

typedef struct _machine_uart_obj_t {
    mp_obj_base_t base;
    bool active;
    uint32_t baudrate;
    uint16_t timeout_chars;
} machine_uart_obj_t;

static machine_uart_obj_t board_modem_uart_obj = {
    .base = { &machine_uart_type },
    .active = false,
    .baudrate = 9600,     // Pycom's default
    .timeout_chars = 2,   // Pycom's default
};

// The read timeout in core clock ticks: timeout_chars character times of 10 bits
// (start, 8 data, stop), at least 1 ms.
static uint64_t board_uart_timeout_ticks(const machine_uart_obj_t *self) {
    uint64_t ticks = ((uint64_t)self->timeout_chars * 10u * BOARD_CORE_HZ + self->baudrate - 1) / self->baudrate;
    return ticks < BOARD_TICKS_PER_MS ? BOARD_TICKS_PER_MS : ticks;
}

static void mp_machine_uart_print(const mp_print_t *print, mp_obj_t self_in, mp_print_kind_t kind) {
    machine_uart_obj_t *self = MP_OBJ_TO_PTR(self_in);
    (void)kind;
    mp_printf(print, "UART(%d, baudrate=%u, bits=8, parity=None, stop=1, timeout_chars=%u)",
        BOARD_MODEM_UART_ID, (unsigned)self->baudrate, (unsigned)self->timeout_chars);
}

static void mp_machine_uart_init_helper(machine_uart_obj_t *self, size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_baudrate, ARG_bits, ARG_parity, ARG_stop, ARG_timeout_chars, ARG_pins, ARG_rx_buffer_size };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_baudrate, MP_ARG_INT, {.u_int = -1} },
        { MP_QSTR_bits, MP_ARG_INT, {.u_int = -1} },
        { MP_QSTR_parity, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_INT(-1)} },
        { MP_QSTR_stop, MP_ARG_INT, {.u_int = -1} },
        { MP_QSTR_timeout_chars, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = -1} },
        { MP_QSTR_pins, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_rx_buffer_size, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = -1} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);

    // Check everything first, so that a bad call changes nothing.
    mp_int_t baudrate = args[ARG_baudrate].u_int;
    if (baudrate != -1 && (baudrate < 300 || baudrate > (mp_int_t)BOARD_UART_MAX_BAUD)) {
        mp_raise_ValueError(MP_ERROR_TEXT("baudrate out of range"));
    }
    if (args[ARG_bits].u_int != -1 && args[ARG_bits].u_int != 8) {
        mp_raise_ValueError(MP_ERROR_TEXT("this UART has 8 data bits only"));
    }
    mp_obj_t parity = args[ARG_parity].u_obj;
    if (parity != MP_OBJ_NEW_SMALL_INT(-1) && parity != mp_const_none) {
        mp_raise_ValueError(MP_ERROR_TEXT("this UART has no parity bit"));
    }
    if (args[ARG_stop].u_int != -1 && args[ARG_stop].u_int != 1) {
        mp_raise_ValueError(MP_ERROR_TEXT("this UART has 1 stop bit only"));
    }
    mp_int_t timeout_chars = args[ARG_timeout_chars].u_int;
    if (timeout_chars != -1 && (timeout_chars < 0 || timeout_chars > 0xffff)) {
        mp_raise_ValueError(MP_ERROR_TEXT("timeout_chars out of range"));
    }
    mp_obj_t pins = args[ARG_pins].u_obj;
    if (pins != mp_const_none && !mp_obj_is_type(pins, &mp_type_tuple) && !mp_obj_is_type(pins, &mp_type_list)) {
        mp_raise_TypeError(MP_ERROR_TEXT("pins must be a tuple"));
    }

    if (timeout_chars != -1) {
        self->timeout_chars = (uint16_t)timeout_chars;
    }
    if (baudrate != -1) {
        self->baudrate = (uint32_t)baudrate;
    }
    if (!self->active) {
        board_modem_uart_start(self->baudrate);
        self->active = true;
    } else if (baudrate != -1) {
        board_uart_set_baud(BOARD_UART1, self->baudrate);
    }
}

static mp_obj_t mp_machine_uart_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    (void)type;
    mp_arg_check_num(n_args, n_kw, 1, MP_OBJ_FUN_ARGS_MAX, true);
    mp_int_t id = mp_obj_get_int(args[0]);
    if (id != BOARD_MODEM_UART_ID) {
        mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("UART(%d) doesn't exist"), (int)id);
    }
    machine_uart_obj_t *self = &board_modem_uart_obj;
    if (!self->active || n_args > 1 || n_kw > 0) {
        mp_map_t kw_args;
        mp_map_init_fixed_table(&kw_args, n_kw, args + n_args);
        mp_machine_uart_init_helper(self, n_args - 1, args + 1, &kw_args);
    }
    return MP_OBJ_FROM_PTR(self);
}

static void mp_machine_uart_deinit(machine_uart_obj_t *self) {
    BOARD_UART1->CTRL = 0;
    self->active = false;
}

static mp_int_t mp_machine_uart_any(machine_uart_obj_t *self) {
    (void)self;
    return (mp_int_t)board_modem_rx_count();
}

static bool mp_machine_uart_txdone(machine_uart_obj_t *self) {
    (void)self;
    return !board_modem_tx_full();
}

static mp_uint_t mp_machine_uart_read(mp_obj_t self_in, void *buf_in, mp_uint_t size, int *errcode) {
    machine_uart_obj_t *self = MP_OBJ_TO_PTR(self_in);
    uint8_t *buf = buf_in;
    if (size == 0) {
        return 0;
    }
    uint64_t timeout = board_uart_timeout_ticks(self);
    uint64_t last = board_clock_ticks(); // the start, then the last byte
    mp_uint_t got = 0;
    for (;;) {
        size_t n = board_modem_rx_take(buf + got, size - got);
        uint64_t now = board_clock_ticks();
        if (n > 0) {
            got += n;
            last = now;
            if (got == size) {
                break;
            }
        } else if (now - last >= timeout) {
            break;
        } else {
            // Sleeps until the next interrupt (a byte, or SysTick within 1 ms) after
            // handling pending events: Ctrl-C raises KeyboardInterrupt here.
            mp_event_wait_ms(1);
        }
    }
    if (got == 0) {
        *errcode = MP_EAGAIN;
        return MP_STREAM_ERROR;
    }
    return got;
}

static mp_uint_t mp_machine_uart_write(mp_obj_t self_in, const void *buf_in, mp_uint_t size, int *errcode) {
    machine_uart_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (!self->active) {
        *errcode = MP_EPERM;
        return MP_STREAM_ERROR;
    }
    board_uart_write(BOARD_UART1, buf_in, size);
    return size;
}

static mp_uint_t mp_machine_uart_ioctl(mp_obj_t self_in, mp_uint_t request, uintptr_t arg, int *errcode) {
    (void)self_in;
    if (request == MP_STREAM_POLL) {
        mp_uint_t ret = 0;
        if ((arg & MP_STREAM_POLL_RD) && board_modem_rx_count() > 0) {
            ret |= MP_STREAM_POLL_RD;
        }
        if ((arg & MP_STREAM_POLL_WR) && !board_modem_tx_full()) {
            ret |= MP_STREAM_POLL_WR;
        }
        return ret;
    }
    if (request == MP_STREAM_FLUSH) {
        while (board_modem_tx_full()) {
        }
        return 0;
    }
    *errcode = MP_EINVAL;
    return MP_STREAM_ERROR;
}
