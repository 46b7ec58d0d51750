#!/usr/bin/env bash
# Seed 003's FTP baseline on a running emulated lab: the VM's size in bytes sent from
# host-a to host-b over TCP (iperf3 -n), as the study sent a file "of same size as the VM"
# between the same two hosts, intra- and inter-subnet. Appends one JSON line per size to
# OUT (a plan's results directory's ftp-baseline.jsonl), with each repetition's seconds.
#   bash bench/ftp-baseline.sh STACK PATH(intra|inter) OUT MIB... [-- REPS]
set -euo pipefail
stack=$1 path=$2 out=$3
shift 3
reps=3
sizes=()
while [ $# -gt 0 ]; do
  if [ "$1" = -- ]; then reps=$2; shift 2; continue; fi
  sizes+=("$1"); shift
done
a="wl-$stack-host-a" b="wl-$stack-host-b"
for ns in "$a" "$b"; do ip netns list | grep -q "^$ns\b" || { echo "no namespace $ns: is the lab of stack $stack up?" >&2; exit 1; }; done
# host-b's address on its uplink: where the migration stream goes.
dst=$(ip -n "$b" -4 -o addr show scope global | awk '$2 != "lo" && $2 !~ /^virbr/ { sub(/\/.*/, "", $4); print $4; exit }')
for mib in "${sizes[@]}"; do
  secs=()
  for _ in $(seq "$reps"); do
    # One server per transfer, in host-b's namespace; the transfer's time as the receiver saw it.
    ip netns exec "$b" iperf3 -s -1 -p 5299 >/dev/null 2>&1 &
    srv=$!
    sleep 0.3
    s=$(ip netns exec "$a" iperf3 -c "$dst" -p 5299 -n "${mib}M" -J | node -e 'let t = ""; process.stdin.on("data", (d) => (t += d)).on("end", () => console.log(JSON.parse(t).end.sum_received.seconds.toFixed(3)))')
    wait "$srv" || true
    secs+=("$s")
  done
  printf '{"path":"%s","stack":"%s","mib":%s,"seconds":[%s]}\n' "$path" "$stack" "$mib" "$(IFS=,; echo "${secs[*]}")" | tee -a "$out"
done
