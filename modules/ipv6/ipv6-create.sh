# A host's IPv6 plane (modules/ipv6): ADDRESSES="IF=ADDR/LEN ...", ROUTES="TO=VIA ...",
# FORWARDING=1 or empty. Safe to run twice (replace). Prints the forwarding value it found,
# which the delete script restores.
set -eu
sysctl -n net.ipv6.conf.all.forwarding
for pair in $ADDRESSES; do
  ifname=${pair%%=*}
  # The lab owns the segment: no DAD, so the address works at once.
  ip -6 addr replace "${pair#*=}" dev "$ifname" nodad
  ip link set "$ifname" up
done
if [ -n "$FORWARDING" ]; then
  sysctl -qw net.ipv6.conf.all.forwarding=1
fi
for pair in $ROUTES; do
  ip -6 route replace "${pair%%=*}" via "${pair#*=}"
done
