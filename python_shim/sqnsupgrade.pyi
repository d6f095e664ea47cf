"""Type stubs for sqnsupgrade (python_shim/sqnsupgrade.py, the board's module), for
editors and Pymakr: the field updater's calls on MicroPython (the board, or its unix
port): run(ffile, mfile=None, ...), info(), uart(), ...

On a computer the package built from this repository (`pip install .`) is the module:
run(port, ffile, mfile=None, ...), info(port), state(port), version(port), last_result().
"""

from typing import Any, Callable, Dict, Optional, Union

VERSION: str

Stream = Any  # an object with the stream protocol (file, socket, machine.UART, io.BytesIO)
Progress = Callable[[int, int], None]

def run(
    ffile: Union[str, Stream],
    mfile: Optional[str] = None,
    baudrate: int = 921600,
    verbose: bool = False,
    debug: bool = False,
    load_fff: bool = True,
    hangup: bool = True,
    force_fff: bool = False,
    port: Optional[str] = None,
    uart: Optional[Stream] = None,
    bootrom: Optional[str] = None,
    resume: bool = False,
    block_size: Optional[int] = 2016,
    size: Optional[int] = None,
    name: Optional[str] = None,
    progress: Optional[Progress] = None,
    allow_truncated: bool = False,
    reply_timeout: int = 0,
) -> bool:
    """Update the modem with `ffile` (a path, or a stream with `size=`)."""

def info(verbose: bool = False, debug: bool = False, hangup: bool = True,
         port: Optional[str] = None, uart: Optional[Stream] = None,
         baudrate: int = 921600) -> bool:
    """Print the modem's state, and in application mode its versions and IMEI."""

def state(port: Optional[str] = None, uart: Optional[Stream] = None, baudrate: int = 921600,
          debug: bool = False, hangup: bool = True) -> Optional[int]:
    """The modem's state: 0 recovery, 1 mTools, 2 application, 4 upgrade; None if silent."""

def last_result() -> Optional[Dict[str, Any]]:
    """The outcome of the last call: ok, status, state_before, state_after, error, hint,
    next, bytes, seconds, builds, IMEI (the keys are in the module's docstring)."""

def imei(port: Optional[str] = None, uart: Optional[Stream] = None, baudrate: int = 921600,
         debug: bool = False, hangup: bool = True) -> Optional[str]: ...
def load(mfile: str, baudrate: int = 921600, verbose: bool = False, debug: bool = False,
         hangup: bool = True, port: Optional[str] = None, uart: Optional[Stream] = None) -> bool: ...
def uart(ffh_mode: bool = False, mfile: Optional[str] = None, color: int = 0x050505,
         verbose: bool = False, debug: bool = False, hangup: bool = True,
         port: Optional[str] = None, uart: Optional[Stream] = None,
         baudrate: int = 921600) -> bool: ...

class Updater:
    """MicroPython: the engine with everything prepared; go() allocates nothing."""
    def __init__(self, port: Optional[str] = None, uart: Optional[Stream] = None,
                 baudrate: int = 921600, debug: bool = False, verbose: bool = False,
                 progress: Optional[Progress] = None, quiet: bool = False) -> None: ...
    def prepare(self, ffile: Union[str, Stream, None] = None, mfile: Optional[str] = None,
                bootrom: Optional[str] = None, op: int = 1, size: Optional[int] = None,
                name: Optional[str] = None, load_fff: bool = True, force_fff: bool = False,
                resume: bool = False, block_size: Optional[int] = 2016,
                reply_timeout: int = 0, ffh_mode: bool = False,
                allow_truncated: bool = False) -> None: ...
    def go(self) -> int: ...
    def close(self) -> None: ...
