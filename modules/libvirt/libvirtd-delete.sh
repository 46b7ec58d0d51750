# Stop the daemon and remove its state, logs and secrets.
set -eu
[ -f /run/libvirt/libvirtd.pid ] || exit 0
pid=$(cat /run/libvirt/libvirtd.pid)
kill "$pid" 2>/dev/null || true
# shellcheck disable=SC2034 # i only counts the tries
for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
rm -rf /var/lib/libvirt/* /run/libvirt/* /var/log/libvirt/* /etc/libvirt/secrets
