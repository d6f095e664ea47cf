# Run by the unix-port micropython binary built with the module (see tests/python/
# test_micropython.py, which starts the simulator and checks what it recorded).
# usage: micropython scenario.py NAME PTY [ARGS...]
import sys
import io
import micropython
import sqnsupgrade

name = sys.argv[1]
pty = sys.argv[2]
args = sys.argv[3:]


def show(tag, value):
    print("@@%s=%r" % (tag, value))


if name == "run":
    ok = sqnsupgrade.run(args[0], port=pty)
    show("ok", ok)
    show("result", sqnsupgrade.last_result())

elif name == "run_on_the_fly":
    ok = sqnsupgrade.run(args[0], port=pty, load_fff=False)
    show("ok", ok)

elif name == "run_recovery":
    ok = sqnsupgrade.run(args[0], args[1], port=pty)
    show("ok", ok)

elif name == "state":
    show("state", sqnsupgrade.state(port=pty))

elif name == "info":
    show("ok", sqnsupgrade.info(port=pty))
    show("imei", sqnsupgrade.imei(port=pty))

elif name == "heap_lock":
    # The whole transfer with the MicroPython heap locked: any allocation would raise
    # MemoryError. Progress is printed by the engine and counted by a callback.
    seen = [0, 0]

    def progress(done, total):
        seen[0] = done
        seen[1] = total

    u = sqnsupgrade.Updater(port=pty, progress=progress)
    u.prepare(args[0], load_fff=False)
    micropython.heap_lock()
    try:
        status = u.go()
    finally:
        micropython.heap_unlock()
    u.close()
    show("status", status)
    show("progress", tuple(seen))
    show("result", sqnsupgrade.last_result())

elif name == "ctrl_c_progress":
    def progress(done, total):
        if done * 3 > total:
            raise KeyboardInterrupt

    try:
        sqnsupgrade.run(args[0], port=pty, load_fff=False, progress=progress)
        show("raised", None)
    except KeyboardInterrupt:
        show("raised", "KeyboardInterrupt")
    show("result", sqnsupgrade.last_result())
    show("state", sqnsupgrade.state(port=pty))

elif name == "ctrl_c_stream" or name == "stream_raises":
    data = open(args[0], "rb").read()
    exc = KeyboardInterrupt if name == "ctrl_c_stream" else ValueError

    class Failing(io.IOBase):
        def __init__(self):
            self.pos = 0

        def readinto(self, buf):
            if self.pos > len(data) // 2:
                raise exc("stream broke")
            n = min(len(buf), len(data) - self.pos)
            buf[:n] = data[self.pos:self.pos + n]
            self.pos += n
            return n

    try:
        sqnsupgrade.run(Failing(), port=pty, size=len(data), name="CATM1-41065.dup", load_fff=False)
        show("raised", None)
    except KeyboardInterrupt:
        show("raised", "KeyboardInterrupt")
    except ValueError as e:
        show("raised", "ValueError: " + str(e))
    show("result", sqnsupgrade.last_result())
    show("state", sqnsupgrade.state(port=pty))

elif name == "info_link_raises":
    # info() over a link whose reads raise: a failed link, not "stopped by the user".
    class BrokenLink(io.IOBase):
        def ioctl(self, req, arg):
            return 1 if req == 3 else 0  # MP_STREAM_POLL: readable

        def readinto(self, buf):
            raise ValueError("link broke")

        def write(self, buf):
            return len(buf)

    try:
        sqnsupgrade.info(uart=BrokenLink())
        show("raised", None)
    except ValueError as e:
        show("raised", "ValueError: " + str(e))
    except Exception as e:
        show("raised", type(e).__name__ + ": " + str(e))
    show("result", sqnsupgrade.last_result())

elif name == "state_fileno_link":
    # A link that answers no ioctl (neither MP_STREAM_POLL nor MP_STREAM_GET_FILENO) but
    # has fileno(), like the unix port's files in MicroPython 1.11: the glue must wait on
    # that descriptor. The link starts at 921600 baud, as the shim opens a port; a modem in
    # recovery mode listens at 115200 and does not answer that first "AT", so a read
    # without waiting for data would block for ever.
    import termios

    f = open(pty, "r+b")
    fd = f.fileno()
    termios.setraw(fd)

    def speed(rate):
        attrs = termios.tcgetattr(fd)
        attrs[4] = attrs[5] = getattr(termios, "B%d" % rate)
        termios.tcsetattr(fd, termios.TCSANOW, attrs)

    speed(921600)

    class FilenoLink(io.IOBase):
        def ioctl(self, req, arg):
            return -22  # EINVAL for every request

        def readinto(self, buf):
            # One byte: the glue reads only once the descriptor is readable, and a file's
            # readinto waits until the whole buffer is filled.
            return f.readinto(memoryview(buf)[:1])

        def write(self, buf):
            return f.write(buf)

        def fileno(self):
            return fd

        def init(self, baudrate):
            speed(baudrate)

    show("state", sqnsupgrade.state(uart=FilenoLink()))
    f.close()

elif name == "nested_call":
    # A progress callback calls the module again (refused: one call at a time), then Ctrl-C
    # stops the outer call: its record and its next step must still be its own.
    inner = []

    def progress(done, total):
        if not inner and done * 3 > total:
            inner.append(sqnsupgrade.run("/no/such/folder/an-inner-image.dup", port=pty))
            inner.append(sqnsupgrade.last_result())
        elif inner and done * 3 > 2 * total:
            raise KeyboardInterrupt

    try:
        sqnsupgrade.run(args[0], port=pty, load_fff=False, progress=progress)
        show("raised", None)
    except KeyboardInterrupt:
        show("raised", "KeyboardInterrupt")
    show("inner", inner)
    show("result", sqnsupgrade.last_result())

elif name == "bytesio":
    data = open(args[0], "rb").read()
    ok = sqnsupgrade.run(io.BytesIO(data), port=pty, size=len(data), name="CATM1-41065.dup")
    show("ok", ok)

elif name == "call":
    # ARGS: FILE: its code is run (exec; a file, as the unix port cannot take an argument
    # of 256 characters or more) with sqnsupgrade, pty, alive (records the longest gap between
    # its calls, from now to after the code), at_third (a progress callback that says
    # when a third is sent), WDT and the image classes below in scope; shows the `value`
    # it set (or what it raised), the result record and (calls, longest gap in ms).
    import time

    class Alive:
        def __init__(self):
            self.calls = 0
            self.gap = 0
            self.last = time.ticks_ms()

        def __call__(self):
            now = time.ticks_ms()
            self.gap = max(self.gap, time.ticks_diff(now, self.last))
            self.last = now
            self.calls += 1

    class WDT:
        # machine.WDT's feed, as ensure(wdt=...) calls it.
        def __init__(self):
            self.alive = Alive()

        def feed(self):
            self.alive()

    class ReadintoOnly:
        # readinto(buf) and nothing else: not an io.IOBase.
        def __init__(self, path):
            self.f = open(path, "rb")

        def readinto(self, buf):
            return self.f.readinto(buf)

    class ReadOnly:
        # read(n) and nothing else.
        def __init__(self, path):
            self.f = open(path, "rb")

        def read(self, n):
            return self.f.read(n)

    class Neither:
        size = 5000

    said = []

    def at_third(done, total):
        if not said and done * 3 > total:
            said.append(done)
            print("@@at=%d" % done)

    alive = Alive()
    scope = {"sqnsupgrade": sqnsupgrade, "pty": pty, "alive": alive, "at_third": at_third,
             "WDT": WDT, "ReadintoOnly": ReadintoOnly, "ReadOnly": ReadOnly,
             "Neither": Neither, "io": io}
    try:
        with open(args[0]) as f:
            exec(f.read(), scope)
        show("value", scope.get("value"))
    except Exception as e:
        show("raised", "%s: %s" % (type(e).__name__, e))
    alive = scope["alive"]  # the code may have put another one there (a WDT's)
    alive()
    show("result", sqnsupgrade.last_result())
    show("alive", (alive.calls, alive.gap))

elif name == "uart":
    # uart(ffh_mode, mfile): the preparation before mirror mode (the unix port has no
    # mirror: it says so after preparing).
    mfile = args[0] if args and args[0] != "-" else None
    show("ok", sqnsupgrade.uart(True, mfile, port=pty))
    show("state", sqnsupgrade.last_result()["state_after"])

elif name == "bad_input":
    # FIRMWARE [UPDATER|-] [fff]
    mfile = args[1] if len(args) > 1 and args[1] != "-" else None
    ok = sqnsupgrade.run(args[0], mfile, port=pty, force_fff=len(args) > 2)
    show("ok", ok)
    show("result", sqnsupgrade.last_result())

else:
    raise SystemExit("unknown scenario " + name)
