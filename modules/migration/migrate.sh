# One live migration, measured as the studies did it (sourced by Migration; values come
# in as environment variables). A probe pings the VM from the client every INTERVAL_MS
# from before the migration until after it; downtime is the longest silence between two
# replies. Prints one JSON record. On failure the VM is left running on its source.
set -eu
tmp=$(mktemp -d)
probe_pid=
cleanup() {
  [ -z "$probe_pid" ] || kill -INT "$probe_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
now_ms() { date +%s%3N; }

state=$(virsh -c "$SRC_URI" domstate "$VM" 2>/dev/null || true)
if [ "$state" != running ]; then
  echo "$VM is not running on $SRC_HOST (state: ${state:-not defined there}); is it on $DST_HOST already? Set wanlab:migrationDirection to choose the direction." >&2
  exit 1
fi

# Round-trip time before the migration, then the probe for the whole window.
rtt_before=$(ping -n -q -c 20 -i 0.05 -W 1 "$VM_ADDR" | awk -F/ '/^rtt/ {print $5}')
ping -n -D -i "$INTERVAL_S" -W 1 "$VM_ADDR" > "$tmp/probe" 2>&1 &
probe_pid=$!
sleep 1

[ -z "$MAX_DOWNTIME_MS" ] || virsh -c "$SRC_URI" migrate-setmaxdowntime "$VM" "$MAX_DOWNTIME_MS"
t0=$(now_ms)
set +e
# shellcheck disable=SC2086 # OPTIONS is a list of flags
timeout "$TIMEOUT_S" virsh -c "$SRC_URI" migrate --live --persistent --undefinesource $OPTIONS \
  "$VM" "$DST_URI" "$MIGRATE_URI" > "$tmp/migrate" 2>&1
rc=$?
set -e
t1=$(now_ms)
# Keep probing until the VM has answered since the migrate command returned (the path
# may take a moment to converge after the switchover), for at most RECOVER_S seconds,
# then one more second so that the silence before that answer is measured whole.
if [ "$rc" -eq 0 ]; then
  deadline=$((t1 + RECOVER_S * 1000))
  while [ "$(now_ms)" -lt "$deadline" ]; do
    last=$(awk '/bytes from/ {gsub(/[\[\]]/, "", $1); t = $1 * 1000} END {printf "%.0f", t}' "$tmp/probe")
    [ "${last:-0}" -gt "$t1" ] && break
    sleep 0.2
  done
fi
sleep 1
t_end=$(now_ms)
kill -INT "$probe_pid"; wait "$probe_pid" 2>/dev/null || true
probe_pid=

if [ "$rc" -ne 0 ]; then
  [ "$rc" -ne 124 ] || virsh -c "$SRC_URI" domjobabort "$VM" >/dev/null 2>&1 || true
  echo "migration of $VM from $SRC_HOST to $DST_HOST failed (exit $rc):" >&2
  cat "$tmp/migrate" >&2
  echo "$VM on $SRC_HOST: $(virsh -c "$SRC_URI" domstate "$VM" 2>&1)" >&2
  exit 1
fi

# libvirt's own figures, from the destination.
virsh -c "$DST_URI" domjobinfo "$VM" --completed > "$tmp/job" 2>&1 || true
job() { awk -F: -v k="$1" '$1 == k {sub(/^[ \t]+/, "", $2); split($2, a, " "); print a[1]; exit}' "$tmp/job"; }
job_bytes() {
  awk -F: -v k="$1" '$1 == k {sub(/^[ \t]+/, "", $2); split($2, a, " ");
    m = (a[2] == "KiB") ? 1024 : (a[2] == "MiB") ? 1048576 : (a[2] == "GiB") ? 1073741824 : 1;
    printf "%.0f", a[1] * m; exit}' "$tmp/job"
}

# Probe: the longest silence between consecutive replies, counting the silence from the
# last reply to the end of the window (an outage at the end is an outage too), what was
# sent and received, and whether the VM answered after the migrate command returned.
awk -v t1="$t1" -v tend="$t_end" '
  /bytes from/ { gsub(/[\[\]]/, "", $1); t = $1 * 1000; if (prev) { g = t - prev; if (g > gap) { gap = g; at = prev } } prev = t; n++; if (t > t1) after = 1 }
  /packets transmitted/ { sent = $1; recv = $4 }
  END {
    if (!n) { printf "%d %d null null false\n", sent, recv; exit }
    if (tend - prev > gap) { gap = tend - prev; at = prev }
    printf "%d %d %.1f %.0f %s\n", sent, recv, gap, at, (after ? "true" : "false")
  }' "$tmp/probe" > "$tmp/gap"
read -r sent recv gap gap_at answered < "$tmp/gap"

printf '{"run":%s,"vm":"%s","from":"%s","to":"%s","startedAt":%s,"totalMs":%s,' \
  "$RUN" "$VM" "$SRC_HOST" "$DST_HOST" "$t0" "$((t1 - t0))"
printf '"probe":{"intervalMs":%s,"sent":%s,"received":%s,"lost":%s,"downtimeMs":%s,"gapStartedAt":%s,"answeredAfter":%s,"rttBeforeMs":%s},' \
  "$INTERVAL_MS" "$sent" "$recv" "$((sent - recv))" "$gap" "$gap_at" "$answered" "${rtt_before:-null}"
downtime=$(job 'Total downtime'); elapsed=$(job 'Time elapsed')
processed=$(job_bytes 'Data processed'); memory=$(job_bytes 'Memory total')
printf '"libvirt":{"downtimeMs":%s,"timeElapsedMs":%s,"dataProcessedBytes":%s,"memoryTotalBytes":%s}}\n' \
  "${downtime:-null}" "${elapsed:-null}" "${processed:-null}" "${memory:-null}"
