# One end of a GRE tunnel: a kernel GRE device from SRC to DST with the tunnel's address
# and MTU (ttl 255, as IOS sends). A device of that name left from an earlier create is
# replaced, so the end is always what the stack file says.
set -eu
if ip link show dev "$IF" >/dev/null 2>&1; then ip link del dev "$IF"; fi
if [ -n "$KEY" ]; then
  ip tunnel add "$IF" mode gre local "$SRC" remote "$DST" ttl 255 key "$KEY"
else
  ip tunnel add "$IF" mode gre local "$SRC" remote "$DST" ttl 255
fi
# RIP v2 sends its updates to 224.0.0.9: a Linux GRE device takes multicast only when told
# (an IOS tunnel does), and without it only RIP's start-up exchange gets through.
ip link set dev "$IF" mtu "$MTU" multicast on
ip addr add "$ADDR" dev "$IF"
ip link set dev "$IF" up
