"""sqnsupgrade: update the Sequans SQN3330 LTE modem of Pycom GPy, FiPy and G01 boards.

The same module name and calls as the field updater, on both sides of the cable:

* on the board (MicroPython, or its unix port): the native module ``_sqnsupgrade``
  compiled into the firmware (mpy_glue/), driven by the Rust engine;
* on a computer (CPython, "the USB method"): put the board in mirror mode from its REPL
  (``import sqnsupgrade; sqnsupgrade.uart()``), close that terminal, then::

      import sqnsupgrade
      sqnsupgrade.run('/dev/ttyUSB0', 'CATM1-41065.dup')

On CPython every call is carried out by the Rust engine in ``libsqnsupgrade_host.so`` (built by
``cargo build --release --workspace``), loaded with ctypes; this file only converts the arguments,
prints what the library reports and returns the results.

MicroPython API (the board; ``port=`` a device path on the unix port, ``uart=`` a ready
stream object; without either, UART 1 with the GPy or FiPy/G01 pins from ``os.uname()``):

``run(ffile, mfile=None, baudrate=921600, verbose=False, debug=False, load_fff=True,
hangup=True, force_fff=False, port=None, uart=None, bootrom=None, resume=False,
block_size=2016, size=None, name=None, progress=None)``
    The whole update. ``ffile`` is a path (``/sd/...`` mounts the SD card) or any readable
    stream (a socket, an HTTP body) with ``size=`` (and ``name=`` to recognise an upgdiff).
    ``mfile`` is updater.elf, ``bootrom`` the bootrom package. ``progress(done, total)`` is
    called after each block. ``hangup`` gives the modem UART back to the LTE driver at
    the end. Returns True/False; on failure prints ``error:``, ``hint:``, ``modem:``,
    ``next:``. An exception from a stream or the callback (KeyboardInterrupt from Ctrl-C
    too) ends the update cleanly and is raised again.
``info(verbose=False, debug=False, hangup=True, ...)``, ``state(...)`` → 0-4 or None,
``imei(...)``, ``load(mfile, ...)``, ``uart(ffh_mode=False, mfile=None, color=0x050505,
...)`` (prepare, then mirror mode), ``last_result()`` → dict with the same keys as on
a computer (below).
``Updater(port=, uart=, progress=, quiet=)``: ``prepare(ffile, ...)`` then ``go()``: the
call that allocates nothing, for use under ``micropython.heap_lock()``.

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
SQNSUPGRADE_LIB; ``libsqnsupgrade_host.so`` next to this file; ``target/release`` then
``target/debug`` of the repository this file is in.
"""

import sys

_MICROPYTHON = sys.implementation.name == "micropython"

if _MICROPYTHON:
    # ---- MicroPython: the board (and the unix port) -------------------------------
    # Everything here only gathers the link and the files and hands them to the Rust
    # engine in the native module `_sqnsupgrade`; every decision is made there.
    import os
    import _sqnsupgrade as _native

    VERSION = "0.1.0"

    _OP_RUN, _OP_INFO, _OP_STATE, _OP_LOAD, _OP_MIRROR = 1, 2, 3, 4, 5
    _STATUS = {0: "ok", 1: "modem failure", 2: "bad input", 3: "busy", 130: "cancelled"}
    # (TX, RX, RTS, CTS) of the modem UART, as machine.UART(1, pins=...) takes them.
    _PINS = {
        "GPy": ("P5", "P98", "P7", "P99"),
        "FiPy": ("P20", "P18", "P19", "P17"),
        "G01": ("P20", "P18", "P19", "P17"),
    }

    def _sysname():
        try:
            return os.uname().sysname
        except Exception:
            return ""

    class _PosixLink:
        """A serial device or pty opened as a file (unix port), its baud set with termios."""

        def __init__(self, path, baudrate):
            import termios

            self._termios = termios
            self.stream = open(path, "r+b")
            self._fd = self.stream.fileno()
            termios.setraw(self._fd)
            self.set_baud(baudrate)
            # The engine calls this to change the rate (termios allocates: unix port only).
            self.baud = self.set_baud

        def set_baud(self, rate):
            t = self._termios
            attrs = t.tcgetattr(self._fd)
            speed = getattr(t, "B%d" % rate)
            attrs[4] = speed
            attrs[5] = speed
            t.tcsetattr(self._fd, t.TCSANOW, attrs)

        def close(self):
            self.stream.close()

    class _BoardLink:
        """UART 1 of a Pycom GPy/FiPy/G01, wired to the modem."""

        def __init__(self, baudrate):
            from machine import UART

            self._pins = _PINS.get(_sysname())
            if self._pins is None:
                raise OSError("no modem UART known for this board: pass uart= or port=")
            self.stream = UART(1, baudrate=baudrate, pins=self._pins, timeout_chars=64)
            # The engine calls stream.init(baudrate=..., pins=..., timeout_chars=64) itself,
            # without allocating (a baud change happens under heap_lock() too).
            self.baud = ("pins", self._pins, "timeout_chars", 64)

        def close(self):
            pass

    class _GivenLink:
        """A ready stream object given with uart=; init(baudrate=...) if it has one."""

        def __init__(self, stream):
            self.stream = stream
            # stream.init(baudrate=...) called by the engine, when the stream has init().
            self.baud = () if hasattr(stream, "init") else None

        def close(self):
            pass

    def _link(port, uart, baudrate):
        if uart is not None:
            return _GivenLink(uart)
        if port is not None:
            return _PosixLink(port, baudrate)
        return _BoardLink(baudrate)

    def _mount_sd_for(path):
        # As the field updater did: an absolute path outside /flash mounts the SD card.
        if not isinstance(path, str) or not path.startswith("/sd"):
            return
        try:
            os.stat("/sd")
            return
        except OSError:
            pass
        try:
            from machine import SD

            os.mount(SD(), "/sd")
        except Exception:
            pass  # the engine will say the file is missing, with the SD hint

    def _image(spec, size=None, name=None):
        """(stream, size, name, is_path) for the engine; (None, -errno, name, True) for a
        file that cannot be opened (the engine words the error)."""
        if spec is None:
            return None
        if isinstance(spec, str):
            _mount_sd_for(spec)
            try:
                size = os.stat(spec)[6]
                return (open(spec, "rb"), size, spec, True)
            except OSError as e:
                code = e.args[0] if e.args and isinstance(e.args[0], int) else 5
                return (None, -code, spec, True)
        if size is None:
            size = getattr(spec, "size", None)
        if size is None:
            raise ValueError("a stream needs its size: pass size=")
        return (spec, size, name or "", False)


    def _welcome():
        print("<<< Welcome to the SQN3330 firmware updater [%s] >>>" % VERSION)
        try:
            u = os.uname()
            if u.sysname in _PINS:
                print(">>> %s with firmware version %s" % (u.sysname, u.release))
        except Exception:
            pass

    _COMMANDS = {1: "run", 2: "info", 3: "state", 4: "load", 5: "uart"}
    _METHODS = {1: "FFF", 2: "ON_THE_FLY"}

    def _result_dict():
        # The engine's record, with the same keys as on a computer.
        (status, command, before, after, changed, method, build_before, build_after,
         firmware, imei, nbytes, millis, error, hint, modem, nxt) = _native.result()
        return {
            "ok": status == 0,
            "status": status,
            "command": _COMMANDS.get(command),
            "state_before": before if before >= 0 else None,
            "state_after": after if after >= 0 else None,
            "modem_changed": changed,
            "method": _METHODS.get(method),
            "build_before": build_before or None,
            "build_after": build_after or None,
            "firmware": firmware,
            "imei": imei,
            "bytes": nbytes,
            "seconds": millis / 1000,
            "error": error,
            "hint": hint,
            "modem": modem,
            "next": nxt,
        }

    def _reconnect_lte():
        # Give the modem UART back to the LTE driver, where the firmware has that call.
        try:
            from network import LTE

            LTE.reconnect_uart()
        except Exception:
            pass

    class Updater:
        """The engine with everything prepared, so that a call allocates nothing.

        ``u = Updater(port=...)`` (or ``uart=``), then ``u.prepare(ffile, ...)``, then
        ``u.go()`` runs the update and returns the status (0 success, 1 modem failure,
        2 bad input, 130 cancelled): ``go()`` works under ``micropython.heap_lock()``.
        ``last_result()`` tells the outcome afterwards.
        """

        def __init__(self, port=None, uart=None, baudrate=921600, debug=False,
                     verbose=False, progress=None, quiet=False):
            self.link = _link(port, uart, baudrate)
            self._port = port
            self._baudrate = baudrate
            self._callbacks = (self.link.baud, progress)
            self._quiet = quiet
            self._debug = debug
            self._verbose = verbose
            self._images = (None, None, None)
            self._opened = []
            self._op = _OP_STATE
            self._opts = self._options(0, 2016, 0, False, False, False)

        def _options(self, method, block_size, reply_timeout, resume, ffh_mode,
                     allow_truncated):
            return (method, block_size, reply_timeout, resume, self._verbose, ffh_mode,
                    not self._quiet, self._debug, self._baudrate, allow_truncated,
                    self._port)

        def prepare(self, ffile=None, mfile=None, bootrom=None, op=_OP_RUN, size=None,
                    name=None, load_fff=True, force_fff=False, resume=False,
                    block_size=2016, reply_timeout=0, ffh_mode=False,
                    allow_truncated=False):
            """Opens the files (or takes the streams) and builds the engine's arguments.
            The engine checks every option (``block_size=None`` is the session's max)."""
            # The user's two flags as given (1: force_fff, 2: not load_fff): the engine
            # decides, and refuses both at once.
            method = (1 if force_fff else 0) | (0 if load_fff else 2)
            self._images = (_image(ffile, size, name), _image(mfile), _image(bootrom))
            self._opened = [
                img[0] for img, spec in zip(self._images, (ffile, mfile, bootrom))
                if isinstance(spec, str) and img[0] is not None
            ]
            self._op = op
            self._opts = self._options(method, 0 if block_size is None else block_size,
                                       reply_timeout, resume, ffh_mode, allow_truncated)

        def go(self):
            """Runs the prepared operation; returns the status. Allocates nothing."""
            return _native.call(self._op, self.link.stream, self._callbacks, self._images, self._opts)

        def close(self):
            for f in self._opened:
                f.close()
            self._opened = []
            self.link.close()

    def _call(op, port, uart, baudrate, debug, verbose, hangup, **prep):
        u = Updater(port=port, uart=uart, baudrate=baudrate, debug=debug, verbose=verbose,
                    progress=prep.pop("progress", None))
        try:
            u.prepare(op=op, **prep)
            status = u.go()
        finally:
            u.close()
            if hangup and port is None and uart is None:
                _reconnect_lte()
        return status, _result_dict()

    # On failure the engine itself prints the four lines (error, hint, modem, next),
    # Ctrl-C included; these functions only return what it decided.

    def run(ffile, mfile=None, baudrate=921600, verbose=False, debug=False, load_fff=True,
            hangup=True, force_fff=False, port=None, uart=None, bootrom=None, resume=False,
            block_size=2016, size=None, name=None, progress=None, allow_truncated=False,
            reply_timeout=0):
        """Updates the modem with ``ffile`` (a path, or a stream with ``size=``).

        ``mfile`` is updater.elf (recovery mode), ``bootrom`` the bootrom package
        (bootloader 33080). Returns True on success; ``last_result()`` tells more.
        """
        _welcome()
        status, d = _call(_OP_RUN, port, uart, baudrate, debug, verbose, hangup, ffile=ffile,
                          mfile=mfile, bootrom=bootrom, size=size, name=name,
                          load_fff=load_fff, force_fff=force_fff, resume=resume,
                          block_size=block_size, progress=progress,
                          allow_truncated=allow_truncated, reply_timeout=reply_timeout)
        return status == 0

    def info(verbose=False, debug=False, hangup=True, port=None, uart=None, baudrate=921600):
        """Prints the modem's state, and in application mode its versions and IMEI."""
        _welcome()
        status, d = _call(_OP_INFO, port, uart, baudrate, debug, verbose, hangup)
        return status == 0

    def state(port=None, uart=None, baudrate=921600, debug=False, hangup=True):
        """The modem's state number (0 recovery, 1 mTools, 2 application, 4 upgrade) or None."""
        status, d = _call(_OP_STATE, port, uart, baudrate, debug, False, hangup)
        return d["state_after"] if status == 0 else None

    def imei(port=None, uart=None, baudrate=921600, debug=False, hangup=True):
        """The modem's IMEI (application mode), or None."""
        u = Updater(port=port, uart=uart, baudrate=baudrate, debug=debug, quiet=True)
        try:
            u.prepare(op=_OP_INFO)
            status = u.go()
        finally:
            u.close()
        d = _result_dict()
        return (d["imei"] or None) if status == 0 else None

    def load(mfile, baudrate=921600, verbose=False, debug=False, hangup=True, port=None,
             uart=None):
        """Loads updater.elf into a modem in recovery mode (it goes to mTools mode)."""
        _welcome()
        status, d = _call(_OP_LOAD, port, uart, baudrate, debug, verbose, hangup, mfile=mfile)
        return status == 0

    def uart(ffh_mode=False, mfile=None, color=0x050505, verbose=False, debug=False,
             hangup=True, port=None, uart=None, baudrate=921600):
        """Prepares the modem, then bridges the USB serial port to it (mirror mode), so that
        a computer can run ``sqnsupgrade.run(port, file)``."""
        _welcome()
        status, d = _call(_OP_MIRROR, port, uart, baudrate, debug, verbose, False,
                          mfile=mfile, ffh_mode=ffh_mode)
        if status != 0:
            return False
        try:
            import pycom
            from network import LTE
        except ImportError:
            print("Modem prepared (state %s); mirror mode needs a Pycom board." % d["state_after"])
            return True
        print("Going into MIRROR mode... please close this terminal to resume the upgrade via UART")
        pycom.heartbeat(False)
        pycom.rgbled(color)
        LTE.modem_upgrade_mode()
        return True

    def last_result():
        """The outcome of the last call, as a dict with the same keys as on a computer:
        ok, status, command, state_before, state_after (0-4 or None), modem_changed,
        method, build_before, build_after, firmware, imei, bytes, seconds, error, hint,
        modem, next."""
        return _result_dict()

else:
    import ctypes
    import os
    import threading

    # ----- the C ABI (src/capi.rs) ----------------------------------------------------

    _ABI_VERSION = 2

    _EVENT_TEXT = 9  # console text rendered by the library: printed as it is

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
            ("allow_truncated", ctypes.c_uint8),
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
        names = ["libsqnsupgrade_host.so", "libsqnsupgrade_host.dylib"]
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
                "Build it with `cargo build --release --workspace` in the sqnsupgrade folder, "
                "or set SQNSUPGRADE_LIB to the path of libsqnsupgrade_host.so." % ", ".join(tried)
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
                "rebuild it (cargo build --release --workspace) or use the matching sqnsupgrade.py"
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

        def sink(_user, kind, text, done, total):
            # The library renders everything users read (the same text as the CLI's and
            # the board's, failure lines included); this only writes it.
            if kind != _EVENT_TEXT:
                return
            try:
                sys.stdout.write(_text(text or b""))
                sys.stdout.flush()
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
        if interrupted:
            raise KeyboardInterrupt
        return result

    def _options(force_fff=False, load_fff=True, resume=False, verbose=False, debug=False,
                 fc=False, allow_truncated=False):
        options = _Options()
        _lib.sqn_host_options_default(ctypes.byref(options))
        # The user's flags as given; the library decides (and refuses both at once).
        options.method = (1 if force_fff else 0) | (0 if load_fff else 2)
        options.resume = 1 if resume else 0
        options.verbose = 1 if verbose else 0
        options.debug = 1 if debug else 0
        options.flow_control = 1 if fc else 0
        options.allow_truncated = 1 if allow_truncated else 0
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
        allow_truncated=False,
    ):
        """Updates the modem behind ``port`` with ``ffile``; True on success (see the
        module's docstring for every argument)."""
        print("<<< Welcome to the SQN3330 firmware updater [%s] >>>" % VERSION)
        options = _options(force_fff, load_fff, resume, verbose, debug, fc, allow_truncated)
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
