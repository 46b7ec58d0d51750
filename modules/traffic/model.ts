// The traffic split of a migration (seed 000 §4.6, seed 001 Fig. 11): the bytes on the
// router's site-facing interfaces (the WAN's), by class, counted on each run. Counted where
// the router's own kernel does no extra work: on the host side of an appliance's taps, or
// on an emulated router's interfaces (nftables byte counters, netdev family, both ways).
// The classes are seed 000's; a study's own (GRE, mobility signalling) come first in
// their turn.
import type { ModuleModel } from "../../model/modules";
import type { LabSpec } from "../../model/types";
import { oneOf } from "../../model/config";
import { TCP_PROBE_PORT, UDP_PROBE_PORT, underlayAddress } from "../migration/model";
import { greTunnels } from "../gre/model";

/** One class: its name, what it is, and the nft matches (any one) that put a packet in it. */
export interface TrafficClass { name: string; description: string; matches: string[] }

/** QEMU's migration stream: libvirt's default port range, unless the migration names a port. */
const MIGRATION_PORTS = "49152-49215";
/** iSCSI and NFS. */
const STORAGE_PORTS = "{ 3260, 2049 }";

/**
 * Bit offsets from the outer UDP header into a VXLAN packet's inner frame: 8 bytes of UDP
 * and 8 of VXLAN, then Ethernet (the type at byte 28), IPv4 (the protocol at byte 39) and,
 * for a header without options, the inner ports at bytes 50 and 52.
 */
const INNER = { ethertype: "@th,224,16", protocol: "@th,312,8", sport: "@th,400,16", dport: "@th,416,16" };

/**
 * Bit offsets from the outer IPv4 header into a GRE packet's inner IPv4 packet (seed 000
 * scenario 2): 20 bytes of outer header and GRE's 4 (8 with a key), then the inner
 * protocol at byte 9, addresses at 12 and 16, and, without options, the ports at 20 and 22.
 */
function greInner(key: boolean) {
    const at = (byte: number, bits: number) => `@nh,${(20 + (key ? 8 : 4) + byte) * 8},${bits}`;
    return { protocol: at(9, 8), saddr: at(12, 32), daddr: at(16, 32), sport: at(20, 16), dport: at(22, 16) };
}
const hex32 = (ip: string) => `0x${ip.split(".").map((o) => Number(o).toString(16).padStart(2, "0")).join("")}`;

/**
 * The classes in the order they are tried: the first that matches counts a packet; the
 * rest is "other". The fixed ports come first: an ephemeral port (from 32768) may fall in
 * the migration's range, so the migration also needs both ends to be its hypervisors.
 */
export function trafficClasses(spec: LabSpec): TrafficClass[] {
    const m = spec.migration;
    const ports = m?.port ? String(m.port) : MIGRATION_PORTS;
    const ends = m ? `{ ${[...new Set([m.from, m.to].map((h) => underlayAddress(spec, h)))].join(", ")} }` : undefined;
    const vxlanPorts = [...new Set(spec.tunnels.filter((t) => t.type === "vxlan").map((t) => t.port ?? 4789))];
    const vx = vxlanPorts.length ? `udp dport ${vxlanPorts.length > 1 ? `{ ${vxlanPorts.join(", ")} }` : vxlanPorts[0]}` : undefined;
    const inner = (proto: number, port?: number) => port === undefined
        ? [`${vx} ${INNER.ethertype} 0x0800 ${INNER.protocol} ${proto}`]
        : [INNER.sport, INNER.dport].map((at) => `${vx} ${INNER.ethertype} 0x0800 ${INNER.protocol} ${proto} ${at} ${port}`);
    // GRE between the PEs carries the hosts' traffic across the router: look inside it.
    const gres = greTunnels(spec);
    const gre = (match: (g: ReturnType<typeof greInner>) => string[]) => gres.length ? [...new Set(gres.map((t) => t.key !== undefined))]
        .flatMap((key) => match(greInner(key)).map((x) => `ip protocol gre ${key ? "@nh,160,16 & 0x2000 == 0x2000 " : "@nh,160,16 & 0x2000 == 0 "}${x}`)) : [];
    const greClient = gre((g) => [`${g.protocol} 1`, ...[g.sport, g.dport].flatMap((p) => [`${g.protocol} 17 ${p} ${UDP_PROBE_PORT}`, `${g.protocol} 6 ${p} ${TCP_PROBE_PORT}`])]);
    const hexEnds = m ? [...new Set([m.from, m.to].map((h) => hex32(underlayAddress(spec, h))))] : [];
    const [lo, hi] = ports.split("-").map(Number);
    const greMigration = ends ? gre((g) => [g.sport, g.dport].flatMap((p) => hexEnds.flatMap((a) => hexEnds.filter((b) => b !== a)
        .map((b) => `${g.protocol} 6 ${g.saddr} ${a} ${g.daddr} ${b} ${p} ${hi ? `${lo}-${hi}` : lo}`)))) : [];
    // Seed 001 (PMIPv6): the client's IPv6 traffic to the VM crosses the LMA-MAG links in an
    // IPv6-in-IPv6 tunnel: look inside it (40 bytes of outer header, the inner next header at
    // byte 6, the inner ports at 40 and 42); the mobility signalling is a class of its own.
    const pmip = Boolean((spec as { pmipv6?: object }).pmipv6);
    const in6 = (proto: number, port?: number) => port === undefined ? [`ip6 nexthdr 41 @nh,368,8 ${proto}`]
        : [640, 656].map((bit) => `ip6 nexthdr 41 @nh,368,8 ${proto} @nh,${bit},16 ${port}`);
    const v6 = (m: string) => `meta protocol ip6 ${m}`;
    const pmipClient = pmip ? [
        "icmpv6 type { echo-request, echo-reply }", ...in6(58), ...in6(17, UDP_PROBE_PORT), ...in6(6, TCP_PROBE_PORT),
        ...[`udp dport ${UDP_PROBE_PORT}`, `udp sport ${UDP_PROBE_PORT}`, `tcp dport ${TCP_PROBE_PORT}`, `tcp sport ${TCP_PROBE_PORT}`].map(v6),
    ] : [];
    return [
        // Seed 001 Fig. 11 counts both as PMIPv6's signalling (RADIUS, PBU and PBA).
        ...(pmip ? [{
            name: "mobility", description: "PMIPv6's Proxy Binding Updates and Acknowledgements (the Mobility Header)",
            matches: ["ip6 nexthdr 135"],
        }, {
            name: "radius", description: "RADIUS: the MAGs asking the AAA server about each VM that appears on their access link",
            matches: ["meta protocol ip6 udp dport 1812", "meta protocol ip6 udp sport 1812", "udp dport 1812", "udp sport 1812"],
        }] : []),
        { name: "storage", description: "shared storage (iSCSI, NFS)", matches: [`tcp dport ${STORAGE_PORTS}`, `tcp sport ${STORAGE_PORTS}`] },
        {
            name: "client",
            description: "the client's probes: ping, the UDP probe, the TCP probe (also inside the overlay)",
            matches: [
                "ip protocol icmp", `udp dport ${UDP_PROBE_PORT}`, `udp sport ${UDP_PROBE_PORT}`, `tcp dport ${TCP_PROBE_PORT}`, `tcp sport ${TCP_PROBE_PORT}`,
                ...(vx ? [...inner(1), ...inner(17, UDP_PROBE_PORT), ...inner(6, TCP_PROBE_PORT)] : []),
                ...greClient,
                ...pmipClient,
            ],
        },
        ...(ends ? [{
            name: "migration", description: "the migration stream (QEMU, over TCP, between the hypervisors; also inside GRE)",
            matches: [`ip saddr ${ends} ip daddr ${ends} tcp dport ${ports}`, `ip saddr ${ends} ip daddr ${ends} tcp sport ${ports}`, ...greMigration],
        }] : []),
        ...(vx || gres.length || pmip ? [{
            name: "tunnel", description: "the tunnels' own traffic (VXLAN frames, GRE or IPv6-in-IPv6 packets that carry no probe and no migration: ARP, RIP, the VM's announcements)",
            matches: [...(vx ? [vx] : []), ...(gres.length ? ["ip protocol gre"] : []), ...(pmip ? ["ip6 nexthdr 41"] : [])],
        }] : []),
    ];
}

// A run's split from the counters' reading (nft's JSON): bytes and packets per class,
// summed over the WAN's interfaces, and each class's share of the bytes.
export interface ClassCount { bytes: number; packets: number }

export interface TrafficSplit {
    /** The router's interfaces counted; each packet through the router counts on two (as in seed 000). */
    interfaces: string[];
    classes: Record<string, ClassCount>;
    /** Per interface, for a check of the two sides. */
    byInterface: Record<string, Record<string, ClassCount>>;
    totalBytes: number;
    /** Each class's share of totalBytes, in %. */
    sharePct: Record<string, number>;
}

/** The split from `nft -j reset counters table ...`, whose counters are named <class>_<interface>. */
export function splitFromNft(json: string, classes: string[], interfaces: string[]): TrafficSplit {
    const doc = JSON.parse(json) as { nftables?: { counter?: { name: string; bytes: number; packets: number } }[] };
    const zero = () => ({ bytes: 0, packets: 0 });
    const total: Record<string, ClassCount> = Object.fromEntries(classes.map((c) => [c, zero()]));
    const byInterface = Object.fromEntries(interfaces.map((i) => [i, Object.fromEntries(classes.map((c) => [c, zero()]))]));
    let seen = 0;
    for (const { counter } of doc.nftables ?? []) {
        if (!counter) continue;
        const cls = classes.find((c) => counter.name.startsWith(`${c}_`) && interfaces.includes(counter.name.slice(c.length + 1)));
        if (!cls) continue;
        const ifname = counter.name.slice(cls.length + 1);
        for (const into of [total[cls], byInterface[ifname][cls]]) {
            into.bytes += counter.bytes;
            into.packets += counter.packets;
        }
        seen++;
    }
    if (seen !== classes.length * interfaces.length) {
        throw new Error(`the traffic counters' reading has ${seen} of the ${classes.length * interfaces.length} counters (${classes.join(", ")} on ${interfaces.join(", ")}): ${json.slice(0, 200)}`);
    }
    const totalBytes = Object.values(total).reduce((a, c) => a + c.bytes, 0);
    const sharePct = Object.fromEntries(classes.map((c) => [c, totalBytes ? Math.round((total[c].bytes / totalBytes) * 1e6) / 1e4 : 0]));
    return { interfaces, classes: total, byInterface, totalBytes, sharePct };
}

/** The name of the class that takes what no other does. */
export const OTHER = "other";

/** Whether the lab has counters: a WAN whose router a migration's traffic crosses. */
export const countsTraffic = (spec: LabSpec) => Boolean(spec.wan && spec.migration);

export const module: ModuleModel = {
    name: "traffic",
    // Once the WAN's interfaces exist.
    phase: "wan",
    capabilities: { counters: "byte counters by traffic class on the WAN's interfaces (nftables, netdev family)" },
    features: {
        "nft-netdev": {
            probe: "unshare --net sh -c 'ip link add wlp0 type veth peer name wlp1 && nft add table netdev wlp && " +
                "nft add chain netdev wlp c \"{ type filter hook egress device wlp0 priority 0; }\"'",
            hint: "install nftables, on a kernel with nf_tables and netfilter egress hooks (5.16 or newer); or turn the split off: pulumi config set wanlab:trafficSplit off",
        },
    },
    configKeys: [{
        key: "trafficSplit",
        description: "count each run's bytes on the WAN's interfaces by class (on, the default; off saves a command per run)",
        parse: oneOf("trafficSplit", ["on", "off"], "a setting"),
    }],
    uses: (spec) => (countsTraffic(spec) ? [{ host: spec.wan!.router, capability: "counters", pointer: "/wan/router" }] : []),
};
