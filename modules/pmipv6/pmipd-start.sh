# Starts the lab's PMIPv6 daemon (tools/pmipd) on this LMA or MAG, in the background, and
# waits for its "start" event. DIR holds config.json and the RADIUS files.
set -eu
pidfile="$DIR/pmipd.pid"
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  kill "$(cat "$pidfile")" 2>/dev/null || true
  sleep 1
fi
command -v pmipd >/dev/null || { echo "no pmipd on this host: the router image carries it (scripts/bootstrap.sh builds it)" >&2; exit 1; }
rm -f "$DIR/events.jsonl" "$DIR/state.json"
setsid pmipd run -config "$DIR/config.json" > "$DIR/pmipd.log" 2>&1 < /dev/null &
echo $! > "$pidfile"
i=0
while ! grep -q '"event":"start"' "$DIR/events.jsonl" 2>/dev/null; do
  if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "pmipd stopped at start:" >&2
    tail -n 20 "$DIR/pmipd.log" >&2
    exit 1
  fi
  i=$((i + 1))
  [ "$i" -le 100 ] || { echo "pmipd did not start within 10 s:" >&2; tail -n 20 "$DIR/pmipd.log" >&2; exit 1; }
  sleep 0.1
done
echo "pmipd $(cat "$pidfile") running"
