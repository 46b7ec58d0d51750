// Bridges on hosts: Open vSwitch (the hypervisors, as in the studies) or Linux bridges
// (the router's overlay gateway, a NAT's private bridge). A bridge may carry the host's
// address, and a Linux bridge a MAC of the stack file's (so that two hosts' gateways can
// share one); a link end may be plugged into one instead of being addressed.
import { pushTo } from "../../lib/maps";
import type { ModuleModel } from "../../model/modules";
import type { CheckContext } from "../../model/context";
import { inPrefix, macProblem } from "../../model/address";
import { nodeId } from "../../model/graph";

export interface BridgeSpec { name: string; host: string; type: "ovs" | "linux"; address?: string; mac?: string }

declare module "../../model/types" {
    interface LabSpec { bridges: BridgeSpec[] }
    interface LinkEnd { bridge?: string }
}

/** A bridge's segment in the model's Network. */
export const bridgeSegment = (host: string, bridge: string) => `bridge:${host}/${bridge}`;

/** Whether host has bridge; an error at pointer if the host exists and the bridge does not. */
export function bridgeRef(ctx: CheckContext, pointer: string, host: string, bridge: string) {
    if (ctx.hosts.has(host) && !ctx.lookup("bridge", `${host}/${bridge}`)) ctx.err(pointer, `no bridge '${bridge}' on host '${host}'`);
}

export const module: ModuleModel = {
    name: "bridge",
    phase: "network",
    capabilities: {
        ovs: "Open vSwitch bridges",
        linux: "Linux bridges",
    },
    check(spec, ctx) {
        spec.bridges.forEach((b, i) => {
            ctx.hostRef(`/bridges/${i}/host`, b.host);
            ctx.claimInterface(b.host, b.name, `/bridges/${i}/name`);
            ctx.provide("bridge", `${b.host}/${b.name}`, b);
        });
        const uplinksOf = new Map<string, string[]>(); // "host/bridge" -> subnets of the links plugged into it
        spec.links.forEach((l, i) => l.ends.forEach((e, j) => {
            const ep = `/links/${i}/ends/${j}`;
            if (e.address && e.bridge) ctx.err(ep, "give an end either an address or a bridge, not both");
            if (!e.bridge) return;
            bridgeRef(ctx, `${ep}/bridge`, e.host, e.bridge);
            ctx.net.join(`link:${l.name}`, bridgeSegment(e.host, e.bridge));
            pushTo(uplinksOf, `${e.host}/${e.bridge}`, l.subnet);
        }));
        spec.bridges.forEach((b, i) => {
            if (b.mac) {
                const bad = macProblem(b.mac, "the bridge");
                if (bad) ctx.err(`/bridges/${i}/mac`, bad);
                else if (b.type !== "linux") ctx.err(`/bridges/${i}/mac`, `bridge '${b.name}' is an Open vSwitch bridge: a mac is set on Linux bridges only (type: linux)`);
                // Hosts may share one (NAT gateways, modules/nat); a VM may not have it (modules/libvirt).
                else if (!ctx.lookup("bridge mac", b.mac)) ctx.provide("bridge mac", b.mac, `/bridges/${i}/mac`);
            }
            if (!b.address) return;
            // Unique in the lab, unless the bridge is private to its host (a NAT's inside).
            ctx.claimAddress(b.address, `/bridges/${i}/address`, { host: b.host, segment: bridgeSegment(b.host, b.name) });
            ctx.attach(b.host, b.address, bridgeSegment(b.host, b.name));
            // A bridge's address must sit in the subnet of a link plugged into it.
            const uplinks = uplinksOf.get(`${b.host}/${b.name}`) ?? [];
            if (uplinks.length && !uplinks.some((subnet) => inPrefix(b.address!, subnet)))
                ctx.err(`/bridges/${i}/address`, `${b.address} is outside the subnet of every link plugged into bridge '${b.name}'`);
        });
    },
    uses: (spec) => spec.bridges.map((b, i) => ({ host: b.host, capability: b.type, pointer: `/bridges/${i}/type` })),
    graph(spec, g) {
        for (const b of spec.bridges) {
            g.node(nodeId.bridge(b.host, b.name), { kind: "bridge", parent: b.host, label: `${b.name} (${b.type === "ovs" ? "OVS" : "Linux bridge"})`, lines: [...(b.address ? [b.address] : []), ...(b.mac ? [b.mac] : [])] });
            if (b.address) g.own(b.host, b.address);
        }
        for (const l of spec.links) for (const e of l.ends) if (e.bridge) g.plug(e.host, e.interface, nodeId.bridge(e.host, e.bridge));
    },
};
