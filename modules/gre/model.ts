// GRE overlays (gretap ports on bridges). The stack file's format is defined and checked,
// but no platform's capability file has them yet, so a stack that uses one is refused
// before anything is created ("valid but not built by this version yet").
import type { ModuleModel } from "../../model/modules";
import { bridgeType, checkOverlays, overlayGraph } from "../bridge/overlay";

// Outer IPv4 (20), GRE (4, and 4 more with a key) and the inner Ethernet header (14): gretap.
const GRETAP = { label: "GRE", overhead: (t: { vni?: number }) => 38 + (t.vni !== undefined ? 4 : 0) };

export const module: ModuleModel = {
    name: "gre",
    phase: "network",
    after: ["vxlan"],
    capabilities: {
        ovs: "GRE ports on Open vSwitch bridges",
        linux: "gretap devices on Linux bridges",
    },
    check: (spec, ctx) => checkOverlays(ctx, spec.tunnels, "gre", GRETAP),
    uses: (spec) => spec.tunnels.flatMap((t, i) => (t.type === "gre" ? t.endpoints : [])
        .map((e) => ({ host: e.host, capability: bridgeType(spec, e) ?? "ovs", pointer: `/tunnels/${i}/type` }))),
    graph(spec, g) {
        for (const t of spec.tunnels.filter((x) => x.type === "gre")) overlayGraph(g, t, `GRE${t.vni ? ` key ${t.vni}` : ""}`);
    },
};
