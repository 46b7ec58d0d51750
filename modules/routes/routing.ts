// A host's IPv4 forwarding and static routes. Forwarding restores the previous value on
// delete; `ip route replace` makes a route safe to create twice.
import * as pulumi from "@pulumi/pulumi";
import { script } from "../../lib/shell";
import type { Host } from "../../components/host/host";
import type { RouteSpec } from "./model";

export interface HostRoutingArgs {
    host: Host;
    forwarding: boolean;
    routes: RouteSpec[];
    /** An address on lo (a /32), or none. */
    loopback?: string;
    /** What gives the host its addresses: a route's next hop must be reachable first. */
    underlay: pulumi.Resource[];
}

export class HostRouting extends pulumi.ComponentResource {
    constructor(name: string, args: HostRoutingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("wanlab:routes:HostRouting", name, {}, opts);
        const { host } = args;
        // These commands were the host's own children before the module layout.
        const moved = { parent: this, aliases: [{ parent: host }] };
        if (args.forwarding) {
            host.command("ip-forward", {
                create: script("sysctl -n net.ipv4.ip_forward", "sysctl -qw net.ipv4.ip_forward=1"),
                // PULUMI_COMMAND_STDOUT holds the value read before create changed it.
                delete: 'sysctl -qw net.ipv4.ip_forward="${PULUMI_COMMAND_STDOUT:-0}"',
            }, moved);
        }
        if (args.loopback) {
            host.command("loopback", {
                create: 'ip link set lo up && ip addr replace "$ADDR" dev lo',
                delete: 'ip addr del "$ADDR" dev lo 2>/dev/null || true',
                environment: { ADDR: args.loopback },
            }, { parent: this });
        }
        for (const r of args.routes) {
            host.command(`route-${r.to.replace(/[./]/g, "-")}`, {
                create: 'ip route replace "$TO" via "$VIA"',
                delete: 'ip route del "$TO" via "$VIA" 2>/dev/null || true',
                environment: { TO: r.to, VIA: r.via },
            }, { ...moved, dependsOn: args.underlay });
        }
        this.registerOutputs({});
    }
}
