# 127.0.0.1:PORT of this machine -> 127.0.0.1:2222 in the shell -> the VM's sshd.
set -eu
if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then exit 0; fi
if ss -Hltn "sport = :$PORT" | grep -q .; then echo "port $PORT on 127.0.0.1 is taken: cannot reach appliance $NAME" >&2; exit 1; fi
setsid socat TCP-LISTEN:"$PORT",bind=127.0.0.1,reuseaddr,fork \
  EXEC:"nsenter --net=/run/netns/$NETNS socat STDIO TCP\:127.0.0.1\:2222" </dev/null >/dev/null 2>&1 &
echo $! > "$PIDFILE"
# shellcheck disable=SC2034 # i only counts the tries
for i in $(seq 50); do ss -Hltn "sport = :$PORT" | grep -q . && exit 0; sleep 0.1; done
echo "the SSH forwarder for $NAME did not start" >&2; exit 1
