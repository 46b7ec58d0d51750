# This host's own libvirtd (emulated hosts), with its config, sockets, state and logs in
# the host's private directories. Safe to run twice: a running daemon is left alone.
set -eu
if ! virsh -c qemu:///system version >/dev/null 2>&1; then
  libvirtd --daemon --config /etc/libvirt/libvirtd.conf --pid-file /run/libvirt/libvirtd.pid
  # shellcheck disable=SC2034 # i only counts the tries
  for i in $(seq 100); do virsh -c qemu:///system version >/dev/null 2>&1 && break; sleep 0.1; done
fi
virsh -c qemu:///system version >/dev/null
