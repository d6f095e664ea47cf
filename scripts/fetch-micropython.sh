#!/usr/bin/env bash
# fetch-micropython.sh DEST
#
# Fetch MicroPython's full source tree (Debian trixie source package
# `micropython`, with Debian's patches applied) into DEST.
#
# Idempotent: if DEST/py/obj.h already exists, nothing is done.
#
# The machine's own apt configuration is not touched: a private sources folder
# is made under <repo>/build/apt-src (override with APT_SRC_DIR), whose URIs:
# line is copied at run time from the machine's
# /etc/apt/sources.list.d/debian.sources (override with HOST_SOURCES).
# No registry host name is written in this script.
#
# Needs apt-get and dpkg-source (package dpkg-dev); when run as root, missing
# Debian packages (dpkg-dev, xz-utils) are installed with apt-get.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 DEST" >&2
    exit 2
fi

DEST=$1
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$SCRIPT_DIR/.." && pwd)
APT_SRC_DIR=${APT_SRC_DIR:-$REPO_DIR/build/apt-src}
HOST_SOURCES=${HOST_SOURCES:-/etc/apt/sources.list.d/debian.sources}
SUITE=${MICROPYTHON_SUITE:-trixie}
PKG=micropython

log() { echo "fetch-micropython: $*"; }

if [ -f "$DEST/py/obj.h" ]; then
    log "$DEST/py/obj.h exists; nothing to do"
    exit 0
fi

if [ -e "$DEST" ] && [ -n "$(ls -A "$DEST" 2>/dev/null)" ]; then
    echo "fetch-micropython: $DEST exists, is not empty and has no py/obj.h; remove it first" >&2
    exit 1
fi

# --- tools -----------------------------------------------------------------
need_pkgs=()
command -v apt-get >/dev/null 2>&1 || { echo "fetch-micropython: apt-get not found (Debian-only script)" >&2; exit 1; }
command -v dpkg-source >/dev/null 2>&1 || need_pkgs+=(dpkg-dev)
command -v xz >/dev/null 2>&1 || need_pkgs+=(xz-utils)
if [ ${#need_pkgs[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "fetch-micropython: missing ${need_pkgs[*]}; install them (apt-get install ${need_pkgs[*]}) or run as root" >&2
        exit 1
    fi
    log "installing ${need_pkgs[*]}"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need_pkgs[@]}"; then
        log "install failed; running apt-get update and retrying"
        apt-get update
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need_pkgs[@]}"
    fi
fi

# --- private apt sources folder -------------------------------------------
if [ ! -r "$HOST_SOURCES" ]; then
    echo "fetch-micropython: $HOST_SOURCES not readable; cannot find the Debian mirror" >&2
    exit 1
fi
# First URIs: value (first URI on that line) and first Signed-By: value.
uris=$(sed -n 's/^[Uu][Rr][Ii][Ss]:[[:space:]]*//p' "$HOST_SOURCES" | head -n 1 | awk '{print $1}')
signed_by=$(sed -n 's/^[Ss]igned-[Bb]y:[[:space:]]*//p' "$HOST_SOURCES" | head -n 1 | sed 's/[[:space:]]*$//')
if [ -z "$uris" ]; then
    echo "fetch-micropython: no URIs: line in $HOST_SOURCES" >&2
    exit 1
fi

mkdir -p "$APT_SRC_DIR/sources" "$APT_SRC_DIR/lists/partial" "$APT_SRC_DIR/download"
src_file="$APT_SRC_DIR/sources/$PKG-src.sources"
{
    echo "Types: deb-src"
    echo "URIs: $uris"
    echo "Suites: $SUITE"
    echo "Components: main"
    if [ -n "$signed_by" ]; then echo "Signed-By: $signed_by"; fi
} > "$src_file"
log "wrote $src_file:"
sed 's/^/    /' "$src_file"

APT_OPTS=(
    -o "Dir::Etc::SourceList=/dev/null"
    -o "Dir::Etc::SourceParts=$APT_SRC_DIR/sources"
    -o "Dir::State::Lists=$APT_SRC_DIR/lists"
)

log "apt-get update (private lists in $APT_SRC_DIR/lists)"
apt-get "${APT_OPTS[@]}" update

# apt-get source may run as the _apt user when root; let it write there.
if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then
    chown _apt "$APT_SRC_DIR/download" 2>/dev/null || true
fi
log "apt-get source --download-only $PKG (into $APT_SRC_DIR/download)"
(cd "$APT_SRC_DIR/download" && apt-get "${APT_OPTS[@]}" source --download-only "$PKG")

dsc=$(ls -1 "$APT_SRC_DIR/download/${PKG}"_*.dsc 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$dsc" ]; then
    echo "fetch-micropython: no ${PKG}_*.dsc downloaded in $APT_SRC_DIR/download" >&2
    exit 1
fi

# --- unpack (applies Debian's patches) ------------------------------------
mkdir -p "$(dirname "$DEST")"
[ -d "$DEST" ] && rmdir "$DEST"
log "dpkg-source -x $(basename "$dsc") $DEST"
dpkg-source -x "$dsc" "$DEST"

if [ ! -f "$DEST/py/obj.h" ]; then
    echo "fetch-micropython: unpacked tree has no py/obj.h" >&2
    exit 1
fi
log "done: MicroPython source in $DEST ($(basename "$dsc"))"
