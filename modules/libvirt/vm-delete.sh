# Wherever it runs now: destroy and undefine it on every hypervisor that has it.
set -eu
for u in $URIS; do
  if virsh -c "$u" dominfo "$VM" >/dev/null 2>&1; then
    virsh -q -c "$u" destroy "$VM" >/dev/null 2>&1 || true
    virsh -q -c "$u" undefine "$VM" >/dev/null 2>&1 || true
  fi
done
