#!/usr/bin/env bash
# Installs the Debian package into a fresh Debian 12 root and tries it there (root; needs network
# access to the Debian mirror):
#   1. debootstrap a minimal bookworm into $KILN_TEST_ROOT (default /var/tmp/kiln-package-root;
#      the bare root is kept in a tarball beside it and unpacked fresh for every run)
#   2. apt install ./kiln_*.deb there (dependencies from Debian)
#   3. kiln-cli --version, kiln-cli info and kiln-cli generate on the tiny test model, kiln started
#      offscreen taking a screenshot (checked to be a PNG)
#   4. apt purge kiln + autoremove, then no file of the package is left
# Usage: scripts/test-package.sh [PACKAGE.deb]   (default: build/package/kiln_*_amd64.deb)
set -euo pipefail
cd "$(dirname "$0")/.."
deb=$(realpath "${1:-$(ls build/package/kiln_*_amd64.deb | head -1)}")
root=${KILN_TEST_ROOT:-/var/tmp/kiln-package-root}
base="$root.base.tar"
mirror=${KILN_DEBIAN_MIRROR:-http://deb.debian.org/debian}
[ "$(id -u)" -eq 0 ] || { echo "test-package.sh: run as root (debootstrap, chroot)" >&2; exit 2; }
command -v debootstrap >/dev/null || apt-get install -y -qq --no-install-recommends debootstrap >/dev/null

step() { echo "== $*"; }
mounted=()
cleanup() {
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null || true; done
}
trap cleanup EXIT
in_root() { chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }

if [ ! -f "$base" ]; then
  step "debootstrap bookworm (minbase) from $mirror"
  rm -rf "$root"
  debootstrap --variant=minbase bookworm "$root" "$mirror" >/dev/null
  tar -C "$root" -cf "$base.part" . && mv "$base.part" "$base"
fi
step "a fresh root in $root"
rm -rf "$root"
mkdir -p "$root"
tar -C "$root" -xf "$base"
for m in proc sys dev; do mount --bind "/$m" "$root/$m"; mounted+=("$root/$m"); done
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true

step "apt install ./$(basename "$deb") ($(du -h "$deb" | cut -f1))"
mkdir -p "$root/tmp/kiln-test"
cp "$deb" "$root/tmp/kiln-test/"
cp -r tests/data/golden/pipeline/tiny_sd1 "$root/tmp/kiln-test/"
before=$(in_root dpkg-query -W -f '${Package}\n' | sort)
in_root apt-get update -qq
DEBIAN_FRONTEND=noninteractive in_root apt-get install -y -qq --no-install-recommends "/tmp/kiln-test/$(basename "$deb")" >/tmp/kiln-test-apt.log 2>&1 ||
  { tail -30 /tmp/kiln-test-apt.log; exit 1; }
echo "installed with $(($(in_root dpkg-query -W -f '${Package}\n' | wc -l) - $(echo "$before" | wc -l))) packages from Debian"

step "kiln-cli --version"
in_root kiln-cli --version
step "kiln-cli info (tiny test model)"
in_root kiln-cli info /tmp/kiln-test/tiny_sd1 | head -8
step "kiln-cli generate"
in_root kiln-cli generate --model /tmp/kiln-test/tiny_sd1 --prompt "a red fox" --steps 3 --seed 1 --out /tmp/kiln-test/fox.png
in_root kiln-cli png-info /tmp/kiln-test/fox.png | head -3
step "kiln, offscreen, with a screenshot"
in_root env QT_QPA_PLATFORM=offscreen kiln --window-size 1280x800 --screenshot /tmp/kiln-test/kiln.png /tmp/kiln-test
head -c 8 "$root/tmp/kiln-test/kiln.png" | od -An -c | grep -q "P   N   G" || { echo "the screenshot is not a PNG" >&2; exit 1; }
echo "screenshot: $(du -h "$root/tmp/kiln-test/kiln.png" | cut -f1)"
[ -n "${KILN_TEST_SCREENSHOT:-}" ] && cp "$root/tmp/kiln-test/kiln.png" "$KILN_TEST_SCREENSHOT"
step "desktop entry, icons, man pages, data"
for f in /usr/share/applications/kiln.desktop /usr/share/icons/hicolor/48x48/apps/kiln.png /usr/share/man/man1/kiln.1.gz \
         /usr/share/kiln/clip/vocab.json /usr/share/metainfo/io.github.kiln.Kiln.metainfo.xml; do
  [ -f "$root$f" ] || { echo "missing: $f" >&2; exit 1; }
done
echo ok
files=$(in_root dpkg -L kiln | grep -v '^/\.$')

step "apt purge kiln, autoremove"
DEBIAN_FRONTEND=noninteractive in_root apt-get purge -y -qq kiln >/dev/null
DEBIAN_FRONTEND=noninteractive in_root apt-get autoremove --purge -y -qq >/dev/null
left=0
while read -r f; do
  case "$f" in /usr|/usr/bin|/usr/lib|/usr/share|/usr/share/*/|/usr/share/man|/usr/share/man/man1|/usr/share/doc|/usr/share/applications|/usr/share/icons|/usr/share/icons/hicolor|/usr/share/icons/hicolor/*|/usr/share/metainfo) continue ;; esac
  if [ -e "$root$f" ] && [ ! -d "$root$f" ]; then echo "left behind: $f" >&2; left=1; fi
  if [ -d "$root$f" ] && [[ "$f" == *kiln* ]]; then echo "left behind: $f/" >&2; left=1; fi
done <<<"$files"
after=$(in_root dpkg-query -W -f '${Package}\n' | sort)
[ "$before" = "$after" ] || { echo "packages left installed:"; comm -13 <(echo "$before") <(echo "$after"); left=1; }
[ $left -eq 0 ] && echo "nothing left behind"
exit $left
