#!/usr/bin/env bash
# bench.sh: transfer figures for the README (not a test). Needs `make build micropython`.
# Prints, for a 5,996,938-byte image (the size of CATM1-38638.dup):
#  - the CLI against the simulator without wire pacing (engine + pty overhead),
#  - the CLI with the simulator pacing the wire at 921600 baud, 2016-byte and max blocks,
#  - the MicroPython unix port (the module) without pacing and paced at 921600 baud (the
#    module waits on the link's readiness, no fixed sleeps: compare with the paced CLI).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=target/release
MP=${SQN_MICROPYTHON:-build/micropython-sqn}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
img=$work/CATM1-38638.dup
$BIN/sqnsim --write-image "$img" --image-size 5996938 --image-description CATM1-41065 >/dev/null

start_sim() {
    # No erase and finish pauses: the figures are the transfer's, not the modem's waits.
    $BIN/sqnsim --record "$work/rec$1" --exit-after-ms 900000 --erase-ms 0 --finish-ms 0 "${@:2}" > "$work/sim$1.json" &
    for _ in $(seq 50); do [ -s "$work/sim$1.json" ] && break; sleep 0.1; done
    python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['pty'])" "$work/sim$1.json"
}

measure() { # label, then the command
    local label=$1; shift
    local t0 t1
    t0=$(date +%s.%N)
    "$@" > "$work/out.txt" 2>&1 || { echo "$label: FAILED"; tail -5 "$work/out.txt"; return; }
    t1=$(date +%s.%N)
    printf '%-58s %7.1f s\n' "$label" "$(echo "$t1 - $t0" | bc)"
}

pty=$(start_sim 1 --upgrade-ms 100)
measure "CLI, ON_THE_FLY, no pacing, 2016-byte blocks" $BIN/sqnsupgrade --port "$pty" run "$img"
pty=$(start_sim 2 --baud-pacing --upgrade-ms 100)
measure "CLI, ON_THE_FLY, paced at 921600 baud, 2016-byte blocks" $BIN/sqnsupgrade --port "$pty" run "$img"
pty=$(start_sim 3 --baud-pacing --upgrade-ms 100)
measure "CLI, ON_THE_FLY, paced at 921600 baud, 8176-byte blocks" $BIN/sqnsupgrade --port "$pty" run "$img" --block-size max
if [ -x "$MP" ]; then
    pty=$(start_sim 4 --upgrade-ms 100)
    cat > "$work/mp.py" <<'PY'
import sys, sqnsupgrade
sys.exit(0 if sqnsupgrade.run(sys.argv[2], port=sys.argv[1]) else 1)
PY
    measure "MicroPython unix port, ON_THE_FLY, no pacing" env MICROPYPATH=python_shim "$MP" "$work/mp.py" "$pty" "$img"
    pty=$(start_sim 5 --baud-pacing --upgrade-ms 100)
    measure "MicroPython unix port, ON_THE_FLY, paced at 921600 baud" env MICROPYPATH=python_shim "$MP" "$work/mp.py" "$pty" "$img"
fi
echo "wire time of 5,996,938 bytes at 921600 baud (10 bits a byte): 65.1 s"
kill $(jobs -p) 2>/dev/null || true
