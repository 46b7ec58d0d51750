# The NAT host's table goes, and nothing else of the NAT is left (a table that is not
# there is already deleted; any other failure is reported).
set -eu
if nft list table ip "$TABLE" >/dev/null 2>&1; then
  nft delete table ip "$TABLE"
fi
