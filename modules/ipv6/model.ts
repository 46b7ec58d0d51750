// IPv6 on hosts: addresses on their interfaces and static routes. The core's network model
// is IPv4 (the studies' underlays); seed 001's Proxy Mobile IPv6 runs on an IPv6 plane
// beside it, which this module adds host by host, as the routes module adds IPv4 routes.
import type { ModuleModel } from "../../model/modules";
import type { LabSpec } from "../../model/types";
import { hostPart6, inPrefix6, isNetwork6, parse6, parseCidr6 } from "./address6";

export interface Ipv6AddressSpec { interface: string; address: string }
export interface Ipv6RouteSpec { to: string; via: string }
export interface HostIpv6Spec { addresses: Ipv6AddressSpec[]; routes?: Ipv6RouteSpec[]; forwarding?: boolean }

declare module "../../model/types" {
    interface HostSpec { ipv6?: HostIpv6Spec }
}

/** Every IPv6 interface address of the stack: host, interface, address with its length. */
export function ipv6Addresses(spec: LabSpec): { host: string; interface: string; address: string }[] {
    return spec.hosts.flatMap((h) => (h.ipv6?.addresses ?? []).map((a) => ({ host: h.name, interface: a.interface, address: a.address })));
}

/** The host that has an IPv6 address (no prefix length), if any. */
export function ipv6Owner(spec: LabSpec, address: string): string | undefined {
    const v = parse6(address);
    if (v === undefined) return undefined;
    return ipv6Addresses(spec).find((a) => parse6(hostPart6(a.address)) === v)?.host;
}

/** A host's IPv6 address on one interface. */
export function ipv6AddressOn(spec: LabSpec, host: string, ifname: string): string | undefined {
    return ipv6Addresses(spec).find((a) => a.host === host && a.interface === ifname)?.address;
}

/** The interfaces a host has in the stack file: its link ends, bridges and tunnel endpoints. */
function interfacesOf(spec: LabSpec, host: string): Set<string> {
    const s = new Set<string>(["lo"]);
    for (const l of spec.links) for (const e of l.ends) if (e.host === host) s.add(e.interface);
    for (const b of (spec as { bridges?: { host: string; name: string }[] }).bridges ?? []) if (b.host === host) s.add(b.name);
    return s;
}

export const module: ModuleModel = {
    name: "ipv6",
    phase: "routing",
    after: ["routes"],
    capabilities: { addresses: "IPv6 addresses and static routes", forwarding: "IPv6 forwarding" },
    check(spec, ctx) {
        const seen = new Map<bigint, string>();
        spec.hosts.forEach((h, i) => {
            if (!h.ipv6) return;
            const at = `/hosts/${i}/ipv6`;
            const own = interfacesOf(spec, h.name);
            h.ipv6.addresses.forEach((a, k) => {
                const p = `${at}/addresses/${k}`;
                if (!own.has(a.interface)) ctx.err(`${p}/interface`, `host '${h.name}' has no interface '${a.interface}' in the stack file (no link end or bridge of that name)`);
                const c = parseCidr6(a.address);
                if (!c) { ctx.err(`${p}/address`, `${a.address} is not an IPv6 address with a prefix length, such as 2001:db8::1/64`); return; }
                if (hostPart6(a.address).toLowerCase().startsWith("fe80")) ctx.err(`${p}/address`, `${a.address} is link-local: the kernel gives every interface one; give a global or unique local address`);
                const other = seen.get(c.address);
                if (other) ctx.err(`${p}/address`, `${hostPart6(a.address)} is already ${other}'s address`);
                seen.set(c.address, `host '${h.name}' ${a.interface}`);
            });
            const seenTo = new Set<string>();
            (h.ipv6.routes ?? []).forEach((r, k) => {
                const p = `${at}/routes/${k}`;
                if (!parseCidr6(r.to) || !isNetwork6(r.to)) ctx.err(`${p}/to`, `${r.to} is not an IPv6 network (such as 2001:db8:1::/64, or ::/0 for the default route)`);
                if (seenTo.has(r.to)) ctx.err(`${p}/to`, `a second IPv6 route to ${r.to} on host '${h.name}'`);
                seenTo.add(r.to);
                if (parse6(r.via) === undefined) ctx.err(`${p}/via`, `${r.via} is not an IPv6 address`);
                else if (!h.ipv6!.addresses.some((a) => inPrefix6(r.via, a.address)))
                    ctx.err(`${p}/via`, `next hop ${r.via} is on no IPv6 subnet of host '${h.name}' (${h.ipv6!.addresses.map((a) => a.address).join(", ") || "it has none"})`);
            });
        });
    },
    uses: (spec) => spec.hosts.flatMap((h, i) => (h.ipv6 ? [
        { host: h.name, capability: "addresses", pointer: `/hosts/${i}/ipv6` },
        ...(h.ipv6.forwarding ? [{ host: h.name, capability: "forwarding", pointer: `/hosts/${i}/ipv6/forwarding` }] : []),
    ] : [])),
};
