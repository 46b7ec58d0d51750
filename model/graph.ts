// The lab's topology graph, from the model alone (no engine, no root): sites as clusters,
// hosts with their roles and platform, links with their subnets, interface names and
// addresses, and what each module adds (bridges, tunnels, storage, VMs, the migration,
// the WAN profile). Written as Graphviz DOT (rendered to SVG by @viz-js/viz, Graphviz
// compiled to WebAssembly: no native binary, no browser) or as Mermaid text.
import type { LabSpec } from "./types";
import { modules } from "./modules";
import { platformOf } from "./platforms";
import { hostPart } from "./address";

export type NodeKind = "host" | "bridge" | "port" | "storage" | "vm" | "lan";
export type EdgeKind = "link" | "attach" | "tunnel" | "disk" | "migration";

export interface GraphNode { id: string; kind: NodeKind; label: string; lines: string[]; parent?: string }
export interface GraphEdge { from: string; to: string; kind: EdgeKind; label?: string; tail?: string[]; head?: string[] }

/** Node ids by kind, so that two modules naming one thing draw one node (a host's id is its name). */
export const nodeId = {
    bridge: (host: string, name: string) => `br:${host}/${name}`,
    port: (host: string, ifname: string) => `port:${host}/${ifname}`,
    storage: (name: string) => `storage:${name}`,
    vm: (name: string) => `vm:${name}`,
    lan: (link: string) => `lan:${link}`,
};

export class GraphBuilder {
    readonly sites = new Map<string, { label: string; hosts: string[] }>();
    readonly nodes = new Map<string, GraphNode>();
    readonly edges: GraphEdge[] = [];
    private readonly owners = new Map<string, string>();
    /** "host/ifname" -> the end of an edge that draws that interface. */
    private readonly interfaceEnds = new Map<string, string[]>();

    constructor(readonly title: string) {}

    site(name: string, label: string) {
        this.sites.set(name, { label, hosts: [] });
    }

    node(id: string, n: { kind: NodeKind; label: string; lines?: string[]; parent?: string }) {
        const existing = this.nodes.get(id);
        if (existing) existing.lines.push(...(n.lines ?? []));
        else this.nodes.set(id, { id, kind: n.kind, label: n.label, lines: [...(n.lines ?? [])], parent: n.parent });
    }

    edge(from: string, to: string, e: { kind: EdgeKind; label?: string; tail?: string[]; head?: string[] }) {
        this.edges.push({ from, to, ...e });
    }

    /** A line under a node's label. */
    annotate(id: string, line: string) {
        this.nodes.get(id)?.lines.push(line);
    }

    /** A line beside an interface where a link's edge ends. */
    annotateInterface(host: string, ifname: string, line: string) {
        const ends = this.interfaceEnds.get(`${host}/${ifname}`);
        if (ends) ends.push(line);
        else this.annotate(host, `${ifname}: ${line}`);
    }

    /** The host that owns an address (for tunnels' remotes). */
    ownerOf(ip: string): string | undefined {
        return this.owners.get(ip);
    }

    own(host: string, ifaddr: string) {
        this.owners.set(hostPart(ifaddr), host);
    }

    private readonly plugged = new Map<string, string>();

    /** Where a link's end is drawn: on its host, unless a module plugs it into something (plug). */
    interfaceEnd(host: string, ifname: string, lines: string[]): { id: string; lines: string[] } {
        this.interfaceEnds.set(`${host}/${ifname}`, lines);
        return { id: `if:${host}/${ifname}`, lines };
    }

    /** Draw the interface's link on this node (a bridge it is plugged into) instead of on its host. */
    plug(host: string, ifname: string, node: string) {
        this.plugged.set(`${host}/${ifname}`, node);
    }

    /** The node an edge's end stands for. */
    resolve(id: string): string {
        if (!id.startsWith("if:")) return id;
        const key = id.slice(3);
        return this.plugged.get(key) ?? key.slice(0, key.indexOf("/"));
    }
}

/** The graph of a validated spec: the core's part, then each module's. */
export function labGraph(spec: LabSpec): GraphBuilder {
    const g = new GraphBuilder(spec.name);
    for (const s of spec.sites) g.site(s.name, s.description ? `${s.name}: ${s.description}` : s.name);
    for (const h of spec.hosts) {
        const platform = platformOf(h);
        g.node(h.name, {
            kind: "host",
            label: h.name,
            lines: [`${h.roles.join(", ") || "no role"}; ${platform}${h.ssh ? ` ${h.ssh.address}` : ""}`],
        });
        if (h.site) g.sites.get(h.site)?.hosts.push(h.name);
    }
    for (const l of spec.links) {
        for (const e of l.ends) if (e.address) g.own(e.host, e.address);
        const end = (e: (typeof l.ends)[number]) => g.interfaceEnd(e.host, e.interface, [`${e.host} ${e.interface}${e.address ? ` ${e.address}` : ""}`]);
        if (l.ends.length === 2) {
            const [a, b] = [end(l.ends[0]), end(l.ends[1])];
            g.edge(a.id, b.id, { kind: "link", label: `${l.name}\n${l.subnet}`, tail: a.lines, head: b.lines });
        } else {
            g.node(nodeId.lan(l.name), { kind: "lan", label: l.name, lines: [l.subnet, `LAN of ${l.ends.length}`] });
            for (const e of l.ends) {
                const x = end(e);
                g.edge(x.id, nodeId.lan(l.name), { kind: "link", tail: x.lines });
            }
        }
    }
    for (const m of modules()) m.graph?.(spec, g);
    return g;
}

/** An edge's label, then the lines of its two ends (interfaces, what a module says of them). */
const edgeLabel = (e: GraphEdge) => [e.label, ...(e.tail ?? []), ...(e.head ?? [])].filter(Boolean).join("\n");

const dotString = (s: string) => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;

const NODE_STYLE: Record<NodeKind, string> = {
    host: 'shape=box, style="rounded,filled,bold", fillcolor="#ffffff"',
    bridge: 'shape=box, style="filled", fillcolor="#e3ecfa"',
    port: 'shape=box, style="filled,dashed", fillcolor="#eef5ff", fontsize=9',
    storage: 'shape=cylinder, style="filled", fillcolor="#fdf1dc"',
    vm: 'shape=component, style="filled", fillcolor="#e6f5e3"',
    lan: 'shape=ellipse, style="filled", fillcolor="#f0f0f0"',
};
const EDGE_STYLE: Record<EdgeKind, string> = {
    link: "dir=none, penwidth=1.5",
    attach: 'dir=none, style=dotted, color="#666666"',
    tunnel: 'dir=none, style=dashed, color="#1f5fbf", fontcolor="#1f5fbf", constraint=false',
    disk: 'dir=none, style=dotted, color="#b07a1a", fontcolor="#b07a1a"',
    migration: 'style=bold, color="#c0392b", fontcolor="#c0392b", constraint=false',
};

/** Graphviz DOT: sites and hosts as clusters. */
export function toDot(g: GraphBuilder): string {
    const out: string[] = [
        `digraph ${dotString(g.title)} {`,
        `  graph [compound=true, rankdir=TB, nodesep=0.35, ranksep=0.8, pad=0.3, fontname="Helvetica", fontsize=12, label=${dotString(`wanlab lab '${g.title}'`)}, labelloc=t];`,
        '  node [fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ];
    const children = (host: string) => [...g.nodes.values()].filter((n) => n.parent === host);
    const nodeLine = (n: GraphNode, indent: string) =>
        `${indent}${dotString(n.id)} [${NODE_STYLE[n.kind]}, label=${dotString([n.label, ...n.lines].join("\n"))}];`;
    const hostCluster = (host: string, indent: string) => {
        const h = g.nodes.get(host)!;
        out.push(`${indent}subgraph ${dotString(`cluster_host_${host}`)} {`, `${indent}  label=""; style="rounded,filled"; fillcolor="#f7f7f7"; color="#999999";`);
        out.push(nodeLine(h, `${indent}  `));
        for (const c of children(host)) out.push(nodeLine(c, `${indent}  `));
        out.push(`${indent}}`);
    };
    const placed = new Set<string>();
    for (const [name, site] of g.sites) {
        out.push(`  subgraph ${dotString(`cluster_site_${name}`)} {`, `    label=${dotString(site.label)}; style="rounded,dashed"; color="#777777";`);
        for (const h of site.hosts) { hostCluster(h, "    "); placed.add(h); }
        out.push("  }");
    }
    for (const n of g.nodes.values()) {
        if (n.kind === "host" && !placed.has(n.id)) hostCluster(n.id, "  ");
        else if (n.kind !== "host" && (!n.parent || !g.nodes.has(n.parent))) out.push(nodeLine(n, "  "));
    }
    for (const e of g.edges) {
        const attrs = [EDGE_STYLE[e.kind]];
        // The ends' interfaces in the edge's own label: Graphviz places that one clear of the others.
        const label = edgeLabel(e);
        if (label) attrs.push(`label=${dotString(label)}`);
        out.push(`  ${dotString(g.resolve(e.from))} -> ${dotString(g.resolve(e.to))} [${attrs.join(", ")}];`);
    }
    out.push("}");
    return out.join("\n") + "\n";
}

/** Mermaid flowchart text (sites and hosts as subgraphs). */
export function toMermaid(g: GraphBuilder): string {
    const ids = new Map<string, string>();
    const id = (node: string) => {
        let v = ids.get(node);
        if (!v) ids.set(node, (v = `n${ids.size}`));
        return v;
    };
    const text = (s: string) => `"${s.replace(/"/g, "#quot;").replace(/\n/g, "<br/>")}"`;
    const shape: Record<NodeKind, [string, string]> = {
        host: ["[", "]"], bridge: ["[", "]"], port: ["[/", "/]"], storage: ["[(", ")]"], vm: ["[[", "]]"], lan: ["((", "))"],
    };
    const out = ["flowchart LR", `  %% wanlab lab '${g.title}'`];
    const nodeLine = (n: GraphNode, indent: string) =>
        `${indent}${id(n.id)}${shape[n.kind][0]}${text([n.label, ...n.lines].join("\n"))}${shape[n.kind][1]}`;
    const hostGroup = (host: string, indent: string) => {
        out.push(`${indent}subgraph ${id(`group/${host}`)}[${text(host)}]`);
        out.push(nodeLine(g.nodes.get(host)!, `${indent}  `));
        for (const c of g.nodes.values()) if (c.parent === host) out.push(nodeLine(c, `${indent}  `));
        out.push(`${indent}end`);
    };
    const placed = new Set<string>();
    for (const [name, site] of g.sites) {
        out.push(`  subgraph ${id(`site/${name}`)}[${text(site.label)}]`);
        for (const h of site.hosts) { hostGroup(h, "    "); placed.add(h); }
        out.push("  end");
    }
    for (const n of g.nodes.values()) {
        if (n.kind === "host" && !placed.has(n.id)) hostGroup(n.id, "  ");
        else if (n.kind !== "host" && (!n.parent || !g.nodes.has(n.parent))) out.push(nodeLine(n, "  "));
    }
    const arrow: Record<EdgeKind, string> = { link: "---", attach: "-.-", tunnel: "-.-", disk: "-.-", migration: "==>" };
    for (const e of g.edges) {
        const label = edgeLabel(e);
        out.push(`  ${id(g.resolve(e.from))} ${arrow[e.kind]}${label ? `|${text(label)}|` : ""} ${id(g.resolve(e.to))}`);
    }
    return out.join("\n") + "\n";
}

/** SVG, rendered by Graphviz compiled to WebAssembly (@viz-js/viz). */
export async function toSvg(g: GraphBuilder): Promise<string> {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { instance } = require("@viz-js/viz") as typeof import("@viz-js/viz");
    const viz = await instance();
    return viz.renderString(toDot(g), { format: "svg" });
}
