# The profile's NetEm qdisc on one interface, or none (campus).
set -eu
if [ -n "$NETEM" ]; then
  # shellcheck disable=SC2086 # NETEM is a list of tc words, split on purpose
  tc qdisc replace dev "$IF" root netem $NETEM
elif tc qdisc show dev "$IF" root | grep -q "qdisc netem"; then
  tc qdisc del dev "$IF" root
fi
