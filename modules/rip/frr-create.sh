# FRR for one router: its rendered config (on stdin) checked with FRR's own dry run, then
# zebra, staticd and ripd, each with its pid file and vty socket in DIR, and the config
# loaded through vtysh. Daemons already running from DIR are kept.
set -eu
mkdir -p "$DIR"
cat > "$DIR/frr.conf.new"
if ! out=$(vtysh -C -f "$DIR/frr.conf.new" 2>&1); then
  echo "FRR refuses the rendered configuration:" >&2
  echo "$out" >&2
  rm -f "$DIR/frr.conf.new"
  exit 1
fi
mv "$DIR/frr.conf.new" "$DIR/frr.conf"
chown frr:frr "$DIR"
for d in zebra staticd ripd; do
  if [ -f "$DIR/$d.pid" ] && kill -0 "$(cat "$DIR/$d.pid")" 2>/dev/null; then continue; fi
  "$FRR_DAEMONS/$d" -d -u frr -g frr --vty_socket "$DIR" -z "$DIR/zserv.api" -i "$DIR/$d.pid" -f /dev/null
done
# A daemon answers on its vty socket once it is up.
# shellcheck disable=SC2034 # i only counts the tries
for i in $(seq 50); do
  [ -S "$DIR/zebra.vty" ] && [ -S "$DIR/staticd.vty" ] && [ -S "$DIR/ripd.vty" ] && break
  sleep 0.1
done
vtysh --vty_socket "$DIR" -f "$DIR/frr.conf"
