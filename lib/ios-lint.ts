// A structural check of an IOS configuration, as a reviewer reads one before pasting it:
// every command in the mode it belongs to, every tunnel's source an address or interface
// of the router and its destination routed (not over the tunnel itself), RIP with an
// explicit version whose networks cover interfaces, and each tunnel's subnet in RIP.
// It reads both `show running-config` form (indented sub-commands) and a transcript with
// prompts ("Router(config-if)# ..."), as seed 000's Appendix C is printed.
import * as ipaddr from "ipaddr.js";

export interface IosDefect { line: number; reason: string }

type Mode = "exec" | "config" | "interface" | "router";
interface Command { line: number; text: string; mode: Mode; prompt?: Mode }
interface Iface { name: string; line: number; address?: { ip: string; bits: number }; source?: string; destination?: string }

const PROMPT = /(?:^|\s)[A-Za-z][\w.-]*(?:\((config(?:-[a-z]+)?)\))?#\s*/g;
const promptMode = (m: string | undefined): Mode => (!m ? "exec" : m === "config" ? "config" : m === "config-if" ? "interface" : m === "config-router" ? "router" : "config");
const MODE_WORDS: Record<Mode, string> = { exec: "the exec prompt", config: "global configuration", interface: "interface configuration", router: "router configuration" };
const isIp = (s: string) => ipaddr.IPv4.isValidFourPartDecimal(s);
const inNet = (ip: string, net: string, bits: number) => ipaddr.IPv4.parse(ip).match(ipaddr.IPv4.parse(net), bits);
/** The prefix length of an address's class (A /8, B /16, C /24), as IOS's RIP network statements take it. */
export const classfulBits = (ip: string) => { const f = Number(ip.split(".")[0]); return f < 128 ? 8 : f < 192 ? 16 : 24; };
/** "Tunnel 1" and "tunnel1" are IOS's Tunnel1. */
const ifKey = (name: string) => name.replace(/\s+/g, "").toLowerCase();

/** The commands of a configuration, each with the mode it runs in (and the prompt it was typed at, in a transcript). */
function commands(text: string, defects: IosDefect[]): Command[] {
    const out: Command[] = [];
    let mode: Mode = "config";
    text.split("\n").forEach((raw, i) => {
        const line = i + 1;
        if (/^\s*(!|$)/.test(raw)) return;
        const prompts = [...raw.matchAll(PROMPT)];
        if (!prompts.length) {
            // running-config form: indented lines belong to the last mode-entering command.
            const indented = /^\s/.test(raw);
            if (!indented) mode = "config";
            out.push({ line, text: raw.trim(), mode: indented ? mode : "config" });
            const cmd = raw.trim();
            if (!indented && /^interface\s/i.test(cmd)) mode = "interface";
            else if (!indented && /^router\s/i.test(cmd)) mode = "router";
            return;
        }
        if (prompts.length > 1) defects.push({ line, reason: `${prompts.length} commands on one line ("${raw.trim()}"): each command needs a line of its own` });
        prompts.forEach((p, k) => {
            const start = p.index! + p[0].length;
            const end = k + 1 < prompts.length ? prompts[k + 1].index! : raw.length;
            const cmd = raw.slice(start, end).trim();
            if (cmd) out.push({ line, text: cmd, mode: promptMode(p[1]), prompt: promptMode(p[1]) });
        });
    });
    return out;
}

export function lintIos(text: string): IosDefect[] {
    const defects: IosDefect[] = [];
    const interfaces = new Map<string, Iface>();
    const statics: { net: string; bits: number; via: string; line: number }[] = [];
    let rip: { line: number; version?: number; networks: { ip: string; line: number }[] } | undefined;
    let current: Iface | undefined;
    let state: Mode = "exec";
    for (const c of commands(text, defects)) {
        const words = c.text.split(/\s+/);
        const kw = words[0].toLowerCase();
        // In a transcript the prompt must be the one the commands before it lead to.
        const cef = kw === "ip" && words[1] === "cef";
        if (c.prompt && c.prompt !== state && !(c.prompt === "config" && state !== "exec") && !cef) {
            defects.push({ line: c.line, reason: `"${c.text}" is typed at a prompt of ${MODE_WORDS[c.prompt]}, but the commands before it leave ${MODE_WORDS[state]}` });
        }
        const mode = c.prompt ?? c.mode;
        if (kw === "configure") { state = "config"; continue; }
        if (kw === "end" || kw === "exit") { state = kw === "end" ? "exec" : "config"; current = undefined; continue; }
        if (mode === "config" || mode === "exec") current = undefined;
        if (cef) {
            if (mode !== "config") defects.push({ line: c.line, reason: `ip cef is a global command, not one of ${MODE_WORDS[mode]}` });
            continue;
        }
        if (kw === "interface" && mode !== "interface" && mode !== "router") {
            const name = words.slice(1).join(" ");
            current = interfaces.get(ifKey(name)) ?? { name: name.replace(/\s+/g, ""), line: c.line };
            interfaces.set(ifKey(name), current);
            state = "interface";
            continue;
        }
        if (kw === "router" && words[1] === "rip") {
            rip ??= { line: c.line, networks: [] };
            state = "router";
            continue;
        }
        if (kw === "ip" && words[1] === "route" && mode === "config") {
            const [net, m, via] = words.slice(2);
            if (!isIp(net ?? "") || !isIp(m ?? "") || !isIp(via ?? "")) defects.push({ line: c.line, reason: `"${c.text}" is not ip route NETWORK MASK NEXT-HOP` });
            else statics.push({ net, bits: ipaddr.IPv4.parse(m).prefixLengthFromSubnetMask() ?? 32, via, line: c.line });
            continue;
        }
        if (mode === "interface") {
            if (!current) { defects.push({ line: c.line, reason: `"${c.text}" is an interface command, but no interface was entered` }); continue; }
            if (kw === "ip" && words[1] === "address") {
                const [ip, m] = words.slice(2);
                const bits = isIp(m ?? "") ? ipaddr.IPv4.parse(m).prefixLengthFromSubnetMask() : null;
                if (!isIp(ip ?? "") || bits === null) defects.push({ line: c.line, reason: `"${c.text}" is not ip address ADDRESS MASK` });
                else current.address = { ip, bits };
            } else if (kw === "tunnel" && words[1] === "source") current.source = words.slice(2).join(" ");
            else if (kw === "tunnel" && words[1] === "destination") current.destination = words[2];
            continue;
        }
        if (mode === "router") {
            if (!rip) { defects.push({ line: c.line, reason: `"${c.text}" is a router command, but no router was entered` }); continue; }
            if (isIp(kw)) defects.push({ line: c.line, reason: `"${c.text}" is not a command: a RIP network is given with the keyword network (network ${kw})` });
            else if (kw === "network") {
                if (!isIp(words[1] ?? "")) defects.push({ line: c.line, reason: `"${c.text}": network takes a classful network address` });
                else rip.networks.push({ ip: words[1], line: c.line });
            } else if (kw === "version") rip.version = Number(words[1]);
        }
    }
    checkTunnels(interfaces, statics, defects);
    if (rip) checkRip(rip, interfaces, defects);
    return defects.sort((a, b) => a.line - b.line);
}

function checkTunnels(interfaces: Map<string, Iface>, statics: { net: string; bits: number; via: string; line: number }[], defects: IosDefect[]) {
    const addressed = [...interfaces.values()].filter((i) => i.address);
    const physical = addressed.filter((i) => !/^tunnel/i.test(i.name));
    for (const t of interfaces.values()) {
        if (!/^tunnel/i.test(t.name)) continue;
        if (!t.address) defects.push({ line: t.line, reason: `${t.name} has no ip address` });
        if (!t.source) defects.push({ line: t.line, reason: `${t.name} has no tunnel source` });
        else if (isIp(t.source)) {
            if (!addressed.some((i) => i.address!.ip === t.source)) defects.push({ line: t.line, reason: `${t.name}'s tunnel source ${t.source} is no interface's address on this router (give a loopback that address, or name an interface)` });
        } else if (!interfaces.has(ifKey(t.source))) defects.push({ line: t.line, reason: `${t.name}'s tunnel source ${t.source} is not an interface of this router` });
        if (!t.destination) { defects.push({ line: t.line, reason: `${t.name} has no tunnel destination` }); continue; }
        if (physical.some((i) => inNet(t.destination!, i.address!.ip, i.address!.bits))) continue;
        const routes = statics.filter((r) => inNet(t.destination!, r.net, r.bits)).sort((a, b) => b.bits - a.bits);
        const best = routes[0];
        if (!best) {
            defects.push({ line: t.line, reason: `${t.name}'s tunnel destination ${t.destination} is on no connected subnet and no ip route covers it: the tunnel cannot come up` });
        } else if (t.address && inNet(best.via, t.address.ip, t.address.bits)) {
            defects.push({ line: best.line, reason: `the route to ${t.name}'s tunnel destination ${t.destination} goes through ${t.name} itself (recursive routing)` });
        } else if (!physical.some((i) => inNet(best.via, i.address!.ip, i.address!.bits))) {
            defects.push({ line: best.line, reason: `the next hop ${best.via} towards ${t.name}'s destination ${t.destination} is on none of this router's subnets` });
        }
    }
}

function checkRip(rip: { line: number; version?: number; networks: { ip: string; line: number }[] }, interfaces: Map<string, Iface>, defects: IosDefect[]) {
    if (rip.version === undefined) defects.push({ line: rip.line, reason: "router rip has no version: IOS then sends version 1 only (and receives 1 and 2), and FRR sends 2; say version 2 (or 1) on both sides" });
    const addressed = [...interfaces.values()].filter((i) => i.address);
    for (const n of rip.networks) {
        if (!addressed.some((i) => inNet(i.address!.ip, n.ip, classfulBits(n.ip)))) defects.push({ line: n.line, reason: `network ${n.ip} covers none of this router's interfaces` });
    }
    for (const t of addressed.filter((i) => /^tunnel/i.test(i.name))) {
        if (!rip.networks.some((n) => inNet(t.address!.ip, n.ip, classfulBits(n.ip)))) {
            defects.push({ line: t.line, reason: `RIP does not run over ${t.name}: no network statement covers ${t.address!.ip} (add network ${ipaddr.IPv4.networkAddressFromCIDR(`${t.address!.ip}/${classfulBits(t.address!.ip)}`)})` });
        }
    }
}
