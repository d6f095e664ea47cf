"""The C glue registers the module on every MicroPython it is built for.

Before MicroPython 1.19 (Pycom's firmware is 1.11) the build finds module registrations by
reading the C source's text with a regular expression: a statement that starts a line (or
follows a `;`) `MP_REGISTER_MODULE(name, module, enabled);`, whose arguments may span
lines, in every `#if` branch alike. Since 1.19 it reads the preprocessed source for the
two-argument form. The glue must give each reading exactly one registration.
"""

import os
import re
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GLUE = os.path.join(ROOT, "mpy_glue", "modsqnsupgrade.c")
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
