#!/bin/sh
# Build dist/mpm-agent_<version>_<arch>.deb: the agent in its own venv (/opt/mpm-agent/venv), the systemd
# unit, the udev rule, a modules-load.d file and /etc/mpm-agent/agent.toml as a conffile.
#
# Why a venv: Raspberry Pi OS Bookworm marks the system Python "externally managed" (PEP 668), so
# `pip install` there is refused. The package never calls pip on the target; it ships a complete venv.
#
# Build on the target's architecture and Python minor version (a Pi, or an arm64 Bookworm container):
# the venv holds compiled wheels (pydantic-core, ...) and is tied to /usr/bin/python3.X.
#
# Usage: packaging/build-deb.sh [--python /usr/bin/python3] [--out dist] [--cache DIR] [--no-deps]
#   --cache   wheelhouse + builder venv, reused between builds (default ~/.cache/mpm-agent-deb)
#   --no-deps install only the project itself (quick; for testing the package layout, not for shipping)
# Offline: fill DIR/wheels with `pip download`/`pip wheel` beforehand; builds then need no network.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=/usr/bin/python3
OUT="$ROOT/dist"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/mpm-agent-deb"
NO_DEPS=""

while [ $# -gt 0 ]; do
    case "$1" in
        --python) PYTHON=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        --cache) CACHE=$2; shift 2 ;;
        --no-deps) NO_DEPS=--no-deps; shift ;;
        *) echo "unknown option: $1" >&2; exit 64 ;;
    esac
done

VERSION=$("$PYTHON" -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' \
    "$ROOT/pyproject.toml")
ARCH=$(dpkg --print-architecture)
PYMAJMIN=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
PYNEXT=$("$PYTHON" -c 'import sys; print("%d.%d" % (sys.version_info[0], sys.version_info[1] + 1))')
WHEELS="$CACHE/wheels"
BUILDER="$CACHE/builder-py$PYMAJMIN"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
STAGE="$WORK/stage"
VENV=/opt/mpm-agent/venv

# 1. A builder venv (cached) with setuptools, and the project's wheel (+ its dependencies) in the wheelhouse.
if [ ! -x "$BUILDER/bin/pip" ]; then
    "$PYTHON" -m venv "$BUILDER"
    "$BUILDER/bin/pip" install --quiet --disable-pip-version-check "setuptools>=68" wheel
fi
mkdir -p "$WHEELS" "$WORK/src"
# Build from a clean copy so the source tree gets no build/ or egg-info droppings.
for item in pyproject.toml README.md firmware_protocols led_faces edge_agent cloud simulators; do
    cp -r "$ROOT/$item" "$WORK/src/"
done
find "$WORK/src" -name __pycache__ -type d -prune -exec rm -rf {} +
"$BUILDER/bin/pip" wheel --quiet --disable-pip-version-check --no-build-isolation --no-deps \
    --wheel-dir "$WHEELS" "$WORK/src"
if [ -z "$NO_DEPS" ]; then
    "$BUILDER/bin/pip" wheel --quiet --disable-pip-version-check --wheel-dir "$WHEELS" \
        --find-links "$WHEELS" "mpm-edge[agent]==$VERSION"
fi

# 2. The venv, built in the staging tree and made relocatable to its installed path.
"$PYTHON" -m venv --without-pip "$STAGE$VENV"
"$BUILDER/bin/pip" --python "$STAGE$VENV/bin/python" install --quiet --disable-pip-version-check \
    --no-index --find-links "$WHEELS" --no-compile $NO_DEPS "mpm-edge[agent]==$VERSION"
grep -rlF "$STAGE" "$STAGE$VENV/bin" "$STAGE$VENV/pyvenv.cfg" | while read -r script; do
    sed -i "s|$STAGE||g" "$script"
done
if grep -rqF "$STAGE" "$STAGE$VENV"; then
    echo "staging path left in the venv:" >&2
    grep -rlF "$STAGE" "$STAGE$VENV" >&2
    exit 1
fi
find "$STAGE$VENV" -name __pycache__ -type d -prune -exec rm -rf {} +

# 3. Units, udev rule, modules, config, docs, a command on PATH.
install -D -m 0644 "$ROOT/systemd/mpm-agent.service" "$STAGE/lib/systemd/system/mpm-agent.service"
install -D -m 0644 "$ROOT/systemd/99-mpm-agent.rules" "$STAGE/lib/udev/rules.d/99-mpm-agent.rules"
install -D -m 0644 "$ROOT/systemd/mpm-agent-modules.conf" "$STAGE/usr/lib/modules-load.d/mpm-agent.conf"
install -D -m 0640 "$ROOT/packaging/agent.toml" "$STAGE/etc/mpm-agent/agent.toml"
install -D -m 0644 "$ROOT/docs/INSTALL.md" "$STAGE/opt/mpm-agent/share/INSTALL.md"
mkdir -p "$STAGE/usr/bin"
ln -s "$VENV/bin/mpm-agent" "$STAGE/usr/bin/mpm-agent"

# 4. Control area: metadata, conffiles, maintainer scripts.
install -d -m 0755 "$STAGE/DEBIAN"
SIZE=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@PYMAJMIN@/$PYMAJMIN/" -e "s/@PYNEXT@/$PYNEXT/" \
    -e "s/@SIZE@/$SIZE/" "$ROOT/packaging/debian/control.in" >"$STAGE/DEBIAN/control"
echo /etc/mpm-agent/agent.toml >"$STAGE/DEBIAN/conffiles"
for script in postinst prerm postrm; do
    install -m 0755 "$ROOT/packaging/debian/$script" "$STAGE/DEBIAN/$script"
done

mkdir -p "$OUT"
DEB="$OUT/mpm-agent_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group --build "$STAGE" "$DEB" >/dev/null
echo "$DEB"
