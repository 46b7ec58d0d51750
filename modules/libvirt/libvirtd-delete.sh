# Stop the supervisor and the daemon and remove its state, logs and secrets. It has left once it is gone or a
# zombie (a daemon's parent is init, which may reap it late); one that is still there 2 s
# after SIGTERM is killed (its VMs are gone by now).
set -eu
# The supervisor first, or it would start the daemon again.
if [ -f /run/libvirt/libvirtd-supervisor.pid ]; then
  kill "$(cat /run/libvirt/libvirtd-supervisor.pid)" 2>/dev/null || true
  rm -f /run/libvirt/libvirtd-supervisor.pid
fi
[ -f /run/libvirt/libvirtd.pid ] || exit 0
pid=$(cat /run/libvirt/libvirtd.pid)
alive() { st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1; [ "${st%% *}" != Z ]; }
kill "$pid" 2>/dev/null || true
# shellcheck disable=SC2034 # i only counts the tries
for i in $(seq 40); do alive "$pid" || break; [ "$i" != 20 ] || kill -KILL "$pid" 2>/dev/null || true; sleep 0.1; done
rm -rf /var/lib/libvirt/* /run/libvirt/* /var/log/libvirt/* /etc/libvirt/secrets
