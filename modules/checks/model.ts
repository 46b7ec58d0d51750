// Connectivity checks that `pulumi up` must pass: pings from a host to an address, as
// netlab's `validate` pings do.
import type { ModuleModel } from "../../model/modules";
import { hostNode } from "../../model/network";

export interface CheckSpec { name: string; from: string; to: string; count: number; waitS: number }

declare module "../../model/types" {
    interface LabSpec { checks: CheckSpec[] }
}

export const module: ModuleModel = {
    name: "checks",
    phase: "validation",
    capabilities: { ping: "ping (iputils)" },
    // An unnamed check is named by its position, so its name takes part in the uniqueness check.
    normalize(spec) {
        spec.checks = spec.checks.map((c, i) => ({ ...c, name: c.name ?? `check-${i}` }));
    },
    check(spec, ctx) {
        ctx.unique("checks", spec.checks);
        spec.checks.forEach((c, i) => ctx.hostRef(`/checks/${i}/from`, c.from));
        // A ping that the model already knows cannot be answered would only fail the lab later.
        ctx.later(() => spec.checks.forEach((c, i) => {
            const path = ctx.net.roundTrip(hostNode(c.from), c.to);
            if (!path.ok) ctx.err(`/checks/${i}/to`, `check '${c.name}': host '${c.from}' cannot reach ${c.to}: ${path.reason}`);
        }));
    },
    uses: (spec) => spec.checks.map((c, i) => ({ host: c.from, capability: "ping", pointer: `/checks/${i}/from` })),
};
