# Stop the VM, then remove its taps and bridges and its directory.
set -eu
if [ -f "$RUNDIR/qemu.pid" ]; then
  pid=$(cat "$RUNDIR/qemu.pid"); kill "$pid" 2>/dev/null || true
  # shellcheck disable=SC2034 # i only counts the tries
  # Gone, or a zombie that init reaps in its own time.
  for i in $(seq 100); do st=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null) || break; [ "${st%% *}" != Z ] || break; sleep 0.05; done
fi
for t in $TAPS; do tap=${t%%:*}; rest=${t#*:}; ip link del "$tap" 2>/dev/null || true; ip link del "${rest%%:*}" 2>/dev/null || true; done
rm -rf "$RUNDIR"
