#!/usr/bin/env bash
# Builds Kiln against the pinned CUDA LibTorch and runs the whole test suite (the README's test
# command; CI runs it too). Installs missing Debian packages first (with sudo when not root) and
# LibTorch into a cache folder (scripts/setup-libtorch.sh). A second run rebuilds only what
# changed. Extra arguments go to ctest (e.g. -L golden, -R safetensors). After a full run (no
# arguments) it also builds the Debian package and checks its contents (scripts/package.sh) and
# runs the fuzz targets briefly (scripts/fuzz.sh ci: clang is installed when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh test
scripts/setup-libtorch.sh >/dev/null
preset=${KILN_PRESET:-ci}
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)"
export QT_QPA_PLATFORM=offscreen
ctest --preset "$preset" -j "$(nproc)" "$@"
if [ $# -eq 0 ] && [ "$preset" = ci ]; then
  scripts/package.sh
  # The parsers' fuzz targets, a fixed seed and number of inputs each (reproducible; docs/fuzzing.md).
  scripts/fuzz.sh ci
fi
