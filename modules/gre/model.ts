// GRE overlays (gretap ports on bridges). The stack file's format is defined and checked,
// but no platform's capability file has them yet, so a stack that uses one is refused
// before anything is created ("valid but not built by this version yet").
import type { ModuleModel } from "../../model/modules";
import { bridgeType, checkOverlays, overlayGraph } from "../bridge/overlay";

export const module: ModuleModel = {
    name: "gre",
    phase: "network",
    after: ["vxlan"],
    capabilities: {
        ovs: "GRE ports on Open vSwitch bridges",
        linux: "gretap devices on Linux bridges",
    },
    check: (spec, ctx) => checkOverlays(ctx, spec.tunnels, "gre"),
    uses: (spec) => spec.tunnels.flatMap((t, i) => (t.type === "gre" ? t.endpoints : [])
        .map((e) => ({ host: e.host, capability: bridgeType(spec, e) ?? "ovs", pointer: `/tunnels/${i}/type` }))),
    graph(spec, g) {
        for (const t of spec.tunnels.filter((x) => x.type === "gre")) overlayGraph(g, t, `GRE${t.vni ? ` key ${t.vni}` : ""}`);
    },
};
