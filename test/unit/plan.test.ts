// Plans, the runner's stopping rule, the results store and the report, without a lab:
// validation errors as `file: /pointer: reason`, the matrix's cells, seed 001's rule,
// CSV written by csv-stringify and read back, and the report's tables and figures from
// rows made up here.
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { cellConfig, cells, cellStack, DEFAULT_RUNS_PER_UP, loadPlan, stackSpec, validatePlan, Plan } from "../../model/plan";
import { applySettings, parseSettings, settledErrors } from "../../model/config";
import { loadSpec } from "../../model/validate";
import { MAX_RUNS_PER_UP } from "../../modules/migration/model";
import { engineError, Runner, runsToGo } from "../../runner/experiment";
import { ResultStore, readCsv, RunRow } from "../../analysis/results";
import { buildReport, fillNotes, markdown, rateNote } from "../../analysis/report";
import { describe as stats } from "../../analysis/stats";
import { SpecValidationError } from "../../model/types";

const ROOT = path.resolve(__dirname, "..", "..");
const base = { name: "p", stack: "local", matrix: { vmMemoryMiB: [256, 512] }, repetitions: 3 };

function row(cell: string, rep: number, params: Partial<RunRow>, probe: number, total: number): RunRow {
    return {
        plan: "p", stack: "local", cell, rep, run: rep, from: "host1", to: "host2", startedAt: new Date(1e12 + rep).toISOString(),
        probeDowntimeMs: probe, libvirtDowntimeMs: probe - 30, totalMs: total, libvirtElapsedMs: total - 1000, dataMiB: 80,
        guestMemoryMiB: 256, probeSent: 500, probeLost: 3, rttBeforeMs: 1.2, answeredAfter: true, upS: 12, ...params,
    };
}

describe("plans", () => {
    it("every sample plan in plans/ is valid", () => {
        for (const f of fs.readdirSync(path.join(ROOT, "plans")).filter((n) => n.endsWith(".yaml"))) {
            const plan = loadPlan(path.join(ROOT, "plans", f));
            assert.ok(cells(plan).length >= 1, f);
            assert.ok(fs.existsSync(path.join(ROOT, plan.spec)), `${f}: ${plan.spec}`);
            // Every cell can be built: its settings hold on the plan's stack file (a fill fits its memory).
            const spec = loadSpec(path.join(ROOT, plan.spec));
            for (const c of cells(plan)) {
                const { settings, errors } = parseSettings(cellConfig(c));
                assert.deepEqual([...errors, ...settledErrors(applySettings(structuredClone(spec), settings))], [], `${f} ${c.key}`);
            }
        }
    });

    it("runsPerUp: 10 unless the plan says, and no more than wanlab:migrationRuns accepts", () => {
        assert.equal(validatePlan(base).plan!.runsPerUp, DEFAULT_RUNS_PER_UP);
        assert.equal(validatePlan({ ...base, runsPerUp: MAX_RUNS_PER_UP }).plan!.runsPerUp, MAX_RUNS_PER_UP);
        const over = validatePlan({ ...base, runsPerUp: MAX_RUNS_PER_UP + 1 }).errors.map((e) => `${e.pointer}: ${e.reason}`);
        assert.deepEqual(over, [`/runsPerUp: ${MAX_RUNS_PER_UP + 1} is too large: must be at most ${MAX_RUNS_PER_UP}`]);
        assert.match(validatePlan({ ...base, runsPerUp: 0 }).errors.map((e) => e.reason).join(), /too small: must be at least 1/);
    });

    it("a failed up's error is the engine's Diagnostics section, not the outputs' diff printed after it", () => {
        const out = ["Updating (t):", " +  command:local:Command x creating failed", "Diagnostics:", "  command:local:Command (x):",
            "    error: vm1 is not running on host2 (state: shut off): it runs on host1.", "", "Outputs:", "  - migration: {", "      - run: 4", "Resources:", "    2 errored"];
        assert.equal(engineError(out.join("\n")), "  command:local:Command (x):\n    error: vm1 is not running on host2 (state: shut off): it runs on host1.");
        assert.equal(engineError("a\nb\nc", 2), "b\nc", "no Diagnostics: the last lines");
    });

    it("errors name the path and the reason, all at once", () => {
        const { errors } = validatePlan({ ...base, name: "Bad Name", matrix: { vmMemoryMiB: [32], delay: [1] }, repetitions: 0 });
        const text = errors.map((e) => `${e.pointer}: ${e.reason}`).join("\n");
        assert.match(text, /\/name: "Bad Name" is not valid: lower-case letters/);
        assert.match(text, /\/matrix: unknown property 'delay'/);
        assert.match(text, /\/matrix\/vmMemoryMiB\/0: 32 is too small: must be at least 64/);
        assert.match(text, /\/repetitions: 0 is too small: must be at least 1/);
        const rule = validatePlan({ ...base, repetitions: { untilRelHalfWidthPct: 5, min: 20, max: 10 } });
        assert.deepEqual(rule.errors, [{ pointer: "/repetitions/min", reason: "is 20, more than max (10)" }]);
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "wanlab-test-")), "bad.yaml");
        fs.writeFileSync(file, "name: p\nstack: local\nmatrix: {wanProfile: [moon]}\nrepetitions: 2\n");
        assert.throws(() => loadPlan(file), (e: any) => e instanceof SpecValidationError &&
            e.message === `${file}: /matrix/wanProfile/0: "moon" is not allowed: must be one of "campus", "intra-eu", "trans-atlantic", "trans-pacific"`);
        fs.rmSync(path.dirname(file), { recursive: true });
    });

    it("cells: the first parameter listed varies slowest", () => {
        const { plan } = validatePlan({ ...base, matrix: { vmMemoryMiB: [256, 512], wanProfile: ["campus", "intra-eu"] } });
        assert.deepEqual(cells(plan!).map((c) => c.key), [
            "vmMemoryMiB=256 wanProfile=campus", "vmMemoryMiB=256 wanProfile=intra-eu",
            "vmMemoryMiB=512 wanProfile=campus", "vmMemoryMiB=512 wanProfile=intra-eu",
        ]);
    });

    it("runs to go: a fixed count, or seed 001's rule between min and max", () => {
        const fixed = validatePlan(base).plan!;
        assert.equal(runsToGo(fixed, []), 3);
        assert.equal(runsToGo(fixed, [row("c", 1, {}, 300, 5000)]), 2);
        const rule = validatePlan({ ...base, repetitions: { untilRelHalfWidthPct: 5, min: 3, max: 6 } }).plan!;
        assert.equal(runsToGo(rule, [row("c", 1, {}, 300, 5000)]), 2, "below min");
        const tight = [300, 301, 299].map((d, i) => row("c", i + 1, {}, d, 5000));
        assert.equal(runsToGo(rule, tight), 0, `half-width ${stats([300, 301, 299]).relHalfWidthPct} % is under 5 %`);
        const loose = [200, 400, 300].map((d, i) => row("c", i + 1, {}, d, 5000));
        assert.equal(runsToGo(rule, loose), 1, `half-width ${stats([200, 400, 300]).relHalfWidthPct.toFixed(1)} % is over 5 %`);
        const many = [200, 400, 300, 250, 350, 260].map((d, i) => row("c", i + 1, {}, d, 5000));
        assert.equal(runsToGo(rule, many), 0, "max reached");
        // A run whose VM never answered again (its downtime only a lower bound) is left out of the precision.
        const flagged = [300, 301, 299, 9000].map((d, i) => row("c", i + 1, { answeredAfter: i !== 3 }, d, 5000));
        assert.equal(runsToGo(rule, flagged), 0);
        assert.equal(runsToGo(rule, flagged.map((r) => ({ ...r, answeredAfter: true }))), 1);
    });
});

describe("results store", () => {
    it("appends rows to JSON Lines and rewrites the CSV; both read back the same, quoting included", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wanlab-test-"));
        const store = new ResultStore(dir);
        store.append(row("vmMemoryMiB=256", 1, { vmMemoryMiB: 256, plan: 'odd, "quoted" plan' }, 300, 5000));
        store.append(row("vmMemoryMiB=256", 2, { vmMemoryMiB: 256, libvirtDowntimeMs: null }, 310, 5100));
        const csv = readCsv(store.csv);
        assert.deepEqual(csv.map((r) => [r.plan, r.rep, r.probeDowntimeMs, r.libvirtDowntimeMs, r.answeredAfter, r.vmMemoryMiB]),
            [['odd, "quoted" plan', 1, 300, 270, true, 256], ["p", 2, 310, null, true, 256]]);
        assert.match(fs.readFileSync(store.csv, "utf8"), /^plan,stack,cell,rep,run,/);
        assert.match(fs.readFileSync(store.csv, "utf8"), /"odd, ""quoted"" plan"/);
        // A line cut short by a crash is skipped, not fatal, and later rows still count.
        fs.appendFileSync(store.jsonl, '{"plan":"p","cel');
        fs.appendFileSync(store.jsonl, "\n");
        store.append(row("vmMemoryMiB=256", 3, {}, 320, 5200));
        assert.deepEqual(store.rows().map((r) => r.rep), [1, 2, 3]);
        fs.rmSync(dir, { recursive: true });
    });
});

describe("report", () => {
    const plan: Plan = validatePlan({
        ...base, name: "wan", stack: "local-wan",
        matrix: { vmMemoryMiB: [256, 512], wanProfile: ["campus", "trans-pacific"] }, compare: ["seed000-vxlan"],
    }).plan!;
    const rows: RunRow[] = [];
    for (const c of cells(plan)) {
        const slow = c.params.wanProfile === "trans-pacific" ? 2 : 1;
        const big = c.params.vmMemoryMiB === 512 ? 10 : 0;
        [0, 1, 2].forEach((i) => rows.push(row(c.key, i + 1, c.params as Partial<RunRow>, 300 * slow + big + 10 * i, 5000 * slow + 1000 * i)));
    }
    rows.push(row("vmMemoryMiB=256 wanProfile=campus", 4, { vmMemoryMiB: 256, wanProfile: "campus", answeredAfter: false }, 9000, 5000));

    it("tables: per-cell statistics, the study beside, paired differences; flagged runs left out and named", async () => {
        const r = await buildReport(plan, rows);
        const md = markdown(plan, rows, r, []);
        // Campus at 256 MiB: 300, 310, 320 ms (the flagged 9000 ms run is left out).
        const s = stats([300, 310, 320]);
        assert.ok(md.includes(`| vmMemoryMiB=256 wanProfile=campus | 3 | 310.0 | 10.0 | 300.0 | 320.0 | ${s.halfWidth.toFixed(1)} | ${s.relHalfWidthPct.toFixed(2)} |`), md);
        assert.match(md, /1 run\(s\) are left out .* \(runs 4\)/);
        // Beside seed 000 Table 1(a), campus: 430.54 ms; (310 - 430.54) / 430.54 = -28.0 %.
        assert.ok(md.includes("| vmMemoryMiB=256 wanProfile=campus | 310.0 ± 24.8 (n 3) | 430.5 ± 10.7 (n 40) | seed 000 Table 1(a) | -28.0 % |"), md);
        // Total time at trans-pacific, 512 MiB: 10, 11, 12 s beside Table 2(b)'s 98.48 s.
        assert.ok(md.includes("| vmMemoryMiB=512 wanProfile=trans-pacific | 11.00 ± 2.48 (n 3) | 98.48 ± 2.70 (n 40) | seed 000 Table 2(b) | -88.8 % |"), md);
        // Paired: 512 minus 256 at each profile is exactly +10 ms (SD 0, so the interval is a point).
        assert.ok(md.includes("| wanProfile=campus | vmMemoryMiB=512 − vmMemoryMiB=256 | 3 | 10.0 | [10.0, 10.0] |"), md);
        assert.deepEqual(r.figures.map((f) => f.file), ["downtime-vs-delay.svg", "libvirt-downtime-vs-delay.svg", "total-time-vs-delay.svg"]);
    });

    it("precision: the cells over the studies' 5 % named with their n; the trends the studies report checked on the means", async () => {
        const r = await buildReport(plan, rows);
        // Campus: 300, 310, 320 ms: half-width 24.8 ms, 8.0 % of 310; trans-pacific 4.1 % of 610.
        assert.ok(r.notes.includes("PRECISION MISSED: 2 of 4 cells have a downtime (probe) relative 95 % half-width over the studies' 5 % " +
            "(this plan runs a fixed 3 a cell): vmMemoryMiB=256 wanProfile=campus (n 3, 8.0 %); vmMemoryMiB=512 wanProfile=campus (n 3, 7.8 %)."), r.notes.join("\n"));
        assert.ok(r.notes.includes("Trend holds: Downtime rises with delay (vmMemoryMiB=256): campus 310.0 → trans-pacific 610.0 ms."), r.notes.join("\n"));
        assert.ok(r.notes.includes("Trend holds: Total migration time rises with delay (vmMemoryMiB=512): campus 6.00 → trans-pacific 11.00 s."), r.notes.join("\n"));
        // These rows give both memory sizes the same total time: the study's memory trend is not there.
        assert.ok(r.notes.includes("TREND DOES NOT HOLD: Total migration time rises with memory (wanProfile=campus): 256 6.00 → 512 6.00 s (the last is not above the first)."), r.notes.join("\n"));
        // Seed 001's rule: its own target, and a cell that falls as the delay grows is named.
        const rule = validatePlan({ ...base, matrix: { wanProfile: ["campus", "intra-eu"] }, repetitions: { untilRelHalfWidthPct: 10, min: 2, max: 5 } }).plan!;
        const fall = [row("wanProfile=campus", 1, { wanProfile: "campus" }, 500, 9000), row("wanProfile=campus", 2, { wanProfile: "campus" }, 502, 9000),
            row("wanProfile=intra-eu", 1, { wanProfile: "intra-eu" }, 300, 9100), row("wanProfile=intra-eu", 2, { wanProfile: "intra-eu" }, 302, 9100)];
        const rr = await buildReport(rule, fall);
        assert.ok(rr.notes.includes("Precision: every cell's downtime (probe) has a relative 95 % half-width within the plan's target of 10 %."), rr.notes.join("\n"));
        assert.ok(rr.notes.includes("TREND DOES NOT HOLD: Downtime rises with delay (all): campus 501.0 → intra-eu 301.0 ms (intra-eu below campus)."), rr.notes.join("\n"));
    });

    it("the WAN rate beside the tables: the plan's, the stack file's, or none said as such", () => {
        assert.equal(rateNote(validatePlan({ ...base, matrix: { wanRateMbit: [100, 0] } }).plan!),
            "WAN rate: 100 Mbit/s, none on the router's WAN interfaces, by cell (wanRateMbit).");
        assert.equal(rateNote(validatePlan(base).plan!),
            "WAN rate: none set (stacks/local.yaml): the rate is what the lab achieves (seed 000's host links ran at about 100 Mbit/s, seed 001's WAN links at 1 Gbit/s).");
        assert.equal(rateNote(loadPlan(path.join(ROOT, "plans", "seed000-vxlan.yaml"))), "WAN rate: 100 Mbit/s on the router's WAN interfaces, by cell (wanRateMbit).");
        // Link rates (tbf on each end), per stack of a stack axis.
        assert.equal(rateNote(loadPlan(path.join(ROOT, "plans", "seed003-modes.yaml"))), "WAN rate: links campus-lan 1000 Mbit/s (stacks/seed003-intra.yaml); " +
            "links campus-a-lan 1000, campus-b-lan 1000, core 100 Mbit/s (stacks/seed003-nat.yaml); links campus-a-lan 1000, campus-b-lan 1000, core 100 Mbit/s (stacks/seed003-bridged.yaml).");
    });

    it("data moved against filled memory: its range over the runs with a workload, and a run that moved less flagged", () => {
        const rs = [row("c", 1, { fillMiB: 128, dataMiB: 215 }, 300, 5000), row("c", 2, { fillMiB: 128, dataMiB: 230 }, 300, 5000), row("c", 3, {}, 300, 5000)];
        assert.deepEqual(fillNotes(rs), ["Data moved against filled memory (2 runs with a workload): data moved less filled memory is 87 to 102 MiB, " +
            "median 102 MiB (the guest's kernel and programs, and what it rewrote during the migration)."]);
        const short = fillNotes([...rs, row("c", 4, { fillMiB: 256, dataMiB: 100 }, 300, 5000)]);
        assert.equal(short.length, 2);
        assert.equal(short[1], "CHECK FAILED: 1 run(s) moved less than their guest had filled, so they did not migrate the memory their cell says: run 4 moved 100 MiB of 256 MiB filled.");
        assert.deepEqual(fillNotes([row("c", 1, {}, 300, 5000)]), [], "no workload, no note");
    });

    it("the TCP probe and the traffic split per cell, the split beside seed 000 §6.4's, with its figure", async () => {
        const split = { trafficMiB: 500, trafficMigrationMiB: 498, trafficStorageMiB: 0.5, trafficClientMiB: 1.49, trafficTunnelMiB: 0.01, trafficOtherMiB: 0 };
        const rs = cells(plan).flatMap((c) => [1, 2].map((i) => row(c.key, i, {
            ...(c.params as Partial<RunRow>), tcpSurvived: i === 1, tcpStallMs: 400 * i, tcpRetrans: 2 * i, ...(i === 1 ? split : {}),
        }, 300, 5000)));
        const r = await buildReport(plan, rs);
        const md = markdown(plan, rs, r, []);
        // Two runs a cell, one survived; stalls 400 and 800 ms; retransmissions 2 and 4.
        assert.ok(md.includes("| vmMemoryMiB=256 wanProfile=campus | 2 | 1 | 600.0 | 800.0 | 3.0 |"), md);
        // One run a cell split its traffic: 498 of 500 MiB the migration's.
        assert.ok(md.includes("| vmMemoryMiB=256 wanProfile=campus | 1 | 500.0 | 498.000 (99.6000 %) | 0.500 (0.1000 %) | 1.490 (0.2980 %) | 0.010 (0.0020 %) | 0.000 (0.0000 %) |"), md);
        // Beside the study's 256 MB split: 500 MiB is 524.3 MB against its 523.53 MB.
        assert.ok(md.includes("| vmMemoryMiB=256 wanProfile=campus | 524.3 MB | 523.53 MB | 99.6000 % / 99.73 % | 0.1000 % / 0.03 % | 0.2980 % / 0.2 % | 0.0020 % / 0.0008 % |"), md);
        assert.ok(r.figures.some((f) => f.file === "traffic-split.svg" && f.svg.includes("migration")));
        // Without either probe, neither table.
        const none = await buildReport(plan, rows);
        assert.ok(!none.tables.some((t) => /TCP survival|Traffic split/.test(t.caption)));
    });

    it("figures: one line per memory size plus the study's, over the profiles in order", async () => {
        const r = await buildReport(plan, rows);
        const svg = r.figures.find((f) => f.file === "downtime-vs-delay.svg")!.svg;
        for (const label of ["measured, vmMemoryMiB 256", "measured, vmMemoryMiB 512", "seed 000 VXLAN, 256 MB (Table 1(a))", "campus", "trans-pacific"]) {
            assert.ok(svg.includes(label), label);
        }
        assert.ok(svg.indexOf(">campus<") < svg.indexOf(">trans-pacific<"), "profiles in delay order");
    });
});

describe("the runner checks the plan's stack file first", () => {
    const ROOT = path.resolve(__dirname, "..", "..");
    const attempt = async (specText: string) => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wanlab-test-"));
        const spec = path.join(dir, "stack.yaml");
        fs.writeFileSync(spec, specText);
        const stack = `t-badplan-${process.pid}`;
        const plan = validatePlan({ ...base, name: "badplan", stack, spec }).plan!;
        const results = path.join(dir, "results");
        let error: unknown;
        try {
            await new Runner(plan, { resultsDir: results }).execute();
        } catch (e) {
            error = e;
        }
        const left = [fs.existsSync(path.join(ROOT, `Pulumi.${stack}.yaml`)) && `Pulumi.${stack}.yaml`, fs.existsSync(results) && "results"].filter(Boolean);
        fs.rmSync(dir, { recursive: true, force: true });
        return { error, left, spec };
    };

    it("an invalid stack file fails with its errors, and leaves no stack file and no results", async () => {
        const { error, left, spec } = await attempt(fs.readFileSync(path.join(ROOT, "stacks", "local.yaml"), "utf8").replace("mac: \"52:54:00:00:01:01\"", "mac: \"01:00:5e:00:01:01\""));
        assert.ok(error instanceof SpecValidationError, String(error));
        assert.match((error as Error).message, new RegExp(`^${spec.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: /vms/0/interfaces/0/mac: MAC 01:00:5e:00:01:01 is a multicast address`));
        assert.deepEqual(left, []);
    });

    it("a stack file without a migration: nothing to repeat, said before any stack exists", async () => {
        const { error, left } = await attempt(fs.readFileSync(path.join(ROOT, "stacks", "small.yaml"), "utf8"));
        assert.match(String(error), /has no migration section: there is nothing to repeat/);
        assert.deepEqual(left, []);
    });
});

describe("a plan that varies the stack (the approach)", () => {
    const doc = (extra: object) => ({ name: "p", matrix: { stack: ["local-wan", "local-gre"], wanProfile: ["campus", "intra-eu"] }, repetitions: 3, ...extra });

    it("each stack is a block of cells, created from stacks/<stack>.yaml", () => {
        const { plan, errors } = validatePlan(doc({}));
        assert.deepEqual(errors, []);
        assert.deepEqual([plan!.stack, plan!.stacks, plan!.spec], ["local-wan", ["local-wan", "local-gre"], "stacks/local-wan.yaml"]);
        assert.deepEqual(cells(plan!).map((c) => [c.key, cellStack(plan!, c)]), [
            ["stack=local-wan wanProfile=campus", "local-wan"], ["stack=local-wan wanProfile=intra-eu", "local-wan"],
            ["stack=local-gre wanProfile=campus", "local-gre"], ["stack=local-gre wanProfile=intra-eu", "local-gre"],
        ]);
        assert.equal(stackSpec(plan!, "local-gre"), "stacks/local-gre.yaml");
    });

    it("in words: a stack given twice, none, a spec beside the axis, the axis not first", () => {
        const words = (d: object) => validatePlan(d).errors.map((e) => `${e.pointer}: ${e.reason}`);
        assert.deepEqual(words(doc({ stack: "local" })), ["/stack: the matrix varies the stack (matrix.stack): give the stacks there, not here too"]);
        assert.deepEqual(words({ name: "p", matrix: { wanProfile: ["campus"] }, repetitions: 3 }), [": a plan needs its stack: stack, or a stack axis in the matrix (matrix.stack)"]);
        assert.deepEqual(words(doc({ spec: "x.yaml" })), ["/spec: with a stack axis each stack is created from stacks/<stack>.yaml: leave spec out"]);
        assert.deepEqual(words({ name: "p", matrix: { wanProfile: ["campus"], stack: ["a", "b"] }, repetitions: 3 }),
            ["/matrix/stack: the stack axis comes first in the matrix: each approach runs as a block of its own"]);
    });

    it("the report compares the approaches per cell with Welch's interval, not paired", async () => {
        const plan = validatePlan(doc({})).plan!;
        const rows = cells(plan).flatMap((c) => [1, 2, 3].map((i) => row(c.key, i, { stack: cellStack(plan, c) },
            (c.params.stack === "local-gre" ? 600 : 450) + 10 * i, 25000 + 100 * i)));
        const r = await buildReport(plan, rows);
        const t = r.tables.find((x) => x.caption.startsWith("Downtime (probe) (ms): approaches compared"))!;
        assert.deepEqual(t.head, ["cell", "approaches", "n", "mean local-wan", "mean other", "difference", "95 % CI", "study's difference [95 % CI]"]);
        // Equal spreads, difference 150: Welch's df is 4 and the half-width t(0.975, 4) * sqrt(2 * 100 / 3) = 22.67.
        assert.deepEqual(t.rows[0], ["wanProfile=campus", "local-gre − local-wan", "3 / 3", "470.0", "620.0", "150.0", "[127.3, 172.7]", "-"]);
        assert.ok(!r.tables.some((x) => x.caption.includes("paired differences")), "blocks are not paired");
    });

    it("compare per stack: each approach beside its own study, and the study's GRE − VXLAN beside ours", async () => {
        const plan = validatePlan(doc({ compare: { "local-wan": ["seed000-vxlan"], "local-gre": ["seed000-gre"] } })).plan!;
        assert.deepEqual(plan.compare, ["seed000-vxlan", "seed000-gre"]);
        // The VXLAN block reused from an earlier plan, the GRE block this plan's own.
        const rows = cells(plan).flatMap((c) => [1, 2, 3].map((i) => row(c.key, i, {
            stack: cellStack(plan, c), ...(c.params.stack === "local-wan" ? { reusedFrom: "seed000-vxlan" } : { startedAt: "2026-12-06T02:39:54.000Z" }),
        }, (c.params.stack === "local-gre" ? 600 : 450) + 10 * i, 25000 + 100 * i)));
        const r = await buildReport(plan, rows);
        assert.ok(r.notes.includes("6 runs of stack local-wan were measured by plan seed000-vxlan (2001-09-09T01:46 to 2001-09-09T01:46 UTC) " +
            "and reused here; this plan's own runs are from 2026-12-06T02:39 to 2026-12-06T02:39 UTC."), r.notes.join("\n"));
        const beside = (study: string) => r.tables.find((x) => x.caption.startsWith(`Downtime (probe) (ms): measured beside ${study}`))!.rows.map((x) => x[0]);
        assert.deepEqual(beside("seed 000 VXLAN"), ["stack=local-wan wanProfile=campus", "stack=local-wan wanProfile=intra-eu"]);
        assert.deepEqual(beside("seed 000 GRE"), ["stack=local-gre wanProfile=campus", "stack=local-gre wanProfile=intra-eu"]);
        // Table 3(a) against 1(a) at campus: 578.65 − 430.54 = 148.11, n 40 each, SD 30.64 and 34.49: Welch df 76.9, t 1.991, half-width 14.53.
        const t = r.tables.find((x) => x.caption.startsWith("Downtime (probe) (ms): approaches compared"))!;
        assert.equal(t.rows[0][7], "148.1 [133.6, 162.6]");
        // Ours: +150 with half-width 22.7 at both profiles; the study's GRE is above VXLAN at campus and intra-eu.
        assert.ok(r.notes.includes("Downtime (probe), local-gre against local-wan (Welch's 95 % interval of the difference): " +
            "above in 2, below in 0 and within noise in 0 of 2 cells; in the studies compared, above in 2, below in 0 and within noise in 0 of 2 cells."), r.notes.join("\n"));
    });

    it("studies per stack name stacks of the matrix, and need a stack axis", () => {
        const words = (d: object) => validatePlan(d).errors.map((e) => `${e.pointer}: ${e.reason}`);
        assert.deepEqual(words(doc({ compare: { "local-vx": ["seed000-vxlan"] } })), ["/compare/local-vx: is no stack of the matrix (local-wan, local-gre)"]);
        assert.deepEqual(words({ ...base, compare: { local: ["seed000-vxlan"] } }), ["/compare/local: studies per stack need a stack axis (matrix.stack): give compare as a list"]);
    });

    it("--reuse takes another plan's runs into the empty cells of the same stack and settings, once", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wanlab-reuse-"));
        try {
            const plan = validatePlan(doc({})).plan!;
            const earlier = new ResultStore(path.join(dir, "earlier"));
            // A one-stack plan's rows: its cell keys have no stack, its rows name it.
            for (const [i, p] of ["campus", "intra-eu", "trans-pacific"].entries()) {
                earlier.append(row(`wanProfile=${p}`, 1, { plan: "old", stack: "local-wan", wanProfile: p, run: 7 + i }, 450, 25000));
            }
            earlier.append(row("wanProfile=campus", 2, { plan: "old", stack: "other", wanProfile: "campus", run: 20 }, 450, 25000));
            const runner = new Runner(plan, { resultsDir: path.join(dir, "p"), reuse: [path.join(dir, "earlier")] });
            (runner as any).reuse(path.join(dir, "earlier"), cells(plan));
            const got = runner.store.rows().map((r) => [r.plan, r.cell, r.run, r.reusedFrom]);
            assert.deepEqual(got, [["p", "stack=local-wan wanProfile=campus", 7, "old"], ["p", "stack=local-wan wanProfile=intra-eu", 8, "old"]]);
            // Again (a resumed plan): nothing is taken twice, and that is no error.
            (runner as any).reuse(path.join(dir, "earlier"), cells(plan));
            assert.equal(runner.store.rows().length, 2);
            assert.equal(readCsv(runner.store.csv)[0].reusedFrom, "old");
            const none = new Runner(validatePlan({ ...doc({}), name: "q" }).plan!, { resultsDir: path.join(dir, "q") });
            const other = new ResultStore(path.join(dir, "other"));
            other.append(row("x", 1, { plan: "old2", stack: "local-wan", wanProfile: "trans-pacific" }, 450, 25000));
            assert.throws(() => (none as any).reuse(path.join(dir, "other"), cells(none.plan)),
                /none of its 1 runs matches an empty cell of plan q \(same stack and settings\)/);
            assert.throws(() => (none as any).reuse(path.join(dir, "absent"), cells(none.plan)), /it has no runs.jsonl/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
