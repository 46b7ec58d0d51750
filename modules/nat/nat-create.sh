# A NAT host's nftables table (modules/nat): the ruleset on stdin replaces the table in one
# transaction (nft -f: create it if missing, delete it, create it anew), so a changed rule
# never leaves the host without one. A table that already carries this ruleset's digest
# (its comment) is left as it is: a second run changes nothing, not even its counters.
set -eu
if nft list table ip "$TABLE" 2>/dev/null | grep -qF "comment \"$DIGEST\""; then
  exit 0
fi
nft -f -
