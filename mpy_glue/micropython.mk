# The sqnsupgrade user C module for make-based MicroPython ports (unix, esp8266, the
# make-based esp32 of the Pycom fork). Build with USER_C_MODULES=<this repository>.
#
# The C glue is compiled by MicroPython's build; the Rust engine is built by cargo as a
# static library (feature `micropython`) once MicroPython has generated its headers, with
# bindgen running over those same headers and this port's flags, then linked in.

SQN_GLUE_DIR := $(USERMOD_DIR)
SQN_ROOT := $(abspath $(SQN_GLUE_DIR)/..)

SRC_USERMOD_C += $(SQN_GLUE_DIR)/modsqnsupgrade.c
CFLAGS_USERMOD += -I$(SQN_GLUE_DIR)

# Rust target: the host's by default; for a board set SQN_RUST_TARGET (e.g. xtensa-esp32-none-elf).
SQN_CARGO ?= cargo
SQN_RUST_TARGET ?=
SQN_TARGET_DIR ?= $(abspath $(BUILD))/sqnsupgrade-rust
SQN_RUST_LIB := $(SQN_TARGET_DIR)/$(if $(SQN_RUST_TARGET),$(SQN_RUST_TARGET)/,)release/libsqnsupgrade.a

# libm and libgcc first, so that MicroPython's own math and helper calls resolve there and
# not in the Rust library's compiler builtins.
LDFLAGS_USERMOD += -lm -lgcc $(SQN_RUST_LIB)

# The flags bindgen needs: this port's include paths (made absolute) and defines.
SQN_BINDGEN_FLAGS = $(foreach f,$(filter -I%,$(CFLAGS)),-I$(abspath $(patsubst -I%,%,$(f)))) \
	$(filter -D% -std=%,$(CFLAGS))

$(SQN_RUST_LIB): $(HEADER_BUILD)/qstrdefs.generated.h $(HEADER_BUILD)/root_pointers.h $(HEADER_BUILD)/moduledefs.h FORCE
	$(ECHO) "CARGO sqnsupgrade (Rust engine)"
	$(Q)cd $(SQN_ROOT) && MICROPY_DIR=$(abspath $(TOP)) SQN_BINDGEN_FLAGS='$(SQN_BINDGEN_FLAGS)' \
		$(SQN_CARGO) rustc --release --lib --crate-type staticlib --no-default-features --features micropython \
		--target-dir $(SQN_TARGET_DIR) $(if $(SQN_RUST_TARGET),--target $(SQN_RUST_TARGET),)

$(BUILD)/$(PROG): $(SQN_RUST_LIB)
