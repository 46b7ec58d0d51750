# Stops the RADIUS server and removes its directory, and the stack's folder that held it
# if nothing else is in it.
set -eu
sh -c "$STOP_SCRIPT"
rm -rf "$DIR"
rmdir "$(dirname "$DIR")" 2>/dev/null || true
