// A GRE tunnel: one kernel GRE device at each end (Linux routers). Its source is the
// end's loopback or an interface address, so each end waits for its host's underlay.
import * as pulumi from "@pulumi/pulumi";
import { shellScript } from "../../lib/scripts";
import type { Host } from "../../components/host/host";
import type { GreTunnelSpec } from "./model";

export interface GreTunnelArgs {
    spec: GreTunnelSpec;
    /** The two ends' hosts, in the order of spec.endpoints. */
    hosts: Host[];
    /** What each end waits for: its host's addresses and routes. */
    underlays: pulumi.Resource[][];
}

export class GreTunnel extends pulumi.ComponentResource {
    constructor(name: string, args: GreTunnelArgs, opts?: pulumi.ComponentResourceOptions) {
        super("wanlab:gre:GreTunnel", name, {}, opts);
        const t = args.spec;
        t.endpoints.forEach((e, j) => {
            args.hosts[j].command(`gre-${e.interface}`, {
                create: shellScript(__dirname, "tunnel-create.sh"),
                delete: 'ip link del dev "$IF" 2>/dev/null || true',
                environment: { IF: e.interface, SRC: e.source, DST: e.destination, ADDR: e.address, MTU: String(t.mtu), KEY: t.key === undefined ? "" : String(t.key) },
            }, { parent: this, dependsOn: args.underlays[j] });
        });
        this.registerOutputs({});
    }
}
