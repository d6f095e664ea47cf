#!/usr/bin/env bash
# other-systems.sh: the computer side on the systems users update from, built here.
#   - Windows (x86_64-pc-windows-gnu, Debian's rustc-web with its std source and the
#     MinGW-w64 linker): build/windows/x86_64-pc-windows-gnu/release/sqnsupgrade.exe, and
#     the host crate's unit tests compiled for Windows (they cannot run here: Debian's wine
#     lacks a DLL Rust's std needs, see ../shared/spec/CROSS.md);
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

log "Windows: the host crate's unit tests, compiled"
"$CARGO" test --no-run -p sqnsupgrade-host --lib -Zbuild-std \
    --target x86_64-pc-windows-gnu --target-dir build/windows

log "macOS: the host crate, type-checked"
"$CARGO" check -p sqnsupgrade-host --lib --bins -Zbuild-std=std,panic_abort \
    --target x86_64-apple-darwin --target-dir build/macos
log "ok"
