# This host's own libvirtd (emulated hosts), with its config, sockets, state and logs in
# the host's private directories. Safe to run twice: a running daemon is left alone.
set -eu
# At its first start libvirtd probes QEMU's capabilities, seconds per emulator under TCG,
# and caches them. The cache is the machine's (CAPS_CACHE): libvirtd checks every entry
# (QEMU's and its own build, the kernel, the CPU) and probes again where one is stale.
caps=/var/cache/libvirt/qemu/capabilities
if [ -n "${CAPS_CACHE:-}" ] && [ -d "$CAPS_CACHE" ]; then
  mkdir -p "$caps"
  for f in "$CAPS_CACHE"/*.xml; do [ ! -f "$f" ] || cp -p "$f" "$caps/"; done
fi
sup=/run/libvirt/libvirtd-supervisor.pid
if ! { [ -f "$sup" ] && kill -0 "$(cat "$sup")" 2>/dev/null; }; then
  # Started on the first CPU this shell may use (the capabilities cache holds the CPUID
  # read there), then given all of them: libvirtd-supervise.sh.
  cpus=$(taskset -pc $$ 2>/dev/null | sed 's/.*: *//') || cpus=
  # Under tini as a subreaper: a VM's QEMU daemonizes, and an orphan's zombie stays until
  # someone reaps it. libvirt counts a zombie as running, so a machine whose init reaps
  # late (seconds, on some) would make every VM's destroy wait for it.
  setsid tini -s -- sh "$SUPERVISE" "${cpus%%[,-]*}" "$cpus" </dev/null >/dev/null 2>&1 &
fi
# shellcheck disable=SC2034 # i only counts the tries
for i in $(seq 100); do virsh -c qemu:///system version >/dev/null 2>&1 && break; sleep 0.1; done
virsh -c qemu:///system version >/dev/null
# What it probed, back to the machine's cache, each file replaced whole.
if [ -n "${CAPS_CACHE:-}" ] && [ -d "$caps" ]; then
  mkdir -p "$CAPS_CACHE"
  for f in "$caps"/*.xml; do
    [ -f "$f" ] || continue
    n=${f##*/}
    cmp -s "$f" "$CAPS_CACHE/$n" || { cp -p "$f" "$CAPS_CACHE/.$n.$$" && mv -f "$CAPS_CACHE/.$n.$$" "$CAPS_CACHE/$n"; }
  done
fi
