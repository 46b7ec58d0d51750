#!/bin/sh
# The sweep's last resort (runner/sweep.ts), for one test stack that no live test owns
# and whose state is gone or could not destroy it: what its emulated lab left on this
# machine. Usage: sweep-lab.sh STACK [NETNS...], the namespaces being the stack's
# (wl-STACK-<host>, wl-STACK-<link>.lan), as the caller attributed them. Stops the
# processes in those namespaces (and the forwarders that enter them), unmounts what is
# mounted under /run/wanlab/STACK/ (deepest first, lazily when busy), deletes the
# namespaces and removes /run/wanlab/STACK. Prints each thing it did as a line.
set -eu
stack=$1
shift
case $stack in
  t-?*) ;;
  *) echo "sweep-lab.sh: $stack is not a test stack (t-*): left alone" >&2; exit 2 ;;
esac
for ns in "$@"; do
  case $ns in
    "wl-$stack-"?*) ;;
    *) echo "sweep-lab.sh: $ns is not a namespace of $stack: left alone" >&2; exit 2 ;;
  esac
done
run_root=/run/wanlab
dir=$run_root/$stack

# The processes: those in the namespaces, and those whose arguments enter one
# (nsenter --net=/run/netns/NS ..., as the SSH forwarders' socat does).
lab_pids() {
  for ns in "$@"; do ip netns pids "$ns" 2>/dev/null || true; done
  for f in /proc/[0-9]*/cmdline; do
    p=${f#/proc/}; p=${p%/cmdline}
    [ "$p" != $$ ] || continue
    args=$({ tr '\0' ' ' < "$f"; } 2>/dev/null) || continue
    for ns in "$@"; do
      case $args in *"/run/netns/$ns "*) echo "$p"; break ;; esac
    done
  done
}
if [ $# -gt 0 ]; then
  pids=$(lab_pids "$@" | sort -un)
  if [ -n "$pids" ]; then
    names=$(for p in $pids; do cat "/proc/$p/comm" 2>/dev/null || true; done | sort | uniq -c | awk '{printf "%s%s%s", sep, $2, ($1 > 1 ? " x" $1 : ""); sep=", "}')
    # shellcheck disable=SC2086 # a list of pids
    kill $pids 2>/dev/null || true
    # shellcheck disable=SC2034 # i only counts the tries
    for i in $(seq 20); do [ -z "$(lab_pids "$@")" ] && break; sleep 0.1; done
    # A supervisor may have started a daemon again meanwhile: kill until none is left.
    # shellcheck disable=SC2034 # i only counts the tries
    for i in $(seq 20); do
      left=$(lab_pids "$@")
      [ -n "$left" ] || break
      # shellcheck disable=SC2086 # a list of pids
      kill -9 $left 2>/dev/null || true
      sleep 0.1
    done
    echo "$stack: stopped $(echo "$pids" | wc -l) processes ($names)"
    [ -z "$(lab_pids "$@")" ] || echo "$stack: processes still running: $(lab_pids "$@" | tr '\n' ' ')"
  fi
fi

# Mounts under the stack's directory in this mount namespace (the pinned mount
# namespaces), deepest first.
lab_mounts() {
  awk -v p="$dir/" 'index($5, p) == 1 { print gsub("/", "/", $5), $5 }' /proc/self/mountinfo | sort -rn | cut -d' ' -f2-
}
for m in $(lab_mounts); do
  if umount "$m" 2>/dev/null; then
    echo "$stack: unmounted $m"
  elif umount -l "$m" 2>/dev/null; then
    echo "$stack: unmounted $m (lazily: it was busy)"
  else
    echo "$stack: could not unmount $m"
  fi
done

for ns in "$@"; do
  [ -e "/run/netns/$ns" ] || continue
  if ip netns del "$ns" 2>/dev/null; then
    echo "$stack: deleted namespace $ns"
  else
    echo "$stack: could not delete namespace $ns"
  fi
done

if [ -d "$dir" ]; then
  if [ -n "$(lab_mounts)" ]; then
    # Never remove files through a mount.
    echo "$stack: left $dir: something is still mounted under it"
  else
    # The host directories the lab had to create as mount points, removed (when empty) only
    # when no other lab is on this machine: another lab's mount namespace may mount on them.
    others=$(find "$run_root" -mindepth 1 -maxdepth 1 ! -name "$stack" | head -n 1)
    if [ -z "$others" ] && [ -z "$(ip netns list | grep '^wl-' || true)" ]; then
      for f in "$dir"/*/created-mountpoints; do
        [ -f "$f" ] || continue
        while read -r d; do
          case $d in /*) rmdir "$d" 2>/dev/null && echo "$stack: removed the empty mount point $d it created" ;; esac
        done < "$f"
      done
    fi
    rm -rf --one-file-system "$dir"
    echo "$stack: removed $dir"
  fi
fi
rmdir "$run_root" 2>/dev/null || true
