# Stops the server and removes its directory and the export with its disk image, and
# the folder that held them if nothing else is in it.
set -eu
sh -c "$STOP_SCRIPT"
rm -rf "$DIR" "$EXPORT"
rmdir "$(dirname "$EXPORT")" 2>/dev/null || true
