# usage: SQN_MODEM=PTY micropython run_main.py MAIN.py FLASH_DIR
# Runs a board's main.py on the unix port with the stand-ins of board_standins.py, then
# says what the watchdog saw (feeds, the longest time without one, in ms), how often the
# UART was given back to the LTE driver, and the result record.
import sys
import time
import board_standins

board_standins.install(sys.argv[2])
with open(sys.argv[1]) as f:
    code = f.read()
exec(code, {"__name__": "__main__"})
wdt = board_standins.WDT.last
wdt.feed()
print("@@wdt=%r" % ((wdt.feeds, wdt.gap),))
print("@@lte=%r" % board_standins.LTE.reconnects)
import sqnsupgrade

print("@@result=%r" % sqnsupgrade.last_result())
