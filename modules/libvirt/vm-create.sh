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
virsh -q -c qemu:///system define "$f" >/dev/null
virsh -q -c qemu:///system start "$VM" >/dev/null
echo "$VM started ($t) at $(date +%s%3N)"
