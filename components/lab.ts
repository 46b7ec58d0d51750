// The whole lab from one validated spec: preflights, hosts, links, forwarding, routes
// and checks. Every host waits for every preflight, so nothing is half-applied.
import * as pulumi from "@pulumi/pulumi";
import type { LabSpec } from "../lib/spec";
import { requirementsFor } from "../lib/features";
import { Host } from "./host/host";
import { EmulatedHost } from "./host/emulated";
import { SshHost } from "./host/ssh";
import { Link } from "./host/link";
import { preflight } from "./host/preflight";
import { PingCheck } from "./experiment/ping-check";

export interface LabArgs {
    spec: LabSpec;
    /** Distinguishes the namespaces of two stacks on one machine. */
    stack: string;
}

/** Parts of the schema that validate today but have no component yet. */
export function unbuiltSections(spec: LabSpec): string[] {
    const out: string[] = [];
    if (spec.bridges.length) out.push("/bridges");
    if (spec.tunnels.length) out.push("/tunnels");
    if (spec.vms.length) out.push("/vms");
    if (spec.migration) out.push("/migration");
    spec.links.forEach((l, i) => l.ends.forEach((e, j) => { if (e.bridge) out.push(`/links/${i}/ends/${j}/bridge`); }));
    return out;
}

export class Lab extends pulumi.ComponentResource {
    readonly hosts: Record<string, Host> = {};
    readonly links: Record<string, Link> = {};
    readonly checks: Record<string, PingCheck> = {};

    constructor(name: string, args: LabArgs, opts?: pulumi.ComponentResourceOptions) {
        super("wanlab:Lab", name, {}, opts);
        const { spec, stack } = args;
        const unbuilt = unbuiltSections(spec);
        if (unbuilt.length) {
            throw new pulumi.RunError(`these parts of the stack file are valid but not built by this version yet: ${unbuilt.join(", ")}`);
        }

        const preflights = spec.hosts.map((h) => preflight(h, requirementsFor(spec, h), { parent: this }));
        for (const h of spec.hosts) {
            this.hosts[h.name] = h.transport === "emulated"
                ? new EmulatedHost({ spec: h, stack, preflights }, { parent: this })
                : new SshHost({ spec: h, preflights }, { parent: this });
        }

        const network: pulumi.Resource[] = [];
        const linksOf = new Map<string, pulumi.Resource[]>();
        for (const l of spec.links) {
            const link = new Link(l, [this.hosts[l.ends[0].host], this.hosts[l.ends[1].host]], { parent: this });
            this.links[l.name] = link;
            network.push(...link.resources);
            for (const e of l.ends) linksOf.set(e.host, [...(linksOf.get(e.host) ?? []), ...link.resources]);
        }
        for (const h of spec.hosts) {
            const host = this.hosts[h.name];
            if (h.forwarding ?? h.roles.includes("router")) network.push(host.enableForwarding());
            for (const r of h.routes ?? []) {
                network.push(host.route(r.to, r.via, { dependsOn: linksOf.get(h.name) ?? [] }));
            }
        }
        for (const c of spec.checks) {
            // validateDocument names every check.
            this.checks[c.name!] = new PingCheck(c.name!, c, this.hosts[c.from], { parent: this, dependsOn: network });
        }
        this.registerOutputs({});
    }
}
