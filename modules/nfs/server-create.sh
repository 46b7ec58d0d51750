# The NFS server of one storage: rpcbind and nfs-ganesha in the storage host's namespaces,
# with their config, log, pid and state in DIR and the exported directory with its disk
# image. The rendered config comes on stdin. Safe to run twice: a server running with
# this config is left alone; one with another is restarted with the new one.
set -eu
mkdir -p "$DIR/run" "$DIR/recovery" "$EXPORT"
# The image at its size (a run may change it: wanlab:vmDiskMiB); a running guest keeps the size it saw.
[ "$(stat -c %s "$IMG" 2>/dev/null || echo -1)" -eq $((SIZE_MIB * 1048576)) ] || truncate -s "${SIZE_MIB}M" "$IMG"
cat > "$DIR/ganesha.conf.new"
# Up once the portmapper says where NFS and MOUNT version 3 are (ganesha registers last).
up() { rpcinfo -T tcp "$SERVER" 100003 3 >/dev/null 2>&1 && rpcinfo -T tcp "$SERVER" 100005 3 >/dev/null 2>&1; }
if up && cmp -s "$DIR/ganesha.conf.new" "$DIR/ganesha.conf"; then rm -f "$DIR/ganesha.conf.new"; exit 0; fi
sh -c "$STOP_SCRIPT"
mv "$DIR/ganesha.conf.new" "$DIR/ganesha.conf"
# Both in a mount namespace of their own whose /run is DIR/run: rpcbind's socket and lock
# are fixed paths in /run, which the machine's or another lab host's rpcbind would share.
setsid unshare --mount --propagation private sh -c "$RUN_SCRIPT" </dev/null >>"$DIR/server.log" 2>&1 &
pid=$!
echo "$pid" > "$DIR/server.pid"
# shellcheck disable=SC2034 # i only counts the tries
for i in $(seq 300); do
  up && break
  # A server that ended (its ports taken, say) says why below.
  case "$(ps -o stat= -p "$pid" 2>/dev/null || true)" in ''|Z*) break ;; esac
  sleep 0.1
done
if ! up; then
  echo "the NFS server for $EXPORT did not come up on $SERVER within 30 s:" >&2
  tail -n 20 "$DIR/server.log" "$DIR/ganesha.log" >&2 2>/dev/null || true
  sh -c "$STOP_SCRIPT"
  exit 1
fi
