# Stops one NFS server (ganesha first, which unregisters from the portmapper, then
# rpcbind) and waits for each to be gone (or a zombie: its parent reaps it); one still
# there after 5 s is killed.
set -eu
alive() { st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1; [ "${st%% *}" != Z ]; }
for d in ganesha rpcbind server; do
  f="$DIR/$d.pid"
  [ -f "$f" ] || continue
  p=$(cat "$f")
  rm -f "$f"
  kill "$p" 2>/dev/null || continue
  # shellcheck disable=SC2034 # i only counts the tries
  for i in $(seq 50); do alive "$p" || break; sleep 0.1; done
  kill -9 "$p" 2>/dev/null || true
done
