# Ends the run's capture and prints what it saw of each TCP connection (tools/probe
# pcap.go), then removes it. Prints nothing where no capture ran (a killed run's).
set -eu
[ -f "$DIR/tcpdump.pid" ] || exit 0
p=$(cat "$DIR/tcpdump.pid")
kill -INT "$p" 2>/dev/null || true
# shellcheck disable=SC2034 # i only counts the tries
for i in $(seq 50); do case "$(ps -o stat= -p "$p" 2>/dev/null || true)" in ''|Z*) break ;; esac; sleep 0.1; done
probe=${PROBE:-$(command -v wanlab-probe || true)}
[ -z "$probe" ] || "$probe" tcp-capture-stats -r "$DIR/capture.pcap" -port "$PORTS"
rm -rf "$DIR"
