// VXLAN overlays: one VNI, one tunnel port per end point, on an Open vSwitch bridge (an
// OVS vxlan port, seed 000 Appendix C) or a Linux bridge (a kernel VXLAN device).
import type { ModuleModel } from "../../model/modules";
import { bridgeType, checkOverlays, overlayGraph, type OverlayEndpoint } from "../bridge/overlay";

export interface VxlanTunnelSpec { name: string; type: "vxlan"; vni: number; port: number; mtu: number; endpoints: OverlayEndpoint[] }
export type TunnelSpec = { name: string; type: string; vni?: number; port: number; mtu: number; endpoints: OverlayEndpoint[] };

declare module "../../model/types" {
    interface LabSpec { tunnels: TunnelSpec[] }
}

// Outer IPv4 (20), UDP (8), VXLAN (8) and the inner Ethernet header (14).
const VXLAN = { label: "VXLAN", overhead: () => 50 };

export const isVxlan = (t: TunnelSpec): t is VxlanTunnelSpec => t.type === "vxlan";

export const module: ModuleModel = {
    name: "vxlan",
    phase: "network",
    after: ["bridge"],
    capabilities: {
        ovs: "VXLAN ports on Open vSwitch bridges",
        linux: "kernel VXLAN devices on Linux bridges",
    },
    features: {
        vxlan: {
            probe: "unshare --net ip link add wlp0 type vxlan id 1 dstport 4789",
            hint: "load the vxlan module (modprobe vxlan)",
        },
    },
    check: (spec, ctx) => checkOverlays(ctx, spec.tunnels, "vxlan", VXLAN),
    uses: (spec) => spec.tunnels.flatMap((t, i) => (isVxlan(t) ? t.endpoints : [])
        .map((e) => ({ host: e.host, capability: bridgeType(spec, e) ?? "ovs", pointer: `/tunnels/${i}/endpoints` }))),
    graph(spec, g) {
        for (const t of spec.tunnels.filter(isVxlan)) overlayGraph(g, t, `VXLAN ${t.vni}`);
    },
};
