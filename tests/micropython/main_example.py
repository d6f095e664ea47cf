# main.py of a deployed GPy or FiPy: the modem is kept at BUILD, updated once from the
# network (the record in /flash survives a reset), under a hardware watchdog.
import machine
import network
import time
import sqnsupgrade

WIFI = ('my-network', 'my-password')
IMAGE = 'http://192.168.1.10:8000/CATM1-41065.dup'   # https:// where the firmware has ssl
SHA256 = '0000000000000000000000000000000000000000000000000000000000000000'  # sha256sum's
BUILD = 41065

wdt = machine.WDT(timeout=20000)   # resets the board when nothing feeds it for 20 s

wlan = network.WLAN(mode=network.WLAN.STA)
wlan.connect(WIFI[0], auth=(network.WLAN.WPA2, WIFI[1]))
for _ in range(300):               # up to 30 s for the network
    if wlan.isconnected():
        break
    wdt.feed()
    time.sleep_ms(100)

if wlan.isconnected():
    # Nothing is sent to the modem when it runs BUILD already. Else one attempt: the
    # image the engine chooses, checked against SHA256 before the modem commits to it;
    # after 3 attempts (record='/flash/sqnsupgrade.json') it stops and says so. The
    # module feeds wdt at least every 250 ms, its network waits included.
    result = sqnsupgrade.ensure(IMAGE, BUILD, sha256=SHA256, wdt=wdt)
    if not result['ok']:
        print('modem update:', result['error'], '| next:', result['next'])

# ... the application (it feeds wdt too)
