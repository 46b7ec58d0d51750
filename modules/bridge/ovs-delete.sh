# exit makes the daemons stop cleanly; the database goes with the host's directories.
set -eu
ovs-appctl -t ovs-vswitchd exit 2>/dev/null || true
ovs-appctl -t ovsdb-server exit 2>/dev/null || true
rm -f /etc/openvswitch/conf.db /etc/openvswitch/.conf.db.~lock~
