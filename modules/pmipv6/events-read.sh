# After a migration run: this node's PMIPv6 events since SINCE_NS (one JSON object a
# line). With WAIT_FOR (a word of an event, e.g. "event":"detach"), first waits up to
# WAIT_S for such an event since SINCE_NS: the old MAG's detach comes a few NUD intervals
# after the VM left. Never fails: a run's record does not depend on it.
log="$DIR/events.jsonl"
[ -f "$log" ] || exit 0
since() { awk -v since="$SINCE_NS" '{ if (match($0, /"tNs":[0-9]+/)) { t = substr($0, RSTART + 6, RLENGTH - 6); if (t + 0 >= since + 0) print } }' "$log"; }
if [ -n "${WAIT_FOR:-}" ]; then
  i=0
  while [ "$i" -lt $((${WAIT_S:-10} * 5)) ] && ! since | grep -qF "$WAIT_FOR"; do
    sleep 0.2
    i=$((i + 1))
  done
fi
since
exit 0
