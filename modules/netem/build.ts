// NetEm on the router's site-facing interfaces, once the whole network is up; the stack
// output `wan` says which profile is in force and what each interface applies.
import type { Stage } from "../../components/stages";
import { Netem } from "./netem";

export const stage: Stage = {
    build(lab) {
        const w = lab.spec.wan;
        if (!w) return;
        const netem = new Netem(`${w.router}-wan`, {
            spec: w, router: lab.hosts[w.router], dependsOn: lab.builtIn("links", "network", "routing"),
        }, lab.child);
        lab.add("wan", netem);
        lab.outputs.wan = {
            profile: typeof w.profile === "string" ? w.profile : "custom",
            mode: w.mode,
            ...(w.rateMbit ? { rateMbit: w.rateMbit } : {}),
            netem: netem.applied || "none",
        };
    },
};
