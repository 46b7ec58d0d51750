// A bridge on one host: Open vSwitch or a Linux bridge. It may carry the host's address,
// and a Linux bridge a MAC of the stack file's (set, so that its ports do not change it);
// other components plug ports into it.
import * as pulumi from "@pulumi/pulumi";
import { script } from "../../lib/shell";
import type { Host } from "../../components/host/host";
import type { BridgeSpec } from "./model";
import type { OpenVSwitch } from "./ovs";

export interface BridgeArgs {
    spec: BridgeSpec;
    host: Host;
    /** The host's Open vSwitch, for an OVS bridge. */
    ovs?: OpenVSwitch;
}

export class Bridge extends pulumi.ComponentResource {
    readonly spec: BridgeSpec;
    readonly host: Host;
    /** The bridge itself: what its ports wait for. */
    private readonly bridge: pulumi.Resource;

    constructor(name: string, args: BridgeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("wanlab:bridge:Bridge", name, {}, { aliases: [{ type: "wanlab:network:Bridge" }], ...opts });
        const { spec, host, ovs } = args;
        this.spec = spec;
        this.host = host;
        const env: Record<string, string> = { BR: spec.name, ADDR: spec.address ?? "", DATAPATH: ovs?.datapath ?? "" };
        // Only a bridge that names a MAC gets the variable and the line: the others' commands stay as they were.
        if (spec.mac) env.MAC = spec.mac;
        this.bridge = spec.type === "ovs"
            ? host.command(`bridge-${spec.name}`, {
                create: script(
                    'ovs-vsctl --may-exist add-br "$BR" -- set bridge "$BR" datapath_type="$DATAPATH"',
                    'ip link set "$BR" up',
                    '[ -z "$ADDR" ] || ip addr replace "$ADDR" dev "$BR"',
                ),
                delete: 'ovs-vsctl --if-exists del-br "$BR"',
                environment: env,
            }, { parent: this, dependsOn: [ovs!] })
            : host.command(`bridge-${spec.name}`, {
                create: script(
                    'ip link show "$BR" >/dev/null 2>&1 || ip link add "$BR" type bridge',
                    ...(spec.mac ? ['ip link set "$BR" address "$MAC"'] : []),
                    'ip link set "$BR" up',
                    '[ -z "$ADDR" ] || ip addr replace "$ADDR" dev "$BR"',
                ),
                delete: 'ip link del "$BR" 2>/dev/null || true',
                environment: env,
            }, { parent: this });
        this.registerOutputs({});
    }

    /** Plug an existing interface of the host into this bridge, once dependsOn (the link) is there. */
    addPort(iface: string, dependsOn: pulumi.Resource[]): pulumi.Resource {
        const env = { BR: this.spec.name, IF: iface };
        return this.spec.type === "ovs"
            ? this.host.command(`port-${this.spec.name}-${iface}`, {
                create: 'ovs-vsctl --may-exist add-port "$BR" "$IF"',
                delete: 'ovs-vsctl --if-exists del-port "$BR" "$IF"',
                environment: env,
            }, { parent: this, dependsOn: [this.bridge, ...dependsOn] })
            : this.host.command(`port-${this.spec.name}-${iface}`, {
                create: 'ip link set "$IF" master "$BR" up',
                delete: 'ip link set "$IF" nomaster 2>/dev/null || true',
                environment: env,
            }, { parent: this, dependsOn: [this.bridge, ...dependsOn] });
    }

    /** A port of another module's (a tunnel's) on this bridge waits for the bridge itself. */
    get ready(): pulumi.Resource {
        return this.bridge;
    }
}
