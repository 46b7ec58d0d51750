// A hypervisor that puts its VMs behind its own address, as libvirt's default network does
// (seed 003 §1.3, the NAT mode): the VMs sit on a private bridge of the host's (libvirt's
// virbr0, 192.168.122.1/24, the VMs' gateway), and the host masquerades what they send out
// of its outside interface with that interface's address. After a live migration the VM
// keeps its private address, now behind the other host's NAT; replies still on their way
// to the old host's address are lost there ("all future pings are carried out from node
// two").
//
// Every hypervisor has the same private subnet and gateway address, as libvirt's default
// network is the same everywhere: the inside bridge is private to its host (its addresses
// and its VMs' are unique on the host, not in the lab: CheckContext.privateSegment). We
// also give the gateways one MAC (the bridges' `mac`), so that the guest's ARP entry for
// its gateway stays valid after the move: a VM that moves between two such gateways needs
// both bridges to name the same MAC.
//
// A NAT host forwards IPv4 (the VMs' packets cross it): its `forwarding` defaults to true,
// as libvirt turns ip_forward on for a NAT network; `forwarding: false` there is an error.
// No filter is added: what reaches an inside address from outside is what has a route
// there (libvirt also rejects new connections inward; the model could not say so).
import type { ModuleModel } from "../../model/modules";
import type { CheckContext } from "../../model/context";
import type { LabSpec } from "../../model/types";
import { hostPart, subnetOf } from "../../model/address";
import { hostNode } from "../../model/network";
import { type BridgeSpec, bridgeSegment } from "../bridge/model";
import { vmHosts } from "../libvirt/model";

export interface NatSpec { host: string; inside: string; outside: string }

declare module "../../model/types" {
    interface LabSpec { nat: NatSpec[] }
}

/** The nftables table on each NAT host (one per host). */
export const NAT_TABLE = "wanlab_nat";

/** The outside of a NAT, as the model knows it: its address and segment, or, in words, why it has none. */
export type Outside = { ok: true; address: string; segment: string } | { ok: false; reason: string };

/** Where the NAT's outside is: a bridge of the host's, or a link end of it with an address of its own. */
export function outsideOf(spec: LabSpec, n: NatSpec, hasInterface: (host: string, name: string) => boolean): Outside {
    const b = spec.bridges.find((x) => x.host === n.host && x.name === n.outside);
    const noAddress = `the VMs' packets leave with the outside's address as their source`;
    if (b) {
        return b.address ? { ok: true, address: b.address, segment: bridgeSegment(n.host, b.name) }
            : { ok: false, reason: `bridge '${b.name}' on host '${n.host}' has no address: ${noAddress}` };
    }
    for (const l of spec.links) {
        const e = l.ends.find((x) => x.host === n.host && x.interface === n.outside);
        if (!e) continue;
        if (e.bridge) return { ok: false, reason: `interface '${n.outside}' on host '${n.host}' is a port of bridge '${e.bridge}': name the bridge as the outside (its address is the host's)` };
        return e.address ? { ok: true, address: e.address, segment: `link:${l.name}` }
            : { ok: false, reason: `interface '${n.outside}' on host '${n.host}' has no address: ${noAddress}` };
    }
    if (hasInterface(n.host, n.outside)) return { ok: false, reason: `interface '${n.outside}' on host '${n.host}' has no address of its own: name a link's interface or a bridge with an address` };
    return { ok: false, reason: `no interface or bridge '${n.outside}' on host '${n.host}'` };
}

/** The inside's subnet, which the NAT masquerades (192.168.122.0/24 for a gateway 192.168.122.1/24). */
export function insideSubnet(spec: LabSpec, n: NatSpec): string | undefined {
    const b = spec.bridges.find((x) => x.host === n.host && x.name === n.inside);
    return b?.address ? subnetOf(b.address) : undefined;
}

function check(spec: LabSpec, ctx: CheckContext) {
    const first = new Map<string, number>(); // host -> its NAT's index
    const insides: { n: NatSpec; i: number; bridge: BridgeSpec }[] = [];
    spec.nat.forEach((n, i) => {
        const at = `/nat/${i}`;
        if (!ctx.hostRef(`${at}/host`, n.host)) return;
        if (!ctx.hasRole(n.host, "hypervisor")) {
            ctx.err(`${at}/host`, `host '${n.host}' is not a hypervisor: NAT puts a hypervisor's VMs behind its address; give the host the role hypervisor, or route to the host instead`);
        }
        const earlier = first.get(n.host);
        if (earlier !== undefined) return ctx.err(`${at}/host`, `a second NAT on host '${n.host}' (the first is /nat/${earlier}): a host has one NAT, for the VMs on one inside bridge`);
        first.set(n.host, i);
        const hi = spec.hosts.findIndex((h) => h.name === n.host);
        if (spec.hosts[hi].forwarding === false) {
            ctx.err(`/hosts/${hi}/forwarding`, `host '${n.host}' does NAT (${at}): it forwards its VMs' packets, so it cannot have forwarding: false (a NAT host forwards by default)`);
        }
        const bridge = ctx.lookup<BridgeSpec>("bridge", `${n.host}/${n.inside}`);
        if (!bridge) ctx.err(`${at}/inside`, `no bridge '${n.inside}' on host '${n.host}': the inside is a bridge that holds the VMs and, as its address, their gateway`);
        else if (!bridge.address) ctx.err(`${at}/inside`, `bridge '${n.inside}' on host '${n.host}' has no address: give it the VMs' gateway, such as 192.168.122.1/24 (libvirt's default network)`);
        else {
            // Its addresses, and its VMs', are the host's own: every hypervisor may have the same.
            ctx.privateSegment(n.host, bridgeSegment(n.host, n.inside));
            insides.push({ n, i, bridge });
        }
        if (n.inside === n.outside) return ctx.err(`${at}/outside`, `the inside and the outside are one bridge '${n.inside}': the VMs' packets leave by another interface of the host's`);
        const out = outsideOf(spec, n, (h, name) => ctx.hasInterface(h, name));
        if (!out.ok) return ctx.err(`${at}/outside`, out.reason);
        if (bridge?.address) ctx.net.masquerade(hostNode(n.host), subnetOf(bridge.address), out.segment);
    });
    ctx.later(() => {
        // Private means alone: no other host's address on the inside's segment (a link or
        // a tunnel plugged into it would make one subnet of every host's private ones).
        for (const { n, i } of insides) {
            const seg = bridgeSegment(n.host, n.inside);
            const other = spec.hosts.filter((h) => h.name !== n.host)
                .flatMap((h) => ctx.net.interfacesOf(hostNode(h.name)).filter((x) => ctx.net.sameSegment(x.segment, seg)).map((x) => ({ host: h.name, cidr: x.cidr })))[0];
            if (other) {
                ctx.err(`/nat/${i}/inside`, `bridge '${n.inside}' on host '${n.host}' is one segment with host '${other.host}''s ${other.cidr} (a link or a tunnel joins them): ` +
                    "a NAT's inside holds its host and its VMs only, so that every hypervisor can have the same private subnet");
            }
        }
        gatewayMacs(spec, ctx, insides);
    });
}

// A VM that moves between two NAT hosts whose gateways have one address keeps its ARP
// entry for that address: the gateways must answer to one MAC too.
function gatewayMacs(spec: LabSpec, ctx: CheckContext, insides: { n: NatSpec; bridge: BridgeSpec }[]) {
    const gateway = new Map(insides.map((x) => [`${x.n.host}/${x.n.inside}`, x.bridge]));
    const said = new Set<string>();
    for (const vm of spec.vms) {
        const [from, ...to] = vmHosts(spec, vm);
        for (const nic of vm.interfaces) {
            const a = gateway.get(`${from}/${nic.bridge}`);
            for (const host of to) {
                const b = gateway.get(`${host}/${nic.bridge}`);
                if (!a || !b || hostPart(a.address!) !== hostPart(b.address!) || (a.mac && a.mac === b.mac)) continue;
                const i = spec.bridges.indexOf(b);
                const key = `${from}|${host}|${nic.bridge}`;
                if (said.has(key)) continue;
                said.add(key);
                ctx.err(`/bridges/${i}${b.mac ? "/mac" : ""}`, `VM '${vm.name}' moves from host '${from}' to host '${host}', whose NAT gateways on bridge '${nic.bridge}' are both ${hostPart(a.address!)}: ` +
                    `give both bridges one mac (${a.mac ? `${a.mac}, as on host '${from}'` : "such as 52:54:00:7a:00:01"}), so that the guest's ARP entry for its gateway stays valid after the move`);
            }
        }
    }
}

export const module: ModuleModel = {
    name: "nat",
    // After the routes module has said which hosts forward (the Network's forwarding).
    phase: "routing",
    after: ["routes"],
    capabilities: { masquerade: "source NAT of a hypervisor's VMs behind its own address (an nftables masquerade)" },
    features: {
        "nft-nat": {
            probe: "unshare --net sh -c 'nft add table ip wlp && nft add chain ip wlp p \"{ type nat hook postrouting priority 100; }\" && nft add rule ip wlp p masquerade'",
            hint: "install nftables, on a kernel with nf_tables and its NAT (nft_chain_nat, nft_masq)",
        },
    },
    // A NAT host forwards: its forwarding defaults to true (the routes module turns it on).
    normalize(spec) {
        for (const n of spec.nat ?? []) {
            const h = spec.hosts.find((x) => x.name === n.host);
            if (h && h.forwarding === undefined) h.forwarding = true;
        }
    },
    check,
    uses: (spec) => spec.nat.map((n, i) => ({ host: n.host, capability: "masquerade", pointer: `/nat/${i}` })),
    graph(spec, g) {
        for (const n of spec.nat) {
            const subnet = insideSubnet(spec, n);
            g.annotate(n.host, `NAT: ${n.inside}${subnet ? ` (${subnet})` : ""} behind ${n.outside}`);
        }
    },
};
