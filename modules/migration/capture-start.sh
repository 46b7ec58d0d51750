# Seed 004's capture of the migration connection, on the source hypervisor's uplink, from
# before the run until capture-read.sh: headers only (96 bytes), written at once.
set -eu
rm -rf "$DIR"
mkdir -p "$DIR"
setsid tcpdump -i "$IFACE" -n -s 96 -B 8192 --immediate-mode -Z root -w "$DIR/capture.pcap" "$FILTER" </dev/null >"$DIR/tcpdump.log" 2>&1 &
echo $! > "$DIR/tcpdump.pid"
# shellcheck disable=SC2034 # i only counts the tries
for i in $(seq 50); do grep -q 'listening on' "$DIR/tcpdump.log" && exit 0; sleep 0.1; done
echo "tcpdump did not start on $IFACE:" >&2
cat "$DIR/tcpdump.log" >&2
exit 1
