# Keeps this host's libvirtd running, as systemd's Restart= does on a real machine: a
# daemon that dies (killed in the middle of a migration, say) is started again within a
# second, and it finds its running VMs again from its state directory. Started detached
# by libvirtd-create.sh; libvirtd-delete.sh stops this loop first, then the daemon.
# Arguments: the CPUs to start each daemon on, and all the CPUs it may use once it runs.
set -u
first=$1 all=$2
echo $$ > /run/libvirt/libvirtd-supervisor.pid
while :; do
  # The cache of QEMU capabilities holds the CPUID the daemon read at its start, on the
  # CPU it ran on: every daemon starts on the same one, then gets all of them back.
  ${first:+taskset -c "$first"} libvirtd --config /etc/libvirt/libvirtd.conf --pid-file /run/libvirt/libvirtd.pid &
  pid=$!
  # shellcheck disable=SC2034 # i only counts the tries
  for i in $(seq 100); do virsh -c qemu:///system version >/dev/null 2>&1 && break; sleep 0.1; done
  [ -z "$all" ] || taskset -a -p -c "$all" "$pid" >/dev/null 2>&1 || true
  wait "$pid"
  echo "libvirtd (pid $pid) exited with $?; starting it again" >> /var/log/libvirt/supervisor.log
  sleep 0.5
done
