// Checks every overlay shares whose end points are ports on bridges (VXLAN, GRE): one VNI
// or key per overlay, end points on known hosts and bridges, a local address that is the
// host's own, and remotes that are addresses of the overlay's other end points.
import type { CheckContext } from "../../model/context";
import { type GraphBuilder, nodeId } from "../../model/graph";
import type { LabSpec } from "../../model/types";
import { bridgeRef, bridgeSegment } from "./model";
import { hostNode } from "../../model/network";

export interface OverlayEndpoint { host: string; interface: string; bridge: string; local?: string; remotes: string[] }
export interface Overlay { name: string; vni?: number; mtu?: number; endpoints: OverlayEndpoint[] }

/** What an overlay type adds to each frame it carries, in bytes, and its name in messages. */
export interface Encapsulation { label: string; overhead: (t: Overlay) => number }

/** Checks the overlays of one type (names are unique across every overlay, checked once). */
export function checkOverlays(ctx: CheckContext, tunnels: (Overlay & { type: string })[], type: string, encap: Encapsulation) {
    if (!ctx.lookup("checked", "tunnel names")) {
        ctx.unique("tunnels", tunnels);
        ctx.provide("checked", "tunnel names");
    }
    tunnels.forEach((t, i) => {
        if (t.type !== type) return;
        checkOverlay(ctx, t, `/tunnels/${i}`);
        joinOverlay(ctx, t, `/tunnels/${i}`, encap);
    });
}

// The overlay's bridges become one segment of the tunnel's MTU; each end point must reach
// each of its remotes over the underlay, with room for the encapsulated frame.
function joinOverlay(ctx: CheckContext, t: Overlay, at: string, encap: Encapsulation) {
    const seg = `tunnel:${t.name}`;
    // Bridges that are one L2 domain already (their uplinks on one LAN) would get a second
    // path through the tunnel: a loop that floods every broadcast for ever (003.md §5).
    t.endpoints.forEach((e, j) => t.endpoints.slice(0, j).forEach((d) => {
        if (ctx.net.sameSegment(bridgeSegment(d.host, d.bridge), bridgeSegment(e.host, e.bridge)))
            ctx.err(`${at}/endpoints/${j}/bridge`, `bridge '${e.bridge}' on host '${e.host}' and bridge '${d.bridge}' on host '${d.host}' are one L2 segment already ` +
                `(a link plugged into both), and tunnel '${t.name}' joins them again: a loop, in which every broadcast circles for ever. ` +
                "Put the hosts' uplinks on different subnets, joined by a router, or the tunnel's ports on bridges without an uplink");
    }));
    ctx.net.segment(seg, t.mtu);
    for (const e of t.endpoints) ctx.net.join(seg, bridgeSegment(e.host, e.bridge));
    ctx.later(() => t.endpoints.forEach((e, j) => e.remotes.forEach((r, k) => {
        const pointer = `${at}/endpoints/${j}/remotes/${k}`;
        // The tunnel's own MTU bounds its frames, not the underlay packets that carry them.
        const path = ctx.net.roundTrip(hostNode(e.host), r, seg);
        if (!path.ok) return ctx.err(pointer, `host '${e.host}' cannot reach the tunnel's remote ${r} over the underlay: ${path.reason}`);
        const need = (t.mtu ?? 1500) + encap.overhead(t);
        if (path.mtu < need) {
            ctx.err(pointer, `the underlay from host '${e.host}' to ${r} carries packets of at most ${path.mtu} bytes, and ${encap.label} adds ` +
                `${encap.overhead(t)} to each frame of the tunnel's mtu ${t.mtu}: give the tunnel an mtu of at most ${path.mtu - encap.overhead(t)}, or the links on the way an mtu of at least ${need}`);
        }
    })));
}

function checkOverlay(ctx: CheckContext, t: Overlay, at: string) {
    if (t.vni !== undefined) {
        const first = ctx.lookup<string>("vni", String(t.vni));
        if (first !== undefined) ctx.err(`${at}/vni`, `VNI ${t.vni} is already used by tunnel '${first}'`);
        else ctx.provide("vni", String(t.vni), t.name);
    }
    const members = new Set(t.endpoints.map((e) => e.host));
    t.endpoints.forEach((e, j) => {
        const ep = `${at}/endpoints/${j}`;
        if (!ctx.hostRef(`${ep}/host`, e.host)) return;
        ctx.claimInterface(e.host, e.interface, `${ep}/interface`);
        bridgeRef(ctx, `${ep}/bridge`, e.host, e.bridge);
        if (e.local && !ctx.hasAddress(e.host, e.local)) ctx.err(`${ep}/local`, `${e.local} is not an address of host '${e.host}'`);
        e.remotes.forEach((r, k) => {
            const owner = ctx.ownerOf(r);
            if (owner === e.host) ctx.err(`${ep}/remotes/${k}`, "an end point cannot tunnel to its own host");
            else if (!owner || !members.has(owner)) ctx.err(`${ep}/remotes/${k}`, `${r} is not an address of another end point of tunnel '${t.name}'`);
        });
    });
    if (members.size !== t.endpoints.length) ctx.err(`${at}/endpoints`, "a host appears twice among the endpoints");
}

const types = new WeakMap<object, Map<string, "ovs" | "linux">>();

/** The type of the bridge an end point's port joins (undefined if there is no such bridge). */
export function bridgeType(spec: LabSpec, e: { host: string; bridge: string }): "ovs" | "linux" | undefined {
    let m = types.get(spec);
    if (!m) types.set(spec, (m = new Map(spec.bridges.map((b) => [`${b.host}/${b.name}`, b.type]))));
    return m.get(`${e.host}/${e.bridge}`);
}

/** An overlay in the topology graph: its ports on their bridges, and one edge per pair of end points that tunnel to each other. */
export function overlayGraph(g: GraphBuilder, t: Overlay, what: string) {
    for (const e of t.endpoints) {
        g.node(nodeId.port(e.host, e.interface), { kind: "port", parent: e.host, label: `${e.interface} (${what})` });
        g.edge(nodeId.port(e.host, e.interface), nodeId.bridge(e.host, e.bridge), { kind: "attach" });
    }
    const seen = new Set<string>();
    for (const e of t.endpoints) {
        for (const r of e.remotes) {
            const peer = t.endpoints.find((x) => x.host === g.ownerOf(r));
            const key = peer && [e.host, peer.host].sort().join("|");
            if (!peer || seen.has(key!)) continue;
            seen.add(key!);
            g.edge(nodeId.port(e.host, e.interface), nodeId.port(peer.host, peer.interface), { kind: "tunnel", label: `${what} (${t.name})` });
        }
    }
}
