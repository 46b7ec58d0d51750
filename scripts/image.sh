#!/usr/bin/env bash
# Builds a bootable image from Debian packages: a kernel from the Debian kernel package
# (apt-get download + dpkg -x) and an initramfs with busybox, images/<name>/init, the
# kernel modules listed in images/<name>/modules with everything they depend on (in load
# order), and the programs and data listed in images/<name>/files (optional) with the
# shared libraries they need; a line that starts with ./ is a program the project built
# (under the project root), which goes to /bin. Cached in .cache/images/<name>; rebuilt only when the
# kernel package or the image's description changes.
#   scripts/image.sh guest    ->  .cache/images/guest/{vmlinuz,initrd.img}
#   scripts/image.sh router   ->  the router appliance (iproute2 with tc, sshd)
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
# The project's own programs the image holds count too.
OWN=()
if [ -f "$SRC/files" ]; then
  while read -r f; do OWN+=("$ROOT/${f#./}"); done < <(grep '^\./' "$SRC/files" || true)
fi
for f in "${OWN[@]}"; do [ -f "$f" ] || { log "$f is missing: run scripts/bootstrap.sh, which builds it"; exit 1; }; done
STAMP="$KPKG $({ find "$SRC" "$0" -type f; printf '%s\n' "${OWN[@]}"; } | sort | xargs cat | sha256sum | cut -c1-16)"
if [ -f "$OUT/stamp" ] && [ "$(cat "$OUT/stamp")" = "$STAMP" ]; then
  exit 0
fi

log "building from $KPKG and busybox-static"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
chmod 755 "$WORK"  # apt drops to the _apt user for downloads
(cd "$WORK" && apt-get download -q -o APT::Sandbox::User=root "$KPKG" busybox-static >&2)
dpkg -x "$WORK"/linux-image-*.deb "$WORK/kernel"
dpkg -x "$WORK"/busybox-static_*.deb "$WORK/busybox"
KVER=$(ls "$WORK/kernel/lib/modules")

R="$WORK/initrd"
mkdir -p "$R"/{bin,dev,proc,sys,etc,lib/modules,tmp}
cp "$WORK/busybox/bin/busybox" "$R/bin/busybox"
cp "$SRC/init" "$R/init"
chmod 755 "$R/init"
# Modules in load order, dependencies first, each once (depmod on the extracted tree).
depmod -b "$WORK/kernel" "$KVER"
: > "$R/etc/modules"
grep -v '^\s*\(#\|$\)' "$SRC/modules" | while read -r m; do
  modprobe -d "$WORK/kernel" -S "$KVER" --show-depends "$m" 2>/dev/null | awk '$1 == "insmod" {print $2}' \
    || { log "module $m not found in $KPKG"; exit 1; }
done | awk '!seen[$0]++' | while read -r ko; do
  name=$(basename "$ko" .ko)
  cp "$ko" "$R/lib/modules/$name.ko"
  echo "$name" >> "$R/etc/modules"
done
[ -s "$R/etc/modules" ] || { log "no kernel modules resolved"; exit 1; }

# Programs and data from this machine's Debian packages, with their shared libraries.
if [ -f "$SRC/files" ]; then
  for f in "${OWN[@]}"; do cp "$f" "$R/bin/"; done
  { grep -v '^\s*\(#\|$\|\./\)' "$SRC/files" || true; } | while read -r f; do
    [ -e "$f" ] || { log "$f is missing: install the Debian package that provides it"; exit 1; }
    # Copied by path, links followed (merged /usr makes /lib a link on this machine).
    mkdir -p "$R$(dirname "$f")"
    if [ -d "$f" ]; then cp -rL "$f" "$R$(dirname "$f")/"; else cp -L "$f" "$R$f"; fi
    if [ -f "$f" ] && head -c 4 "$f" | grep -q ELF; then
      ldd "$f" 2>/dev/null | awk '/=> \// {print $3} /^\s*\/lib/ {print $1}' | while read -r lib; do
        mkdir -p "$R$(dirname "$lib")"
        cp -L "$lib" "$R$lib"
      done
    fi
  done
fi
mkdir -p "$OUT.new"
cp "$WORK/kernel/boot/vmlinuz-$KVER" "$OUT.new/vmlinuz"
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -9) > "$OUT.new/initrd.img"
echo "$STAMP" > "$OUT.new/stamp"
rm -rf "$OUT" && mv "$OUT.new" "$OUT"
log "ready: $OUT ($(du -sh "$OUT" | cut -f1))"
