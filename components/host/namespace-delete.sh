# Stop whatever still runs in the namespace, politely first, then remove the mount
# namespace, the mount points this lab created, the network namespace and the directory.
set -eu
pids=$(ip netns pids "$NETNS" 2>/dev/null || true)
if [ -n "$pids" ]; then
  # shellcheck disable=SC2086 # a list of pids
  kill $pids 2>/dev/null || true
  # shellcheck disable=SC2034 # i only counts the tries
  for i in $(seq 100); do [ -z "$(ip netns pids "$NETNS" 2>/dev/null)" ] && break; sleep 0.05; done
  pids=$(ip netns pids "$NETNS" 2>/dev/null || true)
  # shellcheck disable=SC2086 # a list of pids
  [ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
fi
if mountpoint -q "$RUN/mnt"; then umount "$RUN/mnt"; fi
# rmdir refuses while another lab still mounts over the directory.
if [ -f "$RUN/created-mountpoints" ]; then
  while read -r d; do rmdir "$d" 2>/dev/null || true; done < "$RUN/created-mountpoints"
fi
[ ! -e "/run/netns/$NETNS" ] || ip netns del "$NETNS"
rm -rf "$RUN"
rmdir "$STACK_DIR" 2>/dev/null || true
rmdir "$RUN_ROOT" 2>/dev/null || true
