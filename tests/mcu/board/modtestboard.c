// modtestboard.c: the `testboard` module of SQN_TESTBOARD: what a test needs to measure
// on the emulated board.
//
//   stack_reset()  paints the unused C stack (below the current stack pointer)
//   stack_peak()   deepest C stack use in bytes, from the stack top, since the last
//                  stack_reset() (or boot), found by scanning the paint
//   stack_depth()  current C stack use in bytes
//   stack_size()   the C stack's size (8192; another with make SQN_TESTBOARD_STACK=N)
//   busy_ns()      virtual nanoseconds the CPU spent outside WFI since boot (SysTick at
//                  25 MHz, 40 ns steps); under QEMU's -icount shift=0, executed instructions
//   ticks_ms()     milliseconds since boot (as time.ticks_ms())
//
// Interrupts run on their own stack (MSP), so they do not show in these figures: as on the
// ESP32, where interrupts have a stack of their own.

#include "py/runtime.h"
#include "py/mphal.h"
#include "py/smallint.h"

#include "sqn_testboard.h"

static mp_obj_t testboard_stack_reset(void) {
    // Everything below the stack pointer is unused; this loop calls nothing, so nothing
    // is pushed below it while it runs. Keep a few words of margin anyway.
    uintptr_t limit = (board_sp() - 16) & ~(uintptr_t)3;
    for (volatile uint32_t *p = (volatile uint32_t *)BOARD_CSTACK_BOTTOM; (uintptr_t)p < limit;) {
        *p++ = BOARD_STACK_PAINT;
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_0(testboard_stack_reset_obj, testboard_stack_reset);

static mp_obj_t testboard_stack_peak(void) {
    const volatile uint32_t *p = (const volatile uint32_t *)BOARD_CSTACK_BOTTOM;
    while ((uintptr_t)p < BOARD_CSTACK_TOP && *p == BOARD_STACK_PAINT) {
        p++;
    }
    return MP_OBJ_NEW_SMALL_INT(BOARD_CSTACK_TOP - (uintptr_t)p);
}
static MP_DEFINE_CONST_FUN_OBJ_0(testboard_stack_peak_obj, testboard_stack_peak);

static mp_obj_t testboard_stack_depth(void) {
    return MP_OBJ_NEW_SMALL_INT(BOARD_CSTACK_TOP - board_sp());
}
static MP_DEFINE_CONST_FUN_OBJ_0(testboard_stack_depth_obj, testboard_stack_depth);

static mp_obj_t testboard_stack_size(void) {
    return MP_OBJ_NEW_SMALL_INT(BOARD_CSTACK_SIZE);
}
static MP_DEFINE_CONST_FUN_OBJ_0(testboard_stack_size_obj, testboard_stack_size);

static mp_obj_t testboard_busy_ns(void) {
    return mp_obj_new_int_from_ull(board_busy_ticks() * BOARD_NS_PER_TICK);
}
static MP_DEFINE_CONST_FUN_OBJ_0(testboard_busy_ns_obj, testboard_busy_ns);

static mp_obj_t testboard_ticks_ms(void) {
    return MP_OBJ_NEW_SMALL_INT(mp_hal_ticks_ms() & (MICROPY_PY_TIME_TICKS_PERIOD - 1));
}
static MP_DEFINE_CONST_FUN_OBJ_0(testboard_ticks_ms_obj, testboard_ticks_ms);

static const mp_rom_map_elem_t testboard_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_testboard) },
    { MP_ROM_QSTR(MP_QSTR_stack_reset), MP_ROM_PTR(&testboard_stack_reset_obj) },
    { MP_ROM_QSTR(MP_QSTR_stack_peak), MP_ROM_PTR(&testboard_stack_peak_obj) },
    { MP_ROM_QSTR(MP_QSTR_stack_depth), MP_ROM_PTR(&testboard_stack_depth_obj) },
    { MP_ROM_QSTR(MP_QSTR_stack_size), MP_ROM_PTR(&testboard_stack_size_obj) },
    { MP_ROM_QSTR(MP_QSTR_busy_ns), MP_ROM_PTR(&testboard_busy_ns_obj) },
    { MP_ROM_QSTR(MP_QSTR_ticks_ms), MP_ROM_PTR(&testboard_ticks_ms_obj) },
};
static MP_DEFINE_CONST_DICT(testboard_module_globals, testboard_module_globals_table);

const mp_obj_module_t testboard_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&testboard_module_globals,
};

MP_REGISTER_MODULE(MP_QSTR_testboard, testboard_module);
