# Undoes ipv6-create.sh: routes, addresses, and forwarding as it was found.
set -u
for pair in $ROUTES; do
  ip -6 route del "${pair%%=*}" via "${pair#*=}" 2>/dev/null || true
done
for pair in $ADDRESSES; do
  ip -6 addr del "${pair#*=}" dev "${pair%%=*}" 2>/dev/null || true
done
if [ -n "$FORWARDING" ]; then
  sysctl -qw net.ipv6.conf.all.forwarding="${PULUMI_COMMAND_STDOUT:-0}" || true
fi
