# The RADIUS server (modules/radius): FreeRADIUS in the foreground in the host's namespaces,
# with its raddb, log and pid file in DIR. Its files come on stdin, each after a line
# `#### wanlab-file NAME`; the lab's check is a client on the loopback whose secret is made
# here, once, and never leaves DIR. Safe to run twice: a server that runs with these files is
# left alone; one with other files is stopped, and the new ones are checked by FreeRADIUS
# (freeradius -C) before it starts again with them.
set -eu
umask 077
mkdir -p "$DIR/run"
chmod 700 "$DIR"
rm -rf "$DIR/raddb.new"
mkdir "$DIR/raddb.new"
awk -v dir="$DIR/raddb.new" '/^#### wanlab-file / { f = dir "/" $3; printf "" > f; next } f != "" { print > f }'
[ -s "$DIR/check.secret" ] || od -An -N24 -tx1 /dev/urandom | tr -d ' \n' > "$DIR/check.secret"
printf 'clients check {\n\tclient lab-check {\n\t\tipaddr = 127.0.0.1\n\t\tsecret = %s\n\t\trequire_message_authenticator = yes\n\t}\n}\n' \
  "$(cat "$DIR/check.secret")" > "$DIR/raddb.new/check.conf"
alive() { st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1; [ "${st%% *}" != Z ]; }
# Up: its process runs, it answers the check's Status-Server, and it listens on LISTEN.
up() {
  pid=$(cat "$DIR/run/radiusd.pid" 2>/dev/null) || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = freeradius ] && alive "$pid" || return 1
  printf 'Message-Authenticator = 0x00\n' \
    | radclient -q -r 1 -t 1 -d "$DIR/raddb" -S "$DIR/check.secret" "127.0.0.1:$PORT" status >/dev/null 2>&1 || return 1
  ss -Hlun | grep -qF " $LISTEN "
}
if up && diff -r -q "$DIR/raddb" "$DIR/raddb.new" >/dev/null 2>&1; then rm -rf "$DIR/raddb.new"; exit 0; fi
sh -c "$STOP_SCRIPT"
rm -rf "$DIR/raddb"
mv "$DIR/raddb.new" "$DIR/raddb"
# FreeRADIUS's own check of the files; a refusal fails the create with its words (its
# errors name files and lines, not the secrets, which the program checked before).
if ! out=$(freeradius -C -d "$DIR/raddb" -n radiusd -l stdout 2>&1); then
  echo "FreeRADIUS refuses the configuration in $DIR/raddb:" >&2
  printf '%s\n' "$out" | grep -v ' : Info: ' >&2 || true
  exit 1
fi
# -P: the pid file even in the foreground (run/radiusd.pid), which stop and up() read.
setsid freeradius -f -P -d "$DIR/raddb" -n radiusd </dev/null >>"$DIR/server.log" 2>&1 &
pid=$!
# shellcheck disable=SC2034 # i only counts the tries
for i in $(seq 100); do
  up && break
  # A server that ended (its address missing, its port taken) says why below.
  alive "$pid" || { sleep 0.2; break; }
  sleep 0.1
done
if ! up; then
  echo "the RADIUS server did not come up on $LISTEN within 10 s:" >&2
  tail -n 20 "$DIR/server.log" "$DIR/radius.log" >&2 2>/dev/null || true
  sh -c "$STOP_SCRIPT"
  exit 1
fi
