// npm run bench [-- --pairs N --stacks local,small,local-wan]: the project's life cycle side
// by side with the hand-written baseline (bench/manual-lab.sh), in one run and alternately:
// script `up`, script `down`, then on stacks/local.yaml `pulumi up` from nothing (what the
// script builds: the lab up to the VM answering its check, wanlab:migrationRun 0), a no-op
// `pulumi preview`, two migrations (`up` with the next wanlab:migrationRun, the direction
// flipped each time: run 1 forward, run 2 back), then a batch as the experiment runner runs
// them (one `up` with wanlab:migrationRuns --batch, default 10, from run 3) and `pulumi
// destroy`; and, in each pair, the
// engine's own start: `pulumi up` of an empty program (a throwaway Node.js project with the
// same language host and plugins, on the same throwaway backend, and one secret in its config). Prints medians and the
// ratios the Speed goals are written in; writes every sample to results/bench-<time>.json.
// Other stacks (small, local-wan) are timed by `pulumi` alone, after the pairs.
// A benchmark, not a test: it asserts nothing beyond each command succeeding.
// bench/manual-lab.sh is ../shared/bench/manual-lab.sh with two changes: its image path, and
// <features><acpi/></features> in its domain, without which Debian 12's libvirt (9.0) passes
// QEMU 10 the -no-acpi that QEMU 9.0 removed, and the guest does not start. The lab's own
// domain has ACPI too.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Engine, ROOT } from "../runner/engine";
import { loadSpec } from "../model/validate";
import { ensureSecrets } from "../runner/secrets";
import { configKey } from "../model/config";

function arg(name: string, fallback: string): string {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const pairs = Number(arg("pairs", arg("runs", "3")));
const batch = Number(arg("batch", "10"));
const stacks = arg("stacks", "local").split(",").filter(Boolean);
const SCRIPT = path.join(ROOT, "bench", "manual-lab.sh");
const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);

/** Run the hand-written lab script; its wall time in seconds. */
function script(cmd: "up" | "down"): number {
    const t0 = process.hrtime.bigint();
    const r = spawnSync("bash", [SCRIPT, cmd], { cwd: ROOT, encoding: "utf8", maxBuffer: 64 << 20 });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) throw new Error(`manual-lab.sh ${cmd} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
    return seconds;
}

/** A throwaway Node.js project with an empty program, for the engine's own start. */
function emptyProject(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wanlab-bench-empty-"));
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: bench-empty\nruntime:\n  name: nodejs\n  options:\n    typescript: false\n");
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "bench-empty", main: "index.js" }));
    fs.writeFileSync(path.join(dir, "index.js"), "module.exports = {};\n");
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
    return dir;
}

type Samples = Record<string, number[]>;
const newSamples = (): Samples => ({
    up: [], preview: [], migrate: [], batchUp: [], batchTotalMs: [], destroy: [],
    probeDowntimeMs: [], libvirtDowntimeMs: [], totalMs: [], libvirtElapsedMs: [], dataMiB: [], migrateTotalMs: [],
});

const engine = new Engine();
const samples: Record<string, Samples> = {};
const baseline: Samples = { scriptUp: [], scriptDown: [], engineStart: [] };
const empty = emptyProject();
try {
    const cycle = (name: string, s: Samples, i: number, runs: number) => {
        const stack = `bench-${name}`;
        const migrates = fs.readFileSync(path.join(ROOT, "stacks", `${name}.yaml`), "utf8").includes("\nmigration:");
        const config = (k: string, v: string) => engine.ok(["config", "set", "--stack", stack, configKey(k), v]);
        // The last up's runs: their figures are kept, and the sum of their total migration times returned.
        const migrations = (): number => {
            const ms = JSON.parse(engine.ok(["stack", "output", "--json", "--stack", stack]).stdout).migrations;
            for (const m of ms) {
                s.probeDowntimeMs.push(m.probe.downtimeMs);
                s.libvirtDowntimeMs.push(m.libvirt.downtimeMs);
                s.totalMs.push(m.totalMs);
                s.libvirtElapsedMs.push(m.libvirt.timeElapsedMs);
                s.dataMiB.push(m.libvirt.dataProcessedBytes / 1048576);
            }
            return ms.reduce((a: number, m: any) => a + m.totalMs, 0);
        };
        // `up` builds what the script's `up` builds: the lab, up to the checks (run 0: no
        // migration). Then two migrations, each an `up` with the next run, the direction flipped.
        if (migrates) { config("migrationRun", "0"); config("migrationDirection", "forward"); config("migrationRuns", "1"); }
        s.up.push(engine.ok(["up", "--yes", "--skip-preview", "--stack", stack]).seconds);
        s.preview.push(engine.ok(["preview", "--stack", stack]).seconds);
        if (migrates) {
            for (const [run, direction] of [["1", "forward"], ["2", "back"]]) {
                config("migrationRun", run);
                config("migrationDirection", direction);
                s.migrate.push(engine.ok(["up", "--yes", "--skip-preview", "--stack", stack]).seconds);
                s.migrateTotalMs.push(migrations());
            }
            // The VM is home again (run 2 went back): runs 3 .. 3 + batch - 1 in one up.
            config("migrationRun", "3");
            config("migrationDirection", "forward");
            config("migrationRuns", String(batch));
            s.batchUp.push(engine.ok(["up", "--yes", "--skip-preview", "--stack", stack]).seconds);
            s.batchTotalMs.push(migrations());
            config("migrationRuns", "1");
        }
        s.destroy.push(engine.ok(["destroy", "--yes", "--skip-preview", "--stack", stack]).seconds);
        log(`${name} ${i}/${runs}: up ${s.up[i - 1].toFixed(2)} s, preview ${s.preview[i - 1].toFixed(2)} s, ` +
            (migrates ? `migrate ${[0, 1].map((k) => `${s.migrate[2 * i - 2 + k].toFixed(2)} s (migration ${(s.migrateTotalMs[2 * i - 2 + k] / 1000).toFixed(2)} s)`).join(", ")}, ` +
                `${batch} in one up ${s.batchUp[i - 1].toFixed(2)} s (migrations ${(s.batchTotalMs[i - 1] / 1000).toFixed(2)} s), ` : "") +
            `destroy ${s.destroy[i - 1].toFixed(2)} s`);
    };
    const init = (name: string) => {
        const file = path.join(ROOT, "stacks", `${name}.yaml`);
        engine.initStack(`bench-${name}`, file);
        ensureSecrets({ env: engine.env, cwd: ROOT }, `bench-${name}`, loadSpec(file));
        return (samples[name] = newSamples());
    };

    engine.ok(["--cwd", empty, "stack", "init", "bench-empty"]);
    // One secret, as the lab's stacks have: the engine's own start then includes its secrets
    // provider (the passphrase's key derivation), which the program does not control.
    engine.ok(["--cwd", empty, "config", "set", "--secret", "--stack", "bench-empty", "secret", "--", "bench"]);
    const emptyUp = () => engine.ok(["--cwd", empty, "up", "--yes", "--skip-preview", "--stack", "bench-empty"]).seconds;
    emptyUp(); // warm: the first start of a fresh stack and of tsx's cache is not the one measured
    if (stacks.includes("local")) {
        const s = init("local");
        // The script builds its guest image on its first `up`: build it before timing anything.
        if (!fs.existsSync(path.join(ROOT, ".cache", "manual-lab-img", "initrd.gz"))) { script("up"); script("down"); }
        for (let i = 1; i <= pairs; i++) {
            baseline.scriptUp.push(script("up"));
            baseline.scriptDown.push(script("down"));
            log(`script ${i}/${pairs}: up ${baseline.scriptUp[i - 1].toFixed(2)} s, down ${baseline.scriptDown[i - 1].toFixed(2)} s`);
            baseline.engineStart.push(emptyUp());
            log(`empty program ${i}/${pairs}: up ${baseline.engineStart[i - 1].toFixed(2)} s`);
            cycle("local", s, i, pairs);
        }
    }
    for (const name of stacks.filter((n) => n !== "local")) {
        const s = init(name);
        for (let i = 1; i <= pairs; i++) cycle(name, s, i, pairs);
    }
} finally {
    engine.pulumi(["--cwd", empty, "stack", "rm", "--yes", "--force", "bench-empty"]);
    engine.cleanup();
    fs.rmSync(empty, { recursive: true, force: true });
}

const file = path.join(ROOT, "results", `bench-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
fs.mkdirSync(path.dirname(file), { recursive: true });
fs.writeFileSync(file, JSON.stringify({
    date: new Date().toISOString(), host: os.hostname(), cpus: os.cpus().length, node: process.version, pairs, baseline, samples,
}, null, 2));

const fmt = (xs: number[], digits = 2) => (xs.length ? median(xs).toFixed(digits) : "-");
console.log(`\nmedians over ${pairs} runs`);
console.log(["stack".padEnd(8), "up s".padStart(7), "preview s".padStart(10), "migrate s".padStart(10), "destroy s".padStart(10)].join(" "));
for (const [name, s] of Object.entries(samples)) {
    console.log([name.padEnd(8), fmt(s.up).padStart(7), fmt(s.preview).padStart(10), fmt(s.migrate).padStart(10), fmt(s.destroy).padStart(10)].join(" "));
}
const local = samples.local;
if (local && baseline.scriptUp.length) {
    const m = (xs: number[]) => median(xs);
    const up = m(local.up), sUp = m(baseline.scriptUp), sDown = m(baseline.scriptDown), start = m(baseline.engineStart);
    const overhead = m(local.migrate.map((x, i) => x - local.migrateTotalMs[i] / 1000));
    const batchOverhead = m(local.batchUp.map((x, i) => (x - local.batchTotalMs[i] / 1000) / batch));
    const row = (label: string, value: string, goal: string, met: boolean) =>
        console.log(`${label.padEnd(44)} ${value.padStart(8)}   goal ${goal.padEnd(12)} ${met ? "met" : "MISSED"}`);
    console.log(`\nlocal against bench/manual-lab.sh (${pairs} alternating pairs)`);
    console.log(`script up ${sUp.toFixed(2)} s, script down ${sDown.toFixed(2)} s, engine start (empty program up) ${start.toFixed(2)} s`);
    row("up / script up", `${(up / sUp).toFixed(2)}x`, "<= 1.0x", up / sUp <= 1.0);
    row("(up - engine start) / script up", `${((up - start) / sUp).toFixed(2)}x`, "<= 1.0x", (up - start) / sUp <= 1.0);
    row("destroy / script down", `${(m(local.destroy) / sDown).toFixed(2)}x`, "<= 1.5x", m(local.destroy) / sDown <= 1.5);
    row("no-op preview", `${m(local.preview).toFixed(2)} s`, "<= 2 s", m(local.preview) <= 2);
    row(`repetition overhead, ${batch} runs per up`, `${batchOverhead.toFixed(2)} s`, "<= 1 s", batchOverhead <= 1);
    console.log(`${"  the same with one run per up".padEnd(44)} ${`${overhead.toFixed(2)} s`.padStart(8)}   (the engine's start, paid per up)`);
}
// Every stack's own repetition overhead (local-wan's includes the traffic split's reading after each run).
for (const [name, s] of Object.entries(samples).filter(([n, x]) => n !== "local" && x.batchUp.length)) {
    const per = median(s.batchUp.map((x, i) => (x - s.batchTotalMs[i] / 1000) / batch));
    console.log(`${name}: repetition overhead, ${batch} runs per up: ${per.toFixed(2)} s per run (goal <= 1 s: ${per <= 1 ? "met" : "MISSED"})`);
}
const measured = Object.entries(samples).filter(([, s]) => s.totalMs.length);
if (measured.length) {
    console.log(`\nmigration medians (${pairs * (2 + batch)} migrations per stack: runs 1 and 2 an \`up\` each, then ${batch} in one)`);
    console.log(["stack".padEnd(8), "probe downtime ms".padStart(18), "libvirt downtime ms".padStart(20), "total ms".padStart(9),
        "libvirt elapsed ms".padStart(19), "data MiB".padStart(9)].join(" "));
    for (const [name, s] of measured) {
        console.log([name.padEnd(8), fmt(s.probeDowntimeMs, 1).padStart(18), fmt(s.libvirtDowntimeMs, 0).padStart(20),
            fmt(s.totalMs, 0).padStart(9), fmt(s.libvirtElapsedMs, 0).padStart(19), fmt(s.dataMiB, 1).padStart(9)].join(" "));
    }
}
console.log(`\nsamples: ${path.relative(ROOT, file)}`);
