// The experiment runner: a plan's cells, each migrated until it has its repetitions,
// through Pulumi's Automation API on the stack the plan names. Per cell it sets the
// cell's configuration and runs `up` (a new VM memory replaces the VM; a new profile
// changes the router's WAN emulation); then it sets the next migration runs (up to the
// plan's runsPerUp of them, there and back, from where the VM is) and runs `up` again, so
// that the engine's start is paid once per batch, not once per run.
//
// Nothing is lost or repeated: the runs under way are noted in pending.json first, the
// program writes each run's record as it completes (results/<stack>/migration-<run>-<from>-<to>.json),
// rows are flushed once the up has returned, and a resumed plan recovers the runs of a
// batch that completed from their records.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { type MigrationRecord, recordFile } from "../modules/migration/record";
import { batchRuns, type Direction, directionOf, type RunPlan } from "../modules/migration/model";
import { engineEnv, ROOT } from "./engine";
import { Cell, cellConfig, cells, cellStack, Plan, PARAMETERS, stackSpec } from "../model/plan";
import { measured, ResultStore, RunRow, rowFromRecord, traceFromRecord } from "../analysis/results";
import { ensureSecrets } from "./secrets";
import { applySettings, configKey, parseSettings, settledErrors } from "../model/config";
import { describe } from "../analysis/stats";
import type { LabSpec } from "../model/types";
import { loadSpec } from "../model/validate";
import { Progress } from "./progress";

/** How many more runs a cell needs, given its rows so far (seed 001's rule, or a fixed count). */
export function runsToGo(plan: Plan, rows: RunRow[]): number {
    const r = plan.repetitions;
    if ("fixed" in r) return Math.max(0, r.fixed - rows.length);
    if (rows.length >= r.max) return 0;
    if (rows.length < r.min) return r.min - rows.length;
    const xs = measured(rows, r.metric);
    const s = xs.length >= 2 ? describe(xs) : undefined;
    return s && s.relHalfWidthPct <= r.untilRelHalfWidthPct ? 0 : 1;
}

/** The stack's migration settings: the first run of the last up, its direction, and how many runs. */
interface Batch { run: number; direction: Direction; runs: number; split?: "on" | "off" }

/** The runs of the up under way: the cell, its first repetition, each run, and the settings before it. */
interface Pending { cell: string; rep: number; runs: RunPlan[]; at: string; previous?: Batch }

export interface RunnerOptions {
    resultsDir?: string;
    /** Results directories of earlier plans whose runs fill this plan's empty cells of the same stack and settings. */
    reuse?: string[];
    /** Destroy the lab once every cell is complete. */
    destroy?: boolean;
    out?: NodeJS.WriteStream;
}

export type Outcome = "complete" | "interrupted";

export class Runner {
    readonly store: ResultStore;
    private readonly pendingFile: string;
    private readonly progress: Progress;
    private stack!: Stack;
    /** The stack the runner works on now (one block of a plan with a stack axis). */
    private stackName = "";
    private spec!: LabSpec;
    private stopping = false;
    private stoppingAt = 0;
    /** Aborts the `up` under way (a new one per up: each up adds a listener to it). */
    private abort = new AbortController();
    private location = "";
    private run = 0;
    /** The migration settings the stack has now. */
    private batch: Batch = { run: 0, direction: "forward", runs: 1 };
    /** A batch was cut short when the runner stopped: its run under way may have moved the VM. */
    private cut = false;

    constructor(readonly plan: Plan, private readonly opts: RunnerOptions = {}) {
        this.store = new ResultStore(opts.resultsDir ?? path.join(ROOT, "results", plan.name));
        this.pendingFile = path.join(this.store.dir, "pending.json");
        this.progress = new Progress(opts.out);
    }

    /** First call: finish the run under way, then stop. Second call: cancel it. */
    interrupt() {
        if (!this.stopping) {
            this.stopping = true;
            this.stoppingAt = Date.now();
            this.progress.say("interrupted: finishing the migrations under way, then stopping (interrupt again to cancel them)");
        } else if (Date.now() - this.stoppingAt < 1000) {
            // One Ctrl-C reaches us twice: from the terminal and relayed by npm/tsx.
            return;
        } else {
            this.progress.say("cancelling the migrations under way");
            this.abort.abort();
        }
    }

    async execute(): Promise<Outcome> {
        const all = cells(this.plan);
        for (const row of this.store.rows()) {
            if (row.plan !== this.plan.name || !all.some((c) => c.key === row.cell)) {
                throw new Error(`${this.store.jsonl} holds runs of another plan or matrix (run ${row.run}, cell '${row.cell}'): ` +
                    "give this plan another name or another results directory");
            }
        }
        for (const dir of this.opts.reuse ?? []) this.reuse(dir, all);
        // Each stack (approach) is a block of its own; between blocks its lab is destroyed,
        // so that an idle lab's appliances cost the next approach nothing.
        const blocks = this.plan.stacks;
        for (const [b, stack] of blocks.entries()) {
            const mine = all.filter((c) => cellStack(this.plan, c) === stack);
            const pendingHere = fs.existsSync(this.pendingFile) && mine.some((c) => c.key === JSON.parse(fs.readFileSync(this.pendingFile, "utf8")).cell);
            if (blocks.length > 1 && !pendingHere && mine.every((c) => runsToGo(this.plan, this.store.rows().filter((r) => r.cell === c.key)) === 0)) continue;
            this.stackName = stack;
            if (blocks.length > 1) this.say(`approach ${b + 1}/${blocks.length}: stack ${stack}`);
            await this.open();
            // The plan beside its results, so that a report needs nothing else.
            fs.writeFileSync(path.join(this.store.dir, "plan.json"), JSON.stringify(this.plan, null, 2) + "\n");
            await this.clearStaleLock();
            await this.recoverPending();
            await this.runCells(mine, all.length);
            if (this.stopping) break;
            if (this.opts.destroy || b < blocks.length - 1) {
                this.say(`destroying the lab of stack ${stack}`);
                await this.stack.destroy({ onOutput: (o) => this.logEngine(o), color: "never" });
            }
        }
        this.progress.end();
        return this.stopping ? "interrupted" : "complete";
    }

    /** A block's cells, each until it has its repetitions. */
    private async runCells(mine: Cell[], ncells: number) {
        for (const cell of mine) {
            let entered = false;
            while (!this.stopping) {
                const done = this.store.rows().filter((r) => r.cell === cell.key);
                if (runsToGo(this.plan, done) === 0) break;
                if (!entered) {
                    await this.enter(cell, ncells);
                    entered = true;
                    if (this.stopping) break;
                }
                // A batch splits its traffic or does not: it ends where the split runs end.
                const rep = done.length + 1;
                const splitLeft = this.plan.trafficSplitRuns - done.length;
                const count = Math.min(this.plan.runsPerUp, runsToGo(this.plan, done), splitLeft > 0 ? splitLeft : Infinity);
                await this.migrate(cell, ncells, rep, count, splitLeft > 0 ? "on" : "off");
            }
            if (this.stopping) break;
        }
    }

    /**
     * Another plan's runs, taken into this plan's cells that have none yet, where the stack
     * and every setting of the cell match (a block measured before, such as one approach of
     * a comparison). Each row keeps where it came from (reusedFrom) and its run number.
     */
    private reuse(dir: string, all: Cell[]) {
        const source = new ResultStore(path.resolve(dir));
        if (!fs.existsSync(source.jsonl)) throw new Error(`--reuse ${dir}: it has no runs.jsonl`);
        const rows = source.rows();
        const empty = all.filter((c) => !this.store.rows().some((r) => r.cell === c.key));
        const taken = new Map<string, number>();
        for (const row of rows) {
            const cell = empty.find((c) => cellStack(this.plan, c) === row.stack &&
                Object.entries(c.params).every(([k, v]) => k === "stack" || String((row as any)[k]) === String(v)));
            if (!cell) continue;
            this.store.append({ ...row, plan: this.plan.name, cell: cell.key, reusedFrom: row.reusedFrom ?? row.plan });
            taken.set(cell.key, (taken.get(cell.key) ?? 0) + 1);
        }
        // Run again on a resumed plan, its runs are there already.
        const already = this.store.rows().some((r) => r.reusedFrom !== undefined && r.reusedFrom === rows[0]?.plan);
        if (!taken.size && !already) throw new Error(`--reuse ${dir}: none of its ${rows.length} runs matches an empty cell of plan ${this.plan.name} (same stack and settings)`);
        for (const [key, n] of taken) this.say(`reused ${n} runs of ${rows[0].plan} (${dir}) for cell '${key}'`);
    }

    private say(text: string) {
        this.progress.say(text);
    }

    private logEngine(text: string) {
        fs.appendFileSync(this.store.log, text);
    }

    /** Select (or create) the stack, check its experiment file, and fill in secrets it can make. */
    private async open() {
        // The stack file first: a bad one must leave no stack, no stack file and no results behind.
        const stackFile = path.join(ROOT, `Pulumi.${this.stackName}.yaml`);
        const existing = fs.existsSync(stackFile) ? (yaml.load(fs.readFileSync(stackFile, "utf8")) as any)?.config : undefined;
        const planSpec = stackSpec(this.plan, this.stackName);
        const specFile: string = existing?.[configKey("spec")] ?? planSpec;
        this.spec = loadSpec(path.resolve(ROOT, specFile));
        const m = this.spec.migration;
        if (!m) throw new Error(`${specFile} has no migration section: there is nothing to repeat`);
        for (const param of ["wanProfile", "wanRateMbit"] as const) {
            if (this.plan.matrix[param] && !this.spec.wan) throw new Error(`the plan varies ${param}, but ${specFile} has no wan section (no router applies it)`);
        }
        // Each cell's settings on the stack file, as the program will apply them: a cell that
        // cannot be built (a fill too large for its memory) stops the plan before it starts.
        const unbuildable = cells(this.plan).filter((c) => cellStack(this.plan, c) === this.stackName).flatMap((c) => {
            const { settings, errors } = parseSettings(cellConfig(c));
            return [...errors, ...settledErrors(applySettings(structuredClone(this.spec), settings))].map((e) => `cell '${c.key}': ${e}`);
        });
        if (unbuildable.length) throw new Error(`plan ${this.plan.name} on ${specFile}:\n${unbuildable.join("\n")}`);
        fs.mkdirSync(this.store.dir, { recursive: true });
        const pulumiCommand = await PulumiCommand.get({ root: path.join(ROOT, ".tools") });
        this.stack = await LocalWorkspace.createOrSelectStack({ stackName: this.stackName, workDir: ROOT },
            { pulumiCommand, envVars: engineEnv() });
        // A new stack gets the plan's experiment file (the CLI refuses to read the config of
        // a stack without one, since Pulumi.yaml requires it).
        if (!existing?.[configKey("spec")]) await this.stack.setConfig(configKey("spec"), { value: planSpec });
        const config = await this.stack.getAllConfig();
        // Only a secret the stack does not have yet: the lab was built with the ones it has.
        ensureSecrets({ env: { ...process.env, ...engineEnv() }, cwd: ROOT }, this.stackName, this.spec);
        // Run numbers only grow: past this stack's own (the last of its last batch) and this plan's.
        const setting = (k: string, fallback: string) => config[configKey(k)]?.value ?? fallback;
        const split = config[configKey("trafficSplit")]?.value;
        this.batch = { run: Number(setting("migrationRun", "0")), direction: setting("migrationDirection", "forward") as Direction, runs: Number(setting("migrationRuns", "1")),
            ...(split === "on" || split === "off" ? { split } : {}) };
        const runs = [this.batch.run + this.batch.runs - 1, ...this.store.rows().map((r) => r.run)];
        this.run = Math.max(...runs);
        // A stack that never migrated starts with no migration (run 0) until the first repetition.
        if (config[configKey("migrationRun")] === undefined) await this.stack.setConfig(configKey("migrationRun"), { value: "0" });
    }

    /**
     * A runner killed with its engine leaves the stack locked (the file backend's lock
     * names the engine's pid). If every lock on this stack belongs to a process of this
     * machine that is gone, the lock is stale: remove it (`pulumi cancel`) and say so.
     */
    private async clearStaleLock() {
        const backend = engineEnv().PULUMI_BACKEND_URL;
        if (!backend.startsWith("file://")) return;
        const locks: string[] = [];
        const walk = (dir: string) => {
            if (!fs.existsSync(dir)) return;
            for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
                const p = path.join(dir, e.name);
                if (e.isDirectory()) walk(p);
                else if (path.basename(dir) === this.stackName && e.name.endsWith(".json")) locks.push(p);
            }
        };
        walk(path.join(backend.slice("file://".length), ".pulumi", "locks"));
        if (!locks.length) return;
        const owners = locks.map((f) => JSON.parse(fs.readFileSync(f, "utf8")) as { pid: number; hostname: string });
        const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
        if (owners.every((o) => o.hostname === os.hostname() && !alive(o.pid))) {
            this.say(`stack ${this.stackName} is locked by engine process ${owners.map((o) => o.pid).join(", ")}, ` +
                "which is gone (killed with the runner?): removing the stale lock");
            await this.stack.cancel();
        }
    }

    /** Runs noted as under way when the runner stopped: keep those the program recorded. */
    private async recoverPending() {
        if (!fs.existsSync(this.pendingFile)) return;
        const raw = JSON.parse(fs.readFileSync(this.pendingFile, "utf8"));
        // Before batches, a pending run was one run: { run, from, to }.
        const p: Pending = raw.runs ? raw : { ...raw, runs: [{ run: raw.run, from: raw.from, to: raw.to }] };
        const cell = cells(this.plan).find((c) => c.key === p.cell);
        // Another block's runs: its stack recovers them.
        if (cell && cellStack(this.plan, cell) !== this.stackName) return;
        this.run = Math.max(this.run, ...p.runs.map((r) => r.run));
        let completed = 0;
        for (const [i, run] of p.runs.entries()) {
            const rep = p.rep + i;
            const record = this.readRecord(run.run, run.from, run.to);
            if (record) completed++;
            // Without ping (a VM behind a NAT) the VM's own probe says whether it answered before.
            const silentBefore = (x: MigrationRecord) => (x.probe.sent > 0 || !x.vmProbe ? x.probe.rttBeforeMs === null : x.vmProbe.rttBeforeMs === null);
            if (record && silentBefore(record)) {
                this.store.fail({ cell: p.cell, rep, ...run, at: p.at, error: "the VM did not answer the probe before the migration: not a measurement" });
                this.location = record.to;
                this.say(`run ${run.run} (${p.cell}) completed before the runner stopped, but its VM did not answer before migrating: not a measurement`);
            } else if (record && cell && !this.store.rows().some((r) => r.run === run.run)) {
                this.store.append(rowFromRecord(this.plan, cell, rep, record, NaN));
                this.location = record.to;
                this.say(`recovered run ${run.run} (${p.cell}, repetition ${rep}): it completed before the runner stopped`);
            } else if (!record) {
                // Each run waits for the one before: none after this one ran.
                this.say(`run ${run.run} (${p.cell}, repetition ${rep}) did not complete before the runner stopped: it will be run again`);
                break;
            }
        }
        // The stack's settings back to what completed: the next up must not start a run
        // of the cut batch again (it is run again under a new number, as a repetition).
        const first = p.runs[0];
        this.cut = completed < p.runs.length;
        const back = completed ? { run: first.run, direction: directionOf(this.spec.migration!, first.from), runs: completed, split: this.batch?.split } : p.previous;
        if (back) await this.setBatch(back);
        fs.rmSync(this.pendingFile);
    }

    private readRecord(run: number, from: string, to: string): MigrationRecord | undefined {
        const file = recordFile(path.join(ROOT, "results"), this.stackName, { run, from, to });
        if (!fs.existsSync(file)) return undefined;
        const r: MigrationRecord = JSON.parse(fs.readFileSync(file, "utf8"));
        return r.run === run ? r : undefined;
    }

    private counts(): { done: number; total: number; atLeast: boolean } {
        const rows = this.store.rows();
        let total = 0;
        for (const c of cells(this.plan)) {
            const done = rows.filter((r) => r.cell === c.key);
            total += done.length + runsToGo(this.plan, done);
        }
        return { done: rows.length, total, atLeast: !("fixed" in this.plan.repetitions) };
    }

    private show(doing: string) {
        const c = this.counts();
        this.progress.show(c.done, c.total, c.atLeast, doing);
    }

    /** Run `up`; the engine's output goes to the plan's engine.log. Returns the error, if any. */
    private async up(what: string): Promise<{ seconds: number; error?: Error; output: string }> {
        let output = "";
        this.logEngine(`\n=== ${new Date().toISOString()} ${what}\n`);
        const t0 = Date.now();
        this.abort = new AbortController();
        try {
            await this.stack.up({
                color: "never", signal: this.abort.signal,
                onOutput: (o) => { output += o; this.logEngine(o); },
            });
            return { seconds: (Date.now() - t0) / 1000, output };
        } catch (error: any) {
            this.logEngine(String(error?.message ?? error));
            return { seconds: (Date.now() - t0) / 1000, error, output };
        }
    }

    /** Apply a cell's settings: the lab is built or changed to match, without migrating. */
    private async enter(cell: Cell, ncells: number) {
        this.show(`cell ${cell.index + 1}/${ncells} (${cell.key}): setting up`);
        for (const [param, value] of Object.entries(cell.params)) {
            if (param === "stack") continue;
            await this.stack.setConfig(PARAMETERS[param as keyof typeof PARAMETERS], { value: String(value) });
        }
        const r = await this.up(`cell ${cell.key}`);
        if (r.error) {
            if (this.stopping) return;
            throw new Error(`setting up cell '${cell.key}' failed; the engine said:\n${engineError(r.output + "\n" + r.error.message)}`);
        }
        this.location = (await this.stack.outputs()).vms?.value?.[this.spec.migration!.vm]?.host ?? this.spec.migration!.from;
        this.say(`cell ${cell.index + 1}/${ncells} (${cell.key}) set up in ${r.seconds.toFixed(1)} s; the VM is on ${this.location}`);
    }

    /** Runs `count` repetitions of a cell in one `up`, there and back from where the VM is. */
    private async migrate(cell: Cell, ncells: number, firstRep: number, count: number, split: "on" | "off") {
        const m = this.spec.migration!;
        const direction = this.location !== m.to ? "forward" : "back";
        const runs = batchRuns(m, this.run + 1, direction, count);
        this.run += count;
        const where = `cell ${cell.index + 1}/${ncells} (${cell.key})`;
        const label = (i: number) => `${where} repetition ${firstRep + i}, run ${runs[i].run} ${runs[i].from}→${runs[i].to}`;
        const last = runs[count - 1];
        this.show(count === 1 ? label(0) : `${where} repetitions ${firstRep}-${firstRep + count - 1}, runs ${runs[0].run}-${last.run}`);
        const pending: Pending = { cell: cell.key, rep: firstRep, runs, at: new Date().toISOString(), previous: this.batch };
        // Noted before the settings change, so that a runner killed in between can set them back.
        fs.writeFileSync(this.pendingFile, JSON.stringify(pending) + "\n");
        await this.setBatch({ run: runs[0].run, direction, runs: count, split });
        const r = await this.up(count === 1 ? label(0) : `${where} runs ${runs[0].run}-${last.run}`);
        // The records, from the stack's outputs or, if the up failed or was cut short, from
        // the files the program wrote as each run completed.
        let records: (MigrationRecord | undefined)[];
        if (!r.error) {
            records = (await this.stack.outputs()).migrations?.value ?? [];
            const got = records.map((x) => x?.run);
            if (got.join() !== runs.map((x) => x.run).join()) throw new Error(`the stack's migrations output is of runs ${got.join(", ")}, expected ${runs.map((x) => x.run).join(", ")}`);
        } else {
            records = runs.map((x) => this.readRecord(x.run, x.from, x.to));
        }
        // From here on the runs are accounted for, whatever follows.
        fs.rmSync(this.pendingFile, { force: true });
        for (const [i, run] of runs.entries()) {
            const record = records[i];
            const failure = { cell: cell.key, rep: firstRep + i, ...run, at: pending.at };
            // Without ping (a VM behind a NAT) the VM's own probe says whether it answered before.
            const silentBefore = (x: MigrationRecord) => (x.probe.sent > 0 || !x.vmProbe ? x.probe.rttBeforeMs === null : x.vmProbe.rttBeforeMs === null);
            if (record && silentBefore(record)) {
                // The VM did not answer before the migration began: the lab was broken, not the
                // migration. Not a measurement: kept as a failure, and the experiment stops.
                this.location = record.to;
                this.store.fail({ ...failure, error: `${m.vm} did not answer the probe before the migration: not a measurement` });
                this.say(`${label(i)}: ${m.vm} did not answer before migrating, so this run is not a measurement (failures.jsonl)`);
                await this.stopOnSilentVm(`${m.vm} did not answer the probe before run ${run.run} began`, record.ok ? record.to : record.from);
            } else if (record) {
                const row = rowFromRecord(this.plan, cell, firstRep + i, record, r.seconds / count);
                this.store.append(row);
                this.store.trace(traceFromRecord(row, record));
                this.location = record.to;
                this.progress.ran();
                this.say(`${label(i)}: downtime ${fmt(row.probeDowntimeMs)} ms (libvirt ${fmt(row.libvirtDowntimeMs)} ms), ` +
                    `total ${(row.totalMs / 1000).toFixed(2)} s, ${fmt(row.dataMiB)} MiB` + (row.answeredAfter ? "" : ", VM NOT answering after"));
                // A VM that never answered again is a defect to look at, not one to hide behind a
                // fresh VM: the run stands, flagged, and the experiment stops.
                if (!row.answeredAfter) await this.stopOnSilentVm(`${m.vm} did not answer after run ${run.run}`, record.to);
            } else {
                // This run failed (the VM stayed on its source) or never began: the runs after it never ran.
                const error = engineError(r.output + "\n" + (r.error?.message ?? ""));
                // The VM runs on the other host: the state and the lab disagree.
                const elsewhere = /is not running on \S+ \(state: [^)]*\): it runs on (\S+)\./.exec(error)?.[1];
                if (elsewhere && this.cut && i === 0) {
                    // The run under way when the runner stopped went through after all: not a failure.
                    this.location = elsewhere;
                    this.say(`${m.vm} is on ${elsewhere}: the run cut short when the runner stopped had moved it; going on from there`);
                } else {
                    this.store.fail({ ...failure, error });
                    if (!this.stopping) {
                        if (elsewhere) this.location = elsewhere;
                        this.say(`${label(i)} FAILED (kept in failures.jsonl); the engine said:\n${error}`);
                        this.stopAfterThreeFailures();
                    }
                }
                break;
            }
        }
        this.cut = false;
    }

    private async setBatch(b: Batch) {
        await this.stack.setAllConfig({
            [configKey("migrationRun")]: { value: String(b.run) },
            [configKey("migrationDirection")]: { value: b.direction },
            [configKey("migrationRuns")]: { value: String(b.runs) },
            ...(b.split ? { [configKey("trafficSplit")]: { value: b.split } } : {}),
        });
        this.batch = b;
    }

    /** A guest that stopped answering: stop, saying where to look and how to start it afresh. */
    private async stopOnSilentVm(what: string, host: string) {
        const m = this.spec.migration!;
        const home = this.spec.vms.find((v) => v.name === m.vm)!.host;
        const state = await this.stack.exportStack();
        const urn: string | undefined = state.deployment.resources?.find((x: any) => x.urn.endsWith(`::${home}-vm-${m.vm}`))?.urn;
        throw new Error(`${what}: stopping (the lab is left as it is). Its console is /var/log/libvirt/${m.vm}-console.log on ${host}. ` +
            `To start it afresh on ${home} and go on: pulumi up --stack ${this.stackName} --replace '${urn ?? `<the ${home}-vm-${m.vm} resource>`}', ` +
            "then run the plan again (it resumes)");
    }

    /** Three failures since the last stored row: stop, leaving the lab as it is. */
    private stopAfterThreeFailures() {
        const rows = this.store.rows();
        const last = rows.length ? rows[rows.length - 1].run : 0;
        if (this.store.failed().filter((f) => f.run > last).length >= 3) {
            throw new Error("three runs in a row failed: stopping (the lab is left as it is; see failures.jsonl and engine.log)");
        }
    }
}

const fmt = (x: number | null) => (x === null ? "-" : x.toFixed(0));
/** What the engine said went wrong: its Diagnostics section if it printed one, else its last lines. */
export function engineError(output: string, lines = 25): string {
    const all = output.trim().split("\n");
    const start = all.findIndex((l) => l.startsWith("Diagnostics:"));
    if (start < 0) return all.slice(-lines).join("\n");
    const end = all.findIndex((l, i) => i > start && /^(Outputs|Resources):/.test(l));
    return all.slice(start + 1, end < 0 ? undefined : end).filter((l) => l.trim()).slice(0, lines).join("\n");
}
