# Runs in the server's own mount namespace (server-create.sh): a private /run, then
# rpcbind and ganesha in the foreground, each with its pid file in DIR. Ends when both have.
set -eu
mount --bind "$DIR/run" /run
mkdir -p /run/rpcbind
rpcbind -f &
echo $! > "$DIR/rpcbind.pid"
# ganesha registers with the portmapper at its start: rpcbind must answer first.
# shellcheck disable=SC2034 # i only counts the tries
for i in $(seq 50); do rpcinfo -p 127.0.0.1 >/dev/null 2>&1 && break; sleep 0.1; done
ganesha.nfsd -F -f "$DIR/ganesha.conf" -L "$DIR/ganesha.log" -p "$DIR/ganesha.pid" -N NIV_EVENT &
wait
