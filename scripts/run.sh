#!/usr/bin/env bash
# Builds the desktop app `kiln` (release) and starts it. Installs missing Debian packages first
# (with sudo when not root). A second run rebuilds only what changed. Arguments go to kiln.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh app
[ -f build/release/CMakeCache.txt ] || cmake --preset release
cmake --build --preset release -j "$(nproc)" --target kiln kiln-cli
exec build/release/app/kiln "$@"
