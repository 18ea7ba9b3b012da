#!/usr/bin/env bash
# Installs diffusers and its pinned dependencies (requirements.txt, exact versions and hashes) into
# a virtual environment that sees the LibTorch venv's site-packages, so diffusers runs on exactly
# the torch Kiln builds against; torch itself is not installed twice. Once per set of pins:
#
#   folder: <the cache folder of scripts/setup-libtorch.sh>/bench-compare-<libtorch folder>-<pins hash>
#
# The venv is made from Debian's python3 (the interpreter the LibTorch venv was made from) with a
# .pth file that appends the LibTorch venv's site-packages to sys.path: the bench venv's own
# packages come first, torch and its dependencies from the LibTorch venv. Installed under a
# temporary name and renamed at the end, so an interrupted install is never taken for a good one.
# Prints the folder on stdout. Nothing in Kiln depends on it.
set -euo pipefail
cd "$(dirname "$0")"
req=requirements.txt
python=/usr/bin/python3

fail() {
  echo "kiln bench/compare: $*" >&2
  exit 1
}

[ -f "$req" ] || fail "$(pwd)/$req is missing"
torch_dir=$(../../scripts/setup-libtorch.sh) || fail "the LibTorch venv is not available (scripts/setup-libtorch.sh failed above)"
cache=$(dirname "$torch_dir")
pins=$(sha256sum "$req" | cut -c1-8)
dir=$cache/bench-compare-$(basename "$torch_dir")-$pins

if [ -f "$dir/.kiln-complete" ]; then
  echo "$dir"
  exit 0
fi

exec 9>"$cache/.bench-compare.lock"
flock 9   # another setup installing the same pins: wait for it, then reuse its result
if [ -f "$dir/.kiln-complete" ]; then
  echo "$dir"
  exit 0
fi

free_kib=$(df -Pk "$cache" | awk 'NR == 2 { print $4 }')
if [ "$free_kib" -lt $((1024 * 1024)) ]; then
  fail "diffusers and its dependencies need about 1 GiB in $cache; free some space or set KILN_CACHE_DIR, then run $0 again"
fi

torch_site=$("$torch_dir/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
[ -d "$torch_site/torch" ] || fail "no torch package in $torch_site"
tmp=$dir.partial
rm -rf "$tmp"   # leftovers of an interrupted install are never reused
echo "kiln bench/compare: installing diffusers and its pinned dependencies into $dir" >&2
"$python" -m venv "$tmp" || fail "could not create a virtual environment in $tmp"
site=$("$tmp/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$torch_site" >"$site/kiln-libtorch.pth"
if ! "$tmp/bin/python" -m pip install --quiet --disable-pip-version-check --no-cache-dir \
    --require-hashes --only-binary=:all: -r "$req" >&2; then
  rm -rf "$tmp"
  fail "could not install $(pwd)/$req from PyPI (pip's message above says why: no network, an index error, or a dependency missing from the pins: run ./pin.sh to re-pin)"
fi
if ! "$tmp/bin/python" -c 'import diffusers, transformers, accelerate, torch' >&2; then
  rm -rf "$tmp"
  fail "diffusers installed, but cannot be imported with the LibTorch venv's torch (message above)"
fi
mv "$tmp" "$dir"
touch "$dir/.kiln-complete"
echo "$dir"
