// FRR on every Linux router that runs RIP, once its links, loopback and tunnels are up.
import type { Stage } from "../../components/stages";
import { frrConfig } from "./configs";
import { Frr } from "./frr";

export const stage: Stage = {
    build(lab) {
        const routing = lab.builtIn("routing");
        for (const h of lab.spec.hosts.filter((x) => x.rip)) {
            const cap = lab.capability(h.name, "rip", "rip");
            const frr = new Frr(h.name, {
                host: lab.hosts[h.name], config: frrConfig(lab.spec, h),
                dir: `/var/lib/wanlab/${lab.stack}/frr`, daemons: String(cap.daemons ?? "/usr/lib/frr"),
                dependsOn: [...lab.underlay(h.name), ...routing],
            }, lab.child);
            lab.add("routing", frr);
        }
    },
};
