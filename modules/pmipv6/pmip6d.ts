// OAI pmip6d (PMIPv6 v0.4.1, seed 001), rendered only: the LMA's and each MAG's pmip6d.conf
// and each MAG's RADIUS client servers file, from templates/pmip6d/, for `npm run configs`.
// No host of the lab runs OAI pmip6d (it needs a 3.x-era kernel); `daemon: pmip6d` builds
// the rest of the lab and no pmipd. Pulumi-free, as the model is.
//
// Key names and value syntax as OAI's parser reads them (src/scan.l, src/gram.y and src/conf.c
// of github.com/hugo-ma-alves/OAI-PMIPv6-FM, commit 881ccb2, an OAI-derived fork; the original
// v0.4.1 tarball is not in the stored sources): `Key value;`, booleans enabled/disabled, strings
// in double quotes, times in milliseconds (an int, atoi), IPv6 addresses as the scanner's
// patterns take them (none that starts with "::" but "::" itself, no embedded IPv4), MACs as
// six two-digit hex groups (the scanner takes the digits at fixed offsets).
import type { LabSpec, SpecError } from "../../model/types";
import { render } from "../../lib/render";
import { format6, hostPart6, inPrefix6, parse6 } from "../ipv6/address6";
import { ipv6Addresses } from "../ipv6/model";
import { accessLinkLocal, magPath } from "./model";

/** Where the rendered files go on the nodes (OAI's and the FreeRADIUS client's defaults under /usr/local). */
export const PMIP6D_CONF = "/usr/local/etc/pmip6d.conf";
export const RADIUSCLIENT_DIR = "/usr/local/etc/radiusclient";
/** OAI's default for how long an unused tunnel to a MAG (or the LMA) stays. */
const TUNNEL_DELETE_DELAY_MS = 60000;
/** pmip6d keeps at most 64 MAGs on the LMA (PMIP_MAX_MAGS), the unspecified pair that ends the list among them. */
export const PMIP6D_MAX_MAGS = 63;
const INT_MAX = 2 ** 31 - 1;

interface RadiusView {
    address: string; port?: number; password?: { config: string };
    clients: { host: string; address: string; secret?: { config: string } }[];
}
const radiusOf = (spec: LabSpec) => (spec as LabSpec & { radius?: RadiusView }).radius;

/** An address as pmip6d.conf carries it (RFC 5952 form). */
const canonical = (a: string) => format6(parse6(hostPart6(a))!);

/** Why OAI's scanner would not read an address as one IPv6 address, if it would not. */
function unreadable(address: string): string | undefined {
    if (parse6(address) === undefined) return `${address} is not an IPv6 address`;
    const text = canonical(address);
    if (text.startsWith("::") && text !== "::") return `${text} starts with "::", which pmip6d's scanner does not read as one address (it wants a hex group first)`;
    if (text === "::") return `:: (the unspecified address) ends pmip6d's list of MAGs: a MAG needs an address of its own`;
    return undefined;
}

/** The LMA's addresses beside its MAG links: the first is its core side. */
function lmaCore(spec: LabSpec): { device: string; address: string } | undefined {
    const p = spec.pmipv6!;
    const magSide = new Set(p.mags.flatMap((m) => magPath(spec, m).link?.ends.filter((e) => e.host === p.lma.host).map((e) => e.interface) ?? []));
    const a = ipv6Addresses(spec).find((x) => x.host === p.lma.host && !magSide.has(x.interface));
    return a && { device: a.interface, address: canonical(a.address) };
}

/** The LMA's one PMIPv6 address: its address on the first MAG's link (the other MAGs reach it through the LMA). */
function lmaPmip(spec: LabSpec): { device: string; address: string; note: string } | undefined {
    const p = spec.pmipv6!;
    const first = p.mags[0];
    const path = magPath(spec, first);
    const end = path.link?.ends.find((e) => e.host === p.lma.host);
    if (!path.lma || !end) return undefined;
    const others = p.mags.length > 1 ? `; the other MAGs reach it through the LMA` : "";
    return { device: end.interface, address: canonical(path.lma), note: `its address on ${end.interface}, link ${path.link!.name} to MAG ${first.host}${others}` };
}

/** Whether a host reaches an address: on one of its IPv6 subnets or by one of its IPv6 routes. */
function reaches(spec: LabSpec, host: string, address: string): boolean {
    const h = spec.hosts.find((x) => x.name === host);
    const own = ipv6Addresses(spec).filter((a) => a.host === host).some((a) => inPrefix6(address, a.address));
    return own || (h?.ipv6?.routes ?? []).some((r) => inPrefix6(address, r.to));
}

/**
 * What pmip6d would refuse or misread in the configurations this stack renders, as errors at
 * the stack file's values. Errors the pmipv6 model reports anyway (a MAG with no path to the
 * LMA) are not repeated.
 */
export function pmip6dErrors(spec: LabSpec): SpecError[] {
    const p = spec.pmipv6;
    if (!p) return [];
    const errors: SpecError[] = [];
    const err = (pointer: string, reason: string) => errors.push({ pointer, reason });
    const t = p.timers;
    // The MAC: six groups of two hex digits (pmip6d reads the digits at fixed offsets), a unicast one.
    if (!/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(p.accessMac)) err("/pmipv6/accessMac", `${p.accessMac} is not six groups of two hex digits: pmip6d reads a MAC's digits at fixed offsets and would misread it`);
    else if (parseInt(p.accessMac.slice(0, 2), 16) & 1) err("/pmipv6/accessMac", `${p.accessMac} is a multicast MAC (the low bit of its first byte is set): no interface can have it`);
    // Times: milliseconds in an int; the PBU lifetime travels in units of 4 s, 16 bits.
    if (t.pbuLifetimeS < 4 || t.pbuLifetimeS > 262140) err("/pmipv6/timers/pbuLifetimeS", `${t.pbuLifetimeS} s is outside 4-262140 s: the PBU carries the lifetime in 16 bits of 4 s units, and pmip6d would send ${t.pbuLifetimeS < 4 ? "0, a de-registration" : "it truncated"}`);
    else if (t.pbuLifetimeS % 4) err("/pmipv6/timers/pbuLifetimeS", `${t.pbuLifetimeS} s is not a multiple of 4: the PBU carries the lifetime in units of 4 s, and pmip6d would send ${t.pbuLifetimeS - (t.pbuLifetimeS % 4)} s`);
    const ms: [keyof typeof t, string, number][] = [
        ["retransmitMs", "RetransmissionTimeOut", t.retransmitMs],
        ["minDelayBeforeBceDeleteMs", "RFC5213MinDelayBeforeBCEDelete", t.minDelayBeforeBceDeleteMs],
        ["timestampValidityWindowMs", "RFC5213TimestampValidityWindow", t.timestampValidityWindowMs],
    ];
    for (const [key, name, v] of ms) {
        if (!Number.isInteger(v) || v < 0 || v > INT_MAX) err(`/pmipv6/timers/${key}`, `${v} is not a number of milliseconds pmip6d reads for ${name} (an integer from 0 to ${INT_MAX})`);
    }
    if (t.retransmitMs < 1) err("/pmipv6/timers/retransmitMs", `a RetransmissionTimeOut of ${t.retransmitMs} ms would resend each PBU at once`);
    if (t.timestampValidityWindowMs < 1) err("/pmipv6/timers/timestampValidityWindowMs", `an RFC5213TimestampValidityWindow of ${t.timestampValidityWindowMs} ms would refuse every PBU`);
    if (!Number.isInteger(t.maxRetransmits) || t.maxRetransmits < 0 || t.maxRetransmits > INT_MAX) err("/pmipv6/timers/maxRetransmits", `${t.maxRetransmits} is not a count pmip6d reads for MaxMessageRetransmissions`);
    if (p.mags.length > PMIP6D_MAX_MAGS) err("/pmipv6/mags", `${p.mags.length} MAGs: pmip6d's LMA keeps at most ${PMIP6D_MAX_MAGS} (64 entries, the last the end of the list)`);

    // The LMA's one PMIPv6 address, which every MAG names, and its core side.
    const lma = lmaPmip(spec);
    if (lma) {
        const why = unreadable(lma.address);
        if (why) err("/pmipv6/mags/0/egress", `the LMA's address on the link of MAG '${p.mags[0].host}' is pmip6d's LmaPmipNetworkAddress: ${why}`);
    }
    const core = lmaCore(spec);
    if (!core) err("/pmipv6/lma/host", `the LMA '${p.lma.host}' has no IPv6 address besides its MAG links (hosts[].ipv6.addresses): pmip6d's LMA needs one for its core side (LmaCoreNetworkAddress)`);
    else if (unreadable(core.address)) err("/pmipv6/lma/host", `the LMA's core address: ${unreadable(core.address)}`);

    // Each MAG: its Proxy-CoA readable and its own, the LMA's address reachable from it.
    const egresses = new Map<string, number>();
    p.mags.forEach((m, i) => {
        const at = `/pmipv6/mags/${i}/egress`;
        const path = magPath(spec, m);
        if (!path.egress) return;
        const why = unreadable(path.egress);
        if (why) { err(at, `MAG '${m.host}''s egress address (its Proxy-CoA): ${why}`); return; }
        const key = canonical(path.egress);
        const first = egresses.get(key);
        if (first !== undefined) err(at, `MAG '${m.host}' has the egress address ${key} of MAG '${p.mags[first].host}' (/pmipv6/mags/${first}): pmip6d's LMA knows each MAG by it`);
        else egresses.set(key, i);
        if (lma && parse6(key) === parse6(lma.address)) err(at, `MAG '${m.host}''s egress address ${key} is the LMA's own`);
        if (lma && !reaches(spec, m.host, lma.address)) err(at, `MAG '${m.host}' has no IPv6 route to ${lma.address}, the LMA's one PMIPv6 address (${lma.note}): every MAG's PBUs go there (hosts[].ipv6.routes)`);
    });
    return errors;
}

export interface Pmip6dFile { host: string; file: string; text: string }

/**
 * The rendered files: <lma>/pmip6d.conf, and for each MAG <mag>/pmip6d.conf and, with a
 * radius section, <mag>/radiusclient/servers. The spec must have passed pmip6dErrors. No
 * secret is in them: the RADIUS password and shared secrets are placeholders, named in the files.
 */
export function pmip6dConfigs(spec: LabSpec): Pmip6dFile[] {
    const p = spec.pmipv6;
    if (!p) return [];
    const t = p.timers;
    const lma = lmaPmip(spec)!;
    const core = lmaCore(spec)!;
    const linkLocal = accessLinkLocal(p);
    const common = { stack: spec.name, mac: p.accessMac.toLowerCase(), linkLocal, lma: lma.address, lmaNote: lma.note, tunnelDeleteDelayMs: TUNNEL_DELETE_DELAY_MS, retransmitMs: t.retransmitMs, maxRetransmits: t.maxRetransmits };
    const mags = p.mags.map((m) => {
        const path = magPath(spec, m);
        return { host: m.host, ingress: linkLocal, egress: canonical(path.egress!), ingressDevice: m.access, egressDevice: m.egress, link: path.link!.name };
    });
    const files: Pmip6dFile[] = [{
        host: p.lma.host, file: `${p.lma.host}/pmip6d.conf`,
        text: render("pmip6d/lma.conf.hbs", {
            ...common, host: p.lma.host, lmaDevice: lma.device, core: core.address, coreDevice: core.device, mags,
            minDelayBeforeBceDeleteMs: t.minDelayBeforeBceDeleteMs, timestampValidityWindowMs: t.timestampValidityWindowMs,
        }),
    }];
    const r = radiusOf(spec);
    for (const m of mags) {
        const passwordKey = r?.password?.config ?? "radiusPassword";
        const radius = r ? { address: canonical(r.address), configFile: `${RADIUSCLIENT_DIR}/radiusclient.conf`, passwordKey, passwordPlaceholder: `REPLACE-WITH-${passwordKey}` } : false;
        files.push({ host: m.host, file: `${m.host}/pmip6d.conf`, text: render("pmip6d/mag.conf.hbs", { ...common, ...m, pbuLifetimeMs: t.pbuLifetimeS * 1000, radius }) });
        if (r) {
            const secretKey = r.clients.find((c) => c.host === m.host)?.secret?.config ?? `the shared secret of ${m.host}`;
            files.push({
                host: m.host, file: `${m.host}/radiusclient/servers`,
                text: render("pmip6d/servers.hbs", { host: m.host, stack: spec.name, file: `${RADIUSCLIENT_DIR}/servers`, address: canonical(r.address), secretKey, placeholder: `REPLACE-WITH-${secretKey.replace(/\s+/g, "-")}` }),
            });
        }
    }
    return files;
}

export interface Pmip6dDefect { line: number; reason: string }
type ValueType = "bool" | "addr" | "mac" | "number" | "string" | "entity";
const BOTH: Record<string, ValueType> = {
    RFC5213TimestampBasedApproachInUse: "bool", RFC5213MobileNodeGeneratedTimestampInUse: "bool",
    RFC5213FixedMAGLinkLocalAddressOnAllAccessLinks: "addr", RFC5213FixedMAGLinkLayerAddressOnAllAccessLinks: "mac",
    LmaPmipNetworkAddress: "addr", MagAddressIngress: "addr", MagAddressEgress: "addr",
    TunnelingEnabled: "bool", DynamicTunnelingEnabled: "bool", MaxDelayBeforeDynamicTunnelingDelete: "number",
    PBULifeTime: "number", RetransmissionTimeOut: "number", MaxMessageRetransmissions: "number",
};
/** The keys pmip6d's grammar takes at the top and in each block (src/gram.y), with their values' kinds; those the lab renders. */
const KEYS: Record<"top" | "ProxyMipLma" | "ProxyMipMag", Record<string, ValueType>> = {
    top: { NodeConfig: "entity", DebugLevel: "number", DoRouteOptimizationCN: "bool", DoRouteOptimizationMN: "bool", UseMnHaIPsec: "bool", KeyMngMobCapability: "bool", Interface: "string" },
    ProxyMipLma: {
        ...BOTH, LmaPmipNetworkDevice: "string", LmaCoreNetworkAddress: "addr", LmaCoreNetworkDevice: "string",
        RFC5213MinDelayBeforeBCEDelete: "number", RFC5213MaxDelayBeforeNewBCEAssign: "number", RFC5213TimestampValidityWindow: "number",
    },
    ProxyMipMag: {
        ...BOTH, RFC5213EnableMAGLocalRouting: "bool", MagDeviceIngress: "string", MagDeviceEgress: "string",
        RadiusClientConfigFile: "string", RadiusPassword: "string", PcapSyslogAssociationGrepString: "string", PcapSyslogDeAssociationGrepString: "string",
    },
};
const HEX = "[0-9a-fA-F]{1,4}";
/** src/scan.l's address patterns: a group first, then "::" somewhere; eight groups; or "::" alone. */
const ADDR = new RegExp(`^(${HEX}:(${HEX}:)*(:${HEX})+|${HEX}(:${HEX}){0,6}::|(${HEX}:){7}${HEX}|::)$`);
const VALUE: Record<ValueType, (v: string) => string | undefined> = {
    bool: (v) => (/^(enabled|disabled)$/.test(v) ? undefined : "enabled or disabled"),
    addr: (v) => (ADDR.test(v) && parse6(v) !== undefined ? undefined : "an IPv6 address as pmip6d's scanner reads one"),
    mac: (v) => (/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(v) ? undefined : "a MAC of six two-digit hex groups"),
    number: (v) => (/^\d+$/.test(v) && Number(v) <= INT_MAX ? undefined : `a whole number up to ${INT_MAX}`),
    string: (v) => (/^"[^"\n]*"$/.test(v) ? undefined : "a string in double quotes"),
    entity: (v) => (/^(HA|MAG|MN|CN)$/.test(v) ? undefined : "HA, MAG, MN or CN"),
};

/**
 * A structural check of a rendered pmip6d.conf, as pmip6d's parser reads it: one `Key value;`
 * a line, each key one its block takes with a value of its kind, blocks closed, NodeConfig
 * matching the block (HA with ProxyMipLma, MAG with ProxyMipMag), and on the LMA each MAG's
 * ingress line before its egress line.
 */
export function lintPmip6d(text: string): Pmip6dDefect[] {
    const defects: Pmip6dDefect[] = [];
    let block: keyof typeof KEYS = "top";
    let entity: string | undefined;
    let blocks = 0;
    let ingressPending = false;
    text.split("\n").forEach((raw, i) => {
        const line = i + 1;
        const s = raw.replace(/^\s+/, "").replace(/^#.*$/, "").trimEnd();
        if (!s) return;
        const open = /^(ProxyMipLma|ProxyMipMag)\s+"[^"\n]*"\s*\{$/.exec(s);
        if (open) {
            if (block !== "top") defects.push({ line, reason: `${open[1]} inside ${block}` });
            block = open[1] as keyof typeof KEYS;
            blocks++;
            const want = block === "ProxyMipLma" ? "HA" : "MAG";
            if (entity !== want) defects.push({ line, reason: `${block} needs NodeConfig ${want} before it (found ${entity ?? "none"})` });
            return;
        }
        if (s === "}") {
            if (block === "top") defects.push({ line, reason: "} closes no block" });
            if (ingressPending) defects.push({ line, reason: "a MagAddressIngress has no MagAddressEgress after it" });
            block = "top";
            return;
        }
        const m = /^([A-Za-z0-9]+)\s+(.+?)\s*;$/.exec(s);
        if (!m) { defects.push({ line, reason: `"${s}" is not Key value;` }); return; }
        const [, key, value] = m;
        const kind = KEYS[block][key];
        if (!kind) { defects.push({ line, reason: `${key} is not a key of ${block === "top" ? "the top level" : `a ${block} block`}` }); return; }
        const want = VALUE[kind](value);
        if (want) defects.push({ line, reason: `${key} takes ${want}, not ${value}` });
        if (key === "NodeConfig") entity = value;
        if (block === "ProxyMipLma" && key === "MagAddressIngress") {
            if (ingressPending) defects.push({ line, reason: "two MagAddressIngress lines without a MagAddressEgress between them" });
            ingressPending = true;
        }
        if (block === "ProxyMipLma" && key === "MagAddressEgress") {
            if (!ingressPending) defects.push({ line, reason: "MagAddressEgress without its MagAddressIngress before it" });
            ingressPending = false;
        }
    });
    if (block !== "top") defects.push({ line: text.split("\n").length, reason: `the ${block} block is not closed` });
    if (blocks !== 1) defects.push({ line: 1, reason: `${blocks} ProxyMipLma/ProxyMipMag blocks: a node has one` });
    return defects;
}
