#!/usr/bin/env python3
"""xtensa_asm.py [--unit NAME] IN.s OUT.s: make LLVM 22's Xtensa assembly link with GNU ld,
and as compact as what GNU's own tools make of GCC's.

Why (checked with Debian's rustc-web, clang-22/llc-22 and llvm-mc-22, LLVM 22.1.8):
- LLVM writes each function's literal pool (`.literal_position`, `.literal LABEL, VALUE`)
  *before* switching to the function's section, so its integrated assembler appends the
  pool, unaligned, to the previous function's section, and GNU ld (the linker of ESP-IDF
  and of Pycom's firmware) rejects every `l32r` that loads from it: "dangerous relocation:
  l32r: misaligned literal target". (Fixed upstream after 22.1.8.)
- LLVM calls every function through a literal (`l32r a8, .LCPI; callx8 a8`), and repeats a
  literal's value once per use. GCC does the same with -mlongcalls, but GNU as/ld then merge
  equal literals and turn calls that reach into direct `call8`s. GNU ld cannot do that here:
  objects from llvm-mc have none of the markers its relaxation needs.

What this does, on one compilation unit (the Rust library's single LTO module, or one C
file):
1. Every code section (`.text`, `.text.<function>`) becomes one section, `.text.<NAME>`
   (NAME from --unit, default the file's stem). Unused-function removal by the linker
   (--gc-sections) then works per unit instead of per function: the unit is kept whole
   when anything in it is used (the library's single entry point, sqn_rs_call, reaches
   nearly all of it anyway).
2. Every literal goes into one section, `.literal.<NAME>` ("ax", word-aligned), written
   before the code section in the object, so that GNU ld places it just before the code
   (as ESP-IDF's `*(.literal .text .literal.* .text.*)` does with GCC's literals): `l32r`
   loads only from lower addresses, within 256 KiB. Equal values share one word; all of
   their labels name it.
3. A call to a function of this unit that is not global (`l32r a8, L` followed, without a
   label, a branch or any use of a8 in between, by `callx8 a8`) becomes `call8 FUNCTION`:
   both are in the same section, so the assembler resolves it and leaves no relocation
   (GNU ld configured for the ESP8266, the one here, cannot relocate a windowed call; a
   global or external function keeps its literal). a8 is the register callx8 writes the
   return address to, so its value after the call is the same either way.
4. Literal words no instruction loads any more are dropped; `.literal_position` lines too.
5. The `.stack_sizes` entries (-Zemit-stack-sizes) follow their code into `.text.<NAME>`.
6. Instructions with a 16-bit form of the Code Density option (the ESP32 has it) take that
   form, as GNU as does with GCC's code: `or aX, aY, aY` (LLVM's move) becomes `mov.n`,
   `movi` of -32..95 `movi.n`, `addi` of -1 or 1..15 `addi.n`, `add` `add.n`, `l32i`/`s32i`
   at offsets 0..60 `l32i.n`/`s32i.n`, `nop` `nop.n`; `beqz`/`bnez` to a label at most 63
   bytes ahead (counting 3 bytes for every instruction in between, and no directive in
   between) `beqz.n`/`bnez.n`. The same operation in fewer bytes (LLVM 22's
   integrated assembler takes the narrow forms only when told); `--no-density` leaves
   them out.

Anything not of the expected shape is an error; the script never guesses. Prints one line
of counts on standard error.
"""

import argparse
import os
import re
import sys

SECTION = re.compile(r'^\s*\.section\s+([^,\s]+)\s*(?:,\s*"([^"]*)")?\s*(?:,\s*(@\w+))?\s*(?:,\s*(.*?))?\s*$')
BARE_TEXT = re.compile(r"^\s*\.text\s*$")
LITERAL = re.compile(r"^\s*\.literal\s+([^,\s]+)\s*,\s*(.+?)\s*$")
FUNCTION = re.compile(r"^\s*\.type\s+([^,\s]+)\s*,\s*@function\s*(?:#.*)?$")
GLOBAL = re.compile(r"^\s*\.(?:globl|global|weak)\s+([^\s#]+)\s*(?:#.*)?$")
LABEL = re.compile(r"^\s*([^\s:#]+):")
INSN = re.compile(r"^\s+([a-z][a-z0-9.]*)\b\s*(.*?)\s*(?:#.*)?$")
LITREF = re.compile(r"\.LCPI\d+_\d+")

# Mnemonics that end a straight line of code (the call conversion never crosses them).
CONTROL = re.compile(r"^(b|j|call|ret|loop|entry|rfe|rfi|rfw|syscall|break|ill|waiti)")


class AsmError(Exception):
    """The assembly is not shaped as this rewrite expects."""


def operands(text):
    return [o.strip() for o in text.split(",")] if text else []


def direct_call_end(body, i, literal_value, local_functions):
    """When body[i] is `l32r a8, L` (L: a local function of the unit) and a `callx8 a8`
    follows in straight-line code that leaves a8 alone: the index of that callx8."""
    m = INSN.match(body[i])
    if m is None or m.group(1) != "l32r":
        return None
    ops = operands(m.group(2))
    if len(ops) != 2 or ops[0] != "a8" or literal_value.get(ops[1]) not in local_functions:
        return None
    for j in range(i + 1, len(body)):
        mj = INSN.match(body[j])
        if mj is None:
            return None  # a label, a directive, a blank line: not straight-line code
        mnemonic, args = mj.group(1), operands(mj.group(2))
        if mnemonic == "callx8" and args == ["a8"]:
            return j
        if CONTROL.match(mnemonic) or "a8" in args:
            return None
    return None


REGISTER = re.compile(r"^a(?:[0-9]|1[0-5])$")
INTEGER = re.compile(r"^-?[0-9]+$")


def narrow_form(mnemonic, args):
    """The 16-bit (Code Density) instruction for `mnemonic args`, or None."""
    regs = [a for a in args if REGISTER.match(a)]
    imm = int(args[-1]) if args and INTEGER.match(args[-1]) else None
    if mnemonic == "or" and len(args) == 3 and len(regs) == 3 and args[1] == args[2]:
        return "mov.n", args[:2]
    if mnemonic == "movi" and len(args) == 2 and len(regs) == 1 and imm is not None \
            and -32 <= imm <= 95:
        return "movi.n", args
    if mnemonic == "addi" and len(args) == 3 and len(regs) == 2 and imm is not None \
            and (imm == -1 or 1 <= imm <= 15):
        return "addi.n", args
    if mnemonic == "add" and len(args) == 3 and len(regs) == 3:
        return "add.n", args
    if mnemonic in ("l32i", "s32i") and len(args) == 3 and len(regs) == 2 and imm is not None \
            and 0 <= imm <= 60 and imm % 4 == 0:
        return mnemonic + ".n", args
    if mnemonic == "nop" and not args:
        return "nop.n", args
    return None


def short_branch(lines, i, args):
    """True when the branch at lines[i] reaches its label (args[1]) with a 16-bit branch:
    the label comes after at least one instruction and at most 63 bytes past the 4 bytes
    after the branch's start, counting 3 bytes for every instruction (none is longer) and
    crossing no directive (an alignment would move the label)."""
    if len(args) != 2 or not REGISTER.match(args[0]):
        return False
    room = 63 + 2  # bytes between the 2-byte branch's end and the label
    seen = 0
    for line in lines[i + 1:]:
        if INSN.match(line):
            seen += 3
            if seen > room:
                return False
            continue
        stripped = line.split("#", 1)[0].strip()
        if not stripped:
            continue
        m = LABEL.match(line)
        if m and stripped == m.group(1) + ":":
            if m.group(1) == args[1]:
                return seen >= 2
            continue
        return False
    return False


def narrow(lines):
    """Step 6: the 16-bit forms. Returns the lines and how many became narrow."""
    out = []
    count = 0
    for i, line in enumerate(lines):
        m = INSN.match(line)
        if m is None:
            out.append(line)
            continue
        mnemonic, args = m.group(1), operands(m.group(2))
        form = narrow_form(mnemonic, args)
        if form is None and mnemonic in ("beqz", "bnez") and short_branch(lines, i, args):
            form = mnemonic + ".n", args
        if form is None:
            out.append(line)
            continue
        out.append("\t%s\t%s\n" % (form[0], ", ".join(form[1])))
        count += 1
    return out, count


def rewrite(lines, unit, density=True):
    code = ".text." + unit
    lits = ".literal." + unit
    literal_value = {}      # label -> value
    functions, globals_ = set(), set()
    body = []
    for n, line in enumerate(lines, 1):
        s = line.strip()
        if s == ".literal_position":
            continue
        m = LITERAL.match(line)
        if m:
            if m.group(1) in literal_value:
                raise AsmError("line %d: literal %s defined twice" % (n, m.group(1)))
            literal_value[m.group(1)] = m.group(2)
            continue
        m = FUNCTION.match(line)
        if m:
            functions.add(m.group(1))
        m = GLOBAL.match(line)
        if m:
            globals_.add(m.group(1))
        if BARE_TEXT.match(line):
            body.append('\t.section\t%s,"ax",@progbits\n' % code)
            continue
        m = SECTION.match(line)
        if m:
            name, flags, kind, rest = m.groups()
            if name == ".text" or name.startswith(".text."):
                if flags not in (None, "ax") or rest:
                    raise AsmError("line %d: code section with unexpected attributes: %s" % (n, s))
                body.append('\t.section\t%s,"ax",@progbits\n' % code)
                continue
            if name == ".stack_sizes":
                if not rest or not (rest == ".text" or rest.startswith(".text.")):
                    raise AsmError("line %d: .stack_sizes linked to %r" % (n, rest))
                body.append('\t.section\t.stack_sizes,"%s",%s,%s\n' % (flags, kind, code))
                continue
            if name.startswith(".literal"):
                raise AsmError("line %d: the input already has literal sections" % n)
        body.append(line)

    local_functions = functions - globals_
    calls = 0
    out = []
    i = 0
    while i < len(body):
        j = direct_call_end(body, i, literal_value, local_functions)
        if j is None:
            out.append(body[i])
            i += 1
            continue
        target = literal_value[operands(INSN.match(body[i]).group(2))[1]]
        out.extend(body[i + 1:j])
        out.append("\tcall8\t%s\n" % target)
        calls += 1
        i = j + 1

    narrowed = 0
    if density:
        out, narrowed = narrow(out)

    used = set()
    for line in out:
        if INSN.match(line):
            used.update(LITREF.findall(line))
    unknown = used - set(literal_value)
    if unknown:
        raise AsmError("instructions load undefined literals: %s" % ", ".join(sorted(unknown)))
    words = {}
    for label, value in literal_value.items():
        if label in used:
            words.setdefault(value, []).append(label)
    pool = ['\t.section\t%s,"ax",@progbits\n' % lits, "\t.p2align\t2\n"]
    for value, labels in words.items():
        pool.extend("%s:\n" % label for label in labels)
        pool.append("\t.long\t%s\n" % value)

    # The pool goes first (after `.file`), so its section comes before the code's.
    head = 0
    while head < len(out) and out[head].strip().startswith((".file", ".ident")):
        head += 1
    result = out[:head] + pool + out[head:] if words else out
    stats = {"literals": len(literal_value), "words": len(words), "calls": calls,
             "narrow": narrowed}
    return result, stats


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--unit", help="the name of the unit's sections (default: IN's stem)")
    ap.add_argument("--no-density", action="store_true",
                    help="keep every instruction in its 24-bit form (a core without the Code "
                    "Density option)")
    ap.add_argument("input")
    ap.add_argument("output")
    args = ap.parse_args(argv[1:])
    unit = args.unit or re.sub(r"[^A-Za-z0-9_]", "_", os.path.splitext(os.path.basename(args.input))[0])
    with open(args.input, encoding="utf-8") as f:
        lines = f.readlines()
    try:
        out, st = rewrite(lines, unit, density=not args.no_density)
    except AsmError as e:
        print("xtensa_asm: %s: %s" % (args.input, e), file=sys.stderr)
        return 1
    with open(args.output, "w", encoding="utf-8") as f:
        f.writelines(out)
    print("xtensa_asm: %s: %d literal(s) in %d word(s) of .literal.%s; %d call(s) made "
          "direct; %d instruction(s) in 16 bits"
          % (os.path.basename(args.input), st["literals"], st["words"], unit, st["calls"],
             st["narrow"]),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
