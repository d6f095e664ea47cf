"""The module built for the boards' CPUs (`make cross`): both static libraries exist, the
undefined-symbol check passed, and the code stays within the budgets of a board whose
firmware image is already tight (build/cross/report.json, written by
scripts/cross_report.py):

- module text + rodata <= 32 KiB on the Cortex-M3 test board (firmware link: the Rust
  library and the C glue as the linker kept them);
- <= 40 KiB on the ESP32 (Xtensa: no linker here, so the sections reachable from the
  module's entry, with memcpy & co. from the firmware's C library as on a real board);
- the static stack of the deepest call chain within the module's 4 KiB share.
"""

import json
import os

import pytest

from simtools import REPO

REPORT = REPO / "build" / "cross" / "report.json"
M3_BUDGET = 32 * 1024
ESP32_BUDGET = 40 * 1024
STACK_BUDGET = 4 * 1024


@pytest.fixture(scope="module")
def report():
    if not REPORT.exists():
        pytest.fail("no %s: run `make cross`" % REPORT)
    return json.loads(REPORT.read_text())


def test_both_libraries_were_built(report):
    for target in ("thumbv7m", "xtensa-esp32"):
        lib = REPO / "build" / "cross" / target / "libsqnsupgrade.a"
        assert lib.exists() and lib.stat().st_size > 0, lib
        assert report["targets"][target]["library"] == str(lib)


def test_only_symbols_a_micropython_firmware_provides_are_left_undefined(report):
    allowed = set().union(*report["allowed_undefined"].values())
    for target in ("thumbv7m", "xtensa-esp32"):
        t = report["targets"][target]
        assert t["not_allowed"] == [], (target, t["not_allowed"])
        assert set(t["undefined"]) <= allowed
        # The module does need the glue: an empty list would mean the check read nothing.
        assert "sqn_glue_read" in t["undefined"], t["undefined"]


def test_cortex_m3_code_size(report):
    sizes = report["targets"]["thumbv7m"]["sizes"]
    code = sizes["text"] + sizes["rodata"]
    print("Cortex-M3 module text+rodata: %d bytes (budget %d)" % (code, M3_BUDGET))
    assert 0 < code <= M3_BUDGET


def test_esp32_code_size(report):
    sizes = report["targets"]["xtensa-esp32"]["sizes_with_firmware_libc_libgcc"]
    code = sizes["text"] + sizes["rodata"]
    print("ESP32 module text+rodata (estimate): %d bytes (budget %d)" % (code, ESP32_BUDGET))
    assert 0 < code <= ESP32_BUDGET


@pytest.mark.parametrize("target", ["thumbv7m", "xtensa-esp32"])
def test_static_stack_of_the_deepest_chain(report, target):
    stack = report["targets"][target]["stack"]
    assert "error" not in stack, stack
    assert stack.get("recursion") in (None, [], "none"), stack.get("recursion")
    total = max(stack["total"], stack.get("total_with_tables", 0))
    print("%s deepest static chain: %d bytes" % (target, total))
    assert 0 < total <= STACK_BUDGET


def test_the_workspace_costs_no_initialised_data(report):
    # The engine's static workspace (block, reply, text) must be zero-initialised (.bss):
    # as .data it would cost 9 KB of flash on the board for nothing.
    assert report["targets"]["thumbv7m"]["sizes"]["data"] == 0
    assert os.path.getsize(REPO / "build" / "mcu" / "firmware.elf") > 0
