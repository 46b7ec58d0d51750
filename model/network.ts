// The lab's IPv4 network as the model sees it, so that validation can say whether a packet
// gets from one node to an address and back before anything is built: L2 segments (links,
// bridges plugged into them, overlays joining bridges), each node's addresses on them,
// its static routes, whether it forwards, and the source NAT it does (a hypervisor that
// masquerades its VMs, as libvirt's default network does). Modules add their parts in
// their checks; the questions are asked once every module has added its own
// (CheckContext.later).
// Node names are labels for messages ("host 'h1'", "VM 'vm1' on host 'h2'").
import { hostPart, parseAddress, parsePrefix } from "./address";

interface Iface { ip: string; net: number; bits: number; seg: string; cidr: string }
interface Route { to: string; net: number; bits: number; via: string; distance: number }
/** Source NAT: a packet from `inside` that leaves by an interface on segment `out` takes that interface's address. */
interface Masquerade { inside: string; net: number; bits: number; out: string }
interface Node { ifaces: Iface[]; routes: Route[]; forwards: boolean; masquerades: Masquerade[] }

/** A source address a node rewrote on the way: the reply comes back to `node` (at `to`), whose connection tracking sends it on to `from`. */
export interface Translation { node: string; from: string; to: string }

/**
 * A path's outcome: where it went and its MTU, the source the destination sees (after any
 * NAT on the way, in `nat`), or, in words, where it stops.
 */
export type PathResult =
    | { ok: true; hops: string[]; mtu: number; source: string; segments: string[]; nat: Translation[] }
    | { ok: false; reason: string };

/** Administrative distances, as IOS and FRR rank a route to the same prefix. */
export const DISTANCE = { static: 1, rip: 120 } as const;

const MAX_HOPS = 32;
const bytes = (a: { toByteArray(): number[] }) => a.toByteArray().reduce((x, b) => x * 256 + b, 0);
const u32 = (ip: string) => bytes(parseAddress(ip));
const mask = (bits: number) => (bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0);
const netOf = (ip: number, bits: number) => (ip & mask(bits)) >>> 0;

export class Network {
    private readonly parent = new Map<string, string>();
    private readonly mtus = new Map<string, number>(); // segment (any member) -> MTU it allows
    private readonly nodes = new Map<string, Node>();
    private owners?: Map<string, string>; // "segment root|ip" -> node
    private mtuOf?: Map<string, number>; // segment root -> MTU

    /** A segment (link:NAME, bridge:HOST/NAME ...), with the MTU it carries if it sets one. */
    segment(id: string, mtu?: number) {
        if (!this.parent.has(id)) this.parent.set(id, id);
        if (mtu !== undefined) this.mtus.set(id, Math.min(mtu, this.mtus.get(id) ?? Infinity));
        this.owners = this.mtuOf = undefined;
    }

    /** Two segments are one L2 domain (a bridged link, an overlay's bridges). */
    join(a: string, b: string) {
        this.segment(a);
        this.segment(b);
        const ra = this.root(a), rb = this.root(b);
        if (ra !== rb) this.parent.set(ra, rb);
        this.owners = this.mtuOf = undefined;
    }

    /** The node has this interface address (a.b.c.d/n) on the segment. */
    address(node: string, cidr: string, seg: string) {
        this.segment(seg);
        const p = parsePrefix(cidr);
        const ip = hostPart(cidr);
        this.node(node).ifaces.push({ ip, net: netOf(bytes(p.addr), p.bits), bits: p.bits, seg, cidr });
        this.owners = undefined;
    }

    route(node: string, to: string, via: string, distance: number = DISTANCE.static) {
        const p = parsePrefix(to);
        this.node(node).routes.push({ to, net: netOf(bytes(p.addr), p.bits), bits: p.bits, via, distance });
    }

    /** The prefixes a node has a route to (for protocols that add theirs where none is). */
    routedPrefixes(node: string): string[] {
        return this.nodes.get(node)?.routes.map((r) => r.to) ?? [];
    }

    /** A node's interfaces: address (a.b.c.d/n) and the segment it is on. */
    interfacesOf(node: string): { cidr: string; segment: string }[] {
        return this.nodes.get(node)?.ifaces.map((i) => ({ cidr: i.cidr, segment: i.seg })) ?? [];
    }

    /** Whether two segments are one L2 domain. */
    sameSegment(a: string, b: string): boolean {
        return this.root(a) === this.root(b);
    }

    forwarding(node: string, on: boolean) {
        this.node(node).forwards = on;
    }

    /**
     * The node masquerades what it forwards from the `inside` prefix out of its interface
     * on segment `out`: such a packet takes that interface's address as its source, and
     * the reply to it is sent on to the original source (connection tracking). Nothing
     * outside reaches an inside address unless it has a route there.
     */
    masquerade(node: string, inside: string, out: string) {
        const p = parsePrefix(inside);
        this.node(node).masquerades.push({ inside, net: netOf(bytes(p.addr), p.bits), bits: p.bits, out });
    }

    /** The MTU of the segment: the smallest any of its parts allows (1500 if none says). */
    mtu(seg: string): number {
        if (!this.mtuOf) {
            this.mtuOf = new Map();
            for (const [id, v] of this.mtus) {
                const r = this.root(id);
                this.mtuOf.set(r, Math.min(v, this.mtuOf.get(r) ?? Infinity));
            }
        }
        return this.mtuOf.get(this.root(seg)) ?? 1500;
    }

    /** The MTU of the segment without what one of its parts sets. */
    private mtuExcept(seg: string, except: string): number {
        const r = this.root(seg);
        let m = Infinity;
        for (const [id, v] of this.mtus) if (id !== except && this.root(id) === r) m = Math.min(m, v);
        return m === Infinity ? 1500 : m;
    }

    /** Take a node out (a VM placed on another host to ask about it there). */
    remove(node: string) {
        this.nodes.delete(node);
        this.owners = undefined;
    }

    /**
     * Whether a packet from node reaches ip, and the reply comes back to the address it left
     * from: to the source the destination saw, and from each NAT on the way (last first)
     * on to the source it rewrote.
     */
    roundTrip(from: string, ip: string, exceptMtuOf?: string): PathResult {
        const there = this.path(from, ip, true, exceptMtuOf);
        if (!there.ok) return there;
        const back = this.path(there.hops[there.hops.length - 1], there.source, false, exceptMtuOf);
        if (!back.ok) return { ok: false, reason: `the reply cannot come back to ${there.source}: ${back.reason}` };
        let mtu = Math.min(there.mtu, back.mtu);
        for (const t of [...there.nat].reverse()) {
            const on = this.path(t.node, t.from, false, exceptMtuOf);
            if (!on.ok) return { ok: false, reason: `the reply cannot come back to ${t.from} from ${t.node}, which rewrote its source to ${t.to}: ${on.reason}` };
            mtu = Math.min(mtu, on.mtu);
        }
        return { ...there, mtu };
    }

    /**
     * One way, hop by hop: connected subnet first, else the longest matching route. A node
     * that masquerades rewrites the source of what it forwards (unless `translate` is off:
     * a reply, which connection tracking maps back instead). `exceptMtuOf`: a segment whose
     * own MTU does not bound the path (a tunnel, for its underlay packets, which cross the
     * bridges it joins but are not its frames).
     */
    path(from: string, ip: string, translate = true, exceptMtuOf?: string): PathResult {
        const dst = u32(ip);
        const hops = [from];
        const segments: string[] = [];
        const nat: Translation[] = [];
        let cur = from;
        let mtu = Infinity;
        let source: string | undefined;
        for (let n = 0; n < MAX_HOPS; n++) {
            const node = this.nodes.get(cur);
            if (!node) return { ok: false, reason: `${cur} has no address` };
            if (node.ifaces.some((i) => i.ip === ip)) return { ok: true, hops, mtu: mtu === Infinity ? 65535 : mtu, source: source ?? ip, segments, nat };
            if (n > 0 && !node.forwards) return { ok: false, reason: `${cur} would have to forward it and does not forward IPv4 (give it the role router, or forwarding: true)` };
            let out = this.connected(node, dst);
            let next = ip;
            if (!out) {
                const r = this.bestRoute(node, dst);
                if (!r) return { ok: false, reason: `${cur} has no route to ${ip}` };
                out = this.connected(node, u32(r.via));
                if (!out) return { ok: false, reason: `the next hop ${r.via} of the route to ${r.to} on ${cur} is on none of its subnets` };
                next = r.via;
            }
            source ??= out.ip;
            // A forwarded packet from a masqueraded prefix, leaving by the NAT's outside.
            if (n > 0 && translate && node.masquerades.length) {
                const src = u32(source), seg = out.seg;
                if (node.masquerades.some((x) => x.out === seg && netOf(src, x.bits) === x.net)) {
                    nat.push({ node: cur, from: source, to: out.ip });
                    source = out.ip;
                }
            }
            segments.push(out.seg);
            mtu = Math.min(mtu, exceptMtuOf ? this.mtuExcept(out.seg, exceptMtuOf) : this.mtu(out.seg));
            const owner = this.owner(out.seg, next);
            if (!owner) {
                return { ok: false, reason: next === ip
                    ? `nothing on the segment of ${out.cidr} (at ${cur}) has the address ${ip}`
                    : `nothing on the segment of ${out.cidr} (at ${cur}) has the next hop ${next}` };
            }
            if (hops.includes(owner)) return { ok: false, reason: `the routes loop: ${[...hops, owner].join(" -> ")}` };
            hops.push(owner);
            cur = owner;
        }
        return { ok: false, reason: `more than ${MAX_HOPS} hops` };
    }

    private connected(node: Node, dst: number): Iface | undefined {
        let best: Iface | undefined;
        for (const i of node.ifaces) if (netOf(dst, i.bits) === i.net && (!best || i.bits > best.bits)) best = i;
        return best;
    }

    private bestRoute(node: Node, dst: number): Route | undefined {
        let best: Route | undefined;
        for (const r of node.routes) {
            if (netOf(dst, r.bits) !== r.net) continue;
            if (!best || r.bits > best.bits || (r.bits === best.bits && r.distance < best.distance)) best = r;
        }
        return best;
    }

    private owner(seg: string, ip: string): string | undefined {
        if (!this.owners) {
            this.owners = new Map();
            for (const [name, n] of this.nodes) for (const i of n.ifaces) this.owners.set(`${this.root(i.seg)}|${i.ip}`, name);
        }
        return this.owners.get(`${this.root(seg)}|${ip}`);
    }

    private root(id: string): string {
        let r = id;
        while (this.parent.get(r) !== r && this.parent.has(r)) r = this.parent.get(r)!;
        // Path compression keeps the finds near constant in a big lab.
        let c = id;
        while (c !== r) { const p = this.parent.get(c)!; this.parent.set(c, r); c = p; }
        return r;
    }

    private node(name: string): Node {
        let n = this.nodes.get(name);
        if (!n) this.nodes.set(name, (n = { ifaces: [], routes: [], forwards: false, masquerades: [] }));
        return n;
    }
}

/** A host's node in the Network. */
export const hostNode = (name: string) => `host '${name}'`;
