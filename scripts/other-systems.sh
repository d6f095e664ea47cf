#!/usr/bin/env bash
# other-systems.sh: the computer side on the systems users update from, built here.
#   - Windows (x86_64-pc-windows-gnu, Debian's rustc-web with its std source and the
#     MinGW-w64 linker): build/windows/x86_64-pc-windows-gnu/release/sqnsupgrade.exe; the
#     engine's and the host crate's unit tests built for Windows and run under wine, and
#     the .exe updating the simulator through a wine COM port (tests/python/
#     test_windows.py). Debian's wine lacks bcryptprimitives.dll, which Rust's std needs
#     (../shared/spec/CROSS.md): tests/windows/bcryptprimitives.c supplies its one
#     function inside the wine prefix (build/wine), never beside the programs;
#   - macOS (x86_64-apple-darwin): the host crate type-checked (linking needs Apple's SDK).
# Everything under build/, so target/ (the user's builds) is untouched.
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO=${CARGO:-cargo}
export RUSTC=${SQN_CROSS_RUSTC:-/usr/bin/rustc} RUSTC_BOOTSTRAP=1
log() { echo "other-systems: $*"; }

log "Windows: the sqnsupgrade command"
"$CARGO" build --release -p sqnsupgrade-host --bin sqnsupgrade -Zbuild-std=std,panic_abort \
    --target x86_64-pc-windows-gnu --target-dir build/windows
exe=build/windows/x86_64-pc-windows-gnu/release/sqnsupgrade.exe
file "$exe" | grep -q "PE32+ executable" || { echo "other-systems: $exe is not a Windows executable" >&2; exit 1; }
log "built $exe ($(stat -c %s "$exe") bytes)"

log "Windows: the engine's and the host crate's unit tests"
tests=$("$CARGO" test --no-run -p sqnsupgrade -p sqnsupgrade-host --lib -Zbuild-std \
    --target x86_64-pc-windows-gnu --target-dir build/windows --message-format=json |
    python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        print(m["executable"])')
[ "$(echo "$tests" | wc -l)" -eq 2 ] || { echo "other-systems: expected two test programs, got: $tests" >&2; exit 1; }

# wine, with a prefix of our own and the one DLL Debian's wine lacks.
WINE=${SQN_WINE:-/usr/lib/wine/wine64}
WINESERVER=${SQN_WINESERVER:-/usr/lib/wine/wineserver64}
export WINEPREFIX="$PWD/build/wine" WINEDEBUG=-all
if [ ! -f "$WINEPREFIX/system.reg" ]; then
    log "creating the wine prefix $WINEPREFIX"
    "$WINE" cmd /c ver >/dev/null 2>&1 || true
fi
[ -d "$WINEPREFIX/drive_c/windows/system32" ] || { echo "other-systems: wine did not create $WINEPREFIX" >&2; exit 1; }
x86_64-w64-mingw32-gcc -shared -O2 -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" \
    tests/windows/bcryptprimitives.c -ladvapi32
trap '"$WINESERVER" -k >/dev/null 2>&1 || true' EXIT

for t in $tests; do
    log "Windows (wine): $(basename "$t")"
    "$WINE" "$t" -q
done

log "Windows (wine): the .exe against the simulator through a COM port"
"$CARGO" build -q -p sqnsim
SQN_REQUIRE_WINDOWS=1 SQN_WINE="$WINE" SQN_WINDOWS_EXE="$PWD/$exe" \
    python3 -m pytest -q tests/python/test_windows.py

log "macOS: the host crate, type-checked"
"$CARGO" check -p sqnsupgrade-host --lib --bins -Zbuild-std=std,panic_abort \
    --target x86_64-apple-darwin --target-dir build/macos
log "ok"
