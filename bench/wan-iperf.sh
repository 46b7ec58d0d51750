#!/bin/bash
# The rate a lab's path carries, measured with iperf3 between two of its emulated hosts
# (through its routers and their NetEm), beside the CPU each appliance's QEMU used
# meanwhile: a rate below the NetEm rate while a QEMU on the path runs near one core
# (100 %) is TCG's limit, not NetEm's. Traffic stays in the stack's namespaces.
#   bash bench/wan-iperf.sh STACK FROM TO TO_ADDR [SECONDS] [STREAMS]
# Prints one JSON line: Mbit/s received, the sender's retransmissions, each appliance's
# CPU % (applianceCpuPct, by host) and their sum.
set -euo pipefail
stack=$1 from=$2 to=$3 addr=$4 secs=${5:-10} streams=${6:-1}
ns() { echo "/run/netns/wl-$stack-$1"; }
for h in "$from" "$to"; do [ -e "$(ns "$h")" ] || { echo "no namespace for host '$h' of stack '$stack' (is the lab up?)" >&2; exit 1; }; done
# Every appliance of the stack: its QEMU's pid file in its shell's private directory.
pidfiles=(/run/wanlab/"$stack"/*/fs/var/lib/wanlab/appliance/qemu.pid)
tmp=$(mktemp -d)
trap 'kill "$(cat "$tmp/server.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$tmp"' EXIT

nsenter --net="$(ns "$to")" iperf3 -s -1 -B "$addr" -p 5299 -D -I "$tmp/server.pid" >/dev/null
sleep 0.5
# "host ticks" per appliance: its QEMU's CPU ticks (user + system).
ticks() {
  local f h
  for f in "${pidfiles[@]}"; do
    [ -f "$f" ] || continue
    h=${f#/run/wanlab/"$stack"/}; h=${h%%/*}
    echo "$h $(awk '{ print $14 + $15 }' "/proc/$(cat "$f")/stat")"
  done
}
ticks > "$tmp/t0"
start=$(date +%s%N)
nsenter --net="$(ns "$from")" iperf3 -c "$addr" -p 5299 -t "$secs" -P "$streams" -J > "$tmp/client.json"
end=$(date +%s%N)
ticks > "$tmp/t1"
node -e '
const fs = require("fs");
const [dir, secs, streams, hz, ns] = process.argv.slice(1);
const r = JSON.parse(fs.readFileSync(dir + "/client.json", "utf8"));
if (r.error) { console.error("iperf3: " + r.error); process.exit(1); }
const read = (f) => Object.fromEntries(fs.readFileSync(dir + "/" + f, "utf8").trim().split("\n").filter(Boolean).map((l) => l.split(" ")).map(([h, t]) => [h, Number(t)]));
const t0 = read("t0"), t1 = read("t1");
const cpu = Object.fromEntries(Object.keys(t1).filter((h) => h in t0).map((h) => [h, Math.round(100 * (t1[h] - t0[h]) / Number(hz) / (Number(ns) / 1e9))]));
const e = r.end;
console.log(JSON.stringify({ seconds: Number(secs), streams: Number(streams),
  receivedMbit: +(e.sum_received.bits_per_second / 1e6).toFixed(1), retransmits: e.sum_sent.retransmits ?? null,
  applianceCpuPct: cpu, applianceCpuPctSum: Object.values(cpu).reduce((a, b) => a + b, 0) }));
' "$tmp" "$secs" "$streams" "$(getconf CLK_TCK)" $((end - start))
