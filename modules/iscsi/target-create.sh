# An iSCSI target with one LUN (a file in the host's private /var/lib/wanlab), run by tgtd
# in the storage host's namespaces, bound to the initiator networks and, with CHAP, to
# the lab's account. tgtd answers on its control socket once it is up.
set -eu
mkdir -p /var/lib/wanlab
[ -f "$IMG" ] || truncate -s "${SIZE_MIB}M" "$IMG"
if ! tgtadm --lld iscsi --mode system --op show >/dev/null 2>&1; then
  tgtd --iscsi portal="$PORTAL:3260"
  # shellcheck disable=SC2034 # i only counts the tries
  for i in $(seq 50); do tgtadm --lld iscsi --mode system --op show >/dev/null 2>&1 && break; sleep 0.1; done
fi
if ! tgtadm --lld iscsi --mode target --op show | grep -q "^Target 1: $IQN\$"; then
  tgtadm --lld iscsi --mode target --op new --tid 1 -T "$IQN"
  tgtadm --lld iscsi --mode logicalunit --op new --tid 1 --lun 1 -b "$IMG"
  for net in ${INITIATORS:-ALL}; do tgtadm --lld iscsi --mode target --op bind --tid 1 -I "$net"; done
  if [ -n "$CHAP_USER" ]; then
    tgtadm --lld iscsi --mode account --op new --user "$CHAP_USER" --password "$CHAP_PASSWORD"
    tgtadm --lld iscsi --mode account --op bind --tid 1 --user "$CHAP_USER"
  fi
fi
