// One VxlanTunnel per VXLAN overlay, its ports on the bridges the bridge stage built.
import type { Stage } from "../../components/stages";
import type { Bridge } from "../bridge/bridge";
import { isVxlan } from "./model";
import { VxlanTunnel } from "./vxlan";

export const stage: Stage = {
    build(lab) {
        for (const t of lab.spec.tunnels.filter(isVxlan)) {
            const bridges = t.endpoints.map((e) => lab.need<Bridge>("bridge", `${e.host}/${e.bridge}`));
            lab.add("network", new VxlanTunnel(t.name, { spec: t, bridges }, lab.child));
        }
    },
};
