#!/usr/bin/env python3
"""What the sqnsupgrade module costs on the boards' CPUs (run by scripts/cross.sh).

Reads, under --repo:
  build/mcu/firmware.map, build/mcu/firmware.elf     the linked Cortex-M3 test firmware
  build/mcu/qemu/mpy_glue/modsqnsupgrade.su          the C glue's frame sizes (gcc -fstack-usage)
  build/cross/thumbv7m/libsqnsupgrade.a              the Rust library for Cortex-M3
  build/cross/xtensa-esp32/libsqnsupgrade.a          the Rust library for the ESP32
  build/cross/xtensa-esp32/module.map, module.elf    GNU ld's link of that library and the
                                                     C glue compiled for the ESP32 (cross.sh)
  mpy_glue/sqn_glue.h                                the sqn_glue_* functions the glue offers

Writes build/cross/report.json and prints:
  - per target: text, rodata, data, bss of the module, as a real link kept them (link map,
    after "Linker script and memory map"; the module = the members of libsqnsupgrade.a and
    modsqnsupgrade.o). Cortex-M3: the test firmware's link. ESP32: GNU ld's link of the
    library and the glue (scripts/cross.sh);
  - the largest functions and objects kept, per target;
  - on the Cortex-M3, the deepest static stack from sqn_rs_call: frame sizes from
    .stack_sizes (-Zemit-stack-sizes), call edges from relocations (any reference from a
    function's code or literal pool to another function counts as a possible call);
    recursion, if any; a second figure also follows function tables the code refers to
    (vtables: dyn calls). On the ESP32 the library's calls are resolved by the assembler
    (no relocations to follow): its stack is measured on the Xtensa test board instead
    (`make xtensa`);
  - the undefined-symbol check: the symbols each library leaves undefined (undefined in a
    member and defined in none) must be in ALLOWED (what a MicroPython firmware and its C
    library provide); any other makes this script fail;
  - the Rust panic paths in both links (arm-none-eabi-nm -C, xtensa-lx106-elf-nm -C);
    --fail-on-panics makes any of them fail the script.

Needs pyelftools (scripts/setup.sh installs it) and binutils' c++filt for demangling.
"""

import argparse
import io
import json
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection

# ---------------------------------------------------------------------------------------
# The allow-list: what the module may leave for the firmware to provide.

# The C glue's trampolines (mpy_glue/modsqnsupgrade.c): every sqn_glue_* function that
# mpy_glue/sqn_glue.h declares (read from the header at run time, so the list follows it).
GLUE_HEADER = "mpy_glue/sqn_glue.h"
# MicroPython's HAL functions the engine calls directly (they cannot raise).
MICROPYTHON = {"mp_hal_ticks_ms"}
# The C library (newlib on both boards; MicroPython's shared/libc/string0.c on the test
# board). `abort` is what LLVM calls for a trap on Xtensa (no trap instruction).
C_LIBRARY = {"memcpy", "memmove", "memset", "memcmp", "bcmp", "strlen", "abort"}
# Compiler helpers of libgcc that a firmware links anyway (the Rust library carries its own
# compiler_builtins, so normally none are left undefined).
LIBGCC = {
    "__aeabi_uldivmod", "__aeabi_ldivmod", "__aeabi_uidiv", "__aeabi_uidivmod",
    "__aeabi_idiv", "__aeabi_idivmod", "__aeabi_llsl", "__aeabi_llsr", "__aeabi_lasr",
    "__aeabi_lmul", "__aeabi_memcpy", "__aeabi_memcpy4", "__aeabi_memcpy8",
    "__aeabi_memmove", "__aeabi_memmove4", "__aeabi_memmove8", "__aeabi_memset",
    "__aeabi_memset4", "__aeabi_memset8", "__aeabi_memclr", "__aeabi_memclr4",
    "__aeabi_memclr8", "__udivdi3", "__umoddi3", "__divdi3", "__moddi3", "__ashldi3",
    "__lshrdi3", "__ashrdi3", "__muldi3",
}

# Rust panic machinery: any of these in the firmware is a path that can panic.
PANIC_PATTERNS = [
    r"core::panicking::",
    r"panic_bounds_check",
    r"slice_\w*_fail",
    r"slice_index_",
    r"unwrap_failed",
    r"expect_failed",
    r"panic_fmt",
    r"str::slice_error_fail",
    r"panic_const_",
    r"panic_nounwind",
    r"panic_already_(mutably_)?borrowed",
    r"assert_failed",
    r"rust_begin_unwind",
    r"begin_panic",
]
PANIC_RE = re.compile("|".join(PANIC_PATTERNS))

ENTRY = "sqn_rs_call"
# text + rodata of the module on the ESP32 (tests/python/test_cross.py asserts it too).
ESP32_BUDGET = 40 * 1024
PANIC_HANDLER = "rust_begin_unwind"

KINDS = ("text", "rodata", "data", "bss")


def kind_of(section_name, nobits=False):
    """text / rodata / data / bss for an allocated section name, None for the rest."""
    n = section_name
    if n.startswith((".text", ".literal", ".iram", ".flash.text")):
        return "text"
    if n.startswith((".rodata", ".data.rel.ro", ".srodata")):
        return "rodata"
    if n.startswith((".bss", ".sbss", ".tbss")) or n == "COMMON" or nobits:
        return "bss"
    if n.startswith((".data", ".sdata", ".tdata")):
        return "data"
    return None


# ---------------------------------------------------------------------------------------
# Demangling (one c++filt process for all names).

class Demangler:
    def __init__(self):
        self.tool = shutil.which("arm-none-eabi-c++filt") or shutil.which("c++filt")
        self.cache = {}

    def prime(self, names):
        todo = sorted({n for n in names if n and n not in self.cache})
        if not todo:
            return
        out = None
        if self.tool:
            try:
                out = subprocess.run([self.tool], input="\n".join(todo) + "\n", text=True,
                                     capture_output=True, check=True).stdout.splitlines()
            except (OSError, subprocess.CalledProcessError):
                out = None
        if out is None or len(out) != len(todo):
            out = todo
        for raw, nice in zip(todo, out):
            self.cache[raw] = tidy(nice)

    def __call__(self, name):
        if name not in self.cache:
            self.prime([name])
        return self.cache[name]


def tidy(name):
    """Drops the hashes that make demangled Rust names long: ::h0123..., [0abc12]."""
    name = re.sub(r"::h[0-9a-f]{16}$", "", name)
    name = re.sub(r"\[[0-9a-f]+\]", "", name)
    return name


# ---------------------------------------------------------------------------------------
# Archives and objects.

def ar_members(path):
    """(name, bytes) of each member of a GNU/SysV ar archive."""
    data = Path(path).read_bytes()
    if not data.startswith(b"!<arch>\n"):
        raise SystemExit("%s is not an ar archive" % path)
    pos = 8
    longnames = b""
    while pos + 60 <= len(data):
        header = data[pos:pos + 60]
        name = header[:16].decode().rstrip()
        size = int(header[48:58].decode().strip())
        body = data[pos + 60:pos + 60 + size]
        pos += 60 + size + (size & 1)
        if name == "//":
            longnames = body
            continue
        if name in ("/", "/SYM64/", "__.SYMDEF", "__.SYMDEF SORTED"):
            continue
        if name.startswith("/") and name[1:].isdigit():
            off = int(name[1:])
            end = longnames.index(b"\n", off)
            name = longnames[off:end].decode()
        yield name.rstrip("/"), body


class Obj:
    """One relocatable ELF object: sections, symbols, relocations."""

    def __init__(self, member, blob):
        self.member = member
        self.elf = ELFFile(io.BytesIO(blob))
        self.arm = self.elf["e_machine"] == "EM_ARM"
        self.sections = list(self.elf.iter_sections())
        symtab = self.elf.get_section_by_name(".symtab")
        self.symbols = list(symtab.iter_symbols()) if symtab else []
        self.relocs = defaultdict(list)  # target section index -> [(offset, symidx, type, addend)]
        for sec in self.sections:
            if isinstance(sec, RelocationSection):
                target = sec["sh_info"]
                rela = sec.is_RELA()
                for r in sec.iter_relocations():
                    self.relocs[target].append(
                        (r["r_offset"], r["r_info_sym"], r["r_info_type"], r["r_addend"] if rela else None))
        # Functions by section: [(start, end, name)]
        self.funcs = defaultdict(list)
        self.objects = defaultdict(list)
        for s in self.symbols:
            idx = s["st_shndx"]
            if not isinstance(idx, int) or not s.name:
                continue
            t = s["st_info"]["type"]
            if t == "STT_FUNC":
                start = s["st_value"] & ~1 if self.arm else s["st_value"]
                self.funcs[idx].append((start, start + max(s["st_size"], 1), s.name))
            elif t == "STT_OBJECT":
                self.objects[idx].append((s["st_value"], s["st_value"] + max(s["st_size"], 1), s.name))
        for lst in list(self.funcs.values()) + list(self.objects.values()):
            lst.sort()

    def section(self, idx):
        return self.sections[idx]

    def defined_globals(self):
        return {s.name for s in self.symbols
                if s.name and s["st_info"]["bind"] in ("STB_GLOBAL", "STB_WEAK")
                and s["st_shndx"] != "SHN_UNDEF"}

    def undefined(self):
        return {s.name for s in self.symbols if s.name and s["st_shndx"] == "SHN_UNDEF"}

    def implicit_addend(self, sec_idx, offset, rtype):
        """The addend a REL relocation keeps in the instruction or word (ARM)."""
        data = self.section(sec_idx).data()
        if rtype == 2:  # R_ARM_ABS32
            return int.from_bytes(data[offset:offset + 4], "little", signed=True)
        if rtype in (10, 30):  # R_ARM_THM_CALL, R_ARM_THM_JUMP24: B/BL immediate, PC + 4
            hi = int.from_bytes(data[offset:offset + 2], "little")
            lo = int.from_bytes(data[offset + 2:offset + 4], "little")
            s = (hi >> 10) & 1
            i1 = 1 - (((lo >> 13) & 1) ^ s)
            i2 = 1 - (((lo >> 11) & 1) ^ s)
            imm = (s << 24) | (i1 << 23) | (i2 << 22) | ((hi & 0x3FF) << 12) | ((lo & 0x7FF) << 1)
            if s:
                imm -= 1 << 25
            return imm + 4
        return 0

    def target(self, sec_idx, reloc):
        """Where a relocation points: ('sym', name) for a global/undefined symbol, or
        ('loc', section index, offset) for a place in this object."""
        offset, symidx, rtype, addend = reloc
        sym = self.symbols[symidx]
        shndx = sym["st_shndx"]
        stype = sym["st_info"]["type"]
        bind = sym["st_info"]["bind"]
        if shndx == "SHN_UNDEF" or (bind in ("STB_GLOBAL", "STB_WEAK") and stype != "STT_SECTION"):
            return ("sym", sym.name)
        if not isinstance(shndx, int):
            return None
        if stype == "STT_SECTION":
            if addend is None:
                addend = self.implicit_addend(sec_idx, offset, rtype) if self.arm else 0
            return ("loc", shndx, addend)
        value = sym["st_value"] & ~1 if (self.arm and stype == "STT_FUNC") else sym["st_value"]
        return ("loc", shndx, value + (addend or 0))

    def func_at(self, sec_idx, offset):
        """The function (start, end, name) that covers offset in a section, or None."""
        for f in self.funcs.get(sec_idx, []):
            if f[0] <= offset < f[1]:
                return f
        return None


class Library:
    """A static library: its objects and the global symbols they define."""

    def __init__(self, path):
        self.path = Path(path)
        self.objs = [Obj(name, blob) for name, blob in ar_members(path)]
        self.arm = bool(self.objs) and self.objs[0].arm
        self.defs = {}  # global name -> (obj, section index, value)
        for o in self.objs:
            for s in o.symbols:
                if (s.name and s["st_info"]["bind"] in ("STB_GLOBAL", "STB_WEAK")
                        and isinstance(s["st_shndx"], int)):
                    v = s["st_value"]
                    if o.arm and s["st_info"]["type"] == "STT_FUNC":
                        v &= ~1
                    if s.name not in self.defs or s["st_info"]["bind"] == "STB_GLOBAL":
                        self.defs[s.name] = (o, s["st_shndx"], v)

    def undefined(self):
        und = set()
        for o in self.objs:
            und |= o.undefined()
        return sorted(und - set(self.defs))

    def resolve(self, obj, sec_idx, reloc):
        """(obj, section index, offset) a relocation reaches inside the library, or
        ('ext', name) for a symbol the library does not define."""
        t = obj.target(sec_idx, reloc)
        if t is None:
            return None
        if t[0] == "sym":
            d = self.defs.get(t[1])
            if d is None:
                return ("ext", t[1])
            return d
        return (obj, t[1], t[2])


    def code_targets(self, obj, idx, rel):
        """What a reference from code reaches: [(target, via_literal)], target being
        ('ext', name) or (obj, section, offset).
        A reference into a literal pool (a place in a code section outside every function:
        LLVM's Xtensa backend puts the literals of many functions into a neighbouring
        function's section) is followed to the word's own relocation, so that it counts
        for the function that loads the literal."""
        t = self.resolve(obj, idx, rel)
        if t is None:
            return []
        if t[0] == "ext":
            return [(t, False)]
        tobj, tidx, off = t
        sec = tobj.section(tidx)
        if not self.arm:
            # Xtensa: an l32r points at a literal word, which has its own R_XTENSA_32
            # relocation; the word may lie inside the previous function's symbol range
            # (LLVM puts a function's literals just before it), so look at the word first.
            words = [r for r in tobj.relocs.get(tidx, []) if r[0] == off and r[2] == 1]
            if words:
                return [(u, True) for u in (self.resolve(tobj, tidx, r) for r in words)
                        if u is not None]
        if sec["sh_flags"] & 4 and tobj.func_at(tidx, off) is None:
            out = []
            for r in tobj.relocs.get(tidx, []):
                if off <= r[0] < off + 4:
                    u = self.resolve(tobj, tidx, r)
                    if u is not None:
                        out.append((u, True))
            return out
        return [(t, False)]


# ---------------------------------------------------------------------------------------
# Sizes.

def map_sizes(map_path, elf_symbols, demangle, module_helpers=frozenset()):
    """Kept input sections of the module from a GNU ld map: totals and the items.

    The library's compiler_builtins member is Rust's copy of the C runtime helpers
    (memcpy, float and 64-bit arithmetic). On this board it also serves MicroPython's own
    calls (the archive comes first on the link line): only the helper sections the
    module's code reaches (`module_helpers`: (member, section) pairs) count as the
    module's; the rest is listed as the firmware's."""
    text = Path(map_path).read_text(errors="replace").splitlines()
    try:
        start = next(i for i, l in enumerate(text) if l.startswith("Linker script and memory map"))
    except StopIteration:
        raise SystemExit("%s: no 'Linker script and memory map' line" % map_path)
    out_sec = None
    pending = None
    items = []
    totals = {"module": dict.fromkeys(KINDS, 0), "rust": dict.fromkeys(KINDS, 0),
              "glue": dict.fromkeys(KINDS, 0), "firmware": dict.fromkeys(KINDS, 0),
              "helpers_for_firmware": dict.fromkeys(KINDS, 0)}
    addr_re = re.compile(r"^\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)\s+(\S.*)$")
    for line in text[start + 1:]:
        m = re.match(r"^(\S+)(\s+0x[0-9a-fA-F]+\s+0x[0-9a-fA-F]+.*)?$", line)
        if m and not line.startswith(" "):
            out_sec = m.group(1)
            pending = None
            continue
        if out_sec not in (".text", ".rodata", ".data", ".bss"):
            continue
        m = re.match(r"^ (\S+)\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)\s+(\S.*)$", line)
        if m and not line.startswith(" *"):
            name, addr, size, origin = m.group(1), int(m.group(2), 16), int(m.group(3), 16), m.group(4)
        else:
            m2 = re.match(r"^ (\S+)$", line)
            if m2 and not line.startswith(" *"):
                pending = m2.group(1)
                continue
            m3 = addr_re.match(line)
            if not (m3 and pending):
                pending = None
                continue
            name, addr, size, origin = pending, int(m3.group(1), 16), int(m3.group(2), 16), m3.group(3)
            pending = None
        if size == 0:
            continue
        kind = kind_of(name) or kind_of(out_sec)
        if out_sec == ".bss":
            kind = "bss"
        totals["firmware"][kind] += size
        if "libsqnsupgrade.a(" in origin:
            member_name = origin.split("(")[-1].rstrip(")")
            if short_member(member_name) == "compiler_builtins" and (
                    (member_name, name) not in module_helpers):
                totals["helpers_for_firmware"][kind] += size
                continue
            part = "rust"
        elif origin.endswith("/modsqnsupgrade.o") or origin == "modsqnsupgrade.o":
            part = "glue"
        else:
            continue
        totals[part][kind] += size
        totals["module"][kind] += size
        sym = elf_symbols.get(addr)
        label = sym if sym else re.sub(r"^\.(text|rodata|data|bss)\.", "", name)
        member = origin.split("(")[-1].rstrip(")") if part == "rust" else "modsqnsupgrade.o"
        items.append({"name": label, "kind": kind, "size": size, "part": part,
                      "member": short_member(member)})
    demangle.prime(i["name"] for i in items)
    for i in items:
        i["name"] = demangle(i["name"])
    return totals, items


def short_member(member):
    """sqnsupgrade-8d7f...cgu.0.rcgu.o -> sqnsupgrade; compiler_builtins-... -> compiler_builtins."""
    return re.split(r"[-.]", member, 1)[0]


def elf_symbol_names(elf_path):
    """address -> the name of the function or object there, from the firmware's symbols."""
    names = {}
    with open(elf_path, "rb") as f:
        elf = ELFFile(f)
        symtab = elf.get_section_by_name(".symtab")
        for s in symtab.iter_symbols():
            t = s["st_info"]["type"]
            if t not in ("STT_FUNC", "STT_OBJECT") or not s.name:
                continue
            addr = s["st_value"] & ~1 if t == "STT_FUNC" else s["st_value"]
            if addr not in names or s["st_info"]["bind"] == "STB_GLOBAL":
                names[addr] = s.name
    return names


def elf_items(elf_path, demangle):
    """Every function and object of a linked ELF with its size (its symbol's): the ESP32
    library keeps its code in one section, so its link map names no functions."""
    items = []
    with open(elf_path, "rb") as f:
        elf = ELFFile(f)
        sections = list(elf.iter_sections())
        for sym in elf.get_section_by_name(".symtab").iter_symbols():
            shndx = sym["st_shndx"]
            if (sym["st_info"]["type"] not in ("STT_FUNC", "STT_OBJECT") or not sym.name
                    or not isinstance(shndx, int) or sym["st_size"] == 0):
                continue
            sec = sections[shndx]
            kind = kind_of(sec.name, sec["sh_type"] == "SHT_NOBITS")
            if kind:
                items.append({"name": sym.name, "kind": kind, "size": sym["st_size"],
                              "member": "-"})
    demangle.prime(i["name"] for i in items)
    for i in items:
        i["name"] = demangle(i["name"])
    return items


def reachable_sections(lib, roots, external=frozenset()):
    """Allocated sections reachable through relocations from the sections of `roots`, as
    a linker's --gc-sections keeps them (section by section). Symbols in `external` are
    taken as provided by the firmware instead of by the library."""
    seen = set()
    stack = []
    for r in roots:
        d = lib.defs.get(r)
        if d:
            stack.append((d[0], d[1]))
    while stack:
        key = stack.pop()
        if (id(key[0]), key[1]) in seen:
            continue
        seen.add((id(key[0]), key[1]))
        obj, idx = key
        for rel in obj.relocs.get(idx, []):
            sym = obj.target(idx, rel)
            if sym is not None and sym[0] == "sym" and sym[1] in external:
                continue
            t = lib.resolve(obj, idx, rel)
            if t is None or t[0] == "ext":
                continue
            tobj, tidx = t[0], t[1]
            sec = tobj.section(tidx)
            if sec["sh_flags"] & 2:  # SHF_ALLOC
                stack.append((tobj, tidx))
    objs = {id(o): o for o in lib.objs}
    return [(objs[i], idx) for i, idx in seen]


def estimate_sizes(lib, demangle, external=frozenset()):
    roots = [ENTRY] + ([PANIC_HANDLER] if PANIC_HANDLER in lib.defs else [])
    secs = reachable_sections(lib, roots, external)
    totals = dict.fromkeys(KINDS, 0)
    items = []
    for obj, idx in secs:
        sec = obj.section(idx)
        kind = kind_of(sec.name, sec["sh_type"] == "SHT_NOBITS")
        if kind is None or sec["sh_size"] == 0:
            continue
        totals[kind] += sec["sh_size"]
        syms = obj.funcs.get(idx) or obj.objects.get(idx) or []
        label = max(syms, key=lambda f: f[1] - f[0])[2] if syms else re.sub(
            r"^\.(text|rodata|data|bss|literal)\.", "", sec.name)
        items.append({"name": label, "kind": kind, "size": sec["sh_size"],
                      "member": short_member(obj.member)})
    # COMMON symbols (uninitialised globals without a section).
    for obj in lib.objs:
        for s in obj.symbols:
            if s["st_shndx"] == "SHN_COMMON":
                totals["bss"] += s["st_size"]
                items.append({"name": s.name, "kind": "bss", "size": s["st_size"],
                              "member": short_member(obj.member)})
    demangle.prime(i["name"] for i in items)
    for i in items:
        i["name"] = demangle(i["name"])
    return totals, items


# ---------------------------------------------------------------------------------------
# Stack.

def uleb128(data, pos):
    value = shift = 0
    while True:
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, pos


def frame_sizes(lib):
    """(id(obj), section, start) -> frame bytes, from every .stack_sizes section."""
    frames = {}
    for obj in lib.objs:
        for idx, sec in enumerate(obj.sections):
            if sec.name != ".stack_sizes":
                continue
            data = sec.data()
            relocs = {r[0]: r for r in obj.relocs.get(idx, [])}
            pos = 0
            while pos < len(data):
                at = pos
                pos += 4  # 32-bit targets: the function's address
                size, pos = uleb128(data, pos)
                rel = relocs.get(at)
                if rel is None:
                    continue
                t = lib.resolve(obj, idx, rel)
                if t is None or t[0] == "ext":
                    continue
                tobj, tidx, off = t
                f = tobj.func_at(tidx, off)
                if f:
                    frames[(id(tobj), tidx, f[0])] = size
    return frames


def glue_frames(su_path):
    """C function -> frame bytes from gcc's -fstack-usage file (modsqnsupgrade.su)."""
    frames = {}
    if su_path and Path(su_path).exists():
        for line in Path(su_path).read_text().splitlines():
            parts = line.split("\t")
            if len(parts) >= 2:
                frames[parts[0].rsplit(":", 1)[-1]] = int(parts[1])
    return frames


def call_graph(lib):
    """Function nodes and their possible callees (direct references from code), plus the
    functions reachable through the function tables (vtables) code refers to."""
    nodes = {}  # key -> (obj, section index, start, name)
    for obj in lib.objs:
        for idx, lst in obj.funcs.items():
            sec = obj.section(idx)
            if not sec.name.startswith((".text", ".literal")) and not (sec["sh_flags"] & 4):
                continue
            for start, end, name in lst:
                nodes[(id(obj), idx, start)] = (obj, idx, start, end, name)

    def funcs_in_data(obj, idx, off):
        """Functions referenced by the data object at obj/idx/off (a vtable)."""
        objs = obj.objects.get(idx, [])
        rng = next(((a, b) for a, b, _ in objs if a <= off < b), None)
        found = []
        for rel in obj.relocs.get(idx, []):
            if rng and not rng[0] <= rel[0] < rng[1]:
                continue
            t = lib.resolve(obj, idx, rel)
            if t is None:
                continue
            if t[0] == "ext":
                found.append(("ext", t[1]))
                continue
            f = t[0].func_at(t[1], t[2])
            if f and (t[0].section(t[1])["sh_flags"] & 4):
                found.append((id(t[0]), t[1], f[0]))
        return found

    direct = defaultdict(set)
    tables = defaultdict(set)
    for key, (obj, idx, start, end, name) in nodes.items():
        for rel in obj.relocs.get(idx, []):
            if not start <= rel[0] < end:
                continue  # another function's code, or a literal pool (followed from its user)
            for t, via_literal in lib.code_targets(obj, idx, rel):
                if t[0] == "ext":
                    direct[key].add(("ext", t[1]))
                    continue
                tobj, tidx, off = t
                tsec = tobj.section(tidx)
                if tsec["sh_flags"] & 4:  # code
                    f = tobj.func_at(tidx, off)
                    if f is None:
                        continue
                    callee = (id(tobj), tidx, f[0])
                    if callee == key and (off != start or via_literal):
                        # A place inside the function itself (a jump table, a branch
                        # target loaded from a literal): not a recursive call.
                        continue
                    direct[key].add(callee)
                elif tsec["sh_flags"] & 2:  # data: a table of functions?
                    for callee in funcs_in_data(tobj, tidx, off):
                        tables[key].add(callee)
    return nodes, direct, tables


def deepest(nodes, edges, frames, ext_frames, root_key, demangle):
    """Longest frame-weighted path from root_key; recursion (strongly connected parts)."""
    # Tarjan's strongly connected components over the reachable part.
    index, low, onstack, stack, comp = {}, {}, set(), [], {}
    counter = [0]
    sccs = []

    def succ(k):
        return [c for c in edges.get(k, ()) if c[0] != "ext"]

    def strongconnect(v):
        work = [(v, iter(succ(v)))]
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        onstack.add(v)
        while work:
            node, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    onstack.add(w)
                    work.append((w, iter(succ(w))))
                    advanced = True
                    break
                if w in onstack:
                    low[node] = min(low[node], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                members = []
                while True:
                    w = stack.pop()
                    onstack.discard(w)
                    comp[w] = len(sccs)
                    members.append(w)
                    if w == node:
                        break
                sccs.append(members)

    strongconnect(root_key)
    recursion = []
    for members in sccs:
        if len(members) > 1 or members[0] in edges.get(members[0], ()):
            recursion.append(sorted(demangle(nodes[m][4]) for m in members))

    unknown = set()
    memo = {}

    def frame(k):
        if k[0] == "ext":
            return ext_frames.get(k[1], 0)
        size = frames.get(k)
        if size is None:
            unknown.add(nodes[k][4])
            return 0
        return size

    # Longest path; a call back into a function already on the path (recursion) is left
    # out, so each recursion counts once. Callees in a fixed order: the result does not
    # depend on set ordering.
    on_path = set()

    def depth(k):
        if k in memo:
            return memo[k][0]
        on_path.add(k)
        best, best_next = 0, None
        for c in sorted(edges.get(k, ()), key=str):
            if c[0] == "ext":
                d = frame(c)
            elif c in on_path:
                continue
            else:
                d = depth(c)
            if best_next is None or d > best:
                best, best_next = d, c
        on_path.discard(k)
        memo[k] = (frame(k) + best, best_next)
        return memo[k][0]

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20000))
    try:
        depth(root_key)
    finally:
        sys.setrecursionlimit(limit)

    chain = []
    k = root_key
    while k is not None:
        if k[0] == "ext":
            chain.append({"function": k[1], "frame": ext_frames.get(k[1]), "external": True})
            break
        chain.append({"function": nodes[k][4], "frame": frames.get(k), "external": False})
        k = memo[k][1]
    demangle.prime(c["function"] for c in chain)
    for c in chain:
        c["function"] = demangle(c["function"])
    return {
        "total": memo[root_key][0],
        "chain": chain,
        "recursion": recursion,
        "functions_without_frame_size": sorted(demangle(n) for n in unknown),
    }


def stack_report(lib, ext_frames, demangle):
    if ENTRY not in lib.defs:
        return {"error": "%s is not defined in %s" % (ENTRY, lib.path)}
    obj, idx, value = lib.defs[ENTRY]
    root = (id(obj), idx, value)
    nodes, direct, tables = call_graph(lib)
    frames = frame_sizes(lib)
    demangle.prime(n[4] for n in nodes.values())
    result = deepest(nodes, direct, frames, ext_frames, root, demangle)
    both = defaultdict(set)
    for k in set(direct) | set(tables):
        both[k] = direct.get(k, set()) | tables.get(k, set())
    with_tables = deepest(nodes, both, frames, ext_frames, root, demangle)
    result["with_function_tables"] = {"total": with_tables["total"], "chain": with_tables["chain"],
                                      "recursion": with_tables["recursion"]}
    result["frames_known"] = len(frames)
    return result


# ---------------------------------------------------------------------------------------
# Symbols.

def glue_functions(repo):
    header = Path(repo) / GLUE_HEADER
    if not header.exists():
        return set()
    return set(re.findall(r"\b(sqn_glue_\w+)\s*\(", header.read_text()))


def undefined_check(lib, allowed):
    und = lib.undefined()
    return {"undefined": und, "not_allowed": [s for s in und if s not in allowed]}


def panic_paths(elf_path, tool="arm-none-eabi-nm"):
    nm = shutil.which(tool)
    if not nm:
        return {"error": "%s not found" % tool}
    out = subprocess.run([nm, "-C", str(elf_path)], capture_output=True, text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        parts = line.split(None, 2)
        if len(parts) == 3 and parts[1].lower() in "tw" and PANIC_RE.search(parts[2]):
            found.append(tidy(parts[2]))
    return {"symbols": sorted(set(found))}


# ---------------------------------------------------------------------------------------
# Output.

def table_sizes(rows):
    lines = ["%-40s %8s %8s %8s %8s" % ("module size (bytes)", *KINDS)]
    for label, t in rows:
        lines.append("%-40s %8d %8d %8d %8d" % (label, *(t[k] for k in KINDS)))
    return lines


def table_top(title, items, n):
    lines = [title]
    for i in sorted(items, key=lambda i: -i["size"])[:n]:
        lines.append("  %7d  %-6s %-18s %s" % (i["size"], i["kind"], i.get("member", ""), i["name"]))
    return lines


def table_stack(title, st):
    if "error" in st:
        return [title, "  " + st["error"]]
    lines = [title + ": %d bytes (static frames along the deepest chain)" % st["total"]]
    for c in st["chain"]:
        fr = "?" if c["frame"] is None else str(c["frame"])
        tag = "  (outside the library)" if c["external"] else ""
        lines.append("  %6s  %s%s" % (fr, c["function"], tag))
    lines.append("  recursion: %s" % ("; ".join(" <-> ".join(r) for r in st["recursion"])
                                      if st["recursion"] else "none"))
    wt = st["with_function_tables"]
    lines.append("  with calls through function tables (vtables) too: %d bytes, via %s" % (
        wt["total"], " -> ".join(c["function"].split("::")[-1] for c in wt["chain"][:12])
        + (" ..." if len(wt["chain"]) > 12 else "")))
    if st["functions_without_frame_size"]:
        lines.append("  no frame size for: %s" % ", ".join(st["functions_without_frame_size"][:8]))
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repo", default=str(Path(__file__).resolve().parents[1]))
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--fail-on-panics", action="store_true",
                    help="fail when the firmware still has Rust panic paths")
    ap.add_argument("--panics-only", action="store_true",
                    help="only list the panic paths of the firmware")
    ap.add_argument("--elf", help="the firmware (default build/mcu/firmware.elf)")
    args = ap.parse_args()
    repo = Path(args.repo)
    mcu = repo / "build" / "mcu"
    cross = repo / "build" / "cross"
    elf = Path(args.elf) if args.elf else mcu / "firmware.elf"

    panics = panic_paths(elf)
    if args.panics_only:
        for s in panics.get("symbols", []):
            print(s)
        print("%d Rust panic symbol(s) in %s" % (len(panics.get("symbols", [])), elf))
        return 2 if args.fail_on_panics and panics.get("symbols") else 0

    demangle = Demangler()
    glue = glue_functions(repo)
    allowed = glue | MICROPYTHON | C_LIBRARY | LIBGCC
    report = {"entry": ENTRY, "allowed_undefined": {
        "glue (%s)" % GLUE_HEADER: sorted(glue), "micropython": sorted(MICROPYTHON),
        "c_library": sorted(C_LIBRARY), "libgcc": sorted(LIBGCC)}, "targets": {}}
    lines = []

    # Cortex-M3: the firmware link.
    thumb = Library(cross / "thumbv7m" / "libsqnsupgrade.a")
    roots = [ENTRY] + ([PANIC_HANDLER] if PANIC_HANDLER in thumb.defs else [])
    helpers = frozenset((o.member, o.section(i).name) for o, i in reachable_sections(thumb, roots)
                        if short_member(o.member) == "compiler_builtins")
    totals, items = map_sizes(mcu / "firmware.map", elf_symbol_names(elf), demangle, helpers)
    est, _ = estimate_sizes(thumb, demangle)
    su = glue_frames(mcu / "qemu" / "mpy_glue" / "modsqnsupgrade.su")
    t_stack = stack_report(thumb, su, demangle)
    t_und = undefined_check(thumb, allowed)
    report["targets"]["thumbv7m"] = {
        "library": str(thumb.path), "sizes_source": "link map %s (kept sections)" % (mcu / "firmware.map"),
        "sizes": totals["module"], "sizes_rust": totals["rust"], "sizes_glue": totals["glue"],
        "helpers_for_firmware": totals["helpers_for_firmware"],
        "firmware_total": totals["firmware"], "estimate_from_library": est,
        "top": sorted(items, key=lambda i: -i["size"])[:args.top], "stack": t_stack,
        "glue_frames": su, **t_und}

    # ESP32: GNU ld's link of the library and the glue (scripts/cross.sh).
    xt = Library(cross / "xtensa-esp32" / "libsqnsupgrade.a")
    x_map, x_elf = cross / "xtensa-esp32" / "module.map", cross / "xtensa-esp32" / "module.elf"
    x_totals, _ = map_sizes(x_map, elf_symbol_names(x_elf), demangle)
    x_items = elf_items(x_elf, demangle)
    x_und = undefined_check(xt, allowed)
    x_panics = panic_paths(x_elf, "xtensa-lx106-elf-nm")
    x_code = x_totals["module"]["text"] + x_totals["module"]["rodata"]
    report["targets"]["xtensa-esp32"] = {
        "library": str(xt.path), "sizes_source": "link map %s (GNU ld, kept sections)" % x_map,
        "sizes": x_totals["module"], "sizes_rust": x_totals["rust"], "sizes_glue": x_totals["glue"],
        "code_budget": ESP32_BUDGET, "code_headroom": ESP32_BUDGET - x_code,
        "top": sorted(x_items, key=lambda i: -i["size"])[:args.top],
        "stack": {"measured_on": "the Xtensa test board (make xtensa): build/xtensa/figures.json"},
        "panics": x_panics, **x_und}
    report["panics"] = {"firmware": str(elf), **panics}

    lines += table_sizes([
        ("Cortex-M3, linked (Rust + C glue)", totals["module"]),
        ("  Rust library", totals["rust"]),
        ("  C glue (modsqnsupgrade.o)", totals["glue"]),
        ("  (estimate: reachable from the entry)", est),
        ("  (Rust's C helpers used by MicroPython)", totals["helpers_for_firmware"]),
        ("whole test firmware (for scale)", totals["firmware"]),
        ("ESP32 Xtensa, GNU ld (Rust + C glue)", x_totals["module"]),
        ("  Rust library", x_totals["rust"]),
        ("  C glue (modsqnsupgrade.o, clang-22)", x_totals["glue"]),
    ])
    lines.append("ESP32 module text + rodata: %d bytes, budget %d, headroom %d"
                 % (x_code, ESP32_BUDGET, ESP32_BUDGET - x_code))
    lines.append("")
    lines += table_top("Top %d kept, Cortex-M3 (firmware link):" % args.top, items, args.top)
    lines.append("")
    lines += table_top("Top %d kept, ESP32 (GNU ld):" % args.top, x_items, args.top)
    lines.append("")
    lines += table_stack("Deepest static stack from %s, Cortex-M3" % ENTRY, t_stack)
    if su:
        lines.append("  C glue frames (gcc -fstack-usage): " + ", ".join(
            "%s %d" % (k, v) for k, v in sorted(su.items(), key=lambda kv: -kv[1])))
    lines.append("")
    lines.append("ESP32 stack: measured on the Xtensa test board (make xtensa)")
    lines.append("")
    failed = False
    for name, und in (("thumbv7m", t_und), ("xtensa-esp32", x_und)):
        if und["not_allowed"]:
            failed = True
            lines.append("UNDEFINED SYMBOLS NOT IN THE ALLOW-LIST (%s): %s" % (name, ", ".join(und["not_allowed"])))
            lines.append("  a firmware with MicroPython and a C library does not provide them: remove the")
            lines.append("  dependency, or add the symbol to the allow-list in scripts/cross_report.py")
        else:
            lines.append("undefined symbols (%s), all allowed: %s" % (name, ", ".join(und["undefined"])))
    lines.append("")
    syms = []
    for where, found in ((elf, panics), (x_elf, x_panics)):
        if "error" in found:
            lines.append("panic paths: %s" % found["error"])
            failed = True
            continue
        found_syms = found.get("symbols", [])
        syms += found_syms
        lines.append("Rust panic paths in %s: %d" % (
            where.relative_to(repo) if where.is_relative_to(repo) else where, len(found_syms)))
        for s in found_syms:
            lines.append("  " + s)
    cross.mkdir(parents=True, exist_ok=True)
    (cross / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    print("\n".join(lines))
    print("\nreport: %s" % (cross / "report.json"))
    if failed:
        print("cross: undefined symbols outside the allow-list (see above)", file=sys.stderr)
        return 1
    if args.fail_on_panics and syms:
        print("cross: failing on %d panic path(s) (--fail-on-panics)" % len(syms), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
