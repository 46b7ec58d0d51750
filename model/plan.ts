// An experiment plan (plans/<name>.yaml): which stack, which settings vary (the matrix),
// how many migrations per cell, and which studies the report compares with. Validated by
// plans/schema.json plus the checks a schema cannot express, every error as
// `file: /pointer: reason`, before anything runs.
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv2020 from "ajv/dist/2020";
import { readYaml } from "./validate";
import { configKey } from "./config";
import { schemaErrors } from "./schema";
import { type SpecError, SpecValidationError } from "./types";

/** The settings a plan can vary, and the stack configuration key each one sets. */
export const PARAMETERS = {
    wanProfile: configKey("wanProfile"), wanRateMbit: configKey("wanRateMbit"), vmMemoryMiB: configKey("vmMemoryMiB"),
    vmFillPct: configKey("vmFillPct"), vmDirtyMiBps: configKey("vmDirtyMiBps"), probeIntervalMs: configKey("probeIntervalMs"),
    vmDiskMiB: configKey("vmDiskMiB"),
} as const;
export type Parameter = keyof typeof PARAMETERS;
export type Metric = "probeDowntimeMs" | "libvirtDowntimeMs" | "totalMs" | "vmForwardGapMs";

export type Repetitions = { fixed: number } | { untilRelHalfWidthPct: number; metric: Metric; min: number; max: number };

export interface Plan {
    name: string;
    description?: string;
    /** The stack of a plan on one stack; with a stack axis, the first of `stacks`. */
    stack: string;
    /** The stacks (approaches) the plan compares, in the order their blocks run: `matrix.stack`, or [stack]. */
    stacks: string[];
    /** The experiment file of a new stack (one stack: the plan's `spec`; with a stack axis, stacks/<stack>.yaml each). */
    spec: string;
    matrix: Partial<Record<Parameter | "stack", (string | number)[]>>;
    repetitions: Repetitions;
    /** At most this many runs in one `up` (the engine's start is paid once per up). */
    runsPerUp: number;
    /** The first this many runs of each cell count their traffic split (wanlab:trafficSplit); the studies split 10. */
    trafficSplitRuns: number;
    /** Every study the report compares with. */
    compare: string[];
    /** With a stack axis, the studies each stack's cells are compared with (else `compare` for all). */
    compareByStack?: Record<string, string[]>;
}

/** The studies a cell's measurements are put beside. */
export const cellStudies = (plan: Plan, cell: Cell) => plan.compareByStack?.[cellStack(plan, cell)] ?? plan.compare;

export const DEFAULT_RUNS_PER_UP = 10;
export const DEFAULT_TRAFFIC_SPLIT_RUNS = 10;

/** A cell's settings as the stack's configuration gives them: the raw value of wanlab:<key>, if the cell sets it. */
export function cellConfig(cell: Cell): (key: string) => string | undefined {
    return (key) => {
        const param = (Object.keys(PARAMETERS) as Parameter[]).find((p) => PARAMETERS[p] === configKey(key));
        const v = param ? cell.params[param] : undefined;
        return v === undefined ? undefined : String(v);
    };
}

/** One combination of the matrix's values; key is how rows name it ("vmMemoryMiB=256 wanProfile=campus"). */
export interface Cell { index: number; key: string; params: Partial<Record<Parameter | "stack", string | number>> }

/** The stack a cell runs on. */
export const cellStack = (plan: Plan, cell: Cell) => String(cell.params.stack ?? plan.stack);

/** The experiment file a new stack of the plan is created with. */
export const stackSpec = (plan: Plan, stack: string) => ((plan.stacks?.length ?? 1) > 1 ? `stacks/${stack}.yaml` : plan.spec);

const SCHEMA_FILE = path.join(__dirname, "..", "plans", "schema.json");
let validator: ReturnType<Ajv2020["compile"]> | undefined;

export function validatePlan(doc: unknown): { plan?: Plan; errors: SpecError[] } {
    if (!validator) {
        const ajv = new Ajv2020({ allErrors: true, useDefaults: true, verbose: true, strict: true, strictRequired: false });
        validator = ajv.compile(JSON.parse(fs.readFileSync(SCHEMA_FILE, "utf8")));
    }
    if (!validator(doc)) return { errors: schemaErrors(validator.errors ?? []) };
    const raw = doc as any;
    const errors: SpecError[] = [];
    const reps = raw.repetitions;
    if (typeof reps === "object" && reps.min > reps.max) {
        errors.push({ pointer: "/repetitions/min", reason: `is ${reps.min}, more than max (${reps.max})` });
    }
    const axis: string[] | undefined = raw.matrix.stack;
    if (axis && raw.stack !== undefined) errors.push({ pointer: "/stack", reason: "the matrix varies the stack (matrix.stack): give the stacks there, not here too" });
    if (!axis && raw.stack === undefined) errors.push({ pointer: "", reason: "a plan needs its stack: stack, or a stack axis in the matrix (matrix.stack)" });
    if (axis && raw.spec !== undefined) errors.push({ pointer: "/spec", reason: "with a stack axis each stack is created from stacks/<stack>.yaml: leave spec out" });
    if (axis && Object.keys(raw.matrix)[0] !== "stack") errors.push({ pointer: "/matrix/stack", reason: "the stack axis comes first in the matrix: each approach runs as a block of its own" });
    const byStack = raw.compare && !Array.isArray(raw.compare) ? (raw.compare as Record<string, string[]>) : undefined;
    for (const stack of Object.keys(byStack ?? {})) {
        if (!axis) errors.push({ pointer: `/compare/${stack}`, reason: "studies per stack need a stack axis (matrix.stack): give compare as a list" });
        else if (!axis.includes(stack)) errors.push({ pointer: `/compare/${stack}`, reason: `is no stack of the matrix (${axis.join(", ")})` });
    }
    if (errors.length) return { errors };
    return {
        plan: {
            name: raw.name, description: raw.description, stack: raw.stack ?? axis![0], stacks: axis ?? [raw.stack],
            spec: raw.spec ?? `stacks/${raw.stack ?? axis![0]}.yaml`,
            matrix: raw.matrix,
            repetitions: typeof reps === "number" ? { fixed: reps } : { metric: "probeDowntimeMs", ...reps },
            runsPerUp: raw.runsPerUp ?? DEFAULT_RUNS_PER_UP,
            trafficSplitRuns: raw.trafficSplitRuns ?? DEFAULT_TRAFFIC_SPLIT_RUNS,
            compare: byStack ? [...new Set(Object.values(byStack).flat())] : raw.compare ?? [],
            ...(byStack ? { compareByStack: byStack } : {}),
        },
        errors: [],
    };
}

export function loadPlan(file: string): Plan {
    const { plan, errors } = validatePlan(readYaml(file));
    if (!plan) throw new SpecValidationError(file, errors);
    return plan;
}

/** The matrix's cells, the first parameter listed varying slowest. */
export function cells(plan: Plan): Cell[] {
    let out: Cell["params"][] = [{}];
    for (const [param, values] of Object.entries(plan.matrix) as [Parameter, (string | number)[]][]) {
        out = out.flatMap((p) => values.map((v) => ({ ...p, [param]: v })));
    }
    return out.map((params, index) => ({
        index, params, key: Object.entries(params).map(([k, v]) => `${k}=${v}`).join(" "),
    }));
}
