"""scripts/xtensa_asm.py's 16-bit forms (the Code Density option): which instructions take
them, and that a short branch is taken only where its label surely is within reach, checked
by llvm-mc-22 itself (it refuses a 16-bit branch out of range: "fixup value out of range")
when it is installed.
"""

import importlib.util
import shutil
import subprocess

import pytest

from simtools import REPO

spec = importlib.util.spec_from_file_location("xtensa_asm", REPO / "scripts" / "xtensa_asm.py")
xtensa_asm = importlib.util.module_from_spec(spec)
spec.loader.exec_module(xtensa_asm)


def narrowed(text):
    lines = [line + "\n" for line in text.strip("\n").split("\n")]
    out, _ = xtensa_asm.narrow(lines)
    return [line.strip() for line in out]


@pytest.mark.parametrize("insn, form", [
    ("or\ta2, a3, a3", "mov.n\ta2, a3"),
    ("or\ta2, a3, a4", None),
    ("movi\ta2, 95", "movi.n\ta2, 95"),
    ("movi\ta2, -32", "movi.n\ta2, -32"),
    ("movi\ta2, 96", None),
    ("movi\ta2, -33", None),
    ("addi\ta2, a3, -1", "addi.n\ta2, a3, -1"),
    ("addi\ta2, a3, 15", "addi.n\ta2, a3, 15"),
    ("addi\ta2, a3, 0", None),
    ("addi\ta2, a3, 16", None),
    ("addi\ta2, a3, -2", None),
    ("add\ta2, a3, a4", "add.n\ta2, a3, a4"),
    ("l32i\ta2, a1, 60", "l32i.n\ta2, a1, 60"),
    ("s32i\ta2, a1, 0", "s32i.n\ta2, a1, 0"),
    ("l32i\ta2, a1, 64", None),
    ("l32i\ta2, a1, 2", None),
    ("l32r\ta8, .LCPI0_0", None),
    ("movi\ta2, .LCPI0_0", None),
    ("nop", "nop.n"),
])
def test_instructions_with_a_16_bit_form_take_it(insn, form):
    assert narrowed("\t" + insn) == [form or insn]


def branch(between, label_first=False, directive=False):
    body = ["\tnop"] * between
    if directive:
        body.insert(0, "\t.p2align\t2")
    lines = ["f:", "\tbeqz\ta2, .Lend", *body, ".Lend:", "\tretw.n"]
    if label_first:
        lines = ["f:", ".Lend:", "\tnop", "\tbeqz\ta2, .Lend", "\tretw.n"]
    return "\n".join(lines)


def test_short_branches_only_within_reach():
    # 21 instructions of at most 3 bytes: at most 63 bytes past the branch's 4.
    assert narrowed(branch(21))[1] == "beqz.n\ta2, .Lend"
    assert narrowed(branch(22))[1] == "beqz\ta2, .Lend"
    # The label right after the branch (offset -2) and a label behind it: too close, or
    # backwards.
    assert narrowed(branch(0))[1] == "beqz\ta2, .Lend"
    assert narrowed(branch(0, label_first=True))[3] == "beqz\ta2, .Lend"
    # A directive in between (an alignment) could move the label.
    assert narrowed(branch(3, directive=True))[1] == "beqz\ta2, .Lend"


@pytest.mark.skipif(shutil.which("llvm-mc-22") is None, reason="llvm-mc-22 is not installed")
@pytest.mark.parametrize("between", [1, 2, 21])
def test_llvm_mc_takes_the_short_branches(tmp_path, between):
    # 3-byte instructions in between (none has a 16-bit form): the longest distance counted.
    body = "\n".join(["f:", "\tbnez\ta3, .Lend"] + ["\taddi\ta2, a3, 100"] * between
                      + [".Lend:", "\tretw.n"])
    out = narrowed(body)
    assert out[1] == "bnez.n\ta3, .Lend"
    src = tmp_path / "t.s"
    src.write_text("\t.text\n" + "\n".join(l if l.endswith(":") else "\t" + l
                                           for l in out) + "\n")
    subprocess.run(["llvm-mc-22", "-triple=xtensa", "-mcpu=esp32", "-filetype=obj",
                    str(src), "-o", str(tmp_path / "t.o")], check=True)
