// A point-to-point link. Between emulated hosts it is a veth pair whose ends are created
// directly inside the two namespaces; on ssh hosts each end is an existing NIC that the
// link brings up and addresses.
import * as pulumi from "@pulumi/pulumi";
import type { LinkSpec } from "../../lib/spec";
import { script } from "../../lib/shell";
import { Host } from "./host";
import { EmulatedHost } from "./emulated";
import { localCommand } from "./local";

export class Link extends pulumi.ComponentResource {
    readonly resources: pulumi.Resource[];

    constructor(spec: LinkSpec, hosts: [Host, Host], opts?: pulumi.ComponentResourceOptions) {
        super("wanlab:host:Link", spec.name, {}, opts);
        const [a, b] = hosts;
        if (a instanceof EmulatedHost && b instanceof EmulatedHost) {
            this.resources = [this.veth(spec, a, b)];
        } else {
            this.resources = spec.ends.map((end, i) => this.nic(spec, end, hosts[i]));
        }
        this.registerOutputs({ subnet: spec.subnet });
    }

    private veth(spec: LinkSpec, a: EmulatedHost, b: EmulatedHost) {
        const [ea, eb] = spec.ends;
        const end = (ns: string, ifname: string, addr?: string) => [
            `ip -n "${ns}" link set "${ifname}" mtu "$MTU" up`,
            // Userspace datapaths forward partial checksums untouched (LAB-NOTES): compute them here.
            `nsenter --net="/run/netns/${ns}" ethtool -K "${ifname}" tx off >/dev/null`,
            ...(addr ? [`ip -n "${ns}" addr replace "${addr}" dev "${ifname}"`] : []),
        ];
        return localCommand(`${spec.name}-veth`, {
            create: script(
                'if ! ip -n "$NS_A" link show "$IF_A" >/dev/null 2>&1; then',
                '  ip link add "$IF_A" netns "$NS_A" type veth peer name "$IF_B" netns "$NS_B"',
                "fi",
                ...end("$NS_A", "$IF_A", ea.address ? "$ADDR_A" : undefined),
                ...end("$NS_B", "$IF_B", eb.address ? "$ADDR_B" : undefined),
            ),
            // Deleting one end of a veth pair removes both.
            delete: 'ip -n "$NS_A" link del "$IF_A" 2>/dev/null || true',
            environment: {
                NS_A: a.netns, IF_A: ea.interface, ADDR_A: ea.address ?? "",
                NS_B: b.netns, IF_B: eb.interface, ADDR_B: eb.address ?? "",
                MTU: String(spec.mtu),
            },
        }, { parent: this, dependsOn: [a.namespace, b.namespace] });
    }

    private nic(spec: LinkSpec, end: LinkSpec["ends"][number], host: Host) {
        return host.command(`link-${spec.name}`, {
            create: script(
                'ip link show "$IF" >/dev/null 2>&1 || { echo "no interface $IF on this host" >&2; exit 1; }',
                'ip link set "$IF" mtu "$MTU" up',
                '[ -z "$ADDR" ] || ip addr replace "$ADDR" dev "$IF"',
            ),
            delete: '[ -z "$ADDR" ] || ip addr del "$ADDR" dev "$IF" 2>/dev/null || true',
            environment: { IF: end.interface, ADDR: end.address ?? "", MTU: String(spec.mtu) },
        }, { parent: this });
    }
}
