# Does KVM run a guest on this machine? /dev/kvm alone does not say: on some machines
# it exists, yet a guest spins without printing anything, or QEMU aborts on an MSR. So
# boot the guest's kernel under KVM with the CPU model the VMs use, and wait (at most
# TIMEOUT_S) for the kernel to reach its init on the serial console.
#
# The verdict is cached in CACHE_DIR, keyed by boot id, kernel, QEMU version and CPU
# model: a broken KVM costs the timeout once per boot, not on every `pulumi up`.
# Prints one line of JSON: {"accel":"kvm","ok":true|false,"reason":"...","cached":true|false,...}.
# Environment: GUEST_KERNEL, GUEST_INITRD, CPU_MODEL, CACHE_DIR, TIMEOUT_S; ACCEL (kvm,
# or tcg for a test of the probe itself on a machine without KVM).
set -eu
ACCEL=${ACCEL:-kvm}
boot=$(cat /proc/sys/kernel/random/boot_id)
kernel=$(uname -r)
qemu=$(qemu-system-x86_64 --version 2>/dev/null | head -n 1 || true)
key=$(printf '%s|%s|%s|%s' "$boot" "$kernel" "$qemu" "$CPU_MODEL" | sha256sum | cut -c1-16)
file="$CACHE_DIR/$ACCEL-$key.json"
if [ -f "$file" ]; then
  sed 's/"cached":false/"cached":true/' "$file"
  exit 0
fi

# The verdict, with the facts it was found under; written atomically, then printed.
verdict() {
  # No quote or backslash may break the JSON: drop them (\042 and \134).
  reason=$(printf '%s' "$2" | tr -d '\042\134' | tr '\n\t' '  ')
  mkdir -p "$CACHE_DIR"
  printf '{"accel":"%s","ok":%s,"reason":"%s","cached":false,"boot":"%s","kernel":"%s","qemu":"%s","cpu":"%s","probedAt":"%s"}\n' \
    "$ACCEL" "$1" "$reason" "$boot" "$kernel" "$(printf '%s' "$qemu" | tr -d '\042\134')" "$CPU_MODEL" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$file.$$"
  # Two probes may run at once (two labs, two hosts of one machine): each writes its own file.
  mv -f "$file.$$" "$file"
  cat "$file"
  [ "${3:-}" != nocache ] || rm -f "$file"
  exit 0
}

[ -n "$qemu" ] || verdict false "qemu-system-x86_64 is not installed"
if [ "$ACCEL" = kvm ]; then
  [ -c /dev/kvm ] || verdict false "there is no /dev/kvm"
  { [ -r /dev/kvm ] && [ -w /dev/kvm ]; } || verdict false "/dev/kvm exists but $(id -un) cannot open it"
fi
if ! { [ -r "$GUEST_KERNEL" ] && [ -r "$GUEST_INITRD" ]; }; then
  # Not cached: the files may be there on the next run.
  verdict false "no guest kernel to boot ($GUEST_KERNEL, $GUEST_INITRD)" nocache
fi

tmp=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
: > "$tmp/console"
qemu-system-x86_64 -machine accel="$ACCEL" -cpu "$CPU_MODEL" -m 128 -nodefaults -display none -no-reboot \
  -kernel "$GUEST_KERNEL" -initrd "$GUEST_INITRD" -append "console=ttyS0 panic=-1" \
  -serial file:"$tmp/console" </dev/null >/dev/null 2>"$tmp/stderr" &
pid=$!
start=$(date +%s)
while :; do
  # The kernel prints this once it has booted far enough to start userspace.
  if grep -q "as init process" "$tmp/console"; then
    verdict true "a guest booted to its init under $ACCEL with -cpu $CPU_MODEL in $(( $(date +%s) - start )) s"
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    wait "$pid" || true
    pid=
    verdict false "QEMU under $ACCEL with -cpu $CPU_MODEL exited before the guest booted: $(tail -n 2 "$tmp/stderr")"
  fi
  if [ $(( $(date +%s) - start )) -ge "$TIMEOUT_S" ]; then
    if [ -s "$tmp/console" ]; then
      verdict false "a guest under $ACCEL with -cpu $CPU_MODEL did not reach its init within $TIMEOUT_S s"
    fi
    verdict false "a guest under $ACCEL with -cpu $CPU_MODEL printed nothing within $TIMEOUT_S s"
  fi
  sleep 0.2
done
