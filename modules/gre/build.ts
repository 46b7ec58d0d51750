// One GreTunnel per GRE tunnel, once both ends have their addresses.
import type { Stage } from "../../components/stages";
import { greTunnels } from "./model";
import { GreTunnel } from "./tunnel";

export const stage: Stage = {
    build(lab) {
        for (const t of greTunnels(lab.spec)) {
            const tunnel = new GreTunnel(t.name, {
                spec: t, hosts: t.endpoints.map((e) => lab.hosts[e.host]), underlays: t.endpoints.map((e) => lab.underlay(e.host)),
            }, lab.child);
            lab.add("routing", tunnel);
            for (const e of t.endpoints) lab.addUnderlay(e.host, tunnel);
        }
    },
};
