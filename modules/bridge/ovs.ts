// Open vSwitch on one host. Where the platform says `daemons: per-host` (emulated hosts),
// the host runs its own ovsdb-server and ovs-vswitchd, and bridges use the datapath the
// platform names (netdev: this machine has no openvswitch kernel module). Elsewhere the
// system's Open vSwitch service is used.
import * as pulumi from "@pulumi/pulumi";
import { shellScript } from "../../lib/scripts";
import type { Host } from "../../components/host/host";
import type { Capability } from "../../model/platforms";

export interface OpenVSwitchArgs {
    host: Host;
    /** The platform's `bridge.ovs` capability: daemons (per-host | system) and datapath. */
    capability: Capability;
}

export class OpenVSwitch extends pulumi.ComponentResource {
    readonly datapath: string;

    constructor(name: string, args: OpenVSwitchArgs, opts?: pulumi.ComponentResourceOptions) {
        super("wanlab:bridge:OpenVSwitch", name, {}, { aliases: [{ type: "wanlab:network:OpenVSwitch" }], ...opts });
        const { host, capability } = args;
        this.datapath = String(capability.datapath ?? "system");
        if (capability.daemons === "per-host") {
            host.command("ovs", {
                create: shellScript(__dirname, "ovs-create.sh"),
                delete: shellScript(__dirname, "ovs-delete.sh"),
            }, { parent: this });
        } else {
            host.command("ovs", {
                create: "ovs-vsctl --timeout=10 show >/dev/null || { echo 'Open vSwitch is not running on this host: install and start openvswitch-switch' >&2; exit 1; }",
            }, { parent: this });
        }
        this.registerOutputs({});
    }
}
