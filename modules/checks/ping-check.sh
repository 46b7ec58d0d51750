# Pings from this host to TARGET until COUNT replies come back, trying again for WAIT
# seconds (a VM may still be booting); prints ping's summary lines.
set -eu
deadline=$(( $(date +%s) + WAIT ))
until out=$(ping -n -q -c "$COUNT" -i 0.2 -W 1 "$TARGET" 2>&1); do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "ping from $FROM to $TARGET failed for ${WAIT}s:" >&2; echo "$out" >&2; exit 1
  fi
  sleep 1
done
echo "$out" | tail -n 2
