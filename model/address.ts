// IPv4 prefix arithmetic for the spec checks, on top of ipaddr.js.
import * as ipaddr from "ipaddr.js";

export interface Prefix { addr: ipaddr.IPv4; bits: number }

export function parsePrefix(cidr: string): Prefix {
    const [addr, bits] = ipaddr.IPv4.parseCIDR(cidr);
    return { addr, bits };
}

export function parseAddress(ip: string): ipaddr.IPv4 {
    return ipaddr.IPv4.parse(ip);
}

/** The address part of "a.b.c.d/n". */
export function hostPart(ifaddr: string): string {
    return ifaddr.split("/")[0];
}

export function inPrefix(ip: string, prefix: string): boolean {
    const p = parsePrefix(prefix);
    return parseAddress(hostPart(ip)).match(p.addr, p.bits);
}

export function overlaps(a: string, b: string): boolean {
    const pa = parsePrefix(a), pb = parsePrefix(b);
    const bits = Math.min(pa.bits, pb.bits);
    return pa.addr.match(pb.addr, bits);
}

/** Whether the prefix's own address is its network address (192.168.1.0/24, not .5/24). */
export function isNetworkPrefix(cidr: string): boolean {
    const p = parsePrefix(cidr);
    return ipaddr.IPv4.networkAddressFromCIDR(cidr).toString() === p.addr.toString();
}

/** The subnet an interface address is on (10.1.1.0/24 for 10.1.1.1/24). */
export function subnetOf(ifaddr: string): string {
    return `${ipaddr.IPv4.networkAddressFromCIDR(ifaddr).toString()}/${ifaddr.split("/")[1]}`;
}

/** The network or broadcast address of a /0–/30 prefix cannot be given to an interface. */
export function isReservedInPrefix(ip: string, cidr: string): boolean {
    const p = parsePrefix(cidr);
    if (p.bits >= 31) return false;
    const a = hostPart(ip);
    return a === ipaddr.IPv4.networkAddressFromCIDR(cidr).toString()
        || a === ipaddr.IPv4.broadcastAddressFromCIDR(cidr).toString();
}

/**
 * For each prefix, the earlier prefixes (by index, ascending) it overlaps. Two IPv4 prefixes
 * overlap only when one contains the other, so after sorting by start (larger first) each
 * prefix overlaps exactly the open ones that still contain it: n log n plus the overlaps,
 * not every pair.
 */
export function overlappingPairs(prefixes: string[]): Map<number, number[]> {
    const range = (cidr: string) => {
        const p = parsePrefix(cidr);
        const start = p.addr.toByteArray().reduce((a, b) => a * 256 + b, 0);
        const size = 2 ** (32 - p.bits);
        const first = Math.floor(start / size) * size;
        return { first, last: first + size - 1 };
    };
    const items = prefixes.map((c, i) => ({ i, ...range(c) }));
    items.sort((a, b) => a.first - b.first || b.last - a.last || a.i - b.i);
    const out = new Map<number, number[]>();
    const open: typeof items = [];
    for (const it of items) {
        while (open.length && open[open.length - 1].last < it.first) open.pop();
        for (const o of open) {
            const [early, late] = o.i < it.i ? [o.i, it.i] : [it.i, o.i];
            const list = out.get(late);
            if (list) list.push(early);
            else out.set(late, [early]);
        }
        open.push(it);
    }
    for (const list of out.values()) list.sort((a, b) => a - b);
    return out;
}

/**
 * Why a MAC cannot be a source address, in words (undefined if it can): a multicast or
 * all-zero source is dropped by every bridge. `who` is what should get a unicast one.
 */
export function macProblem(mac: string, who = "the VM"): string | undefined {
    if (parseInt(mac.slice(0, 2), 16) & 1) return `MAC ${mac} is a multicast address (the lowest bit of its first byte is set): give ${who} a unicast MAC, such as 52:54:00:xx:xx:xx`;
    if (/^(00:){5}00$/.test(mac)) return `MAC ${mac} is all zeros: give ${who} a unicast MAC, such as 52:54:00:xx:xx:xx`;
    return undefined;
}
