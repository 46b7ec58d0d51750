# One live migration, measured as the studies did it (run by Migration; values come in as
# environment variables). A probe pings the VM from the client every INTERVAL_MS from
# before the migration until after it. This script only collects: the migrate command's
# start and end, the probe's reply times, and libvirt's job statistics. record.ts turns
# them into the measurements (downtime, losses, libvirt's figures).
# Prints one JSON document. On failure the VM is left running on its source.
set -eu
# The run's files, in a directory of the VM's own on the probe host: one run of a VM at a
# time, so what is there is left by a run that was killed outright, and goes.
tmp=$RUN_DIR
rm -rf "$tmp"
mkdir -p "$tmp"
probe_pid=
udp_pid=
tcp_pid=
job_pid=
echo_pid=
stream_pid=
rr_pid=
cleanup() {
  [ -z "$stream_pid" ] || kill -TERM "$stream_pid" 2>/dev/null || true
  [ -z "$rr_pid" ] || { kill -KILL "$rr_pid" 2>/dev/null; wait "$rr_pid" 2>/dev/null; } || true
  [ -z "$probe_pid" ] || kill -INT "$probe_pid" 2>/dev/null || true
  [ -z "$echo_pid" ] || kill -TERM "$echo_pid" 2>/dev/null || true
  [ -z "$job_pid" ] || kill -TERM "$job_pid" 2>/dev/null || true
  [ -z "$udp_pid" ] || kill -TERM "$udp_pid" 2>/dev/null || true
  [ -z "$tcp_pid" ] || kill -TERM "$tcp_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
now_ms() { date +%s%3N; }
# Stop a probe that ends on SIGTERM, and wait for it (it may have ended already).
stop() { [ -z "$1" ] || { kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }; }
# A JSON string of a file's text (quotes, backslashes and control characters escaped).
json_text() {
  awk 'BEGIN { printf "\"" } { gsub(/\\/, "\\\\"); gsub(/"/, "\\\""); gsub(/\t/, "\\t"); gsub(/\r/, ""); printf "%s%s", (NR > 1 ? "\\n" : ""), $0 } END { printf "\"" }' "$1"
}

state=$(virsh -c "$SRC_URI" domstate "$VM" 2>/dev/null || true)
if [ "$state" != running ]; then
  dst_state=$(virsh -c "$DST_URI" domstate "$VM" 2>/dev/null || true)
  if [ "$dst_state" = running ]; then
    echo "$VM is not running on $SRC_HOST (state: ${state:-not defined there}): it runs on $DST_HOST. Set wanlab:migrationDirection to choose the direction." >&2
  else
    echo "$VM is not running on $SRC_HOST (state: ${state:-not defined there}), nor on $DST_HOST (state: ${dst_state:-not defined there})." >&2
  fi
  exit 1
fi

# The probe for the whole window. Its replies before the migration give the round-trip
# time: the migration starts once 20 have come back (or after 2 s, if the VM is silent).
# Where nothing outside reaches the VM (behind a NAT: TO_VM empty), the VM's own probe measures instead.
: > "$tmp/probe"
if [ -n "${TO_VM-1}" ]; then
  ping -n -D -i "$INTERVAL_S" -W 1 "$VM_ADDR" > "$tmp/probe" 2>&1 &
  probe_pid=$!
fi
# The studies' UDP probe beside it, where the probe host has it (tools/probe): one flow
# that gives both the echo form (seed 001) and the one-way form (seed 000). And the
# server of their TCP survival probe, which the VM's client connects to (it retries
# every 100 ms while no server listens).
probe=${PROBE:-$(command -v wanlab-probe || true)}
# The VM's echo probe's target (seed 003's "college proxy"), on this host: it answers the
# VM and records what reached it and what the VM says came back.
if [ -n "${ECHO_PORT:-}${STREAM_PORT:-}" ] && [ -z "$probe" ]; then
  echo "the VM's echo probe and the TCP watch's stream need wanlab-probe (tools/probe) on the probe host $(hostname): put it on its PATH" >&2
  exit 1
fi
if [ -n "${ECHO_PORT:-}" ]; then
  "$probe" echo-target -port "$ECHO_PORT" -ready "$tmp/echo-ready" > "$tmp/echo" 2> "$tmp/echo-err" &
  echo_pid=$!
fi
# Seed 004's TCP watch: the server of the VM's bulk stream, and sockperf's request/response
# to the VM (it logs from about 3 s after its start: it starts first, and runs past the window).
if [ -n "${STREAM_PORT:-}" ]; then
  "$probe" stream-server -port "$STREAM_PORT" -ready "$tmp/stream-ready" > "$tmp/stream" 2> "$tmp/stream-err" &
  stream_pid=$!
fi
if [ -n "${RR_PORT:-}" ]; then
  sockperf ping-pong --tcp -i "$VM_ADDR" -p "$RR_PORT" -t "$((TIMEOUT_S + RECOVER_S + 60))" --mps=max --no-rdtsc --full-rtt \
    --full-log "$tmp/rr.log" > "$tmp/rr-out" 2>&1 &
  rr_pid=$!
fi
if [ -n "$probe" ] && [ -n "${TO_VM-1}" ]; then
  "$probe" probe -to "$VM_ADDR" -port "$UDP_PORT" -interval "${INTERVAL_MS}ms" -out "$tmp/udp" > "$tmp/udp-sent" 2>&1 &
  udp_pid=$!
fi
if [ -n "$probe" ]; then
  "$probe" tcp-server -port "$TCP_PORT" -ready "$tmp/tcp-ready" > "$tmp/tcp" 2> "$tmp/tcp-err" &
  tcp_pid=$!
fi
# The migration starts once ping has 20 replies and the VM's TCP client is connected
# (or after 2 s and 3 s, if the VM is silent).
t_lead=$(now_ms)
[ -z "$probe_pid" ] || while [ "$(grep -c 'bytes from' "$tmp/probe")" -lt 20 ] && [ "$(now_ms)" -lt $((t_lead + 2000)) ]; do sleep 0.02; done
# The stream flowing, and sockperf past its warm-up, with a second of each before the migration.
if [ -n "$stream_pid" ]; then
  while [ ! -f "$tmp/stream-ready" ] && [ "$(now_ms)" -lt $((t_lead + 5000)) ]; do sleep 0.05; done
  sleep 1
fi
# sockperf logs from 0.4 s after its "Starting test" (after a warm-up of 2 s or more).
if [ -n "$rr_pid" ]; then
  while ! grep -q 'Starting test' "$tmp/rr-out" && [ "$(now_ms)" -lt $((t_lead + 20000)) ]; do sleep 0.05; done
  sleep 1.5
fi
# The VM's echo probe: its first request in, then 200 ms of them for the round trip before.
if [ -n "$echo_pid" ]; then
  while [ ! -f "$tmp/echo-ready" ] && [ "$(now_ms)" -lt $((t_lead + 3000)) ]; do sleep 0.02; done
  sleep 0.2
fi
while [ -n "$tcp_pid" ] && [ ! -f "$tmp/tcp-ready" ] && [ "$(now_ms)" -lt $((t_lead + 3000)) ]; do sleep 0.02; done
awk '/bytes from/ { sub(/.*time=/, ""); t = $1 + 0; n++; s += t; q += t * t; if (n == 1 || t < lo) lo = t; if (t > hi) hi = t }
  END { if (n) { m = s / n; d = q / n - m * m; printf "%d packets transmitted, %d received\nrtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n", n, n, lo, m, hi, (d > 0 ? sqrt(d) : 0) } }' \
  "$tmp/probe" > "$tmp/rtt"

[ -z "$MAX_DOWNTIME_MS" ] || virsh -c "$SRC_URI" migrate-setmaxdowntime "$VM" "$MAX_DOWNTIME_MS"
t0=$(now_ms)
# A disk copied along (COPY_STORAGE): libvirt tells its progress only while the job runs,
# on the source, so it is read there every 0.5 s (time, then libvirt's lines, '|' apart).
if [ -n "${COPY_STORAGE:-}" ]; then
  while :; do
    printf '%s|%s\n' "$(now_ms)" "$(virsh -c "$SRC_URI" domjobinfo "$VM" 2>/dev/null | grep -E '^(File (processed|total)|Memory processed):' | tr -s ' ' | paste -sd '|')"
    sleep 0.5
  done > "$tmp/disk" 2>/dev/null &
  job_pid=$!
fi
set +e
# shellcheck disable=SC2086 # OPTIONS is a list of flags
timeout "$TIMEOUT_S" virsh -c "$SRC_URI" migrate --live --persistent --undefinesource $OPTIONS \
  "$VM" "$DST_URI" "$MIGRATE_URI" > "$tmp/migrate" 2>&1
rc=$?
set -e
t1=$(now_ms)
stop "$job_pid"; job_pid=
# Keep probing until the VM has answered since the migrate command returned (the path
# may take a moment to converge after the switchover), for at most RECOVER_S seconds:
# that answer ends the silence, which is then measured whole. Then a few intervals more,
# so that a reply still on its way is counted.
if [ "$rc" -eq 0 ] && [ -z "$probe_pid" ]; then
  # No probe here sees the VM come back: the VM's own probe gets a fixed time for it.
  sleep "$ECHO_RECOVER_S"
elif [ "$rc" -eq 0 ]; then
  deadline=$((t1 + RECOVER_S * 1000))
  while [ "$(now_ms)" -lt "$deadline" ]; do
    last=$(awk '/bytes from/ {gsub(/[\[\]]/, "", $1); t = $1 * 1000} END {printf "%.0f", t}' "$tmp/probe")
    [ "${last:-0}" -gt "$t1" ] && break
    sleep 0.05
  done
fi
sleep 0.1
# The TCP watch sees a while after the migration too, to compare with before.
[ -z "${STREAM_PORT:-}${RR_PORT:-}" ] || [ "$rc" -ne 0 ] || sleep 3
t_end=$(now_ms)
[ -z "$probe_pid" ] || { kill -INT "$probe_pid" 2>/dev/null || true; wait "$probe_pid" 2>/dev/null || true; }
probe_pid=
stop "$echo_pid"; echo_pid=
stop "$stream_pid"; stream_pid=
if [ -n "$rr_pid" ]; then
  kill -INT "$rr_pid" 2>/dev/null || true
  wait "$rr_pid" 2>/dev/null || true
  rr_pid=
  # Binned where it ran (the log holds every transaction: megabytes).
  "$probe" sockperf-bins -r "$tmp/rr.log" > "$tmp/rr" 2>> "$tmp/rr-out" || true
fi
# (The UDP probe ends by itself where it found no route at its start.)
stop "$udp_pid"; udp_pid=
stop "$tcp_pid"; tcp_pid=

# libvirt's own figures, as its lines say them: from the destination after a migration,
# from the source after a failed one; and ping's summary.
if [ "$rc" -eq 0 ]; then
  virsh -c "$DST_URI" domjobinfo "$VM" --completed > "$tmp/job" 2>&1 || true
else
  [ "$rc" -ne 124 ] || virsh -c "$SRC_URI" domjobabort "$VM" >/dev/null 2>&1 || true
  virsh -c "$SRC_URI" domjobinfo "$VM" --completed > "$tmp/job" 2>&1 || true
fi
grep 'packets transmitted' "$tmp/probe" > "$tmp/summary" || true

printf '{"format":"wanlab-migration-raw/1","run":%s,"vm":"%s","from":"%s","to":"%s","intervalMs":%s,' \
  "$RUN" "$VM" "$SRC_HOST" "$DST_HOST" "$INTERVAL_MS"
printf '"t0":%s,"t1":%s,"tEnd":%s,"exitCode":%s,' "$t0" "$t1" "$t_end" "$rc"
# Each reply: its arrival (ms since the epoch) and sequence number. A failed run keeps only
# the summary, so that the error the engine shows stays short.
printf '"replies":['
[ "$rc" -ne 0 ] || awk '/bytes from/ { gsub(/[\[\]]/, "", $1); seq = $0; sub(/.*icmp_seq=/, "", seq); sub(/ .*/, "", seq);
  printf "%s[%.3f,%d]", (n++ ? "," : ""), $1 * 1000, seq }' "$tmp/probe"
printf '],"udp":'
# Each answer: sequence number, its send time and the answer's arrival (the probe host's
# clock), and its arrival on the VM (the VM's clock), in ms since the epoch; null without the probe.
if [ -n "$probe" ] && [ "$rc" -eq 0 ] && [ -f "$tmp/udp" ]; then
  printf '{"sent":%s,"answers":[' "$(sed -n 's/^sent //p' "$tmp/udp-sent")"
  awk '{ printf "%s[%d,%.3f,%.3f,%.3f]", (n++ ? "," : ""), $1, $2 / 1e6, $3 / 1e6, $4 / 1e6 }' "$tmp/udp"
  printf ']}'
else
  printf 'null'
fi
# The TCP server's report (tools/probe/tcp.go): null without the probe, or if it could not listen.
printf ',"tcp":'
if [ -n "$probe" ] && [ "$rc" -eq 0 ] && [ -s "$tmp/tcp" ]; then tr -d '\n' < "$tmp/tcp"; else printf 'null'; fi
# The echo target's record (tools/probe/echo.go): null without the VM's probe.
printf ',"echo":'
if [ "$rc" -eq 0 ] && [ -s "$tmp/echo" ]; then tr -d '\n' < "$tmp/echo"; else printf 'null'; fi
# The TCP watch's stream and request/response (tools/probe): null without them.
printf ',"stream":'
if [ "$rc" -eq 0 ] && [ -s "$tmp/stream" ]; then tr -d '\n' < "$tmp/stream"; else printf 'null'; fi
printf ',"rr":'
if [ "$rc" -eq 0 ] && [ -s "${tmp}/rr" ]; then tr -d '\n' < "$tmp/rr"; else printf 'null'; fi
# The disk copy's progress, null without one.
printf ',"diskProgress":'
if [ -f "$tmp/disk" ]; then json_text "$tmp/disk"; else printf 'null'; fi
printf ',"summary":%s,"rttBefore":%s,"job":%s,"migrate":%s}\n' \
  "$(json_text "$tmp/summary")" "$(json_text "$tmp/rtt")" "$(json_text "$tmp/job")" "$(json_text "$tmp/migrate")"

if [ "$rc" -ne 0 ]; then
  echo "migration of $VM from $SRC_HOST to $DST_HOST failed (exit $rc):" >&2
  cat "$tmp/migrate" >&2
  echo "$VM on $SRC_HOST: $(virsh -c "$SRC_URI" domstate "$VM" 2>&1)" >&2
  exit 1
fi
