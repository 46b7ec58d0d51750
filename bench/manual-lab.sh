#!/usr/bin/env bash
# Hand-written serial build of the default two-site lab (seed 000 scenario 1), as a baseline
# for the project's `pulumi up`: emulated hosts = net + mount namespaces; OVS userspace per host;
# VXLAN overlay (hosts + router as VTEPs); tgt iSCSI on the storage host; one libvirtd per
# hypervisor host; TCG guest with its disk on the iSCSI LUN; live migration measured by a 10 ms probe.
# usage: manual-lab.sh up|migrate [src dst]|down|all
set -euo pipefail
R=${LAB_ROOT:-/tmp/manual-lab}
IMG=${LAB_IMG:-$(cd "$(dirname "$0")/.." && pwd)/.cache/manual-lab-img}
VNI=100
log(){ printf '[%6.2fs] %s\n' "$(echo "$(date +%s.%N) - $T0" | bc)" "$*"; }
T0=$(date +%s.%N)

inns(){ local h=$1; shift; nsenter --net=/run/netns/$h --mount=$R/$h/mntns "$@"; }

image(){
  [ -f $IMG/vmlinuz ] && [ -f $IMG/initrd.gz ] && return
  mkdir -p $IMG && cd $IMG
  apt-get download "$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image/{print $2; exit}')" >/dev/null 2>&1
  dpkg -x linux-image-*.deb root
  local M=$(ls -d root/lib/modules/*/kernel)
  rm -rf initrd; mkdir -p initrd/{bin,proc,sys,dev,lib/modules}
  cp /bin/busybox initrd/bin/
  for m in drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci net/core/failover drivers/net/net_failover drivers/net/virtio_net drivers/block/virtio_blk; do cp $M/$m.ko initrd/lib/modules/; done
  cat > initrd/init <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net virtio_blk; do insmod /lib/modules/$m.ko; done
ip link set lo up; ip link set eth0 up; ip addr add 10.10.0.100/24 dev eth0; ip route add default via 10.10.0.1
echo GUEST-READY > /dev/console
# write a counter to the shared disk every 100 ms: continuity across migration = nothing lost
n=0; while true; do n=$((n+1)); echo "$n" | dd of=/dev/vda bs=512 count=1 conv=sync 2>/dev/null; sleep 0.1; done
EOF
  chmod +x initrd/init
  (cd initrd && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1 > ../initrd.gz)
  cp root/boot/vmlinuz-* vmlinuz
}

host(){ # emulated host: netns + persistent mount ns with private state dirs over the standard paths
  local h=$1; mkdir -p $R/$h/{run-ovs,etc-ovs,run-libvirt,lib-libvirt,log-libvirt,cache-libvirt,etc-libvirt,sock}
  ip netns add $h; ip -n $h link set lo up
  touch $R/$h/mntns
  unshare --mount=$R/$h/mntns --propagation private true
  nsenter --mount=$R/$h/mntns sh -c "
    mount --bind $R/$h/run-ovs /var/run/openvswitch; mount --bind $R/$h/etc-ovs /etc/openvswitch
    mount --bind $R/$h/run-libvirt /run/libvirt; mount --bind $R/$h/lib-libvirt /var/lib/libvirt
    mount --bind $R/$h/log-libvirt /var/log/libvirt; mount --bind $R/$h/cache-libvirt /var/cache/libvirt
    mount --bind $R/$h/etc-libvirt /etc/libvirt"
}

link(){ # link A ifA addrA B ifB addrB
  ip link add $2 netns $1 type veth peer name $5 netns $4
  ip -n $1 link set $2 up; ip -n $4 link set $5 up
  # OVS's userspace datapath forwards partial-checksum frames untouched: compute checksums in software
  ip netns exec $1 ethtool -K $2 tx off >/dev/null; ip netns exec $4 ethtool -K $5 tx off >/dev/null
  [ -n "$3" ] && ip -n $1 addr add $3 dev $2; [ -n "$6" ] && ip -n $4 addr add $6 dev $5; true
}

ovs(){ # per-host userspace OVS: br0 = uplink + host IP, br1 = VM side + VXLAN ports
  local h=$1 up=$2 ip=$3 gw=$4; shift 4
  inns $h ovsdb-tool create /etc/openvswitch/conf.db /usr/share/openvswitch/vswitch.ovsschema
  inns $h ovsdb-server /etc/openvswitch/conf.db --remote=punix:/var/run/openvswitch/db.sock --pidfile --detach --log-file=$R/$h/ovsdb.log
  inns $h ovs-vsctl --no-wait init
  inns $h ovs-vswitchd --pidfile --detach --log-file=$R/$h/vswitchd.log
  ip -n $h addr flush dev $up
  inns $h ovs-vsctl add-br br0 -- set bridge br0 datapath_type=netdev -- add-port br0 $up
  ip -n $h addr add $ip dev br0; ip -n $h link set br0 up; ip -n $h route add default via $gw
  inns $h ovs-vsctl add-br br1 -- set bridge br1 datapath_type=netdev
  local i=0; for peer in "$@"; do i=$((i+1)); inns $h ovs-vsctl add-port br1 vx$i -- set interface vx$i type=vxlan options:remote_ip=$peer options:key=$VNI; done
}

libvirt(){ # one libvirtd per hypervisor host
  local h=$1 uuid=$2
  cp -r /etc/libvirt/. $R/$h/etc-libvirt/ 2>/dev/null || true
  printf 'unix_sock_dir = "%s"\nhost_uuid = "%s"\nlisten_tls = 0\nlisten_tcp = 0\n' $R/$h/sock $uuid > $R/$h/etc-libvirt/libvirtd.conf
  printf 'user = "root"\ngroup = "root"\ndynamic_ownership = 0\nremember_owner = 0\nsecurity_driver = "none"\nstdio_handler = "file"\n' > $R/$h/etc-libvirt/qemu.conf
  inns $h libvirtd --daemon --config /etc/libvirt/libvirtd.conf --pid-file $R/$h/libvirtd.pid
  for i in $(seq 1 50); do [ -S $R/$h/sock/libvirt-sock ] && break; sleep 0.1; done
}
uri(){ echo "qemu:///system?socket=$R/$1/sock/libvirt-sock"; }

up(){
  image
  id libvirt-qemu >/dev/null 2>&1 || useradd -r -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
  mkdir -p $R /var/run/openvswitch /etc/openvswitch /run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt
  log "hosts"
  for h in h1 h2 rt st; do host $h; done
  link h1 eth0 192.168.1.10/24 rt eth1 192.168.1.1/24
  link h2 eth0 192.168.2.10/24 rt eth2 192.168.2.1/24
  link st eth0 192.168.5.5/24 rt eth3 192.168.5.1/24
  ip netns exec rt sysctl -qw net.ipv4.ip_forward=1
  ip -n st route add default via 192.168.5.1
  log "router VTEP (kernel vxlan) + overlay gateway 10.10.0.1"
  # no 'local': the kernel sources each tunnel packet from the router address facing that host
  # nolearning: a learned entry keeps the old underlay interface after the VM moves (seen on 6.18)
  ip -n rt link add vx0 type vxlan id $VNI dstport 4789 nolearning
  ip -n rt link add brov type bridge; ip -n rt link set vx0 master brov; ip -n rt link set vx0 up; ip -n rt link set brov up
  ip -n rt addr add 10.10.0.1/24 dev brov
  for d in 192.168.1.10 192.168.2.10; do bridge -n rt fdb append 00:00:00:00:00:00 dev vx0 dst $d; done
  log "OVS"
  # star: each host tunnels to the router only (a full mesh of learning VTEPs loops)
  ovs h1 eth0 192.168.1.10/24 192.168.1.1 192.168.1.1
  ovs h2 eth0 192.168.2.10/24 192.168.2.1 192.168.2.1
  log "iSCSI target (tgt) on st"
  truncate -s 64M $R/st/lun1.img
  ip netns exec st tgtd --iscsi portal=192.168.5.5:3260 2>/dev/null &
  for i in $(seq 1 50); do ip netns exec st tgtadm --lld iscsi --mode target --op show >/dev/null 2>&1 && break; sleep 0.1; done
  ip netns exec st tgtadm --lld iscsi --op new --mode target --tid 1 -T iqn.2026-11.lab.wanlab:shared
  ip netns exec st tgtadm --lld iscsi --op new --mode logicalunit --tid 1 --lun 1 -b $R/st/lun1.img
  ip netns exec st tgtadm --lld iscsi --op bind --mode target --tid 1 -I ALL
  log "libvirtd x2"
  libvirt h1 11111111-1111-4111-8111-111111111111
  libvirt h2 22222222-2222-4222-8222-222222222222
  log "VM define+start on h1"
  cat > $R/vm1.xml <<EOF
<domain type='qemu'>
  <name>vm1</name><memory unit='MiB'>${VM_MIB:-256}</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><kernel>$IMG/vmlinuz</kernel><initrd>$IMG/initrd.gz</initrd><cmdline>console=ttyS0</cmdline></os><features><acpi/></features>
  <cpu mode='custom'><model>qemu64</model></cpu>
  <devices>
    <disk type='network' device='disk'><driver name='qemu' type='raw' cache='none'/>
      <source protocol='iscsi' name='iqn.2026-11.lab.wanlab:shared/1'><host name='192.168.5.5' port='3260'/></source>
      <target dev='vda' bus='virtio'/></disk>
    <interface type='bridge'><source bridge='br1'/><virtualport type='openvswitch'/><mac address='52:54:00:0a:0a:64'/><model type='virtio'/></interface>
    <serial type='file'><source path='$R/vm1-console.log'/></serial>
  </devices>
</domain>
EOF
  virsh -q -c "$(uri h1)" define $R/vm1.xml >/dev/null
  virsh -q -c "$(uri h1)" start vm1
  for i in $(seq 1 120); do grep -q GUEST-READY $R/vm1-console.log 2>/dev/null && break; sleep 0.5; done
  log "guest ready; ping from client"
  ip netns exec st ping -c 3 -i 0.2 -W 1 10.10.0.100 | tail -1
  log "up done"
}

migrate(){
  local src=${1:-h1} dst=${2:-h2} dstip
  [ $dst = h2 ] && dstip=192.168.2.10 || dstip=192.168.1.10
  ip netns exec st ping -i 0.01 -D -W 1 10.10.0.100 > $R/probe.log 2>&1 & local pp=$!
  sleep 1
  local t1=$(date +%s.%N)
  virsh -q -c "$(uri $src)" migrate --live --persistent --undefinesource vm1 "$(uri $dst)" tcp://$dstip
  local t2=$(date +%s.%N)
  sleep 1; kill -INT $pp; wait $pp 2>/dev/null || true   # SIGINT: ping prints how many it sent
  virsh -c "$(uri $dst)" domjobinfo vm1 --completed | grep -E "Time elapsed:|Total downtime|Data processed"
  python3 - $R/probe.log <<'EOF'
import re,sys
rx={}
for l in open(sys.argv[1]):
    m=re.search(r'\[(\d+\.\d+)\].*icmp_seq=(\d+)',l)
    if m: rx[int(m.group(2))]=float(m.group(1))
seqs=sorted(rx); last=seqs[-1] if seqs else 0
sent=[int(m.group(1)) for l in open(sys.argv[1]) for m in [re.search(r'(\d+) packets transmitted',l)] if m]
sent=sent[0] if sent else last
# requests go out every 10 ms: a run of unanswered sequence numbers is the outage
worst=0; prev=None
for s_ in seqs:
    if prev is not None and s_-prev>1: worst=max(worst,(s_-prev)*10)
    prev=s_
if sent>last: worst=max(worst,(sent-last)*10); print("probe: VM unreachable at the end of the probe")
# requests that reach a paused VM can be queued and answered after it resumes: the silence
# between consecutive reply arrivals is the downtime a client sees, even with no loss
arr=sorted(rx.values()); gap=max((b_-a_ for a_,b_ in zip(arr,arr[1:])),default=0)*1000
print(f"probe: {len(seqs)} replies of {sent} sent, lost {sent-len(seqs)}, longest loss run {worst} ms, longest reply silence {gap:.0f} ms")
EOF
  echo "wall: $(echo "$t2 - $t1" | bc) s"
}

down(){
  for h in h1 h2; do
    for d in $(virsh -q -c "$(uri $h)" list --all --name 2>/dev/null); do virsh -q -c "$(uri $h)" destroy $d >/dev/null 2>&1 || true; virsh -q -c "$(uri $h)" undefine $d >/dev/null 2>&1 || true; done
    [ -f $R/$h/libvirtd.pid ] && kill $(cat $R/$h/libvirtd.pid) 2>/dev/null || true
    for p in ovs-vswitchd ovsdb-server; do [ -f $R/$h/run-ovs/$p.pid ] && kill $(cat $R/$h/run-ovs/$p.pid) 2>/dev/null || true; done
  done
  # tgtd ignores SIGTERM: drop the target, then ask the daemon to exit
  ip netns exec st tgtadm --lld iscsi --op delete --mode target --tid 1 --force >/dev/null 2>&1 || true
  ip netns exec st tgtadm --lld iscsi --op delete --mode system >/dev/null 2>&1 || true
  ip netns pids st 2>/dev/null | xargs -r kill 2>/dev/null || true
  sleep 0.5
  for h in h1 h2 rt st; do
    [ -e $R/$h/mntns ] && umount $R/$h/mntns 2>/dev/null || true
    ip netns del $h 2>/dev/null || true
  done
  rm -rf $R
  log "down done"
}

case "${1:-all}" in
  up) up;; migrate) shift; migrate "$@";; down) down;;
  all) up; migrate h1 h2; migrate h2 h1; down;;
esac
