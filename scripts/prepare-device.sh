#!/usr/bin/env bash
# Copies the header-only dependencies of core/ into .device/include (ignored by git), so the
# engine builds on a GPU machine that has only PyTorch (see bench/gpu/run.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .device/include
cp -r /usr/include/nlohmann /usr/include/doctest .device/include/
