# tgtd ignores SIGTERM: it leaves once its targets and the system are deleted.
set -eu
tgtadm --lld iscsi --mode target --op delete --tid 1 --force 2>/dev/null || true
tgtadm --lld iscsi --mode system --op delete 2>/dev/null || true
# shellcheck disable=SC2034 # i only counts the tries
for i in $(seq 50); do tgtadm --lld iscsi --mode system --op show >/dev/null 2>&1 || break; sleep 0.1; done
rm -f "$IMG"
