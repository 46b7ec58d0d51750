// The experiment runner for real: plans/smoke.yaml (the default lab, 2 memory sizes x 3
// migrations, two per `up`) through the Automation API on a throwaway backend. The runner is
// interrupted with Ctrl-C (it finishes the migrations under way), then killed outright in the
// middle of a batch, then resumed: the plan must end with exactly its six runs, none lost
// and none repeated. Then the stored rows, the statistics and the report are checked,
// and --destroy must leave nothing behind.
import { after, before, describe, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawn, ChildProcess } from "node:child_process";
import * as yaml from "js-yaml";
import { daemonPids, Engine, residue, ROOT, sh, stackConfigFile, tmpEntries } from "./harness";
import { ink, rasterise } from "../ink";
import { loadPlan } from "../../model/plan";
import { ResultStore, readCsv, RunRow } from "../../analysis/results";
import { describe as stats } from "../../analysis/stats";

const STACK = "t-exp";

describe("experiment runner: the smoke plan end to end, interrupted and resumed", () => {
    const engine = new Engine();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "wanlab-test-plan-"));
    const planFile = path.join(work, "smoke.yaml");
    const results = path.join(work, "results");
    const store = new ResultStore(results);
    const daemonsBefore = daemonPids();
    let tmpBefore: Set<string>;
    let output = "";
    /** The CHAP password the runner generated for the new stack: a resumed runner must keep it. */
    let chap = "";
    // The run the kill cut short, which the resumed runner recovered from its record file.
    let recovered: number | undefined;
    const chapNow = () => engine.ok(["config", "get", "chapPassword", "--stack", STACK]).stdout.trim();

    /** Start the runner; resolves with its exit code and what it printed. */
    // In a process group of its own, as a terminal would run it: a crash can take the whole group.
    function runner(extra: string[] = []): { child: ChildProcess; done: Promise<{ code: number | null; out: string }> } {
        const child = spawn(process.execPath, ["--import", "tsx", "scripts/experiment.ts", planFile, "--results", results, ...extra],
            { cwd: ROOT, env: engine.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
        let out = "";
        child.stdout!.on("data", (d) => (out += d));
        child.stderr!.on("data", (d) => (out += d));
        const done = new Promise<{ code: number | null; out: string }>((resolve) => child.on("exit", (code) => {
            output += out;
            resolve({ code, out });
        }));
        return { child, done };
    }
    const until = async (what: string, ok: () => boolean, seconds = 600) => {
        const deadline = Date.now() + seconds * 1000;
        while (!ok()) {
            if (Date.now() > deadline) throw new Error(`waited ${seconds} s for ${what}\n${output}`);
            await new Promise((r) => setTimeout(r, 250));
        }
    };
    /** The file backend's lock files on the stack. */
    const lockFiles = (): string[] => {
        const out: string[] = [];
        const walk = (d: string) => fs.existsSync(d) && fs.readdirSync(d, { withFileTypes: true }).forEach((e) =>
            e.isDirectory() ? walk(path.join(d, e.name)) : path.basename(d) === STACK && out.push(path.join(d, e.name)));
        walk(path.join(engine.backend, ".pulumi", "locks"));
        return out;
    };
    const pulumiRunning = () => sh(`pgrep -f -- '--stack ${STACK}( |$)|tools/engine/(langhost|command-provider)'`).code === 0;

    before(() => {
        tmpBefore = tmpEntries();
        const doc = yaml.load(fs.readFileSync(path.join(ROOT, "plans", "smoke.yaml"), "utf8")) as any;
        fs.writeFileSync(planFile, yaml.dump({ ...doc, stack: STACK, spec: "stacks/local.yaml" }));
        engine.stacks.add(STACK); // cleanup() destroys and removes it whatever happens
    });
    after(() => {
        engine.cleanup();
        fs.rmSync(stackConfigFile(STACK), { force: true });
        fs.rmSync(work, { recursive: true, force: true });
        fs.rmSync(path.join(ROOT, "results", STACK), { recursive: true, force: true });
    });

    test("Ctrl-C after two runs: the migration under way completes and is kept, then the runner stops", async (t) => {
        const { child, done } = runner();
        await until("two stored runs", () => store.rows().length >= 2);
        child.kill("SIGINT");
        const r = await done;
        t.diagnostic(r.out.split("\n").filter((l) => /set up in|repetition \d+, run \d+ .*: downtime/.test(l)).join("\n"));
        assert.equal(r.code, 130, r.out);
        assert.match(r.out, /interrupted: finishing the migrations under way/);
        assert.match(r.out, /run the same command again to resume/);
        const rows = store.rows();
        assert.ok(rows.length === 2 || rows.length === 3, `${rows.length} rows`);
        assert.ok(!fs.existsSync(path.join(results, "pending.json")), "no run is left marked as under way");
        chap = chapNow();
        assert.match(chap, /^[0-9a-f]{24}$/, "the runner generated the stack's CHAP password");
        assert.ok(!engine.stateText(STACK).includes(chap), "and it is not in the state in plain text");
    });

    test("the runner and its engine killed in the middle of a batch: resumed, it keeps the run that completed instead of repeating it", async () => {
        const before = store.rows().length;
        const { child, done } = runner();
        // The run under way has migrated once the program has written its record.
        await until("a run's record", () => {
            if (!fs.existsSync(path.join(results, "pending.json"))) return false;
            const p = JSON.parse(fs.readFileSync(path.join(results, "pending.json"), "utf8")).runs[0];
            return fs.existsSync(path.join(ROOT, "results", STACK, `migration-${p.run}-${p.from}-${p.to}.json`));
        });
        const pending = JSON.parse(fs.readFileSync(path.join(results, "pending.json"), "utf8"));
        recovered = pending.runs[0].run;
        // At most runsPerUp (2) runs in one up, consecutive, each the way back of the one before.
        const runs: { run: number; from: string; to: string }[] = pending.runs;
        assert.ok(runs.length >= 1 && runs.length <= 2, JSON.stringify(runs));
        for (let i = 1; i < runs.length; i++) assert.deepEqual([runs[i].run, runs[i].from, runs[i].to], [runs[0].run + i, runs[i - 1].to, runs[i - 1].from]);
        // The runner, the CLI, the language host and the provider, all at once.
        process.kill(-child.pid!, "SIGKILL");
        await done;
        // Whether the engine died holding the stack's lock depends on how far its update
        // had got after the record was written; the resumed runner must remove the lock
        // when there is one, and say nothing of one when there is none.
        const locked = lockFiles().length > 0;
        assert.equal(store.rows().length, before, "the killed runner stored nothing for the run under way");
        await until("the killed engine's processes to be gone", () => !pulumiRunning(), 60);

        const resumed = runner(["--destroy"]);
        const r = await resumed.done;
        assert.equal(r.code, 0, r.out);
        const staleLock = /is locked by engine process \d+, which is gone .*: removing the stale lock/;
        if (locked) assert.match(r.out, staleLock);
        else assert.doesNotMatch(r.out, staleLock);
        assert.deepEqual(lockFiles(), [], "no lock is left on the stack");
        assert.match(r.out, new RegExp(`recovered run ${pending.runs[0].run} \\(${pending.cell}, repetition ${pending.rep}\\)`));
        assert.match(r.out, /destroying the lab/);
        // Resuming kept the lab's secrets (a new CHAP password would break the next VM's disk login).
        assert.equal(chapNow(), chap);
    });

    test("the plan holds exactly its six runs: none lost, none repeated, each from where the VM was", () => {
        const rows = store.rows();
        const plan = loadPlan(planFile);
        assert.equal(rows.length, 6, JSON.stringify(rows.map((r) => [r.cell, r.rep, r.run])));
        assert.deepEqual(rows.map((r) => r.run), [...rows.map((r) => r.run)].sort((a, b) => a - b), "runs in order");
        assert.equal(new Set(rows.map((r) => r.run)).size, 6, "no run twice");
        for (const mem of plan.matrix.vmMemoryMiB!) {
            const cell = rows.filter((r) => r.vmMemoryMiB === mem);
            assert.deepEqual(cell.map((r) => r.rep), [1, 2, 3], `repetitions of ${mem} MiB`);
            // A new memory size is a new VM, started on host1: its first run goes forward, and
            // each run from where the one before left the VM, unless the run cut short by the
            // kill went through unrecorded (the resumed runner then says so, and goes on from there).
            assert.equal(cell[0].from, "host1");
            for (let i = 1; i < cell.length; i++) {
                if (cell[i].from !== cell[i - 1].to) assert.match(output, /the run cut short when the runner stopped had moved it; going on from there/, `run ${cell[i].run}`);
            }
            for (const r of cell) assert.notEqual(r.from, r.to);
            // libvirt's own figure for the guest's memory: the cell's setting took effect.
            for (const r of cell) assert.ok(Math.abs(r.guestMemoryMiB! - Number(mem)) < 4, `guest memory ${r.guestMemoryMiB} MiB in the ${mem} MiB cell`);
        }
        for (const r of rows) {
            assert.equal(r.answeredAfter, true, `run ${r.run}: the VM answered after the migration`);
            assert.ok(r.probeDowntimeMs! > 0 && r.probeDowntimeMs! < 5000, `run ${r.run} downtime ${r.probeDowntimeMs}`);
            assert.ok(r.totalMs > r.libvirtElapsedMs!, `run ${r.run}`);
            assert.ok(r.dataMiB! > 10, `run ${r.run} moved ${r.dataMiB} MiB`);
            assert.ok(r.probeSent > 100 && r.rttBeforeMs! > 0, `run ${r.run}`);
            // The TCP probe survived, and every run (the first 10 of a cell) split its traffic,
            // but the one the kill cut before its split was read: kept without it.
            assert.equal(r.tcpSurvived, true, `run ${r.run}: the guest's TCP connection`);
            if (r.run !== recovered || r.trafficMigrationMiB !== null) {
                assert.ok(r.trafficMigrationMiB! > r.dataMiB!, `run ${r.run}: ${r.trafficMigrationMiB} MiB of stream on the router for ${r.dataMiB} MiB moved`);
            }
        }
        // The CSV holds the same rows (a CSV library's quoting, read back by its parser).
        assert.deepEqual(fs.existsSync(store.failures) ? fs.readFileSync(store.failures, "utf8").trim().split("\n") : [], [], "no run failed");
        const csv = readCsv(store.csv);
        assert.equal(csv.length, 6);
        for (const [i, r] of csv.entries()) {
            for (const k of ["cell", "run", "from", "to", "vmMemoryMiB", "probeDowntimeMs", "totalMs", "answeredAfter", "tcpSurvived", "trafficMiB"] as (keyof RunRow)[]) {
                assert.equal(r[k], rows[i][k], `csv row ${i} ${k}`);
            }
        }
    });

    test("the report: statistics per cell, figures that rasterise, one HTML file with them inline", async () => {
        const r = sh(`cd '${ROOT}' && node --import tsx scripts/report.ts '${results}'`);
        assert.equal(r.code, 0, r.out);
        const rows = store.rows();
        const md = fs.readFileSync(path.join(results, "report.md"), "utf8");
        // The downtime table's row for each cell carries the statistics of its three runs.
        for (const cell of ["vmMemoryMiB=256", "vmMemoryMiB=320"]) {
            const s = stats(rows.filter((x) => x.cell === cell).map((x) => x.probeDowntimeMs!));
            const line = md.split("\n").find((l) => l.startsWith(`| ${cell} | 3 | ${s.mean.toFixed(1)} | ${s.sd.toFixed(1)} |`));
            assert.ok(line, `downtime row for ${cell} (mean ${s.mean.toFixed(1)}, sd ${s.sd.toFixed(1)}) in\n${md}`);
            assert.ok(line!.includes(`| ${s.halfWidth.toFixed(1)} | ${s.relHalfWidthPct.toFixed(2)} |`), line);
        }
        assert.match(md, /paired differences/);
        assert.match(md, /TCP survival probe per cell/);
        assert.match(md, /Traffic split per migration/);
        for (const f of ["downtime-vs-vmMemoryMiB.svg", "libvirt-downtime-vs-vmMemoryMiB.svg", "total-time-vs-vmMemoryMiB.svg", "traffic-split.svg"]) {
            const svg = fs.readFileSync(path.join(results, f), "utf8");
            assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"[\s\S]*<\/svg>$/);
            const img = rasterise(svg);
            assert.ok(img.width > 300 && img.height > 200, `${f}: ${img.width}x${img.height}`);
            // Drawn, not blank: a share of the pixels is ink (axes, line, error bars, text).
            const dark = ink(svg);
            assert.ok(dark > 2000, `${f}: ${dark} dark pixels`);
        }
        const html = fs.readFileSync(path.join(results, "report.html"), "utf8");
        // The four figures (the traffic split's too), and the drawing of the plan's lab (topology.svg).
        assert.equal(html.match(/<svg /g)?.length, 5);
        assert.ok(ink(fs.readFileSync(path.join(results, "topology.svg"), "utf8")) > 2000, "the lab's drawing");
        assert.match(html, /^<!doctype html>[\s\S]*<\/html>\n$/);
    });

    test("--destroy at the end left nothing behind", () => {
        assert.deepEqual(residue(STACK), []);
        assert.deepEqual([...daemonPids()].filter((p) => !daemonsBefore.has(p)), []);
        assert.deepEqual([...tmpEntries()].filter((e) => !tmpBefore.has(e)), []);
    });
});
