# The hypervisor's storage pool for local disks: a directory libvirt knows, so that a
# migration that copies a disk (--copy-storage-all) creates it on the destination itself,
# with the same name, size and format. Safe to run twice.
set -eu
mkdir -p "$POOL_DIR"
v() { virsh -q -c qemu:///system "$@"; }
v pool-info "$POOL" >/dev/null 2>&1 || v pool-define-as "$POOL" dir --target "$POOL_DIR" >/dev/null
v pool-info "$POOL" | grep -q '^State: *running' || v pool-start "$POOL" >/dev/null
