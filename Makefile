# sqnsupgrade: the two quick-start commands are `make demo` and `make test`.
CARGO ?= cargo
DEMO_DIR := build/demo
DEMO_IMAGE := $(DEMO_DIR)/CATM1-41065.dup

.PHONY: all setup build demo test lint unit-and-e2e clean

all: build

setup:
	bash scripts/setup.sh

build:
	$(CARGO) build --release --bins

# Quick start 1: set up, build, then update the built-in simulator with a 6 MB demo image.
demo: setup build
	mkdir -p $(DEMO_DIR)
	target/release/sqnsim --write-image $(DEMO_IMAGE) --image-size 5996938 --image-description CATM1-41065
	target/release/sqnsupgrade run $(DEMO_IMAGE)

# Quick start 2: every test (format, lints, unit tests, end-to-end tests).
test: setup lint unit-and-e2e

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

unit-and-e2e:
	$(CARGO) test

clean:
	$(CARGO) clean
	rm -rf build
