// Each module's stage: modules/<m>/build.ts, which builds the module's components into
// the Lab. Found by the module registry, in its order, so the Lab names no module.
import * as fs from "node:fs";
import * as path from "node:path";
import { modules, type LoadedModule } from "../model/modules";
import type * as pulumi from "@pulumi/pulumi";
import type { HostSpec } from "../model/types";
import type { LabContext } from "./context";

export interface Stage {
    /** Before anything is registered: what this machine decides (a probe). Throw a RunError to refuse the lab. */
    prepare?(lab: LabContext): void;
    /** Shell lines for a host's preflight: they print a fact, or report a problem with `add "..."`. */
    preflight?(lab: LabContext, host: HostSpec): string[];
    /** Checks across hosts, once their preflights have passed and before any host is created. */
    gates?(lab: LabContext): pulumi.Resource[];
    build(lab: LabContext): void;
}

export function stages(): { module: LoadedModule; stage: Stage }[] {
    return modules().flatMap((m) => {
        const file = path.join(m.dir, "build.ts");
        if (!fs.existsSync(file)) return [];
        // eslint-disable-next-line @typescript-eslint/no-var-requires
        const stage: Stage = require(file).stage;
        if (!stage?.build) throw new Error(`${file} must export \`stage\` with a build(lab) method`);
        return [{ module: m, stage }];
    });
}
