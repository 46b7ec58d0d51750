# On the LMA: waits until its binding cache names MAG for the VM (MN) and the tunnel to
# that MAG is up; prints the binding. WAIT_S bounds the wait.
set -eu
i=0
while :; do
  if [ -f "$DIR/state.json" ] && pmipd show -state "$DIR/state.json" > /tmp/pmip-state.$$ 2>/dev/null; then
    if tr -d ' \n' < /tmp/pmip-state.$$ | grep -q "\"mn\":\"$MN\"[^}]*\"mag\":\"$MAG\"[^}]*\"state\":\"registered\"" \
      && ip link show "$TUNNEL" 2>/dev/null | grep -q ',UP'; then
      tr -d ' \n' < /tmp/pmip-state.$$ | grep -o "{\"mn\":\"$MN\"[^}]*}"
      rm -f /tmp/pmip-state.$$
      exit 0
    fi
  fi
  i=$((i + 1))
  if [ "$i" -gt $((WAIT_S * 2)) ]; then
    echo "the LMA has no registered binding of $MN at $MAG with tunnel $TUNNEL up after ${WAIT_S} s; its binding cache:" >&2
    cat /tmp/pmip-state.$$ >&2 2>/dev/null || echo "(no state file)" >&2
    rm -f /tmp/pmip-state.$$
    exit 1
  fi
  sleep 0.5
done
