// A link: two ends (point to point) or more (a LAN segment, as the studies' switches
// were). Between hosts on this machine, a point-to-point link is a veth pair whose ends
// are created directly inside the two namespaces, and a LAN is a Linux bridge in a
// namespace of its own with one veth per end. On ssh hosts each end is an existing NIC
// that the link brings up and addresses. Where a host's end joins a bridge in its shell
// (an appliance, whose interface is the VM's NIC), the address goes on over SSH.
import * as pulumi from "@pulumi/pulumi";
import type { LinkEnd, LinkSpec } from "../../model/types";
import { script } from "../../lib/shell";
import type { Host, LocalEnd } from "./host";
import { localCommand } from "./local";

export interface LinkArgs {
    spec: LinkSpec;
    /** The host of each end, in the ends' order. */
    hosts: Host[];
    stack: string;
}

/** The namespace that holds a LAN's bridge (a '.' cannot occur in a host's name). */
export function lanNamespace(stack: string, link: string): string {
    return `wl-${stack}-${link}.lan`;
}

export class Link extends pulumi.ComponentResource {
    constructor(name: string, args: LinkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("wanlab:host:Link", name, {}, opts);
        const { spec, hosts } = args;
        const locals = spec.ends.map((e, i) => hosts[i].localEnd(e.interface));
        if (locals.every((l): l is LocalEnd => l !== undefined)) {
            const wires = spec.ends.length === 2 ? this.veth(spec, locals, hosts) : this.lan(spec, locals, hosts, args.stack);
            // An end that joins a bridge in its shell gets its address on the host's own NIC.
            spec.ends.forEach((end, i) => { if (locals[i].bridge) this.nic(spec, end, hosts[i], [wires]); });
        } else {
            spec.ends.forEach((end, i) => this.nic(spec, end, hosts[i]));
        }
        this.registerOutputs({ subnet: spec.subnet });
    }

    /** The lines that set up one veth end: MTU, checksums, then an address or a bridge. */
    private static end(side: string, local: LocalEnd, addr?: string): string[] {
        return [
            `ip -n "$NS_${side}" link set "$IF_${side}" mtu "$MTU" up`,
            // Userspace datapaths forward partial checksums untouched (LAB-NOTES): compute them here.
            `nsenter --net="/run/netns/$NS_${side}" ethtool -K "$IF_${side}" tx off >/dev/null`,
            ...(local.bridge ? [`ip -n "$NS_${side}" link set "$IF_${side}" master "$BR_${side}"`]
                : addr ? [`ip -n "$NS_${side}" addr replace "$ADDR_${side}" dev "$IF_${side}"`] : []),
        ];
    }

    private veth(spec: LinkSpec, locals: LocalEnd[], hosts: Host[]) {
        const [ea, eb] = spec.ends;
        const [la, lb] = locals;
        return localCommand(`${spec.name}-veth`, {
            create: script(
                'if ! ip -n "$NS_A" link show "$IF_A" >/dev/null 2>&1; then',
                '  ip link add "$IF_A" netns "$NS_A" type veth peer name "$IF_B" netns "$NS_B"',
                "fi",
                ...Link.end("A", la, ea.address),
                ...Link.end("B", lb, eb.address),
            ),
            // Deleting one end of a veth pair removes both.
            delete: 'ip -n "$NS_A" link del "$IF_A" 2>/dev/null || true',
            environment: {
                NS_A: la.netns, IF_A: ea.interface, ADDR_A: ea.address ?? "",
                NS_B: lb.netns, IF_B: eb.interface, ADDR_B: eb.address ?? "",
                MTU: String(spec.mtu),
                ...(la.bridge ? { BR_A: la.bridge } : {}),
                ...(lb.bridge ? { BR_B: lb.bridge } : {}),
            },
        }, { parent: this, dependsOn: hosts.map((h) => h.linkReady()) });
    }

    /** A LAN: a bridge in the segment's own namespace, and a veth from each end to it. */
    private lan(spec: LinkSpec, locals: LocalEnd[], hosts: Host[], stack: string) {
        const env: Record<string, string> = { LAN: lanNamespace(stack, spec.name), MTU: String(spec.mtu) };
        const lines: string[] = [
            '[ -e "/run/netns/$LAN" ] || ip netns add "$LAN"',
            'ip -n "$LAN" link set lo up',
            'ip -n "$LAN" link show lan >/dev/null 2>&1 || ip -n "$LAN" link add lan type bridge',
            'ip -n "$LAN" link set lan mtu "$MTU" up',
        ];
        spec.ends.forEach((e, i) => {
            const side = String(i);
            Object.assign(env, {
                [`NS_${side}`]: locals[i].netns, [`IF_${side}`]: e.interface, [`ADDR_${side}`]: e.address ?? "",
                ...(locals[i].bridge ? { [`BR_${side}`]: locals[i].bridge! } : {}),
            });
            lines.push(
                `if ! ip -n "$NS_${side}" link show "$IF_${side}" >/dev/null 2>&1; then`,
                `  ip link add "$IF_${side}" netns "$NS_${side}" type veth peer name p${i} netns "$LAN"`,
                "fi",
                `ip -n "$LAN" link set p${i} mtu "$MTU" master lan up`,
                `nsenter --net="/run/netns/$LAN" ethtool -K p${i} tx off >/dev/null`,
                ...Link.end(side, locals[i], e.address),
            );
        });
        return localCommand(`${spec.name}-lan`, {
            create: script(...lines),
            // The segment's namespace holds one end of every veth: deleting it removes them all.
            delete: script('[ ! -e "/run/netns/$LAN" ] || ip netns del "$LAN"'),
            environment: env,
        }, { parent: this, dependsOn: hosts.map((h) => h.linkReady()) });
    }

    private nic(spec: LinkSpec, end: LinkEnd, host: Host, dependsOn: pulumi.Resource[] = []) {
        return host.command(`link-${spec.name}`, {
            create: script(
                'ip link show "$IF" >/dev/null 2>&1 || { echo "no interface $IF on this host" >&2; exit 1; }',
                'ip link set "$IF" mtu "$MTU" up',
                '[ -z "$ADDR" ] || ip addr replace "$ADDR" dev "$IF"',
            ),
            delete: '[ -z "$ADDR" ] || ip addr del "$ADDR" dev "$IF" 2>/dev/null || true',
            environment: { IF: end.interface, ADDR: end.address ?? "", MTU: String(spec.mtu) },
        }, { parent: this, dependsOn });
    }
}
