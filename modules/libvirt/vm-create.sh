# Define and start the VM on its first host, with the accelerator the lab decided (kvm,
# or tcg: libvirt's domain type "qemu"). A VM already running on any hypervisor (moved by
# a migration) is left where it is. Prints when it started, which the lab keeps.
set -eu
case "$ACCEL" in kvm) t=kvm ;; tcg) t=qemu ;; *) if [ -c /dev/kvm ]; then t=kvm; else t=qemu; fi ;; esac
# The domain XML comes on stdin.
f=$(mktemp -p /run/libvirt)
trap 'rm -f "$f"' EXIT
sed "s/@DOMAIN_TYPE@/$t/" > "$f"
for u in $URIS; do
  if [ "$(virsh -c "$u" domstate "$VM" 2>/dev/null)" = running ]; then echo "$VM running ($u)"; exit 0; fi
done
# A local disk (seed 004): a volume of the hypervisor's pool, filled with non-zero data in
# every block (a sparse image would leave a migration almost nothing to copy). An image
# left by an earlier run of the same VM is used again.
if [ -n "${DISK_MIB:-}" ]; then
  virsh -q -c qemu:///system pool-refresh "$POOL" >/dev/null
  if ! virsh -q -c qemu:///system vol-info --pool "$POOL" "$VM.qcow2" >/dev/null 2>&1; then
    disk=$(virsh -q -c qemu:///system vol-create-as "$POOL" "$VM.qcow2" "${DISK_MIB}M" --format qcow2 >/dev/null &&
      virsh -q -c qemu:///system vol-path --pool "$POOL" "$VM.qcow2")
    off=0
    set --
    while [ "$off" -lt "$DISK_MIB" ]; do
      n=$((DISK_MIB - off < 256 ? DISK_MIB - off : 256))
      set -- "$@" -c "write -q -P 0x5a ${off}M ${n}M"
      off=$((off + n))
    done
    qemu-io -f qcow2 "$@" "$disk" >/dev/null
  fi
fi
virsh -q -c qemu:///system define "$f" >/dev/null
virsh -q -c qemu:///system start "$VM" >/dev/null
echo "$VM started ($t) at $(date +%s%3N)"
