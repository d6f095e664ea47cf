# The sqnsupgrade user C module for make-based MicroPython ports (unix, qemu, esp8266, the
# make-based esp32 of the Pycom fork). Build with USER_C_MODULES=<this repository>.
#
# The C glue is compiled by MicroPython's build; the Rust engine is built by cargo as a
# static library (feature `micropython`, cargo profile `firmware`) once MicroPython has
# generated its headers, with bindgen running over those same headers and this port's
# flags, then linked in.
#
# Variables (all optional):
#   SQN_RUST_TARGET   Rust target of a board (e.g. thumbv7m-none-eabi, or a target .json);
#                     empty: the host (unix port)
#   SQN_CARGO         cargo command (e.g. "cargo +esp" with Espressif's espup toolchain)
#   SQN_CARGO_ENV     environment for cargo; for a board target by default Debian's
#                     rustc-web compiler (RUSTC=/usr/bin/rustc) with RUSTC_BOOTSTRAP=1, and
#                     RUSTFLAGS=-Zemit-stack-sizes (every function's frame size, for
#                     scripts/cross_report.py)
#   SQN_CARGO_FLAGS   more cargo flags; for a board target by default -Zbuild-std=core
#   SQN_RUSTC_FLAGS   flags for the final rustc only (cargo rustc -- ...)
#   SQN_PROFILE       cargo profile (default firmware, see Cargo.toml)
#   SQN_TARGET_DIR    cargo target directory (default $(BUILD)/sqnsupgrade-rust)
#   SQN_XTENSA_ASM    1 (default for an xtensa target): make the library from rustc's
#                     assembly (scripts/xtensa-asm-lib.sh, with Debian's llvm-mc-22 and
#                     llvm-ar-22): the Xtensa objects of Debian's rustc-web (LLVM 22.1.8) are
#                     rejected by GNU ld; 0: cargo's archive as it is (a toolchain without
#                     that bug, e.g. Espressif's)
#   SQN_RUST_LIB      a library already built (e.g. build/cross/xtensa-esp32/libsqnsupgrade.a
#                     of `make cross`): linked as it is, cargo is not run
#   SQN_BINDGEN_TARGET_FLAGS  clang flags saying what bindgen parses for; for a board
#                     target by default --target=<thumb target> and the port compiler's
#                     own include directories (newlib, gcc's stddef.h)
#   SQN_BINDGEN_FLAGS_OUT  file to save the exact SQN_BINDGEN_FLAGS of this build in, and
#                     <that file>.env: the cargo settings above as shell assignments (the
#                     cross build of scripts/cross.sh reuses both)

SQN_GLUE_DIR := $(USERMOD_DIR)
SQN_ROOT := $(abspath $(SQN_GLUE_DIR)/..)

# SRC_USERMOD: the name every make-based MicroPython reads (1.11's py/py.mk knows only this
# one; later versions, 1.25 included, add it to SRC_USERMOD_C).
SRC_USERMOD += $(SQN_GLUE_DIR)/modsqnsupgrade.c
CFLAGS_USERMOD += -I$(SQN_GLUE_DIR)

SQN_CARGO ?= cargo
SQN_RUST_TARGET ?=
SQN_PROFILE ?= firmware
SQN_TARGET_DIR ?= $(abspath $(BUILD))/sqnsupgrade-rust
# cargo names a target's output folder after the target (the file name of a .json target).
SQN_RUST_TARGET_NAME = $(basename $(notdir $(SQN_RUST_TARGET)))
SQN_CARGO_LIB := $(SQN_TARGET_DIR)/$(if $(SQN_RUST_TARGET),$(SQN_RUST_TARGET_NAME)/,)$(SQN_PROFILE)/libsqnsupgrade.a
SQN_XTENSA_ASM ?= $(if $(findstring xtensa,$(SQN_RUST_TARGET)),1,0)
ifeq ($(SQN_XTENSA_ASM),1)
# Beside cargo's own archive; rustc writes its assembly (deps/sqnsupgrade-<hash>.s) too.
SQN_BUILT_LIB := $(dir $(SQN_CARGO_LIB))gnu-ld/libsqnsupgrade.a
SQN_RUSTC_EMIT := --emit=asm,link
else
SQN_BUILT_LIB := $(SQN_CARGO_LIB)
SQN_RUSTC_EMIT :=
endif
ifneq ($(filter command line environment,$(origin SQN_RUST_LIB)),)
SQN_RUST_PREBUILT := 1
else
SQN_RUST_LIB := $(SQN_BUILT_LIB)
endif

ifneq ($(SQN_RUST_TARGET),)
# A board: no_std core built from source for the target.
SQN_CARGO_ENV ?= RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 RUSTFLAGS=-Zemit-stack-sizes
SQN_CARGO_FLAGS ?= -Zbuild-std=core $(if $(filter %.json,$(SQN_RUST_TARGET)),-Zjson-target-spec)
SQN_RUSTC_FLAGS ?=
# clang knows the Cortex-M targets under their Rust names, the ESP32 as `xtensa` (libclang
# 17 or later: Debian's libclang-22-dev, with LIBCLANG_PATH=/usr/lib/llvm-22/lib; any
# 32-bit target with the port's configuration gives the same bindings). The C headers are
# the port compiler's own (asked from it when the recipe runs: ports set CROSS_COMPILE
# after this file is read).
SQN_CLANG_TARGET ?= $(if $(filter thumb%,$(SQN_RUST_TARGET)),$(SQN_RUST_TARGET),$(if $(findstring xtensa,$(SQN_RUST_TARGET)),xtensa))
SQN_BINDGEN_TARGET_FLAGS ?= $(if $(SQN_CLANG_TARGET),--target=$(SQN_CLANG_TARGET)) \
	$(foreach d,$(shell echo | $(CC) -xc -E -Wp,-v - 2>&1 | sed -n 's,^ \(/.*\)$$,\1,p'),-isystem $(d))
# The Rust archive comes first on the qemu port's link line (LDFLAGS precede the objects):
# -u makes the linker take its members when it meets it.
SQN_LINK_LIBS ?= -Wl,-u,sqn_rs_call $(SQN_RUST_LIB)
else
SQN_CARGO_ENV ?=
SQN_CARGO_FLAGS ?=
SQN_RUSTC_FLAGS ?=
SQN_BINDGEN_TARGET_FLAGS ?=
# libm and libgcc first, so that MicroPython's own math and helper calls resolve there and
# not in the Rust library's compiler builtins.
SQN_LINK_LIBS ?= -lm -lgcc -Wl,-u,sqn_rs_call $(SQN_RUST_LIB)
endif

LDFLAGS_USERMOD += $(SQN_LINK_LIBS)

# The flags bindgen needs: the target's, this port's include paths (made absolute) and
# defines, as the port has them when the recipe runs.
SQN_BINDGEN_FLAGS = $(strip $(SQN_BINDGEN_TARGET_FLAGS) \
	$(foreach f,$(filter -I%,$(CFLAGS)),-I$(abspath $(patsubst -I%,%,$(f)))) \
	$(filter -D% -std=%,$(CFLAGS)))
# ...quoted for the shell as one word: defines such as -DMP_CONFIGFILE='"x.h"' carry
# single quotes, which build.rs splits as a shell would.
SQN_SQ := '
sqn_sh_quote = $(SQN_SQ)$(subst $(SQN_SQ),$(SQN_SQ)\$(SQN_SQ)$(SQN_SQ),$(1))$(SQN_SQ)
SQN_BINDGEN_FLAGS_SH = $(subst $(SQN_SQ),$(SQN_SQ)\$(SQN_SQ)$(SQN_SQ),$(SQN_BINDGEN_FLAGS))

# The generated headers MicroPython's own headers include, as far as this version generates
# them: qstrdefs.generated.h always, moduledefs.h since 1.10 (py/makemoduledefs.py),
# root_pointers.h since 1.19 (py/make_root_pointers.py). A version without the generator has
# no rule for the header and no #include of it.
SQN_GENHDR := $(HEADER_BUILD)/qstrdefs.generated.h \
	$(if $(wildcard $(TOP)/py/makemoduledefs.py),$(HEADER_BUILD)/moduledefs.h) \
	$(if $(wildcard $(TOP)/py/make_root_pointers.py),$(HEADER_BUILD)/root_pointers.h)

ifeq ($(SQN_RUST_PREBUILT),)
$(SQN_RUST_LIB): $(SQN_GENHDR) FORCE
	$(ECHO) "CARGO sqnsupgrade (Rust engine, profile $(SQN_PROFILE)$(if $(SQN_RUST_TARGET), for $(SQN_RUST_TARGET_NAME)))"
	$(if $(SQN_BINDGEN_FLAGS_OUT),$(Q)mkdir -p $(dir $(SQN_BINDGEN_FLAGS_OUT)) && \
		printf '%s\n' '$(SQN_BINDGEN_FLAGS_SH)' > $(SQN_BINDGEN_FLAGS_OUT) && \
		printf '%s\n' \
			$(call sqn_sh_quote,MICROPY_DIR=$(call sqn_sh_quote,$(abspath $(TOP)))) \
			$(call sqn_sh_quote,SQN_CARGO=$(call sqn_sh_quote,$(SQN_CARGO))) \
			$(call sqn_sh_quote,SQN_CARGO_ENV=$(call sqn_sh_quote,$(SQN_CARGO_ENV))) \
			$(call sqn_sh_quote,SQN_CARGO_FLAGS=$(call sqn_sh_quote,$(SQN_CARGO_FLAGS))) \
			$(call sqn_sh_quote,SQN_RUSTC_FLAGS=$(call sqn_sh_quote,$(SQN_RUSTC_FLAGS))) \
			$(call sqn_sh_quote,SQN_PROFILE=$(call sqn_sh_quote,$(SQN_PROFILE))) \
			$(call sqn_sh_quote,SQN_TARGET_DIR=$(call sqn_sh_quote,$(SQN_TARGET_DIR))) \
			$(call sqn_sh_quote,SQN_RUST_TARGET=$(call sqn_sh_quote,$(SQN_RUST_TARGET))) \
			> $(SQN_BINDGEN_FLAGS_OUT).env)
	$(Q)cd $(SQN_ROOT) && $(SQN_CARGO_ENV) MICROPY_DIR=$(abspath $(TOP)) SQN_BINDGEN_FLAGS='$(SQN_BINDGEN_FLAGS_SH)' \
		$(SQN_CARGO) rustc -p sqnsupgrade --profile $(SQN_PROFILE) --lib --crate-type staticlib --no-default-features --features micropython \
		--target-dir $(SQN_TARGET_DIR) $(if $(SQN_RUST_TARGET),--target $(SQN_RUST_TARGET),) $(SQN_CARGO_FLAGS) \
		$(if $(strip $(SQN_RUSTC_FLAGS) $(SQN_RUSTC_EMIT)),-- $(SQN_RUSTC_FLAGS) $(SQN_RUSTC_EMIT),)
	$(if $(filter 1,$(SQN_XTENSA_ASM)),$(Q)bash $(SQN_ROOT)/scripts/xtensa-asm-lib.sh $(dir $(SQN_CARGO_LIB))deps $@)
endif

# The glue's frame sizes (modsqnsupgrade.su next to its object), for the stack report.
ifneq ($(SQN_RUST_TARGET),)
$(BUILD)/$(patsubst $(USER_C_MODULES)/%,%,$(SQN_GLUE_DIR))/modsqnsupgrade.o: private CFLAGS += -fstack-usage
endif

# Build the library before anything links it, whatever the port calls its program: the glue
# object depends on it (and is recompiled, cheaply, when the library changed).
# (MicroPython 1.2x names it after the path under USER_C_MODULES, older ones after the full
# path.)
$(BUILD)/$(patsubst $(USER_C_MODULES)/%,%,$(SQN_GLUE_DIR))/modsqnsupgrade.o $(BUILD)/$(SQN_GLUE_DIR)/modsqnsupgrade.o: $(SQN_RUST_LIB)
ifneq ($(PROG),)
$(BUILD)/$(PROG): $(SQN_RUST_LIB)
endif
