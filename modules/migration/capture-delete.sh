# A capture left running (its run was cut short) stops, and its files go.
set -eu
if [ -f "$DIR/tcpdump.pid" ]; then
  p=$(cat "$DIR/tcpdump.pid")
  kill -INT "$p" 2>/dev/null || true
  # shellcheck disable=SC2034 # i only counts the tries
  for i in $(seq 50); do case "$(ps -o stat= -p "$p" 2>/dev/null || true)" in ''|Z*) break ;; esac; sleep 0.1; done
fi
rm -rf "$DIR"
