// The AAA server of seed 001 (§1.1, §2.2 D, §3.1, §3.3-3.4): FreeRADIUS, which the MAGs
// ask about a VM (the mobile node) before they register it with the LMA, and which the LMA
// asks about a MAG before it accepts that MAG's Proxy Binding Updates. One server, on the
// `radius.host` (role `aaa`), answering its clients (the MAGs and the LMA) with what its
// users file says: a VM's home network prefix and interface id, or a plain Accept for a MAG.
//
// The User-Name of a VM, as OAI pmip6d builds it (read in github.com/hugo-ma-alves/OAI-PMIPv6-FM,
// commit 881ccb2, and the same in its umip-1.0-oai-pmipv6.patch, which is OAI's PMIPv6 for UMIP):
// - src/pmip/pmip_fsm.c, mag_fsm(): on an attachment (hasRS; seed 001's patch adds hasNA)
//   of a MN without a binding, `hw_address = EUI64_to_EUI48(info->mn_iid)`, then
//   `mnid_hnp_map(hw_address, ...)`; a result >= 0 registers it, else "Authentication failed".
//   info->mn_iid is get_node_id() of the RS's source address (src/pmip/pmip_msgs.c, the RS
//   parser) or of the NA's target (icmp_na_parse()): the low 64 bits, the VM's EUI-64 when
//   its addresses are formed from its MAC (not stable-privacy or temporary ones).
// - src/pmip/pmip_hnp_cache.c, EUI64_to_EUI48(): an in6_addr whose bytes 0-9 are zero and
//   bytes 10-15 the MAC (byte 8 of the iid with the U/L bit flipped back, 9, 10, 13, 14, 15).
// - src/pmip/pmip_hnp_cache.c, mnid_hnp_map() (USE_RADIUS): User-Name is
//   sprintf("%04x%04x%04x%04x", the in6_addr's 16-bit words 4-7), so two zero bytes and the
//   MAC's six, in lower-case hex: 00:16:3e:01:01:01 -> "000000163e010101" (our reading holds);
//   "@" and the default_realm of radiusclient.conf are appended when that is set (the lab's
//   MAG must leave it unset). User-Password is conf.RadiusPassword (the MAG's
//   RadiusPassword), Service-Type Authenticate-Only (PW_AUTHENTICATE_ONLY), sent by rc_auth().
//   The answer counts as success only when it carries at least two of Framed-IPv6-Prefix
//   (the prefix, zeroed after its length), Framed-Interface-Id (ORed into the prefix's low
//   64 bits) and, in this fork only, Mobile-Node-Identifier (145): so an Accept for a VM
//   must carry both Framed-IPv6-Prefix and Framed-Interface-Id, which is what this module sends.
// - The LMA side of OAI asks no RADIUS server (src/pmip/pmip_lma_proc.c looks the MN up in
//   its own cache, lma_mnid_hnp_map()): the LMA's question about a MAG is the thesis's
//   (seed 001 §3.3 "policy check: is MAG1 allowed to send PBU?"), which the lab's pmipd asks
//   with User-Name = the MAG's host name, the same User-Password.
// Not checked against the original PMIPv6_v0.4.1 tarball (not in the stored sources): the
// fork's and the patch's code agree line for line on the User-Name, password and Service-Type.
import * as net from "node:net";
import type { ModuleModel } from "../../model/modules";
import type { LabSpec, SecretRef } from "../../model/types";
import type { CheckContext } from "../../model/context";
import { eui64, format6, parse6, parseCidr6, network6 } from "../ipv6/address6";
import { ipv6Owner } from "../ipv6/model";

export interface RadiusClientSpec { host: string; address: string; secret?: SecretRef }
/** A mobile node (vm and its home network prefix) or a MAG (host). */
export interface RadiusUserSpec { vm?: string; prefix?: string; host?: string }
export interface RadiusSpec {
    host: string; address: string; port: number; password: SecretRef;
    clients: RadiusClientSpec[]; users: RadiusUserSpec[];
}

declare module "../../model/types" {
    interface LabSpec { radius?: RadiusSpec }
}

export const DEFAULT_PORT = 1812;

/** The User-Name OAI pmip6d sends for a MAC: the MAC's 12 hex digits after four zeros (00:16:3e:01:01:01 -> 000000163e010101). */
export function radiusUserName(mac: string): string {
    return mac.toLowerCase().split(":").join("").padStart(16, "0");
}

/** The modified EUI-64 interface id of a MAC, as four groups of four hex digits (00:16:3e:01:01:01 -> 0216:3eff:fe01:0101). */
export function interfaceId(mac: string): string {
    const hex = eui64(mac.toLowerCase()).toString(16).padStart(16, "0");
    return [0, 4, 8, 12].map((i) => hex.slice(i, i + 4)).join(":");
}

/** A prefix in the form FreeRADIUS prints it (RFC 5952), e.g. 2001:db8:1:1::/64; undefined if it is not an IPv6 prefix. */
export function canonicalPrefix(prefix: string): string | undefined {
    const p = parseCidr6(prefix);
    return p ? `${format6(network6(p.address, p.length))}/${p.length}` : undefined;
}

/** One user as the server knows it: a VM (its MAC, prefix and interface id) or a MAG (its host name). */
export interface RadiusUser {
    userName: string;
    kind: "vm" | "mag";
    vm?: string; mac?: string; prefix?: string; interfaceId?: string;
    host?: string;
}

/** The server's users, in the stack file's order (only those it can name: a VM with a MAC, a host). */
export function radiusUsers(spec: LabSpec): RadiusUser[] {
    return (spec.radius?.users ?? []).flatMap((u): RadiusUser[] => {
        if (u.vm !== undefined) {
            const mac = spec.vms.find((v) => v.name === u.vm)?.interfaces?.[0]?.mac;
            const prefix = u.prefix === undefined ? undefined : canonicalPrefix(u.prefix);
            if (!mac || !prefix) return [];
            return [{ userName: radiusUserName(mac), kind: "vm", vm: u.vm, mac, prefix, interfaceId: interfaceId(mac) }];
        }
        return u.host === undefined ? [] : [{ userName: u.host, kind: "mag", host: u.host }];
    });
}

/** An IPv4 or IPv6 address (no prefix length), or undefined. */
export function addressFamily(address: string): 4 | 6 | undefined {
    if (net.isIPv4(address)) return 4;
    return parse6(address) !== undefined ? 6 : undefined;
}

/** The same address whatever its spelling (2001:DB8::0:1 and 2001:db8::1 are one). */
export function sameAddress(a: string, b: string): boolean {
    const [fa, fb] = [addressFamily(a), addressFamily(b)];
    if (!fa || fa !== fb) return false;
    return fa === 4 ? a === b : parse6(a) === parse6(b);
}

/** The address as FreeRADIUS and ss print it: 2001:db8:a::10, 10.0.0.1. */
export function canonicalAddress(address: string): string {
    return addressFamily(address) === 6 ? format6(parse6(address)!) : address;
}

/** Whether the host has this address (IPv6: hosts[].ipv6.addresses; IPv4: its link ends, bridges, loopbacks); else whose it is. */
function ownership(spec: LabSpec, ctx: CheckContext, host: string, address: string): { ok: boolean; owner?: string } {
    if (addressFamily(address) === 6) {
        const owner = ipv6Owner(spec, address);
        return { ok: owner === host, owner };
    }
    return { ok: ctx.hasAddress(host, address), owner: ctx.ownerOf(address) };
}

function checkAddress(spec: LabSpec, ctx: CheckContext, pointer: string, host: string, address: string, what: string) {
    if (!addressFamily(address)) return ctx.err(pointer, `${JSON.stringify(address)} is not an IPv4 or IPv6 address (no prefix length), such as 2001:db8:a::10 or 192.168.5.5`);
    const { ok, owner } = ownership(spec, ctx, host, address);
    if (!ok) ctx.err(pointer, `${address} is not an address of host '${host}'${owner ? ` (it is host '${owner}''s)` : ""}: ${what}`);
}

function checkRadius(spec: LabSpec, ctx: CheckContext) {
    const r = spec.radius!;
    if (ctx.hostRef("/radius/host", r.host)) {
        if (!ctx.hasRole(r.host, "aaa")) ctx.err("/radius/host", `host '${r.host}' runs the RADIUS server: give it the role 'aaa'`);
        checkAddress(spec, ctx, "/radius/address", r.host, r.address, "the server listens on one of its host's addresses");
    }

    const addresses = new Map<string, number>();
    r.clients.forEach((c, i) => {
        const at = `/radius/clients/${i}`;
        if (!c.secret) ctx.err(at, `a RADIUS client without a secret: give client '${c.host}' its shared secret as \`secret: { config: KEY }\` (a Pulumi secret)`);
        if (ctx.hostRef(`${at}/host`, c.host)) checkAddress(spec, ctx, `${at}/address`, c.host, c.address, "the server knows a client by the address its requests come from");
        if (!addressFamily(c.address)) return;
        const key = canonicalAddress(c.address);
        const first = addresses.get(key);
        if (first !== undefined) ctx.err(`${at}/address`, `two RADIUS clients with the address ${c.address} (the first at /radius/clients/${first}): the server tells clients apart by their address`);
        else addresses.set(key, i);
    });

    const vms = new Map<string, number>();
    const hosts = new Map<string, number>();
    const prefixes = new Map<string, number>();
    const names = new Map<string, number>();
    r.users.forEach((u, i) => {
        const at = `/radius/users/${i}`;
        if ((u.vm === undefined) === (u.host === undefined)) {
            ctx.err(at, "a RADIUS user is a VM (`vm` and its home network `prefix`) or a MAG (`host`), one of the two");
            return;
        }
        let userName: string | undefined;
        if (u.host !== undefined) {
            if (u.prefix !== undefined) ctx.err(`${at}/prefix`, `a MAG user gets a plain Access-Accept: a prefix belongs to a VM user, not to host '${u.host}'`);
            if (!ctx.hostRef(`${at}/host`, u.host)) return;
            const first = hosts.get(u.host);
            if (first !== undefined) ctx.err(`${at}/host`, `host '${u.host}' is a RADIUS user twice (first at /radius/users/${first})`);
            else hosts.set(u.host, i);
            userName = u.host;
        } else {
            const vm = spec.vms.find((v) => v.name === u.vm);
            if (!vm) ctx.err(`${at}/vm`, `unknown VM '${u.vm}'`);
            else {
                const first = vms.get(vm.name);
                if (first !== undefined) ctx.err(`${at}/vm`, `VM '${vm.name}' is a RADIUS user twice (first at /radius/users/${first})`);
                else vms.set(vm.name, i);
                const mac = vm.interfaces?.[0]?.mac;
                if (!mac) ctx.err(`${at}/vm`, `VM '${vm.name}' has no MAC on its first interface: the MAG names the VM by its MAC, so give it a fixed one (interfaces[0].mac)`);
                else userName = radiusUserName(mac);
            }
            if (u.prefix === undefined) ctx.err(at, `VM user '${u.vm}' needs its home network prefix (prefix: such as 2001:db8:1:1::/64)`);
            else {
                const p = parseCidr6(u.prefix);
                if (!p) ctx.err(`${at}/prefix`, `${JSON.stringify(u.prefix)} is not an IPv6 prefix such as 2001:db8:1:1::/64`);
                else if (p.length !== 64) ctx.err(`${at}/prefix`, `${u.prefix}: the home network prefix must be a /64: SLAAC forms the address from it and the MAC's EUI-64`);
                else if (network6(p.address, 64) !== p.address) ctx.err(`${at}/prefix`, `${u.prefix} has host bits set: give the network, ${canonicalPrefix(u.prefix)}`);
                else {
                    const key = canonicalPrefix(u.prefix)!;
                    const first = prefixes.get(key);
                    if (first !== undefined) ctx.err(`${at}/prefix`, `the prefix ${u.prefix} is already VM '${r.users[first].vm}''s (at /radius/users/${first}): each VM has a home network prefix of its own`);
                    else prefixes.set(key, i);
                }
            }
        }
        if (userName === undefined) return;
        const other = names.get(userName);
        if (other !== undefined) ctx.err(at, `User-Name '${userName}' is already /radius/users/${other}'s: each user needs a name of its own`);
        else names.set(userName, i);
    });
}

export const module: ModuleModel = {
    name: "radius",
    // Routing: the server binds an address that the ipv6 module (routing, after routes) or
    // a link gives its host, so it comes after ipv6; and the VMs (compute) wait for every
    // routing component, so the server is up before any VM attaches to a MAG, which asks
    // it then. A routing module that needs the server at its own start (pmipv6) can name
    // `radius` in its `after`.
    phase: "routing",
    after: ["ipv6"],
    capabilities: { radius: "a RADIUS server with FreeRADIUS 3, and radclient for the lab's check" },
    check(spec, ctx) {
        if (spec.radius) checkRadius(spec, ctx);
    },
    uses: (spec) => (spec.radius ? [{ host: spec.radius.host, capability: "radius", pointer: "/radius/host" }] : []),
    graph(spec, g) {
        const r = spec.radius;
        if (!r) return;
        const users = radiusUsers(spec);
        g.annotate(r.host, `RADIUS ${addressFamily(r.address) === 6 ? `[${r.address}]` : r.address}:${r.port}: ` +
            `${r.clients.length} client${r.clients.length === 1 ? "" : "s"}, ${users.filter((u) => u.kind === "vm").length} VM(s), ${users.filter((u) => u.kind === "mag").length} MAG(s)`);
    },
};
