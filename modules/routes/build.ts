// Forwarding and static routes per host, once the host's addresses are up.
import type { Stage } from "../../components/stages";
import { forwards } from "./model";
import { HostRouting } from "./routing";

export const stage: Stage = {
    build(lab) {
        for (const h of lab.spec.hosts) {
            // A RIP router's static routes are FRR's (staticd), so that RIP can redistribute them.
            const routes = h.rip ? [] : h.routes ?? [];
            if (!routes.length && !forwards(h) && !h.loopback) continue;
            const routing = new HostRouting(h.name, {
                host: lab.hosts[h.name], forwarding: forwards(h), routes, loopback: h.loopback, underlay: lab.underlay(h.name),
            }, lab.child);
            lab.add("routing", routing);
        }
    },
};
