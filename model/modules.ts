// The module registry: every folder under modules/ is one module (netlab's layout). Its
// model.ts says what the module adds to the model (schema fragment, semantic checks,
// kernel features, configuration keys, what it does on a host), its build.ts how the Lab
// builds it. The core finds modules by listing the folder, so it never names one.
import * as fs from "node:fs";
import * as path from "node:path";
import type { LabSpec } from "./types";
import type { CheckContext } from "./context";
import type { ConfigKey, Settings } from "./config";
import type { Feature } from "./features";
import type { GraphBuilder } from "./graph";

export const MODULES_DIR = path.join(__dirname, "..", "modules");

/**
 * The order modules are checked and built in. A module's components may depend on what
 * modules of earlier phases built (its build.ts chooses what exactly).
 */
export const PHASES = ["network", "routing", "wan", "storage", "compute", "validation", "experiment"] as const;
export type Phase = (typeof PHASES)[number];

/** One thing a module does on a host, named as the platforms' capability files name it. */
export interface Use {
    host: string;
    /** The capability (a key under the module in a capability file), e.g. "ovs" or "tgt". */
    capability: string;
    /** Where in the stack file this use comes from, for "not supported" errors. */
    pointer: string;
}

/**
 * A JSON Schema fragment: top-level sections the module owns (`properties`), its `$defs`,
 * properties it adds to core definitions (`extend`, e.g. a field on every host), and
 * variants of shared sections keyed by a discriminator (`variants`, e.g. one `type` of
 * `tunnels`).
 */
export interface SchemaFragment {
    properties?: Record<string, object>;
    $defs?: Record<string, object>;
    extend?: Record<string, Record<string, object>>;
    variants?: Record<string, { discriminator: string; description?: string; value: string; schema: object }>;
}

export interface ModuleModel {
    /** The folder's name. */
    readonly name: string;
    readonly phase: Phase;
    /** Modules of the same phase that come first. */
    readonly after?: string[];
    /** What the module can ask of a platform, by the name capability files give it, and what that is. */
    readonly capabilities: Record<string, string>;
    /** Kernel features (or other machine facts) its capabilities may require, with their probes. */
    readonly features?: Record<string, Feature>;
    readonly configKeys?: ConfigKey[];
    /** Run-time settings (wanlab:* configuration) that change the spec, applied before anything else. */
    applySettings?(spec: LabSpec, settings: Settings): void;
    /** What must hold once every module's settings are applied (a setting of one module may break another's), in words. */
    settledErrors?(spec: LabSpec): string[];
    /** Fill in what the schema's defaults cannot (e.g. a name from a position). */
    normalize?(spec: LabSpec): void;
    /** Semantic checks, after the schema and the core's checks. */
    check?(spec: LabSpec, ctx: CheckContext): void;
    /** What the module does on each host (one pass over the spec). */
    uses?(spec: LabSpec): Use[];
    /** What the module adds to the topology graph. */
    graph?(spec: LabSpec, g: GraphBuilder): void;
}

export interface LoadedModule extends ModuleModel {
    readonly dir: string;
    readonly schema?: SchemaFragment;
}

let cache: LoadedModule[] | undefined;

/** Every module, in phase order, and within a phase each after the ones it names. */
export function modules(): LoadedModule[] {
    if (cache) return cache;
    const found: LoadedModule[] = [];
    for (const name of fs.readdirSync(MODULES_DIR).sort()) {
        const dir = path.join(MODULES_DIR, name);
        const modelFile = path.join(dir, "model.ts");
        if (!fs.existsSync(modelFile)) continue;
        // eslint-disable-next-line @typescript-eslint/no-var-requires
        const model: ModuleModel = require(modelFile).module;
        if (!model || model.name !== name) throw new Error(`${modelFile} must export \`module\` named '${name}'`);
        if (!PHASES.includes(model.phase)) throw new Error(`${modelFile}: unknown phase '${model.phase}'`);
        const schemaFile = path.join(dir, "schema.json");
        const schema = fs.existsSync(schemaFile) ? JSON.parse(fs.readFileSync(schemaFile, "utf8")) : undefined;
        found.push({ ...model, dir, schema });
    }
    cache = order(found);
    return cache;
}

/** Phase order; within a phase a stable topological order by `after`, else by name. */
function order(all: LoadedModule[]): LoadedModule[] {
    const out: LoadedModule[] = [];
    for (const phase of PHASES) {
        const pending = all.filter((m) => m.phase === phase);
        while (pending.length) {
            const i = pending.findIndex((m) => (m.after ?? []).every((a) => !pending.some((p) => p.name === a)));
            if (i < 0) throw new Error(`modules ${pending.map((m) => m.name).join(", ")} wait for each other (phase ${phase})`);
            out.push(...pending.splice(i, 1));
        }
    }
    for (const m of out) {
        for (const a of m.after ?? []) {
            const dep = out.find((x) => x.name === a);
            if (!dep) throw new Error(`module ${m.name} comes after '${a}', which does not exist`);
            if (out.indexOf(dep) > out.indexOf(m)) throw new Error(`module ${m.name} comes after ${a}, which is in a later phase`);
        }
    }
    return out;
}
