# The lab's check of the RADIUS server, on its host: real Access-Requests as a MAG sends
# them (User-Name, User-Password, Service-Type Authenticate-Only, Message-Authenticator),
# from the loopback client whose secret the server's create made (DIR/check.secret). Each
# VM (VMS: "vm user-name prefix interface-id" a line) must get an Access-Accept with its
# Framed-IPv6-Prefix and Framed-Interface-Id, each MAG (MAGS) an Access-Accept, and an
# unknown User-Name (UNKNOWN) an Access-Reject. The password comes on stdin; it goes to
# radclient through a pipe from printf (a shell builtin), never as a word of a command.
# Prints one line per request; fails with every wrong answer.
set -eu
IFS= read -r password || true
# radclient's answer: the reply's code and attributes, or its error lines (what it sent,
# with the password, is left out).
ask() {
  printf "User-Name = '%s'\nUser-Password = '%s'\nService-Type = Authenticate-Only\nMessage-Authenticator = 0x00\n" "$1" "$password" \
    | radclient -x -r 1 -t 3 -d "$DIR/raddb" -S "$DIR/check.secret" "127.0.0.1:$PORT" auth 2>&1 \
    | awk '/^Received / { on = 1 } on || /^\([0-9]+\) / { print }' || true
}
code() { printf '%s\n' "$1" | sed -n 's/^Received \([A-Za-z-]*\) .*/\1/p' | head -n 1; }
attr() { printf '%s\n' "$1" | sed -n "s/^[[:space:]]*$2 = //p" | head -n 1; }
# Interface ids without leading zeros in a group, as FreeRADIUS may print them.
ifid() { printf '%s\n' "$1" | sed -E 's/(^|:)0+([0-9a-f])/\1\2/g'; }
failed=""
fail() { echo "$1" >&2; failed=1; }
while read -r vm user prefix iid; do
  [ -n "$vm" ] || continue
  reply=$(ask "$user")
  got=$(code "$reply")
  p=$(attr "$reply" Framed-IPv6-Prefix)
  i=$(attr "$reply" Framed-Interface-Id)
  if [ "$got" != Access-Accept ]; then
    fail "VM '$vm' (User-Name $user): expected an Access-Accept, got ${got:-no answer}: $(printf '%s' "$reply" | tr '\n' ' ')"
  elif [ "$p" != "$prefix" ] || [ "$(ifid "$i")" != "$(ifid "$iid")" ]; then
    fail "VM '$vm' (User-Name $user): expected Framed-IPv6-Prefix $prefix and Framed-Interface-Id $iid, got '${p:-none}' and '${i:-none}'"
  else
    echo "vm $vm $user: Access-Accept, Framed-IPv6-Prefix $p, Framed-Interface-Id $i"
  fi
done <<LIST
$VMS
LIST
for mag in $MAGS; do
  got=$(code "$(ask "$mag")")
  if [ "$got" = Access-Accept ]; then echo "mag $mag: Access-Accept"; else fail "MAG '$mag': expected an Access-Accept, got ${got:-no answer}"; fi
done
got=$(code "$(ask "$UNKNOWN")")
if [ "$got" = Access-Reject ]; then echo "unknown $UNKNOWN: Access-Reject"; else fail "unknown User-Name $UNKNOWN: expected an Access-Reject, got ${got:-no answer}"; fi
if [ -n "$failed" ]; then
  echo "the RADIUS server on $HOST_NAME does not answer as the stack says (its log: $DIR/radius.log)" >&2
  exit 1
fi
