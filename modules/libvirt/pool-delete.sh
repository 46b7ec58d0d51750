# The pool goes with every disk in it (the VMs' deletes removed theirs already).
set -eu
virsh -q -c qemu:///system pool-destroy "$POOL" >/dev/null 2>&1 || true
virsh -q -c qemu:///system pool-undefine "$POOL" >/dev/null 2>&1 || true
rm -rf "$POOL_DIR"
