"""Shared by the Python tests: the modem simulator (target/debug/sqnsim) and test files.

The simulator is started as tests/common/mod.rs starts it: its first stdout line is JSON
with the pty and the record folder; SIGTERM makes it write RECORD/log.json and exit.
"""

import json
import signal
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SIM = REPO / "target" / "debug" / "sqnsim"


class Sim:
    """A running sqnsim; use as a context manager, read `log` after it stopped."""

    def __init__(self, record, *args):
        self.record = Path(record)
        self.record.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [str(SIM), *args, "--record", str(self.record), "--exit-after-ms", "600000"],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.pty = json.loads(self.proc.stdout.readline())["pty"]
        self.log = None

    def current_log(self):
        path = self.record / "log.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=20)
        self.log = self.current_log()
        return self.log

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        if self.proc.poll() is None:
            self.proc.kill()


def record_keys():
    """The result record's keys, in order, from their one definition (src/report/record.rs,
    KEYS)."""
    import re

    text = (REPO / "src" / "report" / "record.rs").read_text()
    block = re.search(r"pub const KEYS: &str = concat!\((.*?)\);", text, re.S).group(1)
    keys = "".join(re.findall(r'"([a-z_ ]+)"', block)).split()
    assert len(set(keys)) == len(keys), keys
    return keys


def make_dup(folder, name, size, description="CATM1-41065"):
    """A synthetic .dup written by `sqnsim --write-image`."""
    path = Path(folder) / name
    subprocess.run(
        [str(SIM), "--write-image", str(path), "--image-size", str(size),
         "--image-description", description],
        check=True, stdout=subprocess.DEVNULL,
    )
    return path


def make_elf(folder, size=306_076):
    """An updater.elf stand-in: the ELF magic, then filler bytes."""
    path = Path(folder) / "updater.elf"
    path.write_bytes(b"\x7fELF" + bytes((i * 7 + i // 251) & 0xFF for i in range(size - 4)))
    return path


def transfer_bytes(log, k):
    """The bytes of transfer k (from 1) the simulator received."""
    return Path(log["transfers"][k - 1]["file"]).read_bytes()


def last_transfer_bytes(log):
    return transfer_bytes(log, len(log["transfers"]))


def changing_commands(log):
    """Commands that changed the modem, and whether any transfer happened."""
    cmds = [c["cmd"] for c in log.get("commands", []) if c.get("changes_modem")]
    return cmds + (["<transfer>"] if log.get("transfers") else [])
