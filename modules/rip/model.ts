// RIP on routers (seed 000 scenario 2: each PE advertises its site over the GRE tunnel).
// The checks run RIP over the model's network as the routers would: each router's RIP
// interfaces are those on its networks, neighbours share a segment, and what each learns
// becomes a route of distance 120 there, so that reachability checks see the lab as it
// will be once RIP has converged. Versions must match on every adjacency: IOS sends
// version 1 unless told and FRR version 2, so both renderings say it.
import type { ModuleModel } from "../../model/modules";
import type { CheckContext } from "../../model/context";
import type { HostSpec, LabSpec } from "../../model/types";
import { hostPart, inPrefix, isNetworkPrefix, subnetOf } from "../../model/address";
import { DISTANCE, hostNode } from "../../model/network";
import { bridgeSegment } from "../bridge/model";
import { greSegment, greTunnels } from "../gre/model";
import { loopbackSegment } from "../routes/model";

export interface RipSpec { version: 1 | 2; networks: string[]; passive?: string[]; redistribute?: ("connected" | "static")[] }

declare module "../../model/types" {
    interface HostSpec { rip?: RipSpec }
}

/** RIP's infinity: a route 16 hops away is unreachable. */
export const RIP_INFINITY = 16;

/** One interface of a host with an address: its name, address and segment. */
export interface AddressedInterface { name: string; cidr: string; segment: string }

/** Every addressed interface of a host: link ends, bridges, GRE tunnels and the loopback. */
export function addressedInterfaces(spec: LabSpec, host: HostSpec): AddressedInterface[] {
    const out: AddressedInterface[] = [];
    for (const l of spec.links) for (const e of l.ends) if (e.host === host.name && e.address && !e.bridge) out.push({ name: e.interface, cidr: e.address, segment: `link:${l.name}` });
    for (const b of spec.bridges) if (b.host === host.name && b.address) out.push({ name: b.name, cidr: b.address, segment: bridgeSegment(b.host, b.name) });
    for (const t of greTunnels(spec)) for (const e of t.endpoints) if (e.host === host.name) out.push({ name: e.interface, cidr: e.address, segment: greSegment(t) });
    if (host.loopback) out.push({ name: "lo", cidr: host.loopback, segment: loopbackSegment(host.name) });
    return out;
}

/** The interfaces RIP runs on: those whose address is in one of its networks. */
export function ripInterfaces(spec: LabSpec, host: HostSpec): (AddressedInterface & { passive: boolean })[] {
    const rip = host.rip;
    if (!rip) return [];
    return addressedInterfaces(spec, host)
        .filter((i) => rip.networks.some((n) => inPrefix(i.cidr, n)))
        .map((i) => ({ ...i, passive: (rip.passive ?? []).includes(i.name) }));
}

/** Two RIP routers that hear each other: b's updates leave bi and reach a on ai. */
export interface Adjacency { a: HostSpec; ai: AddressedInterface; b: HostSpec; bi: AddressedInterface }

/** Every ordered pair of RIP routers with active (not passive) interfaces on one segment, whatever their versions. */
export function adjacencies(spec: LabSpec, isSameSegment: (a: string, b: string) => boolean): Adjacency[] {
    const routers = spec.hosts.filter((h) => h.rip);
    const active = new Map(routers.map((h) => [h.name, ripInterfaces(spec, h).filter((i) => !i.passive)]));
    const out: Adjacency[] = [];
    for (const a of routers) for (const ai of active.get(a.name)!) for (const b of routers) {
        if (b === a) continue;
        for (const bi of active.get(b.name)!) if (isSameSegment(ai.segment, bi.segment)) out.push({ a, ai, b, bi });
    }
    return out;
}

/** A route a RIP router learned: the prefix, its metric, and the neighbour's address it came from. */
export interface RipRoute { prefix: string; metric: number; via?: string; from?: string }

/**
 * RIP run to convergence over the model: each router's table (what it originates with
 * metric 0, and what it learned). Split horizon: a router does not send a route back to
 * the neighbour it learned it from.
 */
export function converge(spec: LabSpec, isSameSegment: (a: string, b: string) => boolean): Map<string, Map<string, RipRoute>> {
    const routers = spec.hosts.filter((h) => h.rip);
    const tables = new Map<string, Map<string, RipRoute>>();
    // Routers of different versions ignore each other's updates.
    const heard = adjacencies(spec, isSameSegment).filter((x) => x.a.rip!.version === x.b.rip!.version);
    for (const h of routers) {
        const t = new Map<string, RipRoute>();
        const own = h.rip!.redistribute?.includes("connected") ? addressedInterfaces(spec, h) : ripInterfaces(spec, h);
        for (const i of own) t.set(subnetOf(i.cidr), { prefix: subnetOf(i.cidr), metric: 0 });
        if (h.rip!.redistribute?.includes("static")) for (const r of h.routes ?? []) if (!t.has(r.to)) t.set(r.to, { prefix: r.to, metric: 1 });
        tables.set(h.name, t);
    }
    for (let round = 0, changed = true; changed && round < RIP_INFINITY; round++) {
        changed = false;
        for (const { a: r, b: s, bi: si } of heard) {
            // s sends its table out of si; r hears it.
            for (const route of tables.get(s.name)!.values()) {
                if (route.from === r.name) continue;
                const metric = route.metric + 1;
                if (metric >= RIP_INFINITY) continue;
                const mine = tables.get(r.name)!.get(route.prefix);
                if (mine && mine.metric <= metric) continue;
                tables.get(r.name)!.set(route.prefix, { prefix: route.prefix, metric, via: hostPart(si.cidr), from: s.name });
                changed = true;
            }
        }
    }
    return tables;
}

function checkHost(spec: LabSpec, ctx: CheckContext, h: HostSpec, i: number) {
    const rip = h.rip!;
    const at = `/hosts/${i}/rip`;
    const mine = addressedInterfaces(spec, h);
    rip.networks.forEach((n, k) => {
        if (!isNetworkPrefix(n)) ctx.err(`${at}/networks/${k}`, `${n} is not a network address (host bits are set)`);
        else if (!mine.some((x) => inPrefix(x.cidr, n))) ctx.err(`${at}/networks/${k}`, `${n} covers none of host '${h.name}''s addresses (${mine.map((x) => `${x.name} ${x.cidr}`).join(", ") || "none"}): RIP would run on no interface`);
    });
    (rip.passive ?? []).forEach((p, k) => {
        const x = mine.find((m) => m.name === p);
        if (!x) ctx.err(`${at}/passive/${k}`, `host '${h.name}' has no addressed interface '${p}'`);
        else if (!rip.networks.some((n) => inPrefix(x.cidr, n))) ctx.err(`${at}/passive/${k}`, `${p} (${x.cidr}) is on none of the RIP networks: it would not be advertised either`);
    });
}

// Neighbours that cannot hear each other are a mistake the study's IOS defaults make easy.
function checkVersions(spec: LabSpec, ctx: CheckContext) {
    const index = (h: HostSpec) => spec.hosts.indexOf(h);
    const said = new Set<string>();
    for (const { a, ai, b } of adjacencies(spec, (x, y) => ctx.net.sameSegment(x, y))) {
        // Each mismatched pair once per interface of the earlier router, said on the later one.
        if (index(b) <= index(a) || a.rip!.version === b.rip!.version || said.has(`${a.name}/${ai.name}/${b.name}`)) continue;
        said.add(`${a.name}/${ai.name}/${b.name}`);
        ctx.err(`/hosts/${index(b)}/rip/version`, `host '${b.name}' runs RIP version ${b.rip!.version} and its neighbour '${a.name}' (on ${ai.name}) version ${a.rip!.version}: ` +
            "each ignores the other's updates; give both the same version");
    }
}

export const module: ModuleModel = {
    name: "rip",
    phase: "routing",
    after: ["gre", "routes"],
    capabilities: { rip: "RIP" },
    check(spec, ctx) {
        const routers = spec.hosts.map((h, i) => ({ h, i })).filter((x) => x.h.rip);
        if (!routers.length) return;
        routers.forEach(({ h, i }) => checkHost(spec, ctx, h, i));
        if (ctx.errors.length) return;
        checkVersions(spec, ctx);
        const tables = converge(spec, (a, b) => ctx.net.sameSegment(a, b));
        for (const { h } of routers) {
            const statics = new Set(ctx.net.routedPrefixes(hostNode(h.name)));
            for (const r of tables.get(h.name)!.values()) {
                if (r.via && !statics.has(r.prefix)) ctx.net.route(hostNode(h.name), r.prefix, r.via, DISTANCE.rip);
            }
        }
        ctx.provide("rip", "tables", tables);
    },
    uses: (spec) => spec.hosts.flatMap((h, i) => (h.rip ? [{ host: h.name, capability: "rip", pointer: `/hosts/${i}/rip` }] : [])),
    graph(spec, g) {
        for (const h of spec.hosts) if (h.rip) g.annotate(h.name, `RIP v${h.rip.version}: ${h.rip.networks.join(", ")}`);
    },
};
