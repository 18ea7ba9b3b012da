#!/usr/bin/env bash
# Builds Kiln and runs the whole test suite (the README's test command; CI runs it too).
# Installs missing Debian packages first (with sudo when not root). A second run rebuilds
# only what changed. Extra arguments go to ctest (e.g. -L golden, -R safetensors).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh test
preset=${KILN_PRESET:-ci}
[ -f "build/$preset/CMakeCache.txt" ] || cmake --preset "$preset"
cmake --build --preset "$preset" -j "$(nproc)"
export QT_QPA_PLATFORM=offscreen
ctest --preset "$preset" -j "$(nproc)" "$@"
