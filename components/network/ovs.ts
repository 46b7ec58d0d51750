// Open vSwitch on one host. On emulated hosts each host runs its own ovsdb-server and
// ovs-vswitchd (its /etc/openvswitch and /run/openvswitch are private) with the
// userspace datapath, because this machine has no openvswitch kernel module. On ssh
// hosts the system's Open vSwitch service is used, with the kernel datapath.
import * as pulumi from "@pulumi/pulumi";
import { script } from "../../lib/shell";
import { Host } from "../host/host";
import { EmulatedHost } from "../host/emulated";

export class OpenVSwitch extends pulumi.ComponentResource {
    readonly ready: pulumi.Resource;
    readonly datapath: "netdev" | "system";

    constructor(name: string, host: Host, opts?: pulumi.ComponentResourceOptions) {
        super("wanlab:network:OpenVSwitch", name, {}, opts);
        const emulated = host instanceof EmulatedHost;
        this.datapath = emulated ? "netdev" : "system";
        this.ready = emulated
            ? host.command("ovs", {
                create: script(
                    "[ -f /etc/openvswitch/conf.db ] || ovsdb-tool create /etc/openvswitch/conf.db /usr/share/openvswitch/vswitch.ovsschema",
                    "if ! ovs-appctl -t ovsdb-server version >/dev/null 2>&1; then",
                    "  ovsdb-server /etc/openvswitch/conf.db --remote=punix:/run/openvswitch/db.sock \\",
                    "    --pidfile=/run/openvswitch/ovsdb-server.pid --detach --log-file=/var/log/openvswitch/ovsdb-server.log",
                    "fi",
                    "ovs-vsctl --no-wait init",
                    "if ! ovs-appctl -t ovs-vswitchd version >/dev/null 2>&1; then",
                    "  ovs-vswitchd --pidfile=/run/openvswitch/ovs-vswitchd.pid --detach --log-file=/var/log/openvswitch/ovs-vswitchd.log",
                    "fi",
                ),
                // exit makes the daemons stop cleanly; the database goes with the host's directories.
                delete: script(
                    "ovs-appctl -t ovs-vswitchd exit 2>/dev/null || true",
                    "ovs-appctl -t ovsdb-server exit 2>/dev/null || true",
                    "rm -f /etc/openvswitch/conf.db /etc/openvswitch/.conf.db.~lock~",
                ),
            }, { parent: this })
            : host.command("ovs", {
                create: "ovs-vsctl --timeout=10 show >/dev/null || { echo 'Open vSwitch is not running on this host: install and start openvswitch-switch' >&2; exit 1; }",
            }, { parent: this });
        this.registerOutputs({});
    }
}
