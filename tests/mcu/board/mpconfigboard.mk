# SQN_TESTBOARD: MicroPython's qemu port on the MPS2-AN385 (Cortex-M3), made to look like
# the part of a Pycom GPy that the modem updater uses: an 8 KiB C stack with an overflow
# guard, a 64 KiB heap, a millisecond clock, machine.UART(1) to the modem with interrupts,
# Ctrl-C noticed while code waits. Build from ports/qemu with
#   make BOARD=SQN_TESTBOARD BOARD_DIR=<absolute path of this folder> FROZEN_MANIFEST=...
# (the project's `make mcu` does it).

QEMU_ARCH = arm
QEMU_MACHINE = mps2-an385

CFLAGS += -mthumb -mcpu=cortex-m3 -mfloat-abi=soft
CFLAGS += -DQEMU_SOC_MPS2
CFLAGS += -DMICROPY_HW_MCU_NAME='"Cortex-M3"'
CFLAGS += -DMP_CONFIGFILE='"$(BOARD_DIR)/mpconfigboard.h"'
CFLAGS += -I$(BOARD_DIR)

# Pycom's MicroPython heap on a board without PSRAM is of this order.
MICROPY_HEAP_SIZE = 65536

LDSCRIPT = $(BOARD_DIR)/sqn_testboard.ld

SRC_BOARD_O = shared/runtime/gchelper_native.o shared/runtime/gchelper_thumb2.o
SRC_C += \
	$(BOARD_DIR)/board.c \
	$(BOARD_DIR)/board_uart.c \
	$(BOARD_DIR)/modtestboard.c \

# The C stack: 8 KiB, Pycom's MicroPython task stack without PSRAM. SQN_TESTBOARD_STACK=N
# (bytes) gives another size, e.g. 12288 as with PSRAM (a separate BUILD folder, since the
# link is not redone when only this changes).
SQN_TESTBOARD_STACK ?=
ifneq ($(SQN_TESTBOARD_STACK),)
LDFLAGS += -Wl,--defsym=_board_cstack_request=$(SQN_TESTBOARD_STACK)
endif

# The board's versions of these (board.c, board_uart.c) wrap the port's:
# the stack limit fitted to 8 KiB, UART0 set up with its receive interrupt, REPL input
# from that interrupt's buffer.
LDFLAGS += -Wl,--wrap=mp_stack_set_limit -Wl,--wrap=uart_init -Wl,--wrap=mp_hal_stdin_rx_chr

MPY_CROSS_FLAGS += -march=armv7m
