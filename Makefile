# sqnsupgrade: the two quick-start commands are `make demo` and `make test`.
CARGO ?= cargo
DEMO_DIR := build/demo
DEMO_IMAGE := $(DEMO_DIR)/CATM1-41065.dup

# MicroPython: Debian's source package unpacked in build/micropython unless MICROPY_DIR
# points at another tree (a git clone, a vendor fork).
MICROPY_DIR ?= $(CURDIR)/build/micropython
MICROPY_BUILD := build-sqnsupgrade
MICROPYTHON_BIN := build/micropython-sqn

.PHONY: all setup build demo test lint no-std unit-and-e2e python-tests micropython clean

all: build

setup:
	bash scripts/setup.sh

build:
	$(CARGO) build --release

# Quick start 1: set up, build, then update the built-in simulator with a 6 MB demo image.
demo: setup build
	mkdir -p $(DEMO_DIR)
	target/release/sqnsim --write-image $(DEMO_IMAGE) --image-size 5996938 --image-description CATM1-41065
	target/release/sqnsupgrade run $(DEMO_IMAGE)

# Quick start 2: every test (format, lints, Rust unit and end-to-end tests, the MicroPython
# module on the unix port, the CPython shim).
test: setup lint no-std unit-and-e2e micropython python-tests

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

# The engine alone: no std, no allocator (rlib, staticlib and cdylib of the bare core).
no-std:
	$(CARGO) build --release --no-default-features --lib

unit-and-e2e:
	$(CARGO) test

# The unix-port micropython binary with this project as a user C module (the Rust engine
# is built by that build, see mpy_glue/micropython.mk).
micropython:
	MICROPY_DIR=$(MICROPY_DIR) bash scripts/build-micropython.sh $(CURDIR) BUILD=$(MICROPY_BUILD)
	cp $(MICROPY_DIR)/ports/unix/$(MICROPY_BUILD)/micropython $(MICROPYTHON_BIN)

python-tests:
	$(CARGO) build
	SQN_MICROPYTHON=$(CURDIR)/$(MICROPYTHON_BIN) python3 -m pytest -q tests/python

clean:
	$(CARGO) clean
	rm -rf build
