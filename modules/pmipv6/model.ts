// Proxy Mobile IPv6 (RFC 5213), seed 001: the LMA anchors each VM's home network prefix,
// and the MAG that serves the VM's access link registers it there (a Proxy Binding
// Update) once the AAA server (modules/radius) has accepted it. A migrated VM keeps its
// address: the new MAG sees it arrive, registers it, and the LMA moves the VM's route and
// IPv6-in-IPv6 tunnel to that MAG. `daemon: wanlab` runs the lab's own LMA/MAG daemon
// (tools/pmipd); `daemon: pmip6d` renders OAI pmip6d's configurations only (no host
// here runs OAI pmip6d: it needs a 3.x-era kernel).
import type { ModuleModel } from "../../model/modules";
import type { CheckContext } from "../../model/context";
import type { LabSpec, LinkSpec } from "../../model/types";
import { hostPart6, inPrefix6, linkLocal, parse6, slaacAddress } from "../ipv6/address6";
import { ipv6AddressOn } from "../ipv6/model";
import { radiusUsers } from "../radius/model";
import { pmip6dErrors } from "./pmip6d";

export interface PmipMagSpec { host: string; egress: string; access: string }
export interface PmipTimers {
    pbuLifetimeS: number; retransmitMs: number; maxRetransmits: number;
    nudIntervalMs: number; nudProbes: number; raIntervalS: number;
    minDelayBeforeBceDeleteMs: number; timestampValidityWindowMs: number;
}
export interface Pmipv6Spec {
    daemon: "wanlab" | "pmip6d";
    lma: { host: string };
    mags: PmipMagSpec[];
    /** RFC5213FixedMAGLinkLayerAddressOnAllAccessLinks; the link-local address is its EUI-64. */
    accessMac: string;
    timers: PmipTimers;
}

declare module "../../model/types" {
    interface LabSpec { pmipv6?: Pmipv6Spec }
}
declare module "../libvirt/model" {
    interface VmInterface {
        /** The address the VM forms by SLAAC from its home network prefix (set by pmipv6, not the stack file). */
        address6?: string;
    }
}

/** The AAA server's section (modules/radius owns it). */
const radiusOf = (spec: LabSpec) => spec.radius;

/** The fixed link-local address every MAG has on its access link. */
export const accessLinkLocal = (p: Pmipv6Spec) => linkLocal(p.accessMac);

/** The link a host's interface is an end of. */
export function linkOf(spec: LabSpec, host: string, ifname: string): LinkSpec | undefined {
    return spec.links.find((l) => l.ends.some((e) => e.host === host && e.interface === ifname));
}

/** A MAG's egress address and the LMA's address on the same link (its Proxy-CoA and the LMA it registers with). */
export function magPath(spec: LabSpec, mag: PmipMagSpec): { egress?: string; lma?: string; link?: LinkSpec; why?: string } {
    const p = spec.pmipv6!;
    const link = linkOf(spec, mag.host, mag.egress);
    if (!link) return { why: `its egress '${mag.egress}' is on no link` };
    const egress = ipv6AddressOn(spec, mag.host, mag.egress);
    if (!egress) return { link, why: `its egress '${mag.egress}' has no IPv6 address (hosts[].ipv6.addresses)` };
    const lmaEnd = link.ends.find((e) => e.host === p.lma.host);
    if (!lmaEnd) return { link, egress, why: `its egress link '${link.name}' has no end on the LMA '${p.lma.host}' (the MAG registers with the LMA directly, as in seed 001)` };
    const lma = ipv6AddressOn(spec, p.lma.host, lmaEnd.interface);
    if (!lma) return { link, egress, why: `the LMA '${p.lma.host}' has no IPv6 address on '${lmaEnd.interface}', its end of link '${link.name}'` };
    if (!inPrefix6(hostPart6(lma), egress)) return { link, egress, why: `the LMA's ${lma} and the MAG's ${egress} on link '${link.name}' are on different subnets` };
    return { link, egress: hostPart6(egress), lma: hostPart6(lma) };
}

/** The hypervisor and bridge a MAG's access link is plugged into. */
export function accessBridge(spec: LabSpec, mag: PmipMagSpec): { host: string; bridge: string; link: LinkSpec } | undefined {
    const link = linkOf(spec, mag.host, mag.access);
    const end = link?.ends.find((e) => e.host !== mag.host && (e as { bridge?: string }).bridge);
    return link && end ? { host: end.host, bridge: (end as { bridge?: string }).bridge!, link } : undefined;
}

export interface MobileNode { vm: string; mac: string; prefix: string; address: string; userName: string }

/** The VMs the AAA server knows, with their prefix and the address they form from it. */
export function mobileNodes(spec: LabSpec): MobileNode[] {
    return radiusUsers(spec).flatMap((u) => (u.kind === "vm"
        ? [{ vm: u.vm!, mac: u.mac!, prefix: u.prefix!, address: slaacAddress(u.prefix!, u.mac!), userName: u.userName }] : []));
}

/** The layer-2 domain of every link and (host, bridge): links joined by bridges, bridges joined by VXLAN. */
function l2Domains(spec: LabSpec): (key: string) => string {
    const parent = new Map<string, string>();
    const find = (k: string): string => {
        const p = parent.get(k) ?? k;
        if (p === k) return k;
        const r = find(p);
        parent.set(k, r);
        return r;
    };
    const join = (a: string, b: string) => parent.set(find(a), find(b));
    for (const l of spec.links) for (const e of l.ends) {
        const br = (e as { bridge?: string }).bridge;
        if (br) join(`link:${l.name}`, `bridge:${e.host}/${br}`);
    }
    const tunnels = (spec as { tunnels?: { type: string; endpoints: { host: string; bridge?: string }[] }[] }).tunnels ?? [];
    for (const t of tunnels.filter((x) => x.type === "vxlan")) {
        const ends = t.endpoints.filter((e) => e.bridge).map((e) => `bridge:${e.host}/${e.bridge}`);
        for (const e of ends.slice(1)) join(ends[0], e);
    }
    return find;
}

function checkPmip(spec: LabSpec, ctx: CheckContext) {
    const p = spec.pmipv6!;
    const lmaOk = ctx.hostRef("/pmipv6/lma/host", p.lma.host);
    if (lmaOk && !ctx.hosts.get(p.lma.host)!.ipv6?.forwarding) ctx.err("/pmipv6/lma/host", `the LMA '${p.lma.host}' must forward IPv6: set hosts[].ipv6.forwarding`);
    const seen = new Set<string>();
    const domain = l2Domains(spec);
    const accessDomains: { mag: string; link: string; key: string }[] = [];
    p.mags.forEach((mag, i) => {
        const at = `/pmipv6/mags/${i}`;
        if (!ctx.hostRef(`${at}/host`, mag.host)) return;
        if (seen.has(mag.host)) ctx.err(`${at}/host`, `host '${mag.host}' is a MAG twice`);
        seen.add(mag.host);
        if (mag.host === p.lma.host) ctx.err(`${at}/host`, `host '${mag.host}' is the LMA: a MAG is another router`);
        if (!ctx.hosts.get(mag.host)!.ipv6?.forwarding) ctx.err(`${at}/host`, `MAG '${mag.host}' must forward IPv6 (between its access link and its tunnel): set hosts[].ipv6.forwarding`);
        if (lmaOk) {
            const path = magPath(spec, mag);
            if (path.why) ctx.err(`${at}/egress`, `MAG '${mag.host}' has no path to the LMA '${p.lma.host}': ${path.why}`);
        }
        const acc = accessBridge(spec, mag);
        if (!acc) {
            ctx.err(`${at}/access`, `MAG '${mag.host}''s access interface '${mag.access}' must be a link end whose other end is a hypervisor's VM bridge (a link end with bridge:)`);
            return;
        }
        if (ipv6AddressOn(spec, mag.host, mag.access)) ctx.err(`${at}/access`, `MAG '${mag.host}''s access interface '${mag.access}' must have no IPv6 address of its own: it carries the fixed link-local ${accessLinkLocal(p)} only, the same on every MAG`);
        if (ctx.hosts.has(acc.host) && !ctx.hasRole(acc.host, "hypervisor")) ctx.err(`${at}/access`, `the access link '${acc.link.name}' of MAG '${mag.host}' goes to host '${acc.host}', which is not a hypervisor`);
        accessDomains.push({ mag: mag.host, link: acc.link.name, key: domain(`link:${acc.link.name}`) });
    });
    // Every MAG has the one MAC on its access link: two access links in one L2 domain would see it twice.
    for (let a = 0; a < accessDomains.length; a++) for (let b = a + 1; b < accessDomains.length; b++) {
        const [x, y] = [accessDomains[a], accessDomains[b]];
        if (x.key === y.key) ctx.err(`/pmipv6/mags/${b}/access`, `an L2 path joins the access links of MAG '${x.mag}' ('${x.link}') and MAG '${y.mag}' ('${y.link}') ` +
            `(through bridges or VXLAN): both carry the MAC ${p.accessMac}, so they must stay separate L2 domains`);
    }

    // The AAA server: every MAG and the LMA are its clients, the MAGs its users too.
    const r = radiusOf(spec);
    if (p.daemon === "wanlab" && !r) { ctx.err("/pmipv6", "the MAGs authorize each VM with a RADIUS server: add a `radius` section"); return; }
    if (!r) return;
    for (const [host, at] of [[p.lma.host, "/pmipv6/lma/host"], ...p.mags.map((m, i) => [m.host, `/pmipv6/mags/${i}/host`])]) {
        if (!r.clients.some((c) => c.host === host)) ctx.err(at, `host '${host}' asks the RADIUS server but is not among radius.clients`);
    }
    p.mags.forEach((m, i) => {
        if (!r.users.some((u) => u.host === m.host)) ctx.err(`/pmipv6/mags/${i}/host`, `MAG '${m.host}' is not among radius.users: the LMA accepts Proxy Binding Updates only from MAGs the AAA server knows`);
        const path = magPath(spec, m);
        const client = r.clients.find((c) => c.host === m.host);
        if (path.egress && client && parse6(client.address) !== parse6(path.egress))
            ctx.err(`/pmipv6/mags/${i}/host`, `MAG '${m.host}' asks the RADIUS server from its egress address ${path.egress}, but its radius.clients entry says ${client.address}`);
    });
    // Where each mobile node may run: on a hypervisor one MAG serves, on that MAG's access bridge.
    const served = new Map(p.mags.map((m) => {
        const acc = accessBridge(spec, m);
        return [acc?.host, { mag: m.host, bridge: acc?.bridge }];
    }));
    for (const mn of mobileNodes(spec)) {
        const vm = spec.vms.find((v) => v.name === mn.vm)!;
        const hosts = [vm.host, ...(spec.migration?.vm === vm.name ? [spec.migration.from, spec.migration.to] : [])];
        for (const h of new Set(hosts)) {
            const s = served.get(h);
            if (!s) ctx.err("/pmipv6/mags", `VM '${vm.name}' runs on host '${h}', whose VM bridge no MAG's access link reaches`);
            else if (s.bridge !== vm.interfaces[0].bridge) ctx.err("/pmipv6/mags", `VM '${vm.name}' is on bridge '${vm.interfaces[0].bridge}' but MAG '${s.mag}''s access link is on '${s.bridge}' of host '${h}'`);
        }
    }
    // The probe host reaches each VM's prefix through the LMA.
    const m = spec.migration;
    const probe = m ? ctx.hosts.get(m.probe.from) : undefined;
    const mn = m ? mobileNodes(spec).find((x) => x.vm === m.vm) : undefined;
    if (m && probe && mn) {
        const lmaAddrs = (ctx.hosts.get(p.lma.host)?.ipv6?.addresses ?? []).map((a) => hostPart6(a.address));
        const route = (probe.ipv6?.routes ?? []).find((rt) => inPrefix6(mn.address, rt.to));
        if (!route) ctx.err("/migration/probe/from", `the probe host '${probe.name}' has no IPv6 route to VM '${mn.vm}''s prefix ${mn.prefix} (hosts[].ipv6.routes)`);
        else if (!lmaAddrs.some((a) => parse6(a) === parse6(route.via))) ctx.err("/migration/probe/from", `the probe host '${probe.name}' reaches ${mn.prefix} via ${route.via}, which is not the LMA's: the LMA anchors the prefix`);
    }
}

export const module: ModuleModel = {
    name: "pmipv6",
    phase: "routing",
    // The MAGs ask the AAA server (modules/radius) as soon as a VM appears.
    after: ["ipv6", "radius"],
    capabilities: { lma: "a PMIPv6 LMA (the lab's pmipd)", mag: "a PMIPv6 MAG (the lab's pmipd)" },
    features: {
        ip6tnl: {
            probe: "unshare --net ip link add wlp6 type ip6tnl mode ip6ip6 local 2001:db8::1 remote 2001:db8::2",
            hint: "this kernel has no IPv6-in-IPv6 tunnels (ip6_tunnel): run the LMA and the MAGs as appliances (appliance: { key: ... }), whose Debian kernel has them, or load ip6_tunnel",
        },
    },
    // The VM forms its address by SLAAC from its prefix; the probes and checks aim at it.
    normalize(spec) {
        if (!spec.pmipv6) return;
        for (const mn of mobileNodes(spec)) {
            const vm = spec.vms.find((v) => v.name === mn.vm)!;
            vm.interfaces[0].address6 = mn.address;
        }
        const m = spec.migration;
        const probe = m && spec.hosts.find((h) => h.name === m.probe.from);
        if (m && probe?.ipv6 && mobileNodes(spec).some((x) => x.vm === m.vm)) m.probe.address ??= hostPart6(probe.ipv6.addresses[0].address);
    },
    check(spec, ctx) {
        if (!spec.pmipv6) return;
        checkPmip(spec, ctx);
        // OAI pmip6d's configurations are rendered (npm run configs): what pmip6d would refuse or misread.
        if (spec.pmipv6.daemon === "pmip6d") for (const e of pmip6dErrors(spec)) ctx.err(e.pointer, e.reason);
    },
    uses: (spec) => (spec.pmipv6?.daemon === "wanlab" ? [
        { host: spec.pmipv6.lma.host, capability: "lma", pointer: "/pmipv6/lma/host" },
        ...spec.pmipv6.mags.map((m, i) => ({ host: m.host, capability: "mag", pointer: `/pmipv6/mags/${i}/host` })),
    ] : []),
    graph(spec, g) {
        const p = spec.pmipv6;
        if (!p) return;
        for (const m of p.mags) g.edge(m.host, p.lma.host, { kind: "tunnel", label: "PMIPv6 (PBU/PBA, IPv6-in-IPv6)" });
    },
};
