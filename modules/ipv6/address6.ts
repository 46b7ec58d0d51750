// IPv6 addresses as numbers: parsing, prefixes, and the EUI-64 interface identifier that
// SLAAC forms from a MAC (RFC 4291 appendix A), with no dependency.
import * as net from "node:net";

/** The address (no prefix length) as a 128-bit number, or undefined if it is not IPv6. */
export function parse6(address: string): bigint | undefined {
    if (!net.isIPv6(address) || address.includes("%")) return undefined;
    let [head, tail] = address.includes("::") ? address.split("::") : [address, undefined];
    const words = (s: string) => (s ? s.split(":") : []);
    const expand = (ws: string[]) => ws.flatMap((w) => {
        if (!w.includes(".")) return [parseInt(w, 16)];
        const b = w.split(".").map(Number);
        return [(b[0] << 8) | b[1], (b[2] << 8) | b[3]];
    });
    const h = expand(words(head));
    const t = tail === undefined ? [] : expand(words(tail));
    const all = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill(0), ...t];
    return all.reduce((acc, w) => (acc << 16n) | BigInt(w), 0n);
}

/** The shortest text form (RFC 5952): lower case, the longest run of zero words as ::. */
export function format6(value: bigint): string {
    const w = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(16 * (7 - i))) & 0xffffn));
    let best = -1, len = 0;
    for (let i = 0; i < 8;) {
        if (w[i] !== 0) { i++; continue; }
        let j = i;
        while (j < 8 && w[j] === 0) j++;
        if (j - i > len && j - i > 1) { best = i; len = j - i; }
        i = j;
    }
    const hex = (ws: number[]) => ws.map((x) => x.toString(16)).join(":");
    return best < 0 ? hex(w) : `${hex(w.slice(0, best))}::${hex(w.slice(best + len))}`;
}

export interface Prefix6 { network: bigint; length: number }

/** "2001:db8::1/64" -> its address and length; undefined if malformed. */
export function parseCidr6(cidr: string): { address: bigint; length: number } | undefined {
    const [a, l, extra] = cidr.split("/");
    if (extra !== undefined || l === undefined || !/^\d{1,3}$/.test(l)) return undefined;
    const address = parse6(a);
    const length = Number(l);
    return address === undefined || length > 128 ? undefined : { address, length };
}

const mask = (length: number) => (length === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - length)) - 1n));

/** The network of an address with a prefix length. */
export function network6(address: bigint, length: number): bigint {
    return address & mask(length);
}

/** Whether an address (no length) lies in a prefix ("2001:db8::/64" or an interface address with its length). */
export function inPrefix6(address: string, cidr: string): boolean {
    const a = parse6(address);
    const p = parseCidr6(cidr);
    return a !== undefined && p !== undefined && network6(a, p.length) === network6(p.address, p.length);
}

/** Whether the host bits of a prefix are all zero. */
export function isNetwork6(cidr: string): boolean {
    const p = parseCidr6(cidr);
    return p !== undefined && network6(p.address, p.length) === p.address;
}

/** The address part of "A/N". */
export const hostPart6 = (cidr: string) => cidr.split("/")[0];

/** The modified EUI-64 interface identifier of a MAC: 00:16:3e:01:01:01 -> 0x02163efffe010101. */
export function eui64(mac: string): bigint {
    const b = mac.split(":").map((x) => parseInt(x, 16));
    const bytes = [b[0] ^ 0x02, b[1], b[2], 0xff, 0xfe, b[3], b[4], b[5]];
    return bytes.reduce((acc, x) => (acc << 8n) | BigInt(x), 0n);
}

/** The address SLAAC forms in a /64 from a MAC (what the VM configures from its prefix). */
export function slaacAddress(prefix: string, mac: string): string {
    const p = parseCidr6(prefix)!;
    return format6(network6(p.address, 64) | eui64(mac));
}

/** The link-local address a MAC gives (fe80::/64 + EUI-64). */
export function linkLocal(mac: string): string {
    return format6((0xfe80n << 112n) | eui64(mac));
}
