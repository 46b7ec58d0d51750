// The experiment runner: a plan's cells, each migrated until it has its repetitions,
// through Pulumi's Automation API on the stack the plan names. Per cell it sets the
// cell's configuration and runs `up` (a new VM memory replaces the VM; a new profile
// changes the router's WAN emulation); per repetition it sets the next migration run, in the
// direction that moves the VM from where it is, and runs `up` again.
//
// Nothing is lost or repeated: each row is flushed as its run completes, a run under way
// is noted in pending.json first, and a resumed plan recovers that run from the record
// the program wrote (results/<stack>/migration-<run>-<from>-<to>.json) if it completed.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { type MigrationRecord, recordFile } from "../modules/migration/record";
import { engineEnv, ROOT } from "./engine";
import { Cell, cells, Plan, PARAMETERS } from "../model/plan";
import { measured, ResultStore, RunRow, rowFromRecord } from "../analysis/results";
import { ensureSecrets } from "./secrets";
import { configKey } from "../model/config";
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

interface Pending { cell: string; rep: number; run: number; from: string; to: string; at: string }

export interface RunnerOptions {
    resultsDir?: string;
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
    private spec!: LabSpec;
    private stopping = false;
    private stoppingAt = 0;
    /** Aborts the `up` under way (a new one per up: each up adds a listener to it). */
    private abort = new AbortController();
    private location = "";
    private run = 0;

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
            this.progress.say("interrupted: finishing the run under way, then stopping (interrupt again to cancel it)");
        } else if (Date.now() - this.stoppingAt < 1000) {
            // One Ctrl-C reaches us twice: from the terminal and relayed by npm/tsx.
            return;
        } else {
            this.progress.say("cancelling the run under way");
            this.abort.abort();
        }
    }

    async execute(): Promise<Outcome> {
        await this.open();
        // The plan beside its results, so that a report needs nothing else.
        fs.writeFileSync(path.join(this.store.dir, "plan.json"), JSON.stringify(this.plan, null, 2) + "\n");
        const all = cells(this.plan);
        for (const row of this.store.rows()) {
            if (row.plan !== this.plan.name || !all.some((c) => c.key === row.cell)) {
                throw new Error(`${this.store.jsonl} holds runs of another plan or matrix (run ${row.run}, cell '${row.cell}'): ` +
                    "give this plan another name or another results directory");
            }
        }
        await this.clearStaleLock();
        await this.recoverPending();
        for (const cell of all) {
            let entered = false;
            while (!this.stopping) {
                const done = this.store.rows().filter((r) => r.cell === cell.key);
                if (runsToGo(this.plan, done) === 0) break;
                if (!entered) {
                    await this.enter(cell, all.length);
                    entered = true;
                    if (this.stopping) break;
                }
                await this.migrate(cell, all.length, done.length + 1);
            }
            if (this.stopping) break;
        }
        this.progress.end();
        if (this.stopping) return "interrupted";
        if (this.opts.destroy) {
            this.say("destroying the lab");
            await this.stack.destroy({ onOutput: (o) => this.logEngine(o), color: "never" });
        }
        return "complete";
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
        const stackFile = path.join(ROOT, `Pulumi.${this.plan.stack}.yaml`);
        const existing = fs.existsSync(stackFile) ? (yaml.load(fs.readFileSync(stackFile, "utf8")) as any)?.config : undefined;
        const specFile: string = existing?.[configKey("spec")] ?? this.plan.spec;
        this.spec = loadSpec(path.resolve(ROOT, specFile));
        const m = this.spec.migration;
        if (!m) throw new Error(`${specFile} has no migration section: there is nothing to repeat`);
        if (this.plan.matrix.wanProfile && !this.spec.wan) {
            throw new Error(`the plan varies wanProfile, but ${specFile} has no wan section (no router applies a profile)`);
        }
        fs.mkdirSync(this.store.dir, { recursive: true });
        const pulumiCommand = await PulumiCommand.get({ root: path.join(ROOT, ".tools") });
        this.stack = await LocalWorkspace.createOrSelectStack({ stackName: this.plan.stack, workDir: ROOT },
            { pulumiCommand, envVars: engineEnv() });
        // A new stack gets the plan's experiment file (the CLI refuses to read the config of
        // a stack without one, since Pulumi.yaml requires it).
        if (!existing?.[configKey("spec")]) await this.stack.setConfig(configKey("spec"), { value: this.plan.spec });
        const config = await this.stack.getAllConfig();
        // Only a secret the stack does not have yet: the lab was built with the ones it has.
        ensureSecrets({ env: { ...process.env, ...engineEnv() }, cwd: ROOT }, this.plan.stack, this.spec);
        // Run numbers only grow: past this stack's own and this plan's.
        const runs = [Number(config[configKey("migrationRun")]?.value ?? 0), ...this.store.rows().map((r) => r.run)];
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
                else if (path.basename(dir) === this.plan.stack && e.name.endsWith(".json")) locks.push(p);
            }
        };
        walk(path.join(backend.slice("file://".length), ".pulumi", "locks"));
        if (!locks.length) return;
        const owners = locks.map((f) => JSON.parse(fs.readFileSync(f, "utf8")) as { pid: number; hostname: string });
        const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
        if (owners.every((o) => o.hostname === os.hostname() && !alive(o.pid))) {
            this.say(`stack ${this.plan.stack} is locked by engine process ${owners.map((o) => o.pid).join(", ")}, ` +
                "which is gone (killed with the runner?): removing the stale lock");
            await this.stack.cancel();
        }
    }

    /** A run noted as under way when the runner stopped: keep it if the program recorded it. */
    private async recoverPending() {
        if (!fs.existsSync(this.pendingFile)) return;
        const p: Pending = JSON.parse(fs.readFileSync(this.pendingFile, "utf8"));
        const record = this.readRecord(p.run, p.from, p.to);
        const cell = cells(this.plan).find((c) => c.key === p.cell);
        if (record && record.probe.rttBeforeMs === null) {
            this.store.fail({ ...p, error: "the VM did not answer the probe before the migration: not a measurement" });
            this.location = record.to;
            this.say(`run ${p.run} (${p.cell}) completed before the runner stopped, but its VM did not answer before migrating: not a measurement`);
        } else if (record && cell && !this.store.rows().some((r) => r.run === p.run)) {
            this.store.append(rowFromRecord(this.plan, cell, p.rep, record, NaN));
            this.location = record.to;
            this.say(`recovered run ${p.run} (${p.cell}, repetition ${p.rep}): it completed before the runner stopped`);
        } else {
            this.say(`run ${p.run} (${p.cell}, repetition ${p.rep}) did not complete before the runner stopped: it will be run again`);
        }
        fs.rmSync(this.pendingFile);
    }

    private readRecord(run: number, from: string, to: string): MigrationRecord | undefined {
        const file = recordFile(path.join(ROOT, "results"), this.plan.stack, { run, from, to });
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
            await this.stack.setConfig(PARAMETERS[param as keyof typeof PARAMETERS], { value: String(value) });
        }
        const r = await this.up(`cell ${cell.key}`);
        if (r.error) {
            if (this.stopping) return;
            throw new Error(`setting up cell '${cell.key}' failed; the engine said:\n${tail(r.output + "\n" + r.error.message)}`);
        }
        this.location = (await this.stack.outputs()).vms?.value?.[this.spec.migration!.vm]?.host ?? this.spec.migration!.from;
        this.say(`cell ${cell.index + 1}/${ncells} (${cell.key}) set up in ${r.seconds.toFixed(1)} s; the VM is on ${this.location}`);
    }

    private async migrate(cell: Cell, ncells: number, rep: number) {
        const m = this.spec.migration!;
        const forward = this.location !== m.to;
        const [from, to] = forward ? [m.from, m.to] : [m.to, m.from];
        const run = ++this.run;
        const label = `cell ${cell.index + 1}/${ncells} (${cell.key}) repetition ${rep}, run ${run} ${from}→${to}`;
        this.show(label);
        await this.stack.setAllConfig({
            [configKey("migrationRun")]: { value: String(run) },
            [configKey("migrationDirection")]: { value: forward ? "forward" : "back" },
        });
        const pending: Pending = { cell: cell.key, rep, run, from, to, at: new Date().toISOString() };
        fs.writeFileSync(this.pendingFile, JSON.stringify(pending) + "\n");
        const r = await this.up(label);
        // The record, from the stack's outputs or, if the up was cut short after the
        // migration completed, from the file the program wrote as the run completed.
        let record: MigrationRecord | undefined;
        if (!r.error) {
            record = (await this.stack.outputs()).migration?.value;
            if (record?.run !== run) throw new Error(`the stack's migration output is run ${record?.run}, expected ${run}`);
        } else {
            record = this.readRecord(run, from, to);
        }
        // From here on the run is accounted for, whatever follows.
        fs.rmSync(this.pendingFile, { force: true });
        if (record && record.probe.rttBeforeMs === null) {
            // The VM did not answer before the migration began: the lab was broken, not the
            // migration. Not a measurement: kept as a failure, and the VM is started afresh.
            this.location = record.to;
            this.store.fail({ ...pending, error: `${m.vm} did not answer the probe before the migration: not a measurement` });
            this.say(`${label}: ${m.vm} did not answer before migrating, so this run is not a measurement (failures.jsonl)`);
            await this.stopOnSilentVm(`${m.vm} did not answer the probe before run ${run} began`, record.ok ? record.to : record.from);
        } else if (record) {
            const row = rowFromRecord(this.plan, cell, rep, record, r.seconds);
            this.store.append(row);
            this.location = record.to;
            this.progress.ran();
            this.say(`${label}: downtime ${fmt(row.probeDowntimeMs)} ms (libvirt ${fmt(row.libvirtDowntimeMs)} ms), ` +
                `total ${(row.totalMs / 1000).toFixed(2)} s, ${fmt(row.dataMiB)} MiB` + (row.answeredAfter ? "" : ", VM NOT answering after"));
            // A VM that never answered again is a defect to look at, not one to hide behind a
            // fresh VM: the run stands, flagged, and the experiment stops.
            if (!row.answeredAfter) await this.stopOnSilentVm(`${m.vm} did not answer after run ${run}`, record.to);
        } else {
            const error = tail(r.output + "\n" + (r.error?.message ?? ""));
            this.store.fail({ ...pending, error });
            if (!this.stopping) {
                // A VM found on the other host (the state and the lab disagree): go the other way next.
                if (/is not running on .*is it on/.test(error)) this.location = to;
                this.say(`${label} FAILED (kept in failures.jsonl); the engine said:\n${error}`);
                this.stopAfterThreeFailures();
            }
        }
    }

    /** A guest that stopped answering: stop, saying where to look and how to start it afresh. */
    private async stopOnSilentVm(what: string, host: string) {
        const m = this.spec.migration!;
        const home = this.spec.vms.find((v) => v.name === m.vm)!.host;
        const state = await this.stack.exportStack();
        const urn: string | undefined = state.deployment.resources?.find((x: any) => x.urn.endsWith(`::${home}-vm-${m.vm}`))?.urn;
        throw new Error(`${what}: stopping (the lab is left as it is). Its console is /var/log/libvirt/${m.vm}-console.log on ${host}. ` +
            `To start it afresh on ${home} and go on: pulumi up --stack ${this.plan.stack} --replace '${urn ?? `<the ${home}-vm-${m.vm} resource>`}', ` +
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
const tail = (s: string, lines = 25) => s.trim().split("\n").slice(-lines).join("\n");
