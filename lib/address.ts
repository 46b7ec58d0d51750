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

/** The network or broadcast address of a /0–/30 prefix cannot be given to an interface. */
export function isReservedInPrefix(ip: string, cidr: string): boolean {
    const p = parsePrefix(cidr);
    if (p.bits >= 31) return false;
    const a = hostPart(ip);
    return a === ipaddr.IPv4.networkAddressFromCIDR(cidr).toString()
        || a === ipaddr.IPv4.broadcastAddressFromCIDR(cidr).toString();
}
