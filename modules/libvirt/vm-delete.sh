# Wherever it runs now: destroy and undefine it on every hypervisor that has it, and
# remove its local disk (and the copies migrations made) from every hypervisor's pool.
set -eu
for u in $URIS; do
  if virsh -c "$u" dominfo "$VM" >/dev/null 2>&1; then
    virsh -q -c "$u" destroy "$VM" >/dev/null 2>&1 || true
    virsh -q -c "$u" undefine "$VM" >/dev/null 2>&1 || true
  fi
done
[ -n "${POOL:-}" ] || exit 0
for u in $URIS; do
  virsh -q -c "$u" pool-refresh "$POOL" >/dev/null 2>&1 || continue
  virsh -q -c "$u" vol-delete --pool "$POOL" "$VM.qcow2" >/dev/null 2>&1 || true
done
