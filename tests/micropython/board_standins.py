# What a Pycom board has and the unix port lacks, so that a board's main.py runs here as
# it is (tests/python/test_micropython_unattended.py runs docs/BOARD.md's main.py with
# these): machine.WDT (it records how long it went without a feed), machine.UART(1) (the
# simulator's pty, named by the environment variable SQN_MODEM), network.WLAN (connected
# at once), network.LTE.reconnect_uart (counted), /flash (a folder of this computer), and
# os.uname() naming a GPy, so that the shim takes UART 1 with the GPy's pins as on a board.
import io
import os
import sys
import termios
import time


class WDT:
    last = None  # the one made, for the runner

    def __init__(self, id=0, timeout=5000):
        self.timeout = timeout
        self.feeds = 0
        self.gap = 0
        self.at = time.ticks_ms()
        WDT.last = self

    def feed(self):
        now = time.ticks_ms()
        self.gap = max(self.gap, time.ticks_diff(now, self.at))
        self.at = now
        self.feeds += 1


class UART(io.IOBase):
    # The modem UART: the simulator's pty, its rate set with termios.
    def __init__(self, bus, baudrate=9600, pins=None, timeout_chars=2):
        self.pins = pins
        self.f = open(os.getenv("SQN_MODEM"), "r+b")
        self.fd = self.f.fileno()
        termios.setraw(self.fd)
        self.init(baudrate)

    def init(self, baudrate=9600, pins=None, timeout_chars=2):
        attrs = termios.tcgetattr(self.fd)
        attrs[4] = attrs[5] = getattr(termios, "B%d" % baudrate)
        termios.tcsetattr(self.fd, termios.TCSANOW, attrs)

    def ioctl(self, req, arg):
        return -22  # no poll: the glue waits on fileno()

    def readinto(self, buf):
        # One byte: the glue reads once the descriptor is readable, and a file's readinto
        # waits until the whole buffer is filled.
        return self.f.readinto(memoryview(buf)[:1])

    def write(self, buf):
        return self.f.write(buf)

    def fileno(self):
        return self.fd


class _Module:
    pass


class WLAN:
    STA = 1
    WPA2 = 3

    def __init__(self, mode=None):
        self.connected = False

    def connect(self, ssid, auth=None, timeout=None):
        self.connected = True

    def isconnected(self):
        return self.connected


class LTE:
    reconnects = 0

    @staticmethod
    def reconnect_uart():
        LTE.reconnects += 1


class _Uname:
    sysname = "GPy"
    release = "1.20.2.r6"


class _Os:
    # The real os, with the uname() of a GPy.
    def __getattr__(self, name):
        return getattr(os, name)

    def uname(self):
        return _Uname()


def install(flash):
    machine = _Module()
    machine.WDT = WDT
    machine.UART = UART
    network = _Module()
    network.WLAN = WLAN
    network.LTE = LTE
    sys.modules["machine"] = machine
    sys.modules["network"] = network
    sys.modules["os"] = _Os()
    os.mount(os.VfsPosix(flash), "/flash")
