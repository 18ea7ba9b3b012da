#!/usr/bin/env bash
# Installs the pinned LibTorch (PyPI's torch wheel with CUDA, scripts/libtorch-requirements.txt)
# into a virtual environment of Debian's python3 in a cache folder, once per set of pins, and
# reuses it between builds and clones. The system Python is not touched.
#
#   folder: ${KILN_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/kiln}/libtorch-<torch version>-<pins hash>
#
# CMake computes the same folder (cmake/KilnLibTorch.cmake). An environment is used only once it
# is complete: it is installed under a temporary name and renamed at the end, so an interrupted
# or failed install is never taken for a good one. Prints the folder on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
req=scripts/libtorch-requirements.txt
python=/usr/bin/python3
need_gib=9   # 4.6 GiB installed, plus the wheels while pip unpacks them

fail() {
  echo "kiln: $*" >&2
  exit 1
}

version=$(sed -n 's/^torch==\([^ ]*\) .*/\1/p' "$req")
[ -n "$version" ] || fail "no torch==VERSION line in $req"
pins=$(sha256sum "$req" | cut -c1-8)
cache=${KILN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kiln}
dir=$cache/libtorch-$version-$pins

if [ -f "$dir/.kiln-complete" ]; then
  echo "$dir"
  exit 0
fi

[ -x "$python" ] || fail "$python is missing: install Debian's python3 and python3-venv (scripts/setup-debian.sh does)"
pyver=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
[ "$pyver" = 3.11 ] || fail "the pinned wheels in $req are for CPython 3.11 (Debian 12); $python is $pyver"
"$python" -c 'import ensurepip, venv' 2>/dev/null ||
  fail "$python cannot make virtual environments: install python3-venv (scripts/setup-debian.sh does)"

mkdir -p "$cache" || fail "cannot create the cache folder $cache (set KILN_CACHE_DIR to a writable folder)"
exec 9>"$cache/.libtorch.lock"
flock 9   # another build installing the same pins: wait for it, then reuse its result
if [ -f "$dir/.kiln-complete" ]; then
  echo "$dir"
  exit 0
fi

free_kib=$(df -Pk "$cache" | awk 'NR == 2 { print $4 }')
if [ "$free_kib" -lt $((need_gib * 1024 * 1024)) ]; then
  free=$(awk -v k="$free_kib" 'BEGIN { printf "%.1f", k / 1048576 }')
  fail "LibTorch $version with CUDA needs about $need_gib GiB in $cache, but only $free GiB are free: free some space or set KILN_CACHE_DIR to a folder on a larger disk, then run $0 again"
fi

tmp=$dir.partial
rm -rf "$tmp" "$dir"   # leftovers of an interrupted install are never reused
echo "kiln: installing LibTorch $version (PyPI torch wheel with CUDA, about 3 GiB to download) into $dir" >&2
"$python" -m venv "$tmp" || fail "could not create a virtual environment in $tmp"
if ! "$tmp/bin/python" -m pip install --quiet --disable-pip-version-check --no-cache-dir \
    --require-hashes --only-binary=:all: -r "$req" >&2; then
  rm -rf "$tmp"
  fail "could not install LibTorch $version from PyPI (pip's message above says why: no network, a proxy, an index error or a full disk). Check that https://pypi.org is reachable (or set PIP_INDEX_URL to a mirror), then run $0 again"
fi
site=$("$tmp/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
[ -f "$site/torch/share/cmake/Torch/TorchConfig.cmake" ] || {
  rm -rf "$tmp"
  fail "the torch wheel installed, but $site/torch/share/cmake/Torch/TorchConfig.cmake is missing"
}
# The folder moves from .partial to its final name; only `bin/python -m ...` is used afterwards
# (pip's own launcher scripts keep the old path in their first line).
mv "$tmp" "$dir"
touch "$dir/.kiln-complete"
echo "$dir"
