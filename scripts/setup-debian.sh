#!/usr/bin/env bash
# Installs the Debian packages Kiln needs, only those that are missing.
# Usage: scripts/setup-debian.sh [app|test|dev]
#   app: what building needs;
#   test: also python3-torch (tests check that torch.load reads the .ckpt files Kiln writes;
#   tests run on Qt's offscreen platform);
#   dev: also Xvfb (screenshots of the real app) and python3-numpy (regenerating the
#   tests/data/ckpt fixtures with tests/data/ckpt/make_fixtures.py).
set -euo pipefail
what=${1:-app}
pkgs=(build-essential cmake ninja-build ccache pkg-config git
      qt6-base-dev qt6-charts-dev qt6-tools-dev qt6-tools-dev-tools qt6-l10n-tools qt6-svg-dev
      qt6-httpserver-dev libqt6opengl6-dev libgl-dev
      libtorch-dev libopenblas0-openmp
      libopencv-dev libdlib-dev libdlib-data libquazip1-qt6-dev nlohmann-json3-dev doctest-dev)
if [ "$what" = test ] || [ "$what" = dev ]; then
  pkgs+=(python3-torch)
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
