#!/usr/bin/env bash
# Installs the Debian packages Kiln needs, only those that are missing. LibTorch is not one of
# them: Debian's libtorch-dev is 1.13 without CUDA; scripts/setup-libtorch.sh installs the pinned
# LibTorch 2.x with CUDA from PyPI.
# Usage: scripts/setup-debian.sh [app|test|dev]
#   app: what building needs;
#   test: the same and clang for the fuzz targets (the tests' Python with torch is the pinned
#   LibTorch's own environment, from scripts/setup-libtorch.sh; tests run on Qt's offscreen platform);
#   dev: also Xvfb (screenshots of the real app) and python3-numpy (regenerating the
#   tests/data/ckpt fixtures with tests/data/ckpt/make_fixtures.py).
set -euo pipefail
what=${1:-app}
pkgs=(build-essential cmake ninja-build ccache pkg-config git python3 python3-venv
      qt6-base-dev qt6-charts-dev qt6-tools-dev qt6-tools-dev-tools qt6-l10n-tools qt6-svg-dev
      qt6-httpserver-dev qt6-websockets-dev libqt6opengl6-dev libgl-dev help2man
      libopencv-dev libdlib-dev libdlib-data libquazip1-qt6-dev nlohmann-json3-dev doctest-dev libssl-dev zlib1g-dev
      libgloo-dev)  # gloo's headers: c10d's Gloo process group (data-parallel training on the CPU)
if [ "$what" = test ] || [ "$what" = dev ]; then
  pkgs+=(clang libclang-rt-14-dev)  # the fuzz targets (scripts/fuzz.sh): clang and its libFuzzer runtime
fi
if [ "$what" = dev ]; then
  pkgs+=(xvfb xauth python3-numpy)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "kiln: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
