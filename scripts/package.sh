#!/usr/bin/env bash
# Builds the Debian package (build/package/kiln_<version>_amd64.deb) from the CI build tree that
# scripts/test.sh makes (building what is missing), then checks what it holds.
#   scripts/package.sh            build the package and check its contents
#   scripts/package.sh --lintian  also run lintian (installed when missing) and print its tags
# Depends: dpkg-shlibdeps on kiln and kiln-cli (Qt, OpenCV, dlib, QuaZip, ... from Debian) plus
# what plugin loading needs (cmake/KilnPackaging.cmake). The package carries the pinned CUDA
# LibTorch and the NVIDIA runtime libraries it loads (usr/lib/kiln): one package for CPU and GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
lintian=0
[ "${1:-}" = --lintian ] && lintian=1
preset=${KILN_PRESET:-ci}
build=build/$preset
out=build/package

if [ ! -f "$build/CPackConfig.cmake" ]; then
  scripts/setup-debian.sh app
  scripts/setup-libtorch.sh >/dev/null
  cmake --preset "$preset" >/dev/null
fi
cmake --build --preset "$preset" --target kiln kiln-cli kiln_icons_png kiln_man_pages

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/debian"
: >"$tmp/debian/control"
shlibs=$(cd "$tmp" && dpkg-shlibdeps --ignore-missing-info -O -e "$root/$build/app/kiln" -e "$root/$build/app/cli/kiln-cli" 2>"$tmp/warnings" |
         sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || { cat "$tmp/warnings" >&2; echo "package.sh: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
depends="$shlibs, libqt6svg6, libdlib-data"
echo "Depends: $depends"

rm -rf "$out"
mkdir -p "$out"
cpack --config "$build/CPackConfig.cmake" -B "$out" -D "CPACK_DEBIAN_PACKAGE_DEPENDS=$depends" >"$tmp/cpack.log" ||
  { cat "$tmp/cpack.log" >&2; exit 1; }
deb=$(ls "$out"/kiln_*_amd64.deb)
rm -rf "$out/_CPack_Packages"

# What must be there.
dpkg-deb --contents "$deb" | awk '{print $NF}' >"$tmp/contents"
missing=0
for f in ./usr/bin/kiln ./usr/bin/kiln-cli ./usr/lib/kiln/torch/lib/libtorch_cpu.so ./usr/lib/kiln/torch/lib/libtorch_cuda.so \
         ./usr/lib/kiln/torch/lib/libc10.so ./usr/lib/kiln/nvidia/cu13/lib/libcudart.so.13 ./usr/lib/kiln/nvidia/cudnn/lib/libcudnn.so.9 \
         ./usr/share/kiln/clip/vocab.json ./usr/share/kiln/clip/merges.txt ./usr/share/applications/kiln.desktop \
         ./usr/share/metainfo/io.github.kiln.Kiln.metainfo.xml ./usr/share/icons/hicolor/scalable/apps/kiln.svg \
         ./usr/share/icons/hicolor/48x48/apps/kiln.png ./usr/share/icons/hicolor/256x256/apps/kiln.png \
         ./usr/share/man/man1/kiln.1.gz ./usr/share/man/man1/kiln-cli.1.gz ./usr/share/doc/kiln/COPYING \
         ./usr/share/doc/kiln/copyright ./usr/share/doc/kiln/changelog.gz; do
  grep -qx -- "$f" "$tmp/contents" || { echo "package.sh: $f is missing from the package" >&2; missing=1; }
done
if grep -q "libtorch_python\|/include/" "$tmp/contents"; then
  echo "package.sh: the package carries Python bindings or headers" >&2; missing=1
fi
[ $missing -eq 0 ] || exit 1
dpkg-deb --field "$deb" Package Version Architecture Depends Recommends Installed-Size
echo "package: $deb ($(du -h "$deb" | cut -f1), installed $(dpkg-deb -f "$deb" Installed-Size) KiB, $(wc -l <"$tmp/contents") entries)"

if [ $lintian -eq 1 ]; then
  command -v lintian >/dev/null || { SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo; $SUDO apt-get install -y -qq --no-install-recommends lintian >/dev/null; }
  lintian --no-tag-display-limit "$deb" || true
fi
