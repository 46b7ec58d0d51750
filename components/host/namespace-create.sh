# An emulated host: its network namespace, and a mount namespace pinned to a file (as
# `ip netns` pins network namespaces) so that later commands enter both with nsenter.
set -eu
# Whose namespaces these are (the preflight refuses another lab's), first of all.
mkdir -p "$RUN"
echo "$OWNER" > "$RUN/owner"
[ -e "/run/netns/$NETNS" ] || ip netns add "$NETNS"
ip -n "$NETNS" link set lo up
if ! mountpoint -q "$RUN/mnt"; then
  touch "$RUN/mnt"
  unshare --mount="$RUN/mnt" --propagation private true
fi
# Mount each private directory that is not mounted yet, so that a host created before a
# directory joined the list gets it too. A mount point this lab had to create is noted,
# to be removed again on delete.
for d in $PRIVATE_DIRS; do
  [ -d "$d" ] || { mkdir -p "$d" && echo "$d" >> "$RUN/created-mountpoints"; }
  mkdir -p "$RUN/fs$d"
  nsenter --mount="$RUN/mnt" mountpoint -q "$d" || nsenter --mount="$RUN/mnt" mount --bind "$RUN/fs$d" "$d"
done
