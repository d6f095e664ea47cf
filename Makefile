# sqnsupgrade: the two quick-start commands are `make demo` and `make test`.
CARGO ?= cargo
DEMO_DIR := build/demo
DEMO_IMAGE := $(DEMO_DIR)/CATM1-41065.dup

# MicroPython: Debian's source package unpacked in build/micropython unless MICROPY_DIR
# points at another tree (a git clone, a vendor fork).
MICROPY_DIR ?= $(CURDIR)/build/micropython
MICROPY_BUILD := build-sqnsupgrade
MICROPYTHON_BIN := build/micropython-sqn

.PHONY: all setup build demo test lint lint-micropython no-std unit-and-e2e python-tests python-package micropython mcu cross xtensa other-systems fuzz bench bench-mcu bench-xtensa clean

all: build

setup:
	bash scripts/setup.sh

build:
	$(CARGO) build --release --workspace

# Quick start 1: set up, build, then update the built-in simulator with a 6 MB demo image.
demo: setup build
	mkdir -p $(DEMO_DIR)
	target/release/sqnsim --write-image $(DEMO_IMAGE) --image-size 5996938 --image-description CATM1-41065
	target/release/sqnsupgrade --port sim run $(DEMO_IMAGE)

# Quick start 2: every test (format, lints, Rust unit and end-to-end tests, the MicroPython
# module on the unix port, the emulated Cortex-M3 board, the cross builds and the ESP32
# library on an emulated Xtensa core, the Python package for computers, a short run of
# every fuzz target).
test: setup lint no-std unit-and-e2e micropython lint-micropython mcu cross xtensa other-systems python-tests python-package fuzz

# Clippy with the default features, then with every feature (the CPython extension's,
# `python`, included: checking it needs a python3 for pyo3's configuration, no libpython),
# then the engine with the standard library but not a computer's (`std` without `host`).
lint:
	$(CARGO) fmt --all --check
	cd fuzz && $(CARGO) fmt --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy --workspace --all-targets --all-features -- -D warnings
	$(CARGO) clippy -p sqnsupgrade --all-targets --no-default-features --features std -- -D warnings

# The MicroPython layer (feature micropython) linted too, with the unix port's headers.
lint-micropython: micropython
	MICROPY_DIR=$(MICROPY_DIR) SQN_BINDGEN_FLAGS="-I$(MICROPY_DIR) -I$(MICROPY_DIR)/ports/unix \
	  -I$(MICROPY_DIR)/ports/unix/$(MICROPY_BUILD) -I$(MICROPY_DIR)/ports/unix/variants/standard" \
	  $(CARGO) clippy -p sqnsupgrade --release --target-dir build/lint --no-default-features --features micropython \
	  --lib -- -D warnings

# The engine alone: no std, no allocator (rlib and staticlib of the bare core), in its own
# target dir so that target/release keeps the host's builds.
no-std:
	$(CARGO) build -p sqnsupgrade --release --no-default-features --lib --target-dir build/no-std

unit-and-e2e:
	$(CARGO) build --workspace
	$(CARGO) test --workspace

# The unix-port micropython binary with this project as a user C module (the Rust engine
# is built by that build, see mpy_glue/micropython.mk).
micropython:
	MICROPY_DIR=$(MICROPY_DIR) bash scripts/build-micropython.sh $(CURDIR) BUILD=$(MICROPY_BUILD)
	cp $(MICROPY_DIR)/ports/unix/$(MICROPY_BUILD)/micropython $(MICROPYTHON_BIN)

# The emulated board: MicroPython's qemu port (MPS2-AN385, Cortex-M3) with tests/mcu/board,
# the module (Rust built for thumbv7m-none-eabi) and the shim frozen in:
# build/mcu/firmware.elf (run it with qemu-system-arm, see scripts/build-mcu.sh).
mcu:
	MICROPY_DIR=$(MICROPY_DIR) bash scripts/build-mcu.sh

# The module's library for Cortex-M3 and the ESP32 (Xtensa), with the board's bindings; the
# ESP32 library made from rustc's assembly and linked with the C glue by GNU ld (fails on
# any relocation it rejects): sizes from both real links, top contributors, the Cortex-M3's
# deepest static stack, undefined symbols (fails on one outside the allow-list), Rust panic
# paths left in either link (fails on any). build/cross/report.json. Its own cargo target
# dir (build/cross/target): target/ untouched.
cross: mcu
	bash scripts/cross.sh

# The Xtensa test board (tests/xtensa/board): the ESP32 library exactly as `make cross`
# ships it, linked by GNU ld, on QEMU's de212 core (the ESP32's windowed ABI), every flow
# against the simulator (tests/python/test_xtensa.py). Run it by hand with
# scripts/xtensa-board.sh.
xtensa: cross
	bash scripts/build-xtensa.sh
	$(CARGO) build -p sqnsim
	$(CARGO) build --release -p sqnsim
	python3 -m pytest -q tests/python/test_xtensa.py

# Everything in tests/python but the Python package's tests (python-package runs them with
# the package installed in its own environment) and the Xtensa board's (make xtensa).
python-tests:
	$(CARGO) build --workspace
	$(CARGO) build --release --workspace
	SQN_MICROPYTHON=$(CURDIR)/$(MICROPYTHON_BIN) python3 -m pytest -q tests/python \
	  --ignore=tests/python/test_cpython_shim.py --ignore=tests/python/test_pip_install.py \
	  --ignore=tests/python/test_one_record.py \
	  --ignore=tests/python/test_windows.py --ignore=tests/python/test_xtensa.py

# The Python package for computers (pyproject.toml: the extension module host/src/py.rs and
# the `sqnsupgrade` command), as users get it: maturin (build/venv) builds the wheel into
# build/wheels, a fresh environment (build/venv-test) installs it, and its Python runs
# tests/python/test_cpython_shim.py against the simulator; then `pip install .` into another
# fresh environment (build/venv-src), tested by tests/python/test_pip_install.py.
python-package: micropython
	CARGO=$(CARGO) bash scripts/python-package.sh

# Reported figures, not tests (README "Performance" and "On the board").
bench: build micropython
	bash scripts/bench.sh

bench-mcu: mcu cross
	bash scripts/bench-mcu.sh

bench-xtensa: xtensa
	python3 scripts/bench_xtensa.py

clean:
	$(CARGO) clean
	rm -rf build

# The fuzz targets (fuzz/, cargo-fuzz with libFuzzer), FUZZ_SECONDS each (longer runs:
# `make fuzz FUZZ_SECONDS=3600`). Corpora and any crash found stay in build/fuzz.
FUZZ_SECONDS ?= 20
FUZZ_TARGETS := at_reply stp_header image_head run_script
fuzz:
	cd fuzz && RUSTC_BOOTSTRAP=1 $(CARGO) fuzz build -O
	cd fuzz && RUSTC_BOOTSTRAP=1 $(CARGO) clippy --bins -- -D warnings
	for t in $(FUZZ_TARGETS); do \
	  mkdir -p build/fuzz/corpus/$$t build/fuzz/artifacts/$$t && \
	  (cd fuzz && RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run -O $$t ../build/fuzz/corpus/$$t -- \
	    -max_total_time=$(FUZZ_SECONDS) -dict=modem.dict -artifact_prefix=../build/fuzz/artifacts/$$t/ \
	    > ../build/fuzz/$$t.log 2>&1) || { tail -40 build/fuzz/$$t.log; exit 1; }; \
	  echo "fuzz $$t: $$(grep -E '^Done' build/fuzz/$$t.log)"; \
	done

# The computer side for Windows (the .exe; its unit tests and the .exe against the simulator
# run under wine) and macOS (type-checked).
other-systems:
	CARGO=$(CARGO) bash scripts/other-systems.sh
