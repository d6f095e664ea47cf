"""sqnsupgrade: update the Sequans SQN3330 LTE modem of Pycom GPy, FiPy and G01 boards.

The same module name and calls as the field updater, on both sides of the cable:

* on the board (MicroPython), the module of this firmware (written elsewhere);
* on a computer (CPython, "the USB method"): put the board in mirror mode from its REPL
  (``import sqnsupgrade; sqnsupgrade.uart()``), close that terminal, then::

      import sqnsupgrade
      sqnsupgrade.run('/dev/ttyUSB0', 'CATM1-41065.dup')

On CPython every call is carried out by the Rust engine in ``libsqnsupgrade.so`` (built by
``cargo build --release``), loaded with ctypes; this file only converts the arguments,
prints what the library reports and returns the results.

CPython API:

``run(port, ffile, mfile=None, resume=False, debug=False, verbose=False, load_fff=True,
fc=False, force_fff=False, bootrom=None)``
    The whole update of the modem behind ``port`` with the firmware image ``ffile`` (a
    ``.dup``: full image or upgdiff). ``mfile`` is ``updater.elf`` (recovery mode only);
    ``bootrom`` the bootrom package (recovery on bootloader 33080). ``load_fff=False``
    flashes while streaming (ON_THE_FLY); ``force_fff=True`` stores first (FFF, files up
    to 4 MiB); by default files up to 4 MiB go FFF, bigger ones ON_THE_FLY. ``resume=True``
    says the modem is in upgrade mode after an interrupted update. ``debug`` prints every
    AT command and reply; ``verbose`` the whole version block. ``fc`` (RTS/CTS flow
    control) is not supported: a message says so and the update runs without it.
    Returns True on success. On failure it prints ``error:``, ``hint:``, ``modem:`` (its
    state now) and ``next:`` (the command that continues) and returns False.
    Ctrl-C stops the update cleanly (the modem is told nothing more), prints the same
    lines, and raises KeyboardInterrupt.

``info(port, verbose=False, debug=False)``
    Prints the modem's state and, in application mode, its versions and IMEI.

``version(port)``
    Prints the versions (the same as ``info(port)`` on a computer).

``state(port)``
    Prints and returns the modem's state number (0 recovery, 1 mTools, 2 application,
    4 upgrade), or None when the modem does not answer.

``last_result()``
    A dict about the last call (None before the first), with the keys:
    ``ok`` (bool), ``status`` (0 success, 1 modem failure, 2 bad input, 130 stopped),
    ``command`` ('run', 'info' or 'state'), ``state_before``, ``state_after`` (state
    numbers or None), ``modem_changed`` (bool), ``method`` ('FFF', 'ON_THE_FLY' or None),
    ``build_before``, ``build_after`` (software builds, e.g. 38638, or None),
    ``firmware`` (the LR line, e.g. 'LR5.1.1.0-41065', or ''), ``imei`` (or ''),
    ``bytes`` (bytes the modem acknowledged), ``seconds`` (float), ``error``, ``hint``,
    ``modem``, ``next`` (the failure lines, '' on success).

The library is found, in this order: the path in the environment variable
SQNSUPGRADE_LIB; ``libsqnsupgrade.so`` next to this file; ``target/release`` then
``target/debug`` of the repository this file is in.
"""

import sys

_MICROPYTHON = sys.implementation.name == "micropython"

if _MICROPYTHON:
    # The board side is written elsewhere (the firmware's native module).
    from _sqnsupgrade_mpy import *  # noqa: F401,F403

else:
    import ctypes
    import os
    import threading

    # ----- the C ABI (src/capi.rs) ----------------------------------------------------

    _ABI_VERSION = 1

    _STATUS_CANCELLED = 130

    _EVENT_MESSAGE = 1
    _EVENT_DEBUG = 2
    _EVENT_TRANSFER_START = 3
    _EVENT_PROGRESS = 4
    _EVENT_TRANSFER_END = 5
    _EVENT_TICK = 6

    _METHOD_AUTO = 0
    _METHOD_FFF = 1
    _METHOD_ON_THE_FLY = 2

    _METHOD_NAMES = {1: "FFF", 2: "ON_THE_FLY"}

    class _Options(ctypes.Structure):
        _fields_ = [
            ("method", ctypes.c_uint32),
            ("block_size", ctypes.c_uint32),
            ("reply_timeout_s", ctypes.c_uint32),
            ("resume", ctypes.c_uint8),
            ("verbose", ctypes.c_uint8),
            ("debug", ctypes.c_uint8),
            ("flow_control", ctypes.c_uint8),
        ]

    class _Outcome(ctypes.Structure):
        _fields_ = [
            ("status", ctypes.c_int32),
            ("state_before", ctypes.c_int32),
            ("state_after", ctypes.c_int32),
            ("method", ctypes.c_uint32),
            ("bytes_sent", ctypes.c_uint32),
            ("build_before", ctypes.c_uint32),
            ("build_after", ctypes.c_uint32),
            ("modem_changed", ctypes.c_uint32),
            ("elapsed_ms", ctypes.c_uint64),
            ("imei", ctypes.c_char * 24),
            ("firmware", ctypes.c_char * 48),
            ("modem", ctypes.c_char * 64),
            ("error", ctypes.c_char * 256),
            ("hint", ctypes.c_char * 256),
            ("next", ctypes.c_char * 256),
        ]

    _Sink = ctypes.CFUNCTYPE(
        None, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_char_p, ctypes.c_uint32, ctypes.c_uint32
    )

    def _candidates():
        env = os.environ.get("SQNSUPGRADE_LIB")
        if env:
            return [env]
        here = os.path.dirname(os.path.abspath(__file__))
        repo = os.path.dirname(here)
        names = ["libsqnsupgrade.so", "libsqnsupgrade.dylib"]
        folders = [
            here,
            os.path.join(repo, "target", "release"),
            os.path.join(repo, "target", "debug"),
        ]
        return [os.path.join(f, n) for f in folders for n in names]

    def _load():
        tried = _candidates()
        for path in tried:
            if os.path.isfile(path):
                break
        else:
            raise ImportError(
                "sqnsupgrade: the updater library was not found (looked for: %s). "
                "Build it with `cargo build --release` in the sqnsupgrade folder, "
                "or set SQNSUPGRADE_LIB to the path of libsqnsupgrade.so." % ", ".join(tried)
            )
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            raise ImportError("sqnsupgrade: cannot load %s: %s" % (path, e)) from e
        try:
            lib.sqn_host_abi_version.restype = ctypes.c_uint32
            lib.sqn_host_abi_version.argtypes = []
            abi = lib.sqn_host_abi_version()
        except AttributeError as e:
            raise ImportError("sqnsupgrade: %s is not the sqnsupgrade library" % path) from e
        if abi != _ABI_VERSION:
            raise ImportError(
                "sqnsupgrade: %s has ABI version %d, this module needs %d: "
                "rebuild it (cargo build --release) or use the matching sqnsupgrade.py"
                % (path, abi, _ABI_VERSION)
            )
        lib.sqn_host_version.restype = ctypes.c_char_p
        lib.sqn_host_version.argtypes = []
        for name in ("sqn_host_options_size", "sqn_host_outcome_size"):
            getattr(lib, name).restype = ctypes.c_size_t
            getattr(lib, name).argtypes = []
        if lib.sqn_host_options_size() != ctypes.sizeof(_Options) or (
            lib.sqn_host_outcome_size() != ctypes.sizeof(_Outcome)
        ):
            raise ImportError("sqnsupgrade: %s does not match this module: rebuild it" % path)
        lib.sqn_host_options_default.restype = None
        lib.sqn_host_options_default.argtypes = [ctypes.POINTER(_Options)]
        lib.sqn_host_cancel.restype = None
        lib.sqn_host_cancel.argtypes = []
        common = [ctypes.POINTER(_Options), _Sink, ctypes.c_void_p, ctypes.POINTER(_Outcome)]
        lib.sqn_host_run.restype = ctypes.c_int32
        lib.sqn_host_run.argtypes = [ctypes.c_char_p] * 4 + common
        for name in ("sqn_host_info", "sqn_host_state"):
            getattr(lib, name).restype = ctypes.c_int32
            getattr(lib, name).argtypes = [ctypes.c_char_p] + common
        return lib, path

    _lib, _lib_path = _load()

    VERSION = _lib.sqn_host_version().decode("utf-8", "replace")

    # ----- printing what the library reports --------------------------------------------

    _BAR_WIDTH = 40

    class _Printer:
        """Prints the library's events as the field updater did: messages (left open, so
        the dots of a following wait join them) and a progress bar drawn left to right."""

        def __init__(self):
            self.open_line = False
            self.total = 0
            self.drawn = 0

        def _write(self, text):
            out = sys.stdout
            out.write(text)
            out.flush()

        def close_line(self):
            if self.open_line:
                self._write("\n")
                self.open_line = False

        def _bar(self, done):
            filled = _BAR_WIDTH if self.total == 0 else done * _BAR_WIDTH // self.total
            filled = min(filled, _BAR_WIDTH)
            if filled > self.drawn:
                self._write("#" * (filled - self.drawn))
                self.drawn = filled

        def event(self, kind, text, done, total):
            if kind == _EVENT_MESSAGE:
                self.close_line()
                self._write(text)
                self.open_line = True
            elif kind == _EVENT_DEBUG:
                self.close_line()
                self._write("[debug] %s\n" % text)
            elif kind == _EVENT_TRANSFER_START:
                self.close_line()
                self.total = total
                self.drawn = 0
                self._write(text + ": [")
                self.open_line = True
            elif kind == _EVENT_PROGRESS:
                self.total = total
                self._bar(done)
            elif kind == _EVENT_TRANSFER_END:
                self._bar(self.total)
                self._write("] 100%\n")
                self.open_line = False
            elif kind == _EVENT_TICK:
                self._write(".")
                self.open_line = True
            # Stage events (and any later kinds) are not printed.

        def line(self, text):
            self.close_line()
            self._write(text + "\n")

    # ----- calling the library ----------------------------------------------------------

    _last = None

    def _path(p):
        """A path or port argument as the bytes the library takes (None stays None)."""
        if p is None:
            return None
        return os.fsencode(os.fspath(p))

    def _text(field):
        return field.decode("utf-8", "replace")

    def _state(n):
        return None if n < 0 else n

    def _call(command, function, args, options):
        """Runs one library call in a worker thread, so that Ctrl-C (KeyboardInterrupt in
        the main thread) can cancel it: sqn_host_cancel(), wait for the call to return,
        print the failure it reports, then re-raise KeyboardInterrupt."""
        global _last
        printer = _Printer()

        def sink(_user, kind, text, done, total):
            try:
                printer.event(kind, _text(text or b""), done, total)
            except Exception:  # a broken stdout must not break the update
                pass

        callback = _Sink(sink)
        outcome = _Outcome()
        status = []

        done = threading.Event()

        def work():
            try:
                status.append(
                    function(*args, ctypes.byref(options), callback, None, ctypes.byref(outcome))
                )
            finally:
                done.set()

        # Waiting on an Event, not Thread.join(): on CPython before 3.13 a KeyboardInterrupt
        # inside join() can mark a running thread as finished.
        worker = threading.Thread(target=work, name="sqnsupgrade", daemon=True)
        interrupted = False
        worker.start()
        while not done.is_set():
            try:
                done.wait(0.1)
            except KeyboardInterrupt:
                if interrupted:
                    # A second Ctrl-C while waiting for the library to stop: give up waiting.
                    raise
                interrupted = True
            if interrupted:
                # Repeated until the call returns: the library clears the flag when an
                # operation starts, so an early Ctrl-C is not lost.
                _lib.sqn_host_cancel()
        printer.close_line()
        code = status[0] if status else outcome.status
        result = {
            "ok": code == 0,
            "status": code,
            "command": command,
            "state_before": _state(outcome.state_before),
            "state_after": _state(outcome.state_after),
            "modem_changed": bool(outcome.modem_changed),
            "method": _METHOD_NAMES.get(outcome.method),
            "build_before": outcome.build_before or None,
            "build_after": outcome.build_after or None,
            "firmware": _text(outcome.firmware),
            "imei": _text(outcome.imei),
            "bytes": outcome.bytes_sent,
            "seconds": outcome.elapsed_ms / 1000.0,
            "error": _text(outcome.error),
            "hint": _text(outcome.hint),
            "modem": _text(outcome.modem),
            "next": _text(outcome.next),
        }
        _last = result
        if code != 0:
            for key in ("error", "hint", "modem", "next"):
                if result[key]:
                    printer.line("%s: %s" % (key, result[key]))
        if interrupted or code == _STATUS_CANCELLED:
            raise KeyboardInterrupt
        return result

    def _options(method=_METHOD_AUTO, resume=False, verbose=False, debug=False, fc=False):
        options = _Options()
        _lib.sqn_host_options_default(ctypes.byref(options))
        options.method = method
        options.resume = 1 if resume else 0
        options.verbose = 1 if verbose else 0
        options.debug = 1 if debug else 0
        options.flow_control = 1 if fc else 0
        return options

    # ----- the public API ---------------------------------------------------------------

    def run(
        port,
        ffile,
        mfile=None,
        resume=False,
        debug=False,
        verbose=False,
        load_fff=True,
        fc=False,
        force_fff=False,
        bootrom=None,
    ):
        """Updates the modem behind ``port`` with ``ffile``; True on success (see the
        module's docstring for every argument)."""
        if force_fff:
            method = _METHOD_FFF
        elif not load_fff:
            method = _METHOD_ON_THE_FLY
        else:
            method = _METHOD_AUTO
        print("<<< Welcome to the SQN3330 firmware updater [%s] >>>" % VERSION)
        options = _options(method, resume, verbose, debug, fc)
        args = (_path(port), _path(ffile), _path(mfile), _path(bootrom))
        return _call("run", _lib.sqn_host_run, args, options)["ok"]

    def info(port, verbose=False, debug=False):
        """Prints the modem's state and, in application mode, its versions and IMEI."""
        _call("info", _lib.sqn_host_info, (_path(port),), _options(verbose=verbose, debug=debug))

    def version(port):
        """Prints the modem's versions (on a computer, the same as ``info(port)``)."""
        info(port)

    def state(port):
        """Prints and returns the modem's state number, or None when it does not answer."""
        result = _call("state", _lib.sqn_host_state, (_path(port),), _options())
        return result["state_after"]

    def last_result():
        """A dict about the last call, None before the first (keys: see the module's
        docstring)."""
        return None if _last is None else dict(_last)
