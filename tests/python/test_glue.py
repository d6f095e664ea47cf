"""The C glue and mpy_glue/micropython.mk work on every MicroPython they are built for.

Before MicroPython 1.19 (Pycom's firmware is 1.11) the build finds module registrations by
reading the C source's text with a regular expression: a statement that starts a line (or
follows a `;`) `MP_REGISTER_MODULE(name, module, enabled);`, whose arguments may span
lines, in every `#if` branch alike. Since 1.19 it reads the preprocessed source for the
two-argument form. The glue must give each reading exactly one registration.

micropython.mk is read by py/py.mk: 1.11's compiles the sources listed in SRC_USERMOD only
(later versions, 1.25 here, call it SRC_USERMOD_C and still read the old name), and
generates no root_pointers.h (1.19+). Both are checked here with a small makefile that
includes micropython.mk as 1.11's py/py.mk does; `make micropython` checks 1.25's.
"""

import os
import re
import subprocess
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GLUE = os.path.join(ROOT, "mpy_glue", "modsqnsupgrade.c")
MK = os.path.join(ROOT, "mpy_glue", "micropython.mk")
MICROPY_DIR = os.environ.get("MICROPY_DIR", os.path.join(ROOT, "build", "micropython"))


def text_registrations(source):
    """Registrations as a pre-1.19 build reads them: raw text, three arguments."""
    statement = re.compile(
        r"[\n;]\s*MP_REGISTER_MODULE\((.*?),\s*(.*?),\s*(.*?)\);", flags=re.DOTALL
    )
    return statement.findall(source)


def test_old_build_finds_exactly_one_three_argument_registration():
    with open(GLUE, encoding="utf-8") as f:
        source = f.read()
    found = text_registrations(source)
    assert found == [("MP_QSTR__sqnsupgrade", "sqn_user_cmodule", "1")], found


def test_the_text_reading_would_catch_a_misplaced_two_argument_form():
    # The check above can fail: the two-argument form before the three-argument one is
    # misread (this is how the glue broke on Pycom's firmware before).
    bad = (
        "\n#if MICROPY_VERSION >= 0x011300\n"
        "MP_REGISTER_MODULE(MP_QSTR__sqnsupgrade, sqn_user_cmodule);\n"
        "#else\n"
        "MP_REGISTER_MODULE(MP_QSTR__sqnsupgrade, sqn_user_cmodule, 1);\n"
        "#endif\n"
    )
    assert text_registrations(bad) != [("MP_QSTR__sqnsupgrade", "sqn_user_cmodule", "1")]


def test_new_build_sees_exactly_one_two_argument_registration():
    port = os.path.join(MICROPY_DIR, "ports", "unix")
    genhdr = os.path.join(port, "build-sqnsupgrade")
    if not os.path.isdir(os.path.join(genhdr, "genhdr")):
        pytest.fail("build the unix port first (make micropython): %s has no genhdr" % genhdr)
    # The qstr pass of MicroPython >= 1.19 preprocesses with NO_QSTR, which leaves the
    # registration macro unexpanded in the output.
    out = subprocess.run(
        [
            "gcc", "-E", "-DNO_QSTR", "-I" + MICROPY_DIR, "-I" + port,
            "-I" + genhdr, "-I" + os.path.join(port, "variants", "standard"),
            "-I" + os.path.join(ROOT, "mpy_glue"), GLUE,
        ],
        check=True, capture_output=True, text=True,
    ).stdout
    found = re.findall(r"MP_REGISTER_MODULE\((.*?)\);", out)
    assert found == ["MP_QSTR__sqnsupgrade, sqn_user_cmodule"], found


def test_glue_compiles_without_the_static_macro():
    with open(GLUE, encoding="utf-8") as f:
        source = f.read()
    # STATIC is gone from MicroPython >= 1.23; plain static works from 1.11 on.
    assert re.search(r"\bSTATIC\b", source.replace("STATIC macro", "")) is None


# The generated headers of MicroPython versions, by the generator scripts in py/.
GENERATORS = {
    "before-1.10": ([], ["qstrdefs.generated.h", "mpversion.h"]),
    "1.10-to-1.18": (["makemoduledefs.py"],
                     ["qstrdefs.generated.h", "mpversion.h", "moduledefs.h"]),
    "1.19-on": (["makemoduledefs.py", "make_root_pointers.py"],
                ["qstrdefs.generated.h", "mpversion.h", "moduledefs.h", "root_pointers.h"]),
}


def read_as_py_mk(tmp_path, version):
    """Includes micropython.mk as 1.11's py/py.mk does (USERMOD_DIR set, then SRC_USERMOD
    turned into the port's sources), with rules for only the headers that `version`
    generates, and dry-runs the Rust library's rule. Returns make's output."""
    scripts, headers = GENERATORS[version]
    top = tmp_path / "top"
    (top / "py").mkdir(parents=True)
    for name in scripts:
        (top / "py" / name).write_text("")
    rules = "".join("$(HEADER_BUILD)/%s:\n\t@echo GEN %s\n" % (h, h) for h in headers)
    makefile = tmp_path / "Makefile"
    makefile.write_text(textwrap.dedent("""\
        TOP := {top}
        BUILD := {build}
        HEADER_BUILD := $(BUILD)/genhdr
        USER_C_MODULES := {root}
        SRC_USERMOD :=
        CFLAGS_USERMOD :=
        LDFLAGS_USERMOD :=
        USERMOD_DIR := {root}/mpy_glue
        include {mk}
        SRC_MOD += $(patsubst $(USER_C_MODULES)/%.c,%.c,$(SRC_USERMOD))
        .PHONY: FORCE show
        show: $(SQN_RUST_LIB)
        \t@echo SRC_MOD=$(SRC_MOD)
        """).format(top=top, build=tmp_path / "build", root=ROOT, mk=MK) + rules)
    done = subprocess.run(["make", "-s", "-n", "-f", str(makefile), "show"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    # -n prints the echo commands instead of running them.
    return "\n".join(re.sub(r"^echo ", "", line) for line in done.stdout.splitlines())


@pytest.mark.parametrize("version", sorted(GENERATORS))
def test_micropython_mk_builds_on_each_versions_generated_headers(tmp_path, version):
    out = read_as_py_mk(tmp_path, version)
    # The glue is among the port's sources (1.11 compiles what SRC_USERMOD lists).
    assert "SRC_MOD=mpy_glue/modsqnsupgrade.c" in out.splitlines(), out
    # The library waits for the headers bindgen reads, as far as this version makes them
    # (no rule for root_pointers.h before 1.19: asking for it would stop make).
    made = [line.split()[1] for line in out.splitlines() if line.startswith("GEN ")]
    _, headers = GENERATORS[version]
    expected = [h for h in headers if h != "mpversion.h"]
    assert sorted(made) == sorted(expected), out
    assert "cargo rustc -p sqnsupgrade" in out, out
