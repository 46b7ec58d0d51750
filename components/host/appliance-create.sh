# Boot the appliance (the router image) under QEMU inside its shell's namespaces. Its
# management NIC is QEMU's user network with restrict=on (the VM reaches nothing through
# it); sshd's port 22 is forwarded to 127.0.0.1:2222 in the shell. The lab's public key
# reaches the VM on its kernel command line, derived here from the private key, which
# never leaves this directory's private file.
set -eu
host_key() { printf 'host-key: %s\n' "$(cut -d' ' -f1,2 "$RUNDIR/host_key.pub")"; }
if [ -f "$RUNDIR/qemu.pid" ] && kill -0 "$(cat "$RUNDIR/qemu.pid")" 2>/dev/null; then echo running; host_key; exit 0; fi
mkdir -p "$RUNDIR"
umask 077
# The VM's SSH host key, made here and pinned by the lab: QEMU reads it from this private
# file into fw_cfg, so it is on no command line.
[ -f "$RUNDIR/host_key" ] || ssh-keygen -q -t ed25519 -N "" -C "wanlab-$NAME" -f "$RUNDIR/host_key"
printf "%s\n" "$KEY" > "$RUNDIR/key"
pub=$(ssh-keygen -y -f "$RUNDIR/key" | base64 -w0)
rm -f "$RUNDIR/key"
# NIC i: a tap in the shell, bridged to the shell's end of the link's veth (Link plugs it in).
netdevs=""
for t in $TAPS; do
  tap=${t%%:*}; rest=${t#*:}; br=${rest%%:*}; m=${rest#*:}
  ip link show "$tap" >/dev/null 2>&1 || ip tuntap add "$tap" mode tap
  ip link show "$br" >/dev/null 2>&1 || ip link add "$br" type bridge
  ip link set "$tap" master "$br" up
  ip link set "$br" up
  netdevs="$netdevs -netdev tap,id=$tap,ifname=$tap,script=no,downscript=no -device virtio-net-pci,netdev=$tap,mac=$m"
done
# shellcheck disable=SC2086 # $netdevs is a list of QEMU arguments, split on purpose
qemu-system-x86_64 -machine accel=tcg -m "$MEMORY" -display none -no-reboot \
  -kernel "$IMAGE/vmlinuz" -initrd "$IMAGE/initrd.img" \
  -append "console=ttyS0 quiet panic=-1 wanlab.name=$NAME wanlab.mgmt=$MGMT_ADDR wanlab.nics=$NICS wanlab.key=$pub" \
  -netdev user,id=mgmt,net=$MGMT_NET,restrict=on,hostfwd=tcp:127.0.0.1:2222-:22 \
  -device virtio-net-pci,netdev=mgmt,mac=$MGMT_MAC $netdevs \
  -fw_cfg name=opt/wanlab/host_key,file="$RUNDIR/host_key" \
  -serial file:"$RUNDIR/console.log" -daemonize -pidfile "$RUNDIR/qemu.pid"
# Ready when sshd answers with its banner.
for i in $(seq 180); do
  if timeout 2 socat -T 2 STDIO TCP:127.0.0.1:2222 </dev/null 2>/dev/null | grep -q ^SSH-; then echo "$NAME up after ${i}s"; host_key; exit 0; fi
  sleep 1
done
echo "appliance $NAME did not answer on SSH within 180 s; console:" >&2
tail -n 20 "$RUNDIR/console.log" >&2
exit 1
