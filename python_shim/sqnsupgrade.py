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
block_size=2016, size=None, name=None, progress=None, allow_truncated=False,
reply_timeout=0, sha256=None, wdt=None, alive=None)``
    The whole update. ``ffile`` is a path (``/sd/...`` mounts the SD card), an
    ``http://`` or ``https://`` URL (https where the firmware has ssl; redirects
    followed; the body streamed, nothing stored), or any readable object (the stream
    protocol, or a ``readinto(buf)`` or ``read(n)`` method) with ``size=`` (and ``name=``
    to recognise an upgdiff). ``sha256`` (64 hex digits): the image is checked before
    the modem commits to it (FFF: after the transfer, before AT+SMUPGRADE; ON_THE_FLY:
    read whole once before anything changes the modem, which a plain stream cannot).
    ``mfile`` is updater.elf, ``bootrom`` the bootrom package. ``progress(done, total)`` is
    called after each block. ``hangup`` gives the modem UART back to the LTE driver at
    the end. Returns True/False; on failure prints ``error:``, ``hint:``, ``modem:``,
    ``next:``. An exception from a stream or the callback (KeyboardInterrupt from Ctrl-C
    too) ends the update cleanly and is raised again.
``ensure(source, build, sha256=None, record='/flash/sqnsupgrade.json', tries=3, ...)``
    The update from main.py, done once: nothing when the modem runs ``build``; else one
    attempt with the image the engine chooses among ``source`` (a path, URL or stream; a
    folder of .dup files; a dict ``{from_build: source, 'full': source}``), recorded in
    ``record`` (a JSON file, a dict, or None) before and after it, so that the next boot
    continues, and that it stops after ``tries``. Returns ``last_result()``.
``wdt=`` (a machine.WDT) and ``alive=`` (a callable), on every call: called at least
    every 250 ms while the call runs, the shim's own network waits included.
``info(verbose=False, debug=False, hangup=True, ...)``, ``state(...)`` → 0-4 or None,
``imei(...)``, ``load(mfile, ...)``, ``uart(ffh_mode=False, mfile=None, color=0x050505,
...)`` (prepare, then mirror mode), ``last_result()`` → dict with the same keys as on
a computer: ``ok`` (bool), ``status`` (0 success, 1 modem failure, 2 bad input, 3 busy,
130 stopped), ``command``, ``state_before``, ``state_after`` (state numbers or None),
``modem_changed`` (bool), ``method`` ('FFF', 'ON_THE_FLY' or None), ``build_before``,
``build_after`` (software builds, e.g. 38638, or None), ``firmware`` (the LR line, e.g.
'LR5.1.1.0-41065', or ''), ``imei`` (or ''), ``bytes`` (bytes the modem acknowledged),
``seconds``, ``error``, ``hint``, ``modem``, ``next`` (the failure lines, '' on success).
``Updater(port=, uart=, progress=, quiet=, wdt=, alive=)``: ``prepare(ffile, ...)`` then
``go()``: the call that allocates nothing, for use under ``micropython.heap_lock()``.
"""

import sys

_MICROPYTHON = sys.implementation.name == "micropython"

if _MICROPYTHON:
    # ---- MicroPython: the board (and the unix port) -------------------------------
    # Everything here only gathers the link and the files and hands them to the Rust
    # engine in the native module `_sqnsupgrade`; every decision is made there.
    import os
    import time
    import _sqnsupgrade as _native

    VERSION = "0.1.0"

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

    def _module(*names):
        # The first of these modules the firmware has (hashlib or uhashlib...), or None.
        for n in names:
            try:
                return __import__(n)
            except ImportError:
                pass
        return None

    def _errno(e):
        a = e.args[0] if e.args else None
        return abs(a) if isinstance(a, int) else 5

    def _is_url(spec):
        return isinstance(spec, str) and (spec[:7] == "http://" or spec[:8] == "https://")

    def _alive(wdt, alive):
        """(what the engine calls, what the shim's own waits call): wdt.feed, which the
        glue loads and calls without allocating, and/or the alive callable."""
        if wdt is None:
            return alive, alive
        if alive is None:
            return (wdt, "feed"), wdt.feed

        def both():
            wdt.feed()
            alive()

        return both, both

    # ---- http:// and https:// images: a small client; the engine words every failure
    _SLICE = 0.25       # the longest wait on a socket (s): the alive callable runs between
    _QUIET_MS = 30000   # a server silent this long: its body ends there (connects: gives up)
    _AGAIN = (11, 110, 114, 115)  # EAGAIN, ETIMEDOUT, EALREADY, EINPROGRESS: wait again
    _REDIRECTS = 5

    def _read(s, buf, alive):
        """What the socket has (0 at its end, None after _QUIET_MS of silence), waiting in
        slices of _SLICE with the alive callable between them."""
        start = time.ticks_ms()
        while True:
            try:
                n = s.readinto(buf)
            except OSError as e:
                if _errno(e) not in _AGAIN:
                    raise
                n = None
            if n is not None:
                return n
            if alive:
                alive()
            if time.ticks_diff(time.ticks_ms(), start) > _QUIET_MS:
                return None

    def _connect(s, addr, alive):
        start = time.ticks_ms()
        while True:
            try:
                s.connect(addr)
                return
            except OSError as e:
                c = _errno(e)
                if c == 106:  # EISCONN: an earlier try got through
                    return
                if c not in _AGAIN:
                    raise
                if time.ticks_diff(time.ticks_ms(), start) > _QUIET_MS:
                    raise OSError(110)  # ETIMEDOUT
            if alive:
                alive()

    def _head(s, alive):
        """The status, Content-Length (None: not sent) and Location of a response."""
        status, length, where, line, one = 0, None, None, b"", bytearray(1)
        while len(line) < 2048:
            n = _read(s, one, alive)
            if n is None:
                raise OSError(110)  # ETIMEDOUT: a server that does not answer
            if not n:
                break
            if one[0] != 10:
                line += one
                continue
            line = line.strip()
            if not line:
                break
            try:
                text = str(line, "utf-8")
                if not status:
                    status = int(text.split()[1])
                else:
                    key, _, value = text.partition(":")
                    key = key.strip().lower()
                    if key == "content-length":
                        length = int(value)
                    elif key == "location":
                        where = value.strip()
            except Exception:
                pass  # not a line we need (or a status that is not a number: 0)
            line = b""
        return status, length, where

    def _get(url, alive):
        """Asks for url, following up to _REDIRECTS redirects: (the socket at the start of
        the body, its Content-Length, the final URL), or the OPEN_* code to pass on."""
        for _ in range(_REDIRECTS + 1):
            scheme, _, rest = url.partition("://")
            host, _, path = rest.partition("/")
            tls = scheme == "https"
            if not tls and scheme != "http":
                return _native.OPEN_REDIRECTS
            ssl = _module("ssl", "ussl") if tls else None
            if tls and ssl is None:
                return _native.OPEN_NO_TLS
            name, _, port = host.partition(":")
            socket = _module("socket", "usocket")
            s = None
            try:
                addr = socket.getaddrinfo(name, int(port or (443 if tls else 80)))[0][-1]
                s = socket.socket()
                s.settimeout(_SLICE)
                _connect(s, addr, alive)
                if tls:
                    s = ssl.wrap_socket(s, server_hostname=name)
                s.write(("GET /%s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n"
                         % (path, host)).encode())
                status, length, where = _head(s, alive)
            except OSError as e:
                if s:
                    s.close()
                return _native.OPEN_NO_SERVER + _errno(e)
            if 300 < status < 309 and where:
                s.close()
                if where[:1] == "/":
                    where = scheme + "://" + host + where
                elif "://" not in where:
                    where = url.rpartition("/")[0] + "/" + where
                url = where
                continue
            if status != 200:
                s.close()
                return _native.OPEN_HTTP_STATUS + status
            if length is None:
                s.close()
                return _native.OPEN_NO_LENGTH
            return s, length, url
        return _native.OPEN_REDIRECTS

    class _Url:
        """The body of an http(s) URL, read as it arrives (nothing buffered)."""

        def __init__(self, url, alive):
            self.url, self.alive, self.s, self.size = url, alive, None, 0

        def open(self):
            got = _get(self.url, self.alive)
            if isinstance(got, int):
                return got
            self.s, self.size, self.url = got
            return 0

        def readinto(self, buf):
            if len(buf) > 1024:  # short reads: a slow server never holds one long
                buf = memoryview(buf)[:1024]
            return _read(self.s, buf, self.alive) or 0  # silent too long: it ends there

        def rewind(self):
            # The same body again, from its start (the second read of a digest check).
            size = self.size
            self.close()
            if self.open() or self.size != size:
                raise OSError(5)

        def close(self):
            if self.s:
                self.s.close()
                self.s = None

    class _Digest:
        """An image that hashes what it reads and confirms its SHA-256 when the engine
        asks (_sqn_confirm): ahead=False, what was read; ahead=True (before anything
        changes the modem), the whole image: it reads on to the end once, then goes back
        to where reading was (a file seeks, a URL is asked again). 0 the same, 1 it
        differs, 2 it can be read only once (a stream)."""

        def __init__(self, src, size, want, alive):
            self.src, self.size, self.want, self.alive = src, size, want, alive
            self._start()

        def _start(self):
            self.h = _module("hashlib", "uhashlib").sha256()
            self.pos = 0

        def readinto(self, buf):
            src = self.src
            if hasattr(src, "readinto"):
                n = src.readinto(buf)
            else:
                data = src.read(len(buf))
                n = min(len(data), len(buf)) if data else 0
                buf[:n] = data[:n]
            if n:
                self.h.update(memoryview(buf)[:n])
                self.pos += n
            return n

        def _upto(self, end):
            buf = memoryview(bytearray(1024))
            while self.pos < end:
                if not self.readinto(buf[:min(1024, end - self.pos)]):
                    return
                if self.alive:
                    self.alive()

        def _sqn_confirm(self, ahead):
            src = self.src
            if ahead:
                if not hasattr(src, "rewind") and not hasattr(src, "seek"):
                    return 2
                at = self.pos
                self._upto(self.size)
                same = self.h.digest() == self.want
                if hasattr(src, "rewind"):
                    src.rewind()
                else:
                    src.seek(0)
                self._start()
                self._upto(at)
                if self.pos != at:
                    raise OSError(5)
                return 0 if same else 1
            return 0 if self.h.digest() == self.want else 1

        def close(self):
            self.src.close()

    def _digest(text):
        """The 32 bytes a SHA-256 given as 64 hex digits names, or None."""
        try:
            if len(text) == 64:
                return _module("binascii", "ubinascii").unhexlify(text)
        except Exception:
            pass
        return None

    def _image(spec, size=None, name=None, sha256=None, alive=None):
        """(source, size, name, is_path) for the engine: spec is a path, an http(s) URL or
        a stream; (None, -code, name, is_path) when it cannot be opened (an errno or an
        OPEN_* code: the engine words the error). With sha256, the source hashes what it
        reads (_Digest)."""
        if spec is None:
            return None
        path = isinstance(spec, str)
        label = spec if path else (name or "")
        want = None
        if sha256 is not None:
            want = _digest(sha256)
            if want is None:
                return (None, -_native.OPEN_BAD_SHA256, label, path)
        if _is_url(spec):
            src = _Url(spec, alive)
            code = src.open()
            if code:
                return (None, -code, spec, True)
            size = src.size
        elif path:
            _mount_sd_for(spec)
            try:
                size = os.stat(spec)[6]
                src = open(spec, "rb")
            except OSError as e:
                return (None, -_errno(e), spec, True)
        else:
            src = spec
            if size is None:
                size = getattr(spec, "size", None)
            if size is None:
                raise ValueError("a stream needs its size: pass size=")
            if not hasattr(spec, "readinto") and not hasattr(spec, "read"):
                want = None  # the engine refuses it, and says what it needs
        if want is not None:
            src = _Digest(src, size, want, alive)
        return (src, size, label, path)

    def _welcome():
        # The welcome line is the engine's (its catalogue's, as on a computer).
        _native.welcome()
        try:
            u = os.uname()
            if u.sysname in _PINS:
                print(">>> %s with firmware version %s" % (u.sysname, u.release))
        except Exception:
            pass

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
        2 bad input, 130 cancelled): ``go()`` works under ``micropython.heap_lock()`` with
        a path or a stream (a URL or ``sha256=`` read through Python code, which
        allocates). ``wdt=`` (a machine.WDT, fed without allocating) and ``alive=`` (a
        callable) are called at least every 250 ms. ``last_result()`` tells the outcome.
        """

        def __init__(self, port=None, uart=None, baudrate=921600, debug=False,
                     verbose=False, progress=None, quiet=False, wdt=None, alive=None):
            self.link = _link(port, uart, baudrate)
            engine_alive, self._alive = _alive(wdt, alive)
            # The engine's options by name (src/report/call.rs has them all): the link's,
            # then each call's (prepare, ensure).
            self._link_opts = {"baud": self.link.baud, "progress": progress,
                               "alive": engine_alive, "print": not quiet, "debug": debug,
                               "verbose": verbose, "baudrate": baudrate, "port": port}
            self._opened = []
            self._command = "state"
            self._opts = self._link_opts

        def prepare(self, ffile=None, mfile=None, bootrom=None, command="run", size=None,
                    name=None, load_fff=True, force_fff=False, resume=False,
                    block_size=2016, reply_timeout=0, ffh_mode=False,
                    allow_truncated=False, sha256=None):
            """Opens the files and URLs (or takes the streams) and builds the engine's
            arguments. The engine checks every option (``block_size=None`` is the
            session's max)."""
            self.close_images()
            a = self._alive
            images = (_image(ffile, size, name, sha256, a), _image(mfile, alive=a),
                      _image(bootrom, alive=a))
            self._opened = [
                img[0] for img, spec in zip(images, (ffile, mfile, bootrom))
                if isinstance(spec, str) and img[0] is not None
            ]
            self._command = command
            # The user's two flags as given: the engine decides, and refuses both at once.
            self._opts = dict(self._link_opts, firmware=images[0], updater=images[1],
                              bootrom=images[2], fff=force_fff, on_the_fly=not load_fff,
                              block_size=0 if block_size is None else block_size,
                              reply_timeout=reply_timeout, resume=resume,
                              ffh_mode=ffh_mode, allow_truncated=allow_truncated)

        def decide(self, build, tries, max_tries, names):
            """Prepares ensure()'s decision: nothing to do, which of ``names``, or no more
            tries."""
            self.close_images()
            self._command = "ensure"
            self._opts = dict(self._link_opts, target=build, tries=tries,
                              max_tries=max_tries, names=names)

        def go(self):
            """Runs the prepared command; returns the status. Allocates nothing."""
            return _native.call(self._command, self.link.stream, self._opts)

        def close_images(self):
            for f in self._opened:
                f.close()
            self._opened = []

        def close(self):
            self.close_images()
            self.link.close()

    def _call(command, port, uart, baudrate, debug, verbose, hangup, wdt=None, alive=None,
              quiet=False, **prep):
        u = Updater(port=port, uart=uart, baudrate=baudrate, debug=debug, verbose=verbose,
                    progress=prep.pop("progress", None), quiet=quiet, wdt=wdt, alive=alive)
        try:
            u.prepare(command=command, **prep)
            status = u.go()
        finally:
            u.close()
            if hangup and port is None and uart is None:
                _reconnect_lte()
        return status, _native.result()

    # On failure the engine itself prints the four lines (error, hint, modem, next),
    # Ctrl-C included; these functions only return what it decided.

    def run(ffile, mfile=None, baudrate=921600, verbose=False, debug=False, load_fff=True,
            hangup=True, force_fff=False, port=None, uart=None, bootrom=None, resume=False,
            block_size=2016, size=None, name=None, progress=None, allow_truncated=False,
            reply_timeout=0, sha256=None, wdt=None, alive=None):
        """Updates the modem with ``ffile``: a path, an http:// or https:// URL, or a
        stream with ``size=``.

        ``mfile`` is updater.elf (recovery mode), ``bootrom`` the bootrom package
        (bootloader 33080). ``sha256`` (64 hex digits): the image is checked before the
        modem commits to it. Returns True on success; ``last_result()`` tells more.
        """
        _welcome()
        status, d = _call("run", port, uart, baudrate, debug, verbose, hangup, wdt, alive,
                          ffile=ffile, mfile=mfile, bootrom=bootrom, size=size, name=name,
                          load_fff=load_fff, force_fff=force_fff, resume=resume,
                          block_size=block_size, progress=progress,
                          allow_truncated=allow_truncated, reply_timeout=reply_timeout,
                          sha256=sha256)
        return status == 0

    def info(verbose=False, debug=False, hangup=True, port=None, uart=None, baudrate=921600,
             wdt=None, alive=None):
        """Prints the modem's state, and in application mode its versions and IMEI."""
        _welcome()
        status, d = _call("info", port, uart, baudrate, debug, verbose, hangup, wdt, alive)
        return status == 0

    def state(port=None, uart=None, baudrate=921600, debug=False, hangup=True, wdt=None,
              alive=None):
        """The modem's state number (0 recovery, 1 mTools, 2 application, 4 upgrade) or None."""
        status, d = _call("state", port, uart, baudrate, debug, False, hangup, wdt, alive)
        return d["state_after"] if status == 0 else None

    def imei(port=None, uart=None, baudrate=921600, debug=False, hangup=True, wdt=None,
             alive=None):
        """The modem's IMEI (application mode), or None."""
        status, d = _call("info", port, uart, baudrate, debug, False, hangup, wdt, alive,
                          quiet=True)
        return (d["imei"] or None) if status == 0 else None

    def load(mfile, baudrate=921600, verbose=False, debug=False, hangup=True, port=None,
             uart=None, wdt=None, alive=None):
        """Loads updater.elf into a modem in recovery mode (it goes to mTools mode)."""
        _welcome()
        status, d = _call("load", port, uart, baudrate, debug, verbose, hangup, wdt, alive,
                          mfile=mfile)
        return status == 0

    def uart(ffh_mode=False, mfile=None, color=0x050505, verbose=False, debug=False,
             hangup=True, port=None, uart=None, baudrate=921600, wdt=None, alive=None):
        """Prepares the modem, then bridges the USB serial port to it (mirror mode), so that
        a computer can run ``sqnsupgrade.run(port, file)``."""
        _welcome()
        status, d = _call("uart", port, uart, baudrate, debug, verbose, False, wdt, alive,
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

    # ---- ensure(): the update from main.py, done once -----------------------------

    def _sources(source, build, name):
        """The image names ensure() gives the engine to choose among, and their sources."""
        if isinstance(source, dict):
            names = []
            for key, src in source.items():
                if key == "full":
                    names.append(src if isinstance(src, str) and src[-4:].lower() == ".dup"
                                 else "full.dup")
                else:
                    names.append("upgdiff_%d-to-%d.dup" % (int(key), build))
            return names, list(source.values())
        if isinstance(source, str) and not _is_url(source):
            _mount_sd_for(source)
            try:
                files = sorted(source.rstrip("/") + "/" + f for f in os.listdir(source)
                               if f[-4:].lower() == ".dup")
                return files, files
            except OSError:
                pass  # not a folder: one image
        return [source if isinstance(source, str) else (name or "full.dup")], [source]

    def _now():
        # Seconds: the clock's (since 1970 or 2000, or since boot without a set clock); a
        # board whose time module has no time(): since boot.
        t = getattr(time, "time", None)
        return int(t()) if t else time.ticks_ms() // 1000

    def _load(record):
        if isinstance(record, dict):
            return record
        try:
            with open(record) as f:
                r = _module("json", "ujson").loads(f.read())
            if isinstance(r.get("tries"), int):
                return r
        except Exception:
            pass  # none yet, or unreadable: start afresh
        return {}

    def _save(record, rec):
        if not isinstance(record, str):
            return
        try:
            _mount_sd_for(record)
            with open(record, "w") as f:
                f.write(_module("json", "ujson").dumps(rec))
        except OSError:
            pass  # no room, no /flash: ensure() goes on without its record

    def ensure(source, build, sha256=None, record="/flash/sqnsupgrade.json", tries=3,
               port=None, uart=None, wdt=None, alive=None, baudrate=921600, verbose=False,
               debug=False, hangup=True, size=None, name=None, progress=None, load_fff=True,
               force_fff=False, block_size=2016):
        """Makes sure the modem runs ``build``: does nothing when it already does, else
        one update attempt with the image the engine chooses. Returns ``last_result()``.

        ``source``: a path, an http(s) URL or a stream (``size=``, ``name=``): one image;
        a folder: its ``.dup`` files; a dict ``{from_build: source, 'full': source}``,
        whose entries are named ``upgdiff_<from_build>-to-<build>.dup`` and the full
        image's own ``.dup`` name (else ``full.dup``): the engine chooses as in a vendor
        package (the upgdiff from the modem's build in application mode, else the full
        image). 1 to 8 images. ``sha256``: the hex SHA-256 of a single image, or a dict of
        them by key (a folder's or a URL's: by file name), checked before the modem
        commits to the image.

        ``record``: a JSON file (or a dict, kept in memory, for boards without a
        filesystem; None: none) with ``target``, ``tries``, ``started``, ``finished``,
        ``status``, ``state``, ``build``, written before each attempt and after it, so that
        the next boot after a reset (brown-out, watchdog) continues, and that after
        ``tries`` attempts it stops and says so. One attempt per call, never a loop.
        ``wdt`` (a machine.WDT) and ``alive`` (a callable) are called at least every
        250 ms, the shim's own network waits included.
        """
        _welcome()
        names, sources = _sources(source, build, name)
        rec = _load(record)
        if rec.get("target") != build or not isinstance(rec.get("tries"), int):
            rec.clear()
            rec.update(target=build, tries=0)
        u = Updater(port=port, uart=uart, baudrate=baudrate, debug=debug, verbose=verbose,
                    progress=progress, wdt=wdt, alive=alive)
        try:
            u.decide(build, rec["tries"], tries, names)
            status = u.go()
            choice = _native.result()["choice"]
            if status == 0 and choice is None:
                if rec.get("status") != 0:  # nothing to do: noted once
                    rec.update(status=0, state=2, build=build)
                    _save(record, rec)
            elif status == 0:
                rec.update(tries=rec["tries"] + 1, started=_now(), finished=None,
                           status=None)
                _save(record, rec)
                src = sources[choice]
                sha = sha256
                if isinstance(sha256, dict):
                    sha = sha256.get(list(source)[choice] if isinstance(source, dict)
                                     else src.rpartition("/")[2])
                ran = False
                try:
                    u.prepare(src, size=size, name=names[choice], load_fff=load_fff,
                              force_fff=force_fff, block_size=block_size, sha256=sha)
                    ran = True
                    u.go()
                finally:
                    d = _native.result()
                    if ran:
                        rec.update(finished=_now(), status=d["status"],
                                   state=d["state_after"], build=d["build_after"])
                        _save(record, rec)
        finally:
            u.close()
            if hangup and port is None and uart is None:
                _reconnect_lte()
        return _native.result()

    def last_result():
        """The outcome of the last call (None before the first), as a dict with the same
        keys and values as on a computer, from the engine: ok, status, command,
        state_before, state_after (0-4 or None), modem_changed, method, build_before,
        build_after, firmware, imei, bytes, seconds, error, hint, modem, next, choice."""
        return _native.result()

else:
    # CPython: the computer's module is the package built from this repository.
    raise ImportError(
        "sqnsupgrade: this file is the board's module (MicroPython). On a computer, install "
        "the sqnsupgrade package instead: `pip install .` in the sqnsupgrade folder (Rust "
        "and cargo needed), then `import sqnsupgrade` or run the `sqnsupgrade` command."
    )
