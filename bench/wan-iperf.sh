#!/bin/bash
# The rate a lab's WAN carries, measured with iperf3 between two of its emulated hosts
# (through the router and its NetEm), beside the CPU the router appliance's QEMU used
# meanwhile: a rate below the NetEm rate while that QEMU runs near one core (100 %) is
# TCG's limit, not NetEm's. Traffic stays in the stack's namespaces.
#   bash bench/wan-iperf.sh STACK FROM TO TO_ADDR [SECONDS] [STREAMS]
# Prints one JSON line: Mbit/s received, the sender's retransmissions, the QEMU's CPU %.
set -euo pipefail
stack=$1 from=$2 to=$3 addr=$4 secs=${5:-10} streams=${6:-1}
ns() { echo "/run/netns/wl-$stack-$1"; }
for h in "$from" "$to"; do [ -e "$(ns "$h")" ] || { echo "no namespace for host '$h' of stack '$stack' (is the lab up?)" >&2; exit 1; }; done
pidfile=/run/wanlab/$stack/router/fs/var/lib/wanlab/appliance/qemu.pid
tmp=$(mktemp -d)
trap 'kill "$(cat "$tmp/server.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$tmp"' EXIT

nsenter --net="$(ns "$to")" iperf3 -s -1 -B "$addr" -p 5299 -D -I "$tmp/server.pid" >/dev/null
sleep 0.5
# CPU ticks of the appliance's QEMU (user + system), if the router is one.
ticks() { [ -f "$pidfile" ] && awk '{ print $14 + $15 }' "/proc/$(cat "$pidfile")/stat" || echo 0; }
t0=$(ticks)
start=$(date +%s%N)
nsenter --net="$(ns "$from")" iperf3 -c "$addr" -p 5299 -t "$secs" -P "$streams" -J > "$tmp/client.json"
end=$(date +%s%N)
t1=$(ticks)
hz=$(getconf CLK_TCK)
cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$hz" -v ns=$((end - start)) 'BEGIN { printf "%.0f", 100 * (b - a) / hz / (ns / 1e9) }')
node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
if (r.error) { console.error("iperf3: " + r.error); process.exit(1); }
const e = r.end;
console.log(JSON.stringify({ seconds: Number(process.argv[3]), streams: Number(process.argv[4]),
  receivedMbit: +(e.sum_received.bits_per_second / 1e6).toFixed(1), retransmits: e.sum_sent.retransmits ?? null,
  applianceCpuPct: Number(process.argv[2]) }));
' "$tmp/client.json" "$cpu" "$secs" "$streams"
