"""The module built for the boards' CPUs (`make cross`): both static libraries exist, the
undefined-symbol check passed, and the code stays within the budgets of a board whose
firmware image is already tight (build/cross/report.json, written by
scripts/cross_report.py):

- module text + rodata <= 32 KiB on the Cortex-M3 test board (firmware link: the Rust
  library and the C glue as the linker kept them);
- <= 40 KiB on the ESP32: GNU ld's link of the library and of the C glue compiled for the
  ESP32's CPU (scripts/cross.sh), which also fails the build on any relocation GNU ld
  rejects; the library is one object assembled from rustc's assembly, without MUL32_HIGH;
- on the Cortex-M3, the static stack of the deepest call chain within the module's 4 KiB
  share (the ESP32's stack is measured on the Xtensa test board: test_xtensa.py);
- no Rust panic path in either link.
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


def test_esp32_code_size_from_gnu_ld(report):
    t = report["targets"]["xtensa-esp32"]
    assert "GNU ld" in t["sizes_source"], t["sizes_source"]
    sizes = t["sizes"]
    code = sizes["text"] + sizes["rodata"]
    rust = t["sizes_rust"]["text"] + t["sizes_rust"]["rodata"]
    glue = t["sizes_glue"]["text"] + t["sizes_glue"]["rodata"]
    print("ESP32 module text+rodata (GNU ld): %d bytes = Rust %d + glue %d (budget %d, "
          "headroom %d)" % (code, rust, glue, ESP32_BUDGET, ESP32_BUDGET - code))
    # Both parts are in: a link that dropped the glue or the library would look small.
    assert rust > 20000 and glue > 1000, (rust, glue)
    assert code == rust + glue
    assert code <= ESP32_BUDGET
    assert t["code_headroom"] == ESP32_BUDGET - code


def test_the_esp32_library_is_one_object_gnu_ld_links(report):
    # The library as shipped: the single object assembled from rustc's assembly (no
    # compiler_builtins member), and GNU ld's link of it kept no relocation errors.
    lib = REPO / "build" / "cross" / "xtensa-esp32" / "libsqnsupgrade.a"
    with open(lib, "rb") as f:
        data = f.read()
    assert data.count(b"sqnsupgrade.o/") == 1 and b"compiler_builtins" not in data
    log = (REPO / "build" / "cross" / "xtensa-esp32" / "link.log").read_text()
    assert "dangerous relocation" not in log and "error" not in log.lower(), log
    assert (REPO / "build" / "cross" / "xtensa-esp32" / "module.elf").stat().st_size > 0


def test_no_panic_path_in_either_link(report):
    assert report["panics"]["symbols"] == [], report["panics"]
    assert report["targets"]["xtensa-esp32"]["panics"]["symbols"] == []


@pytest.mark.parametrize("target", ["thumbv7m"])
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
