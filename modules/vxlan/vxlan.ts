// A VXLAN overlay: one VNI, one tunnel port per end point. On an Open vSwitch bridge the
// port is an OVS vxlan interface (remote_ip, key = VNI), as in seed 000 Appendix C; on a
// Linux bridge (the router) a kernel VXLAN device (kernel-vxlan-create.sh).
import * as pulumi from "@pulumi/pulumi";
import { script } from "../../lib/shell";
import { shellScript } from "../../lib/scripts";
import type { Bridge } from "../bridge/bridge";
import type { VxlanTunnelSpec } from "./model";

export interface VxlanTunnelArgs {
    spec: VxlanTunnelSpec;
    /** The bridge each end point's port joins, in the end points' order. */
    bridges: Bridge[];
}

export class VxlanTunnel extends pulumi.ComponentResource {
    constructor(name: string, args: VxlanTunnelArgs, opts?: pulumi.ComponentResourceOptions) {
        super("wanlab:vxlan:VxlanTunnel", name, {}, { aliases: [{ type: "wanlab:network:VxlanTunnel" }], ...opts });
        const { spec, bridges } = args;
        spec.endpoints.forEach((ep, i) => {
            const bridge = bridges[i];
            if (bridge.spec.type === "ovs") {
                // One OVS port per remote; with a single remote the port keeps the spec's name.
                ep.remotes.forEach((remote, k) => {
                    const port = ep.remotes.length === 1 ? ep.interface : `${ep.interface}.${k}`;
                    bridge.host.command(`vxlan-${port}`, {
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
                    }, { parent: this, dependsOn: [bridge.ready] });
                });
            } else {
                bridge.host.command(`vxlan-${ep.interface}`, {
                    create: shellScript(__dirname, "kernel-vxlan-create.sh"),
                    delete: 'ip link del "$DEV" 2>/dev/null || true',
                    environment: {
                        DEV: ep.interface, BR: ep.bridge, VNI: String(spec.vni), DSTPORT: String(spec.port),
                        LOCAL: ep.local ?? "", REMOTES: ep.remotes.join(" "), MTU: String(spec.mtu),
                    },
                }, { parent: this, dependsOn: [bridge.ready] });
            }
        });
        this.registerOutputs({});
    }
}
