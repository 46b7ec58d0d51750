# A kernel VXLAN device on a Linux bridge that does not learn, with one all-zeros FDB
# entry per remote: a learned entry kept pointing at the old site after the VM moved
# (LAB-NOTES), while flooding to every remote always reaches it.
set -eu
if ! ip link show "$DEV" >/dev/null 2>&1; then
  # shellcheck disable=SC2086 # LOCAL expands to two words or none
  ip link add "$DEV" type vxlan id "$VNI" dstport "$DSTPORT" nolearning ${LOCAL:+local "$LOCAL"}
fi
ip link set "$DEV" mtu "$MTU" master "$BR" up
for r in $REMOTES; do
  bridge fdb show dev "$DEV" | grep -q "^00:00:00:00:00:00 dst $r " || bridge fdb append 00:00:00:00:00:00 dev "$DEV" dst "$r"
done
