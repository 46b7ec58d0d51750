#!/usr/bin/env bash
# Seed 000 scenario 2's three routers (PE1, the PC router, PE2) as network namespaces inside
# ONE router appliance, measured with iperf3 between two emulated hosts through
# PE1 =GRE Tunnel1= PE2, beside the appliance's CPU. local-gre runs the same three routers
# as three appliances; bench/wan-iperf.sh measures that lab's paths, so that the two
# choices can be compared on the same machine in the same hour.
#   bash bench/one-appliance-gre.sh [SECONDS] [PROFILE] [RATE_MBIT] [STREAMS]
# PROFILE is a WAN profile (campus by default), applied with RATE_MBIT (0: none) on the
# core router's two PE-facing egresses, as local-gre's router applies it. Everything lives
# in namespaces named wlb1a-*, all removed on exit. Prints one JSON line.
set -euo pipefail
secs=${1:-10} profile=${2:-campus} rate=${3:-0} streams=${4:-1}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
P=wlb1a
tmp=$(mktemp -d)
run=$tmp/appliance
IMAGE=$ROOT/.cache/images/router
[ -f "$IMAGE/vmlinuz" ] || { echo "no router image in $IMAGE: run npm run bootstrap" >&2; exit 1; }
for n in shell host1 host2; do
  [ -e "/run/netns/$P-$n" ] && { echo "namespace $P-$n exists: another run of this bench, or one killed (ip netns del $P-$n)" >&2; exit 1; }
done

cleanup() {
  [ -f "$run/qemu.pid" ] && kill "$(cat "$run/qemu.pid")" 2>/dev/null || true
  for n in shell host1 host2; do ip netns del "$P-$n" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# The NetEm words for the profile and rate, as the lab renders them.
netem=$(cd "$ROOT" && node --import tsx -e '
const { PROFILES, netemArgs, withRate } = require("./modules/netem/profiles");
const p = PROFILES[process.argv[1]];
if (!p) { console.error("no WAN profile " + process.argv[1]); process.exit(2); }
console.log(netemArgs(withRate(p, Number(process.argv[2]))).join(" "));' "$profile" "$rate")

for n in shell host1 host2; do ip netns add "$P-$n"; ip -n "$P-$n" link set lo up; done
# host<i> eth0 -- veth -- bridge ab<i> in the shell -- tap at<i> -- the appliance's eth<i>.
for i in 1 2; do
  ip link add eth0 netns "$P-host$i" type veth peer name "h$i" netns "$P-shell"
  ip -n "$P-host$i" addr add "192.168.$i.10/24" dev eth0
  ip -n "$P-host$i" link set eth0 up
  ip -n "$P-host$i" route add default via "192.168.$i.1"
  ip -n "$P-shell" link add "ab$i" type bridge
  ip -n "$P-shell" link set "h$i" master "ab$i" up
  # As the lab's links do (components/host/link.ts): no transmit checksum offload, and so
  # no segmentation offload either, which would let 64 KiB segments cross the taps.
  ip netns exec "$P-host$i" ethtool -K eth0 tx off >/dev/null
  ip netns exec "$P-shell" ethtool -K "h$i" tx off >/dev/null
done

ssh-keygen -q -t ed25519 -N "" -C wlb1a -f "$tmp/id"
# The appliance as the lab boots it (components/host/appliance-create.sh), in the shell.
macs=(52:54:00:b1:a0:00 52:54:00:b1:a0:01 52:54:00:b1:a0:02)
start=$(date +%s)
ip netns exec "$P-shell" env KEY="$(cat "$tmp/id")" NAME=routers IMAGE="$IMAGE" MEMORY=256 RUNDIR="$run" \
  TAPS="at1:ab1:${macs[1]} at2:ab2:${macs[2]}" MGMT_NET=169.254.200.0/24 MGMT_ADDR=169.254.200.15/24 \
  MGMT_MAC="${macs[0]}" NICS="${macs[0]}=mgmt,${macs[1]}=eth1,${macs[2]}=eth2" \
  sh "$ROOT/components/host/appliance-create.sh" >/dev/null
boot=$(( $(date +%s) - start ))
in_vm() {
  ip netns exec "$P-shell" ssh -q -i "$tmp/id" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o BatchMode=yes -p 2222 root@127.0.0.1 "$@"
}
# The three routers as namespaces in the VM, addressed as local-gre addresses them:
# pe1 eth1 (site 1) and eth2 to pc; pc to both PEs; pe2 the mirror. Tunnel1 runs between
# the PEs' loopbacks, reached over pc by static /32s (as local-gre's A5 routes).
in_vm NETEM="'$netem'" dash -s <<'VM'
set -eu
# iproute2's ip, not busybox's: dash, not busybox's sh, which runs its own applets; sshd's PATH has no sbin.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
for n in pe1 pc pe2; do ip netns add $n; ip -n $n link set lo up; ip netns exec $n sysctl -qw net.ipv4.ip_forward=1; done
# Each PE's site NIC is its eth1, as in local-gre.
ip link set eth1 netns pe1
ip link set eth2 netns pe2
ip -n pe2 link set eth2 name eth1
ip link add wan netns pe1 type veth peer name eth1 netns pc
ip link add wan netns pe2 type veth peer name eth2 netns pc
for i in 1 2; do
  ip -n pe$i addr add 192.168.$i.1/24 dev eth1
  ip -n pe$i link set eth1 up
  ip -n pe$i addr add 172.16.$i.1/30 dev wan
  ip -n pe$i link set wan up
  ip -n pe$i addr add 10.0.0.$i/32 dev lo
  ip -n pc addr add 172.16.$i.2/30 dev eth$i
  ip -n pc link set eth$i up
  ip -n pc route add 10.0.0.$i/32 via 172.16.$i.1
  [ -z "$NETEM" ] || ip netns exec pc tc qdisc replace dev eth$i root netem $NETEM
done
ip -n pe1 route add 10.0.0.2/32 via 172.16.1.2
ip -n pe2 route add 10.0.0.1/32 via 172.16.2.2
ip -n pe1 tunnel add Tunnel1 mode gre local 10.0.0.1 remote 10.0.0.2 ttl 255
ip -n pe2 tunnel add Tunnel1 mode gre local 10.0.0.2 remote 10.0.0.1 ttl 255
for i in 1 2; do
  ip -n pe$i link set Tunnel1 mtu 1476 up
  ip -n pe$i addr add 10.1.1.$i/24 dev Tunnel1
done
ip -n pe1 route add 192.168.2.0/24 via 10.1.1.2
ip -n pe2 route add 192.168.1.0/24 via 10.1.1.1
VM

ticks() { awk '{ print $14 + $15 }' "/proc/$(cat "$run/qemu.pid")/stat"; }
ip netns exec "$P-host2" iperf3 -s -1 -B 192.168.2.10 -p 5299 -D -I "$tmp/server.pid" >/dev/null
sleep 0.5
# The tunnel carries the hosts' traffic: a full-size DF ping passes PE1's 1476 only after PMTU discovery.
ip netns exec "$P-host1" ping -c 3 -i 0.2 -W 5 192.168.2.10 >/dev/null
t0=$(ticks)
begin=$(date +%s%N)
ip netns exec "$P-host1" iperf3 -c 192.168.2.10 -p 5299 -t "$secs" -P "$streams" -J > "$tmp/client.json"
end=$(date +%s%N)
t1=$(ticks)
gre_tx=$(in_vm /usr/sbin/ip netns exec pe1 cat /sys/class/net/Tunnel1/statistics/tx_bytes)
node -e '
const [file, t0, t1, hz, ns, secs, streams, profile, rate, boot, greTx] = process.argv.slice(1);
const r = JSON.parse(require("fs").readFileSync(file, "utf8"));
if (r.error) { console.error("iperf3: " + r.error); process.exit(1); }
const e = r.end;
console.log(JSON.stringify({ layout: "one appliance, three router namespaces", profile, rateMbit: Number(rate),
  seconds: Number(secs), streams: Number(streams), receivedMbit: +(e.sum_received.bits_per_second / 1e6).toFixed(1),
  retransmits: e.sum_sent.retransmits ?? null, tunnelTxMiB: +(Number(greTx) / 1048576).toFixed(1),
  applianceCpuPct: Math.round(100 * (t1 - t0) / hz / (ns / 1e9)), bootS: Number(boot) }));
' "$tmp/client.json" "$t0" "$t1" "$(getconf CLK_TCK)" $((end - begin)) "$secs" "$streams" "$profile" "$rate" "$boot" "$gre_tx"
