"""sqnsupgrade: update the Sequans SQN3330 LTE modem of Pycom GPy, FiPy and G01 boards.

This file is the board's module (MicroPython, or its unix port): the familiar calls of
the field updater over the native module ``_sqnsupgrade`` compiled into the firmware
(mpy_glue/), driven by the Rust engine.

On a computer (CPython, "the USB method") the same calls come from the Python package
built from this repository: ``pip install .`` in the sqnsupgrade folder, then put the
board in mirror mode from its REPL (``import sqnsupgrade; sqnsupgrade.uart()``), close
that terminal, and::

    import sqnsupgrade
    sqnsupgrade.run('/dev/ttyUSB0', 'CATM1-41065.dup')

Imported by CPython, this file says so (ImportError).

MicroPython API (``port=`` a device path on the unix port, ``uart=`` a ready stream
object; without either, UART 1 with the GPy or FiPy/G01 pins from ``os.uname()``):

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
a computer: ``ok`` (bool), ``status`` (0 success, 1 modem failure, 2 bad input, 3 busy,
130 stopped), ``command``, ``state_before``, ``state_after`` (state numbers or None),
``modem_changed`` (bool), ``method`` ('FFF', 'ON_THE_FLY' or None), ``build_before``,
``build_after`` (software builds, e.g. 38638, or None), ``firmware`` (the LR line, e.g.
'LR5.1.1.0-41065', or ''), ``imei`` (or ''), ``bytes`` (bytes the modem acknowledged),
``seconds``, ``error``, ``hint``, ``modem``, ``next`` (the failure lines, '' on success).
``Updater(port=, uart=, progress=, quiet=)``: ``prepare(ffile, ...)`` then ``go()``: the
call that allocates nothing, for use under ``micropython.heap_lock()``.
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

    _COMMANDS = {1: "run", 2: "info", 3: "state", 4: "load", 5: "uart", 6: "ensure"}
    _METHODS = {1: "FFF", 2: "ON_THE_FLY"}

    def _result_dict():
        # The engine's record, with the same keys as on a computer.
        (status, command, before, after, changed, method, build_before, build_after,
         firmware, imei, nbytes, millis, error, hint, modem, nxt, _choice) = _native.result()
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
    # CPython: the computer's module is the package built from this repository.
    raise ImportError(
        "sqnsupgrade: this file is the board's module (MicroPython). On a computer, install "
        "the sqnsupgrade package instead: `pip install .` in the sqnsupgrade folder (Rust "
        "and cargo needed), then `import sqnsupgrade` or run the `sqnsupgrade` command."
    )
