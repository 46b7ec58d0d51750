// A bridge on one host: Open vSwitch (the hypervisors, as in the studies) or a Linux
// bridge (the router's overlay gateway). It may carry the host's address, and other
// components plug ports into it.
import * as pulumi from "@pulumi/pulumi";
import type { BridgeSpec } from "../../lib/spec";
import { script } from "../../lib/shell";
import { Host } from "../host/host";
import { OpenVSwitch } from "./ovs";

export class Bridge extends pulumi.ComponentResource {
    readonly resource: pulumi.Resource;
    readonly spec: BridgeSpec;
    private readonly host: Host;

    constructor(spec: BridgeSpec, host: Host, ovs: OpenVSwitch | undefined, opts?: pulumi.ComponentResourceOptions) {
        super("wanlab:network:Bridge", `${spec.host}-${spec.name}`, {}, opts);
        this.spec = spec;
        this.host = host;
        const env = { BR: spec.name, ADDR: spec.address ?? "", DATAPATH: ovs?.datapath ?? "" };
        this.resource = spec.type === "ovs"
            ? host.command(`bridge-${spec.name}`, {
                create: script(
                    'ovs-vsctl --may-exist add-br "$BR" -- set bridge "$BR" datapath_type="$DATAPATH"',
                    'ip link set "$BR" up',
                    '[ -z "$ADDR" ] || ip addr replace "$ADDR" dev "$BR"',
                ),
                delete: 'ovs-vsctl --if-exists del-br "$BR"',
                environment: env,
            }, { parent: this, dependsOn: [ovs!.ready] })
            : host.command(`bridge-${spec.name}`, {
                create: script(
                    'ip link show "$BR" >/dev/null 2>&1 || ip link add "$BR" type bridge',
                    'ip link set "$BR" up',
                    '[ -z "$ADDR" ] || ip addr replace "$ADDR" dev "$BR"',
                ),
                delete: 'ip link del "$BR" 2>/dev/null || true',
                environment: env,
            }, { parent: this });
        this.registerOutputs({});
    }

    hostOf(): Host {
        return this.host;
    }

    /** Plug an existing interface of the host into this bridge. */
    addPort(iface: string, dependsOn: pulumi.Resource[]): pulumi.Resource {
        const env = { BR: this.spec.name, IF: iface };
        return this.spec.type === "ovs"
            ? this.host.command(`port-${this.spec.name}-${iface}`, {
                create: 'ovs-vsctl --may-exist add-port "$BR" "$IF"',
                delete: 'ovs-vsctl --if-exists del-port "$BR" "$IF"',
                environment: env,
            }, { parent: this, dependsOn: [this.resource, ...dependsOn] })
            : this.host.command(`port-${this.spec.name}-${iface}`, {
                create: 'ip link set "$IF" master "$BR" up',
                delete: 'ip link set "$IF" nomaster 2>/dev/null || true',
                environment: env,
            }, { parent: this, dependsOn: [this.resource, ...dependsOn] });
    }
}
