#!/usr/bin/env bash
# Builds the desktop app `kiln` (release) against the pinned CUDA LibTorch and starts it.
# Installs missing Debian packages first (with sudo when not root) and LibTorch into a cache
# folder (scripts/setup-libtorch.sh). A second run rebuilds only what changed. Arguments go to kiln.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-debian.sh app
scripts/setup-libtorch.sh >/dev/null
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target kiln kiln-cli
exec build/release/app/kiln "$@"
