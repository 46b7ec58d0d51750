// Point-to-point GRE tunnels between routers (seed 000 scenario 2: PE1 and PE2's Tunnel1).
// Each end has the tunnel interface's address, a source of its own and the far end's
// source as destination. The destination must be reached over the underlay, not through
// the tunnel itself (recursive routing, 000.md A5), with room for GRE's 24 bytes.
import type { ModuleModel } from "../../model/modules";
import type { CheckContext } from "../../model/context";
import type { LabSpec } from "../../model/types";
import { hostPart, inPrefix, isReservedInPrefix, subnetOf } from "../../model/address";
import { hostNode } from "../../model/network";

export interface GreEndpoint { host: string; interface: string; address: string; source: string; destination: string }
export interface GreTunnelSpec { name: string; type: "gre"; key?: number; mtu: number; endpoints: GreEndpoint[] }

/** Outer IPv4 (20) and the GRE header (4, and 4 more with a key). */
export const greOverhead = (t: { key?: number }) => 24 + (t.key !== undefined ? 4 : 0);

export const greTunnels = (spec: LabSpec): GreTunnelSpec[] => spec.tunnels.filter((t) => t.type === "gre") as unknown as GreTunnelSpec[];

/** The segment the tunnel's two interfaces are on. */
export const greSegment = (t: { name: string }) => `gre:${t.name}`;

/** The tunnel's subnet (10.1.1.0/24 for 10.1.1.1/24). */
export const greSubnet = (e: GreEndpoint) => subnetOf(e.address);

function checkTunnel(ctx: CheckContext, t: GreTunnelSpec, at: string) {
    const [a, b] = t.endpoints;
    if (a.host === b.host) ctx.err(`${at}/endpoints/1/host`, "a tunnel joins two different routers");
    const subnet = greSubnet(a);
    ctx.net.segment(greSegment(t), t.mtu);
    t.endpoints.forEach((e, j) => {
        const ep = `${at}/endpoints/${j}`;
        const other = t.endpoints[1 - j];
        if (!ctx.hostRef(`${ep}/host`, e.host)) return;
        ctx.claimInterface(e.host, e.interface, `${ep}/interface`);
        if (j === 1 && (!inPrefix(e.address, subnet) || e.address.split("/")[1] !== a.address.split("/")[1])) {
            ctx.err(`${ep}/address`, `${e.address} is not on the tunnel's subnet ${subnet} (the other end has ${a.address})`);
        } else if (isReservedInPrefix(e.address, greSubnet(e))) {
            ctx.err(`${ep}/address`, `${hostPart(e.address)} is the network or broadcast address of ${greSubnet(e)}`);
        }
        ctx.claimAddress(e.address, `${ep}/address`);
        ctx.attach(e.host, e.address, greSegment(t));
        if (e.destination !== other.source) {
            ctx.err(`${ep}/destination`, `${e.destination} is not the other end's source ${other.source} (host '${other.host}'): the two ends would not match each other's packets`);
        }
        if (e.source === e.destination) ctx.err(`${ep}/destination`, "is the end's own source");
    });
    // The sources are checked once every address is known (loopbacks, bridges).
    ctx.later(() => t.endpoints.forEach((e, j) => {
        const ep = `${at}/endpoints/${j}`;
        if (!ctx.hasAddress(e.host, e.source)) return ctx.err(`${ep}/source`, `${e.source} is not an address of host '${e.host}': give it a loopback (loopback: ${e.source}/32) or an interface with it`);
        // GRE packets leave from the tunnel's source, so the far end answers that address.
        const path = ctx.net.path(hostNode(e.host), e.destination);
        if (!path.ok) return ctx.err(`${ep}/destination`, `host '${e.host}' cannot reach the tunnel's destination ${e.destination} over the underlay: ${path.reason}`);
        const back = ctx.net.path(path.hops[path.hops.length - 1], e.source);
        if (!back.ok) return ctx.err(`${ep}/source`, `the far end cannot send back to the tunnel's source ${e.source} over the underlay: ${back.reason}`);
        if (path.segments.some((s) => ctx.net.sameSegment(s, greSegment(t)))) {
            return ctx.err(`${ep}/destination`, `host '${e.host}' would reach ${e.destination} through tunnel '${t.name}' itself (recursive routing): ` +
                `give it a static route to ${e.destination}/32 over the underlay`);
        }
        // Replies over the tunnel itself are the other end's recursive routing, reported there.
        if (back.segments.some((s) => ctx.net.sameSegment(s, greSegment(t)))) return;
        const need = t.mtu + greOverhead(t);
        const mtu = Math.min(path.mtu, back.mtu);
        if (mtu < need) {
            ctx.err(`${at}/mtu`, `the underlay between host '${e.host}' and ${e.destination} carries packets of at most ${mtu} bytes, and GRE adds ${greOverhead(t)} ` +
                `to each packet of the tunnel's mtu ${t.mtu}: give the tunnel an mtu of at most ${mtu - greOverhead(t)}`);
        }
    }));
}

export const module: ModuleModel = {
    name: "gre",
    phase: "routing",
    capabilities: {
        tunnel: "point-to-point GRE tunnels",
    },
    features: {
        gre: {
            probe: "unshare --net ip link add wlp0 type gre local 127.0.0.1 remote 127.0.0.2",
            hint: "this kernel has no GRE (ip_gre): run the router as an appliance (appliance: { key: ... }), whose Debian kernel has it, or load ip_gre",
        },
    },
    check(spec, ctx) {
        spec.tunnels.forEach((t, i) => {
            if (t.type === "gre") checkTunnel(ctx, t as unknown as GreTunnelSpec, `/tunnels/${i}`);
        });
    },
    uses: (spec) => spec.tunnels.flatMap((t, i) => (t.type === "gre" ? (t as unknown as GreTunnelSpec).endpoints : [])
        .map((e, j) => ({ host: e.host, capability: "tunnel", pointer: `/tunnels/${i}/endpoints/${j}` }))),
    graph(spec, g) {
        for (const t of greTunnels(spec)) {
            const [a, b] = t.endpoints.map((e) => g.interfaceEnd(e.host, e.interface, [`${e.host} ${e.interface} ${e.address}`, `src ${e.source} dst ${e.destination}`]));
            for (const e of t.endpoints) g.own(e.host, e.address);
            g.edge(a.id, b.id, { kind: "tunnel", label: `GRE ${t.name}${t.key !== undefined ? ` key ${t.key}` : ""}\n${greSubnet(t.endpoints[0])}`, tail: a.lines, head: b.lines });
        }
    },
};
