# The CHAP secret QEMU presents to the target, defined in this hypervisor's libvirtd: the
# XML comes on stdin, the password from the environment, through a private file.
set -eu
f=$(mktemp -p /run/libvirt)
trap 'rm -f "$f"' EXIT
cat > "$f"
virsh -q -c qemu:///system secret-define "$f" >/dev/null
printf %s "$CHAP_PASSWORD" > "$f"
virsh -q -c qemu:///system secret-set-value --secret "$UUID" --file "$f" --plain >/dev/null
