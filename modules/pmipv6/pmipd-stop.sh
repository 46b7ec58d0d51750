# Stops the daemon (SIGTERM: it removes its tunnels, routes and rules), then removes what a
# killed one may have left, and its directory.
set -u
pidfile="$DIR/pmipd.pid"
if [ -f "$pidfile" ]; then
  pid=$(cat "$pidfile")
  kill "$pid" 2>/dev/null || true
  i=0
  while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  kill -9 "$pid" 2>/dev/null || true
fi
for dev in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep '^pmip' || true); do
  ip link del "$dev" 2>/dev/null || true
done
while ip -6 rule del table 100 2>/dev/null; do :; done
ip -6 route flush table 100 2>/dev/null || true
rm -rf "$DIR"
