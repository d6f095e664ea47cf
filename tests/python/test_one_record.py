"""One record, three front ends: for the same scenario, `sqnsupgrade ... --json` (the CLI),
`last_result()` of the Python package and `last_result()` on the board (the MicroPython
module on the unix port, through python_shim/) hold the same keys with the same values.

Each front end runs against its own simulator started with the same settings; the image
is the same file. Compared: every key of the engine's record (src/report/record.rs,
KEYS) but `seconds` (a duration) and `next` (the command that continues is written for
each front end: a shell command, a Python call; tests/flows and test_micropython check
it), with the simulator's pty path written as <PTY>.

`make python-package` runs this file with the environment that has the package
installed (build/venv-test); the board's module is build/micropython-sqn (`make
micropython`, or SQN_MICROPYTHON), the CLI target/debug/sqnsupgrade.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest

import simtools
from simtools import REPO, Sim, record_keys

MICROPYTHON = os.environ.get("SQN_MICROPYTHON", str(REPO / "build" / "micropython-sqn"))
CLI = REPO / "target" / "debug" / "sqnsupgrade"

try:
    import sqnsupgrade as package
except ImportError as e:
    if os.environ.get("SQN_REQUIRE_PACKAGE"):
        raise
    pytest.skip("the sqnsupgrade package is not installed in this Python (%s): run "
                "`make python-package`" % e, allow_module_level=True)

# Scenario: simulator settings, then the call in each front end (the CLI's arguments, the
# package's call, the board's call), {image} for the image's path.
SCENARIOS = {
    "update": (["--upgrade-ms", "300"], ["run", "{image}"],
               "run(pty, {image!r})", "run({image!r}, port=pty)"),
    "update_on_the_fly": (["--upgrade-ms", "300"], ["run", "{image}", "--on-the-fly"],
                          "run(pty, {image!r}, load_fff=False)",
                          "run({image!r}, port=pty, load_fff=False)"),
    "info": ([], ["info"], "info(pty)", "info(port=pty)"),
    "state_in_upgrade_mode": (["--state", "4"], ["state"], "state(pty)", "state(port=pty)"),
    "missing_image": ([], ["run", "{missing}"], "run(pty, {missing!r})",
                      "run({missing!r}, port=pty)"),
    "modem_restarts_mid_transfer": (["--upgrade-ms", "300", "--fault", "reboot@block=10"],
                                    ["run", "{image}"], "run(pty, {image!r})",
                                    "run({image!r}, port=pty)"),
    "silent_modem": (["--fault", "silent"], ["info"], "info(pty)", "info(port=pty)"),
}


def comparable(record, pty):
    """The record without seconds and next, the pty's path written as <PTY>."""
    out = {}
    for key, value in record.items():
        if key in ("seconds", "next"):
            continue
        out[key] = value.replace(pty, "<PTY>") if isinstance(value, str) else value
    return out


def cli(sim, args):
    done = subprocess.run([str(CLI), "--port", sim.pty, *args, "--json"],
                          capture_output=True, text=True, timeout=300)
    line = done.stdout.strip().splitlines()[0]
    return json.loads(line)


def board(sim, call, tmp_path):
    if not os.path.exists(MICROPYTHON):
        pytest.fail("no MicroPython binary at %s: run `make micropython` first" % MICROPYTHON)
    script = tmp_path / "board_call.py"
    script.write_text("import json\nimport sqnsupgrade\npty = %r\nsqnsupgrade.%s\n"
                      "print('@@record=' + json.dumps(sqnsupgrade.last_result()))\n"
                      % (sim.pty, call))
    env = dict(os.environ, MICROPYPATH=str(REPO / "python_shim"))
    done = subprocess.run([MICROPYTHON, str(script)], capture_output=True, text=True,
                          timeout=300, env=env)
    for line in done.stdout.splitlines():
        if line.startswith("@@record="):
            return json.loads(line[len("@@record="):])
    pytest.fail("the board printed no record:\n" + done.stdout + done.stderr)


@pytest.fixture(scope="module", autouse=True)
def _built():
    for what in (["-p", "sqnsim"], ["-p", "sqnsupgrade-host"]):
        done = subprocess.run(["cargo", "build", *what], cwd=REPO, capture_output=True,
                              text=True)
        assert done.returncode == 0, done.stderr[-3000:]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_the_three_records_are_one(name, tmp_path, capsys):
    sim_args, cli_args, py_call, board_call = SCENARIOS[name]
    image = str(simtools.make_dup(tmp_path, "CATM1-41065.dup", 200_000))
    names = {"image": image, "missing": str(tmp_path / "nothing-here.dup")}
    records = {}
    with Sim(tmp_path / "sim-cli", *sim_args) as sim:
        records["cli"] = (cli(sim, [a.format(**names) for a in cli_args]), sim.pty)
    with Sim(tmp_path / "sim-package", *sim_args) as sim:
        eval(py_call.format(**names), {"pty": sim.pty, **vars(package)})
        records["package"] = (package.last_result(), sim.pty)
    with Sim(tmp_path / "sim-board", *sim_args) as sim:
        records["board"] = (board(sim, board_call.format(**names), tmp_path), sim.pty)
    capsys.readouterr()

    keys = record_keys()
    assert list(records["cli"][0]) == keys, records["cli"][0]  # in order
    assert list(records["package"][0]) == keys, records["package"][0]  # in order
    assert set(records["board"][0]) == set(keys), records["board"][0]  # a dict
    want = comparable(*records["cli"])
    for front in ("package", "board"):
        got = comparable(*records[front])
        assert got == want, "%s differs from the CLI:\n%s\n%s" % (front, got, want)
    # The scenario did what its name says (the records are not all empty).
    expect = {
        "update": (0, "run", 41065, True),
        "update_on_the_fly": (0, "run", 41065, True),
        "info": (0, "info", 38638, False),
        "state_in_upgrade_mode": (0, "state", None, False),
        "missing_image": (2, "run", None, False),
        "modem_restarts_mid_transfer": (1, "run", None, True),
        "silent_modem": (1, "info", None, False),
    }[name]
    assert (want["status"], want["command"], want["build_after"], want["modem_changed"]) \
        == expect, want
    if want["status"]:
        assert want["error"] and want["modem"], want
    for key in ("seconds",):
        assert all(isinstance(r[0][key], (int, float)) for r in records.values()), records
