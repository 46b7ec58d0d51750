// A VXLAN overlay: one VNI, one tunnel port per end point. On an Open vSwitch bridge the
// port is an OVS vxlan interface (remote_ip, key = VNI), as in seed 000 Appendix C. On a
// Linux bridge (the router) it is a kernel VXLAN device that does not learn, with one
// all-zeros FDB entry per remote: a learned entry kept pointing at the old site after
// the VM moved (LAB-NOTES), while flooding to every remote always reaches it.
import * as pulumi from "@pulumi/pulumi";
import type { TunnelSpec } from "../../lib/spec";
import { script } from "../../lib/shell";
import { Bridge } from "./bridge";

export class VxlanTunnel extends pulumi.ComponentResource {
    readonly resources: pulumi.Resource[] = [];

    constructor(spec: TunnelSpec, bridges: Bridge[], opts?: pulumi.ComponentResourceOptions) {
        super("wanlab:network:VxlanTunnel", spec.name, {}, opts);
        spec.endpoints.forEach((ep, i) => {
            const bridge = bridges[i];
            if (bridge.spec.type === "ovs") {
                // One OVS port per remote; with a single remote the port keeps the spec's name.
                ep.remotes.forEach((remote, k) => {
                    const port = ep.remotes.length === 1 ? ep.interface : `${ep.interface}.${k}`;
                    this.resources.push(bridge.hostOf().command(`vxlan-${port}`, {
                        create: script(
                            'ovs-vsctl --may-exist add-port "$BR" "$PORT" -- set interface "$PORT" type=vxlan \\',
                            '  options:remote_ip="$REMOTE" options:key="$VNI" options:dst_port="$DSTPORT" \\',
                            '  ${LOCAL:+options:local_ip="$LOCAL"}',
                        ),
                        delete: 'ovs-vsctl --if-exists del-port "$BR" "$PORT"',
                        environment: {
                            BR: ep.bridge, PORT: port, REMOTE: remote, VNI: String(spec.vni),
                            DSTPORT: String(spec.port), LOCAL: ep.local ?? "",
                        },
                    }, { parent: this, dependsOn: [bridge.resource] }));
                });
            } else {
                this.resources.push(bridge.hostOf().command(`vxlan-${ep.interface}`, {
                    create: script(
                        'if ! ip link show "$DEV" >/dev/null 2>&1; then',
                        '  ip link add "$DEV" type vxlan id "$VNI" dstport "$DSTPORT" nolearning ${LOCAL:+local "$LOCAL"}',
                        "fi",
                        'ip link set "$DEV" mtu "$MTU" master "$BR" up',
                        'for r in $REMOTES; do',
                        '  bridge fdb show dev "$DEV" | grep -q "^00:00:00:00:00:00 dst $r " || bridge fdb append 00:00:00:00:00:00 dev "$DEV" dst "$r"',
                        "done",
                    ),
                    delete: 'ip link del "$DEV" 2>/dev/null || true',
                    environment: {
                        DEV: ep.interface, BR: ep.bridge, VNI: String(spec.vni), DSTPORT: String(spec.port),
                        LOCAL: ep.local ?? "", REMOTES: ep.remotes.join(" "), MTU: String(spec.mtu),
                    },
                }, { parent: this, dependsOn: [bridge.resource] }));
            }
        });
        this.registerOutputs({});
    }
}
