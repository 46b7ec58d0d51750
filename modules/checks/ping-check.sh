# Pings from this host to TARGET until COUNT replies come back, trying again for WAIT
# seconds (a VM may still be booting); prints ping's summary lines.
set -eu
deadline=$(( $(date +%s) + WAIT ))
# First wait for one reply, a probe every 0.1 s: a booting VM is noticed as soon as it answers.
ping -n -q -c 1 -i 0.1 -w "$WAIT" "$TARGET" >/dev/null 2>&1 || true
until out=$(ping -n -q -c "$COUNT" -i 0.2 -W 1 "$TARGET" 2>&1); do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "ping from $FROM to $TARGET failed for ${WAIT}s:" >&2; echo "$out" >&2; exit 1
  fi
  sleep 1
done
echo "$out" | tail -n 2
