// Static routes and IP forwarding on hosts: what makes the sites reach each other
// through the router (seed 000 §2's `route add`).
import type { ModuleModel } from "../../model/modules";
import type { HostSpec } from "../../model/types";
import { isNetworkPrefix } from "../../model/address";
import { hostNode } from "../../model/network";

export interface RouteSpec { to: string; via: string }

declare module "../../model/types" {
    interface HostSpec {
        routes?: RouteSpec[];
        forwarding?: boolean;
        loopback?: string;
    }
}

/** The segment a host's loopback address is on: its own. */
export const loopbackSegment = (host: string) => `loopback:${host}`;

/** Whether the host forwards IPv4: as the stack file says, else when it is a router. */
export function forwards(h: HostSpec): boolean {
    return h.forwarding ?? h.roles.includes("router");
}

export const module: ModuleModel = {
    name: "routes",
    phase: "routing",
    capabilities: {
        routes: "static routes",
        forwarding: "IPv4 forwarding",
    },
    // The next hop must be on a subnet the host is attached to (links and bridges).
    check(spec, ctx) {
        spec.hosts.forEach((h, i) => {
            ctx.net.forwarding(hostNode(h.name), forwards(h));
            if (h.loopback) {
                if (!h.loopback.endsWith("/32")) ctx.err(`/hosts/${i}/loopback`, `${h.loopback} is not a single address: a loopback address is a /32`);
                else {
                    ctx.claimAddress(h.loopback, `/hosts/${i}/loopback`);
                    ctx.attach(h.name, h.loopback, loopbackSegment(h.name));
                }
            }
            const seenTo = new Set<string>();
            (h.routes ?? []).forEach((r, k) => {
                const at = `/hosts/${i}/routes/${k}`;
                if (seenTo.has(r.to)) ctx.err(`${at}/to`, `a second route to ${r.to} on host '${h.name}'`);
                seenTo.add(r.to);
                if (!isNetworkPrefix(r.to)) ctx.err(`${at}/to`, `${r.to} is not a network address (host bits are set)`);
                ctx.net.route(hostNode(h.name), r.to, r.via);
                if (!ctx.onAttachedSubnet(h.name, r.via)) ctx.err(`${at}/via`, `next hop ${r.via} is not on any subnet of host '${h.name}'`);
            });
        });
    },
    uses: (spec) => spec.hosts.flatMap((h, i) => [
        ...(h.routes?.length || h.loopback ? [{ host: h.name, capability: "routes", pointer: `/hosts/${i}/${h.routes?.length ? "routes" : "loopback"}` }] : []),
        ...(forwards(h) ? [{ host: h.name, capability: "forwarding", pointer: `/hosts/${i}` }] : []),
    ]),
};
