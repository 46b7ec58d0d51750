# Stops one router's FRR daemons (zebra takes the routes it installed with it) and removes
# their directory, and the stack's directory if nothing else is in it.
set -eu
for d in ripd staticd zebra; do
  f="$DIR/$d.pid"
  [ -f "$f" ] || continue
  p=$(cat "$f")
  kill "$p" 2>/dev/null || continue
  # shellcheck disable=SC2034 # i only counts the tries
  for i in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$p" 2>/dev/null || true
done
rm -rf "$DIR"
rmdir "$(dirname "$DIR")" 2>/dev/null || true
