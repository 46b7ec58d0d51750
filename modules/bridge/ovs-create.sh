# Open vSwitch of its own on an emulated host: ovsdb-server and ovs-vswitchd in the host's
# namespaces, with its private /etc/openvswitch and /run/openvswitch. Safe to run twice.
set -eu
[ -f /etc/openvswitch/conf.db ] || ovsdb-tool create /etc/openvswitch/conf.db /usr/share/openvswitch/vswitch.ovsschema
if ! ovs-appctl -t ovsdb-server version >/dev/null 2>&1; then
  ovsdb-server /etc/openvswitch/conf.db --remote=punix:/run/openvswitch/db.sock \
    --pidfile=/run/openvswitch/ovsdb-server.pid --detach --log-file=/var/log/openvswitch/ovsdb-server.log
fi
ovs-vsctl --no-wait init
if ! ovs-appctl -t ovs-vswitchd version >/dev/null 2>&1; then
  ovs-vswitchd --pidfile=/run/openvswitch/ovs-vswitchd.pid --detach --log-file=/var/log/openvswitch/ovs-vswitchd.log
fi
