// Each end of a link with a rate gets its tbf once the link is up; delete takes it off.
import type { Stage } from "../../components/stages";
import { tbfArgs } from "./model";

export const stage: Stage = {
    build(lab) {
        for (const l of lab.spec.links) {
            if (!l.rateMbit) continue;
            for (const e of l.ends) {
                const qdisc = lab.hosts[e.host].command(`rate-${l.name}-${e.interface}`, {
                    // TBF is a list of tc words, split on purpose.
                    create: 'tc qdisc replace dev "$IF" root tbf $TBF',
                    delete: 'tc qdisc del dev "$IF" root 2>/dev/null || true',
                    environment: { IF: e.interface, TBF: tbfArgs(l.rateMbit) },
                }, { ...lab.child, dependsOn: lab.builtIn("links") });
                lab.add("network", qdisc);
            }
        }
    },
};
