// A point-to-point link. Between emulated hosts it is a veth pair whose ends are created
// directly inside the two namespaces; on ssh hosts each end is an existing NIC that the
// link brings up and addresses. An appliance's end of a veth joins the bridge that holds
// the VM's tap in the appliance's shell, and the address goes on the VM's NIC over SSH.
import * as pulumi from "@pulumi/pulumi";
import type { LinkSpec } from "../../lib/spec";
import { script } from "../../lib/shell";
import { Host } from "./host";
import { EmulatedHost } from "./emulated";
import { localCommand } from "./local";
import { ApplianceHost } from "./appliance";

export class Link extends pulumi.ComponentResource {
    readonly resources: pulumi.Resource[];

    constructor(spec: LinkSpec, hosts: [Host, Host], opts?: pulumi.ComponentResourceOptions) {
        super("wanlab:host:Link", spec.name, {}, opts);
        const [a, b] = hosts;
        const local = (h: Host) => h instanceof EmulatedHost || h instanceof ApplianceHost;
        if (local(a) && local(b)) {
            const veth = this.veth(spec, a as EmulatedHost | ApplianceHost, b as EmulatedHost | ApplianceHost);
            this.resources = [veth, ...spec.ends.flatMap((end, i) =>
                hosts[i] instanceof ApplianceHost ? [this.nic(spec, end, hosts[i], [veth])] : [])];
        } else {
            this.resources = spec.ends.map((end, i) => this.nic(spec, end, hosts[i]));
        }
        this.registerOutputs({ subnet: spec.subnet });
    }

    private veth(spec: LinkSpec, a: EmulatedHost | ApplianceHost, b: EmulatedHost | ApplianceHost) {
        const [ea, eb] = spec.ends;
        const shell = (h: EmulatedHost | ApplianceHost) => (h instanceof ApplianceHost ? h.shell : h);
        // An appliance's end joins the bridge of its VM's tap; an emulated host's end is addressed.
        const end = (h: EmulatedHost | ApplianceHost, side: "A" | "B", addr?: string) => [
            `ip -n "$NS_${side}" link set "$IF_${side}" mtu "$MTU" up`,
            // Userspace datapaths forward partial checksums untouched (LAB-NOTES): compute them here.
            `nsenter --net="/run/netns/$NS_${side}" ethtool -K "$IF_${side}" tx off >/dev/null`,
            ...(h instanceof ApplianceHost ? [`ip -n "$NS_${side}" link set "$IF_${side}" master "$BR_${side}"`]
                : addr ? [`ip -n "$NS_${side}" addr replace "$ADDR_${side}" dev "$IF_${side}"`] : []),
        ];
        const bridges = {
            ...(a instanceof ApplianceHost ? { BR_A: a.bridgeFor[ea.interface] } : {}),
            ...(b instanceof ApplianceHost ? { BR_B: b.bridgeFor[eb.interface] } : {}),
        };
        return localCommand(`${spec.name}-veth`, {
            create: script(
                'if ! ip -n "$NS_A" link show "$IF_A" >/dev/null 2>&1; then',
                '  ip link add "$IF_A" netns "$NS_A" type veth peer name "$IF_B" netns "$NS_B"',
                "fi",
                ...end(a, "A", ea.address),
                ...end(b, "B", eb.address),
            ),
            // Deleting one end of a veth pair removes both.
            delete: 'ip -n "$NS_A" link del "$IF_A" 2>/dev/null || true',
            environment: {
                NS_A: shell(a).netns, IF_A: ea.interface, ADDR_A: ea.address ?? "",
                NS_B: shell(b).netns, IF_B: eb.interface, ADDR_B: eb.address ?? "",
                MTU: String(spec.mtu), ...bridges,
            },
        }, {
            parent: this,
            // An appliance's bridges exist once its VM has started.
            dependsOn: [a, b].map((h) => (h instanceof ApplianceHost ? h.vm : h.namespace)),
        });
    }

    private nic(spec: LinkSpec, end: LinkSpec["ends"][number], host: Host, dependsOn: pulumi.Resource[] = []) {
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
