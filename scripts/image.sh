#!/usr/bin/env bash
# Builds a bootable image from Debian packages: a kernel from the Debian kernel package
# (apt-get download + dpkg -x) and an initramfs with busybox, the modules listed in
# images/<name>/modules and images/<name>/init. Cached in .cache/images/<name>; rebuilt
# only when the kernel package or the image's files change.
#   scripts/image.sh guest   ->  .cache/images/guest/{vmlinuz,initrd.img}
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
NAME=${1:?usage: image.sh NAME}
SRC="$ROOT/images/$NAME"
OUT="$ROOT/.cache/images/$NAME"
log() { printf '[image %s] %s\n' "$NAME" "$*" >&2; }
[ -d "$SRC" ] || { log "no image description at $SRC"; exit 1; }

# The exact kernel package behind Debian's linux-image-amd64 meta-package.
KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
[ -n "$KPKG" ] || { log "cannot resolve linux-image-amd64 (run apt-get update)"; exit 1; }
STAMP="$KPKG $(cat "$SRC"/* | sha256sum | cut -c1-16)"
if [ -f "$OUT/stamp" ] && [ "$(cat "$OUT/stamp")" = "$STAMP" ]; then
  exit 0
fi

log "building from $KPKG and busybox-static"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
chmod 755 "$WORK"  # apt drops to the _apt user for downloads
(cd "$WORK" && apt-get download -q "$KPKG" busybox-static >&2)
dpkg -x "$WORK"/linux-image-*.deb "$WORK/kernel"
dpkg -x "$WORK"/busybox-static_*.deb "$WORK/busybox"
KVER=$(ls "$WORK/kernel/lib/modules")

R="$WORK/initrd"
mkdir -p "$R"/{bin,dev,proc,sys,etc,lib/modules,tmp}
cp "$WORK/busybox/bin/busybox" "$R/bin/busybox"
cp "$SRC/init" "$R/init"
chmod 755 "$R/init"
grep -v '^\s*\(#\|$\)' "$SRC/modules" > "$R/etc/modules"
while read -r m; do
  ko=$(find "$WORK/kernel/lib/modules/$KVER" -name "$m.ko" | head -n 1)
  [ -n "$ko" ] || { log "module $m not found in $KPKG"; exit 1; }
  cp "$ko" "$R/lib/modules/"
done < "$R/etc/modules"

mkdir -p "$OUT.new"
cp "$WORK/kernel/boot/vmlinuz-$KVER" "$OUT.new/vmlinuz"
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -9) > "$OUT.new/initrd.img"
echo "$STAMP" > "$OUT.new/stamp"
rm -rf "$OUT" && mv "$OUT.new" "$OUT"
log "ready: $OUT ($(du -sh "$OUT" | cut -f1))"
