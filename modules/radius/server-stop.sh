# Stops the RADIUS server (SIGTERM) and waits for it to be gone (or a zombie: its parent
# reaps it); one still there after 5 s is killed. A pid file that names another program
# (the machine rebooted since) is only removed.
set -eu
alive() { st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1; [ "${st%% *}" != Z ]; }
f="$DIR/run/radiusd.pid"
[ -f "$f" ] || exit 0
p=$(cat "$f")
rm -f "$f"
[ "$(cat "/proc/$p/comm" 2>/dev/null)" = freeradius ] || exit 0
kill "$p" 2>/dev/null || exit 0
# shellcheck disable=SC2034 # i only counts the tries
for i in $(seq 50); do alive "$p" || break; sleep 0.1; done
kill -9 "$p" 2>/dev/null || true
