// npm run bench [-- --runs N --stacks small,local,local-wan]: for each stack and run, times
// `up` from nothing (for `local` and `local-wan` that includes the VM's boot and migration
// run 1; `local-wan` also boots the router appliance and applies intra-eu), a no-op
// `preview`, one more migration (run 2, back) and `destroy`, on a throwaway state backend,
// and keeps each migration's measurements. Writes every sample to
// results/bench-<time>.json and prints the medians.
// A benchmark, not a test: it asserts nothing beyond each command succeeding.
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

const runs = Number(arg("runs", "3"));
const stacks = arg("stacks", "small,local,local-wan").split(",");
const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const engine = new Engine();
const samples: Record<string, Record<string, number[]>> = {};
try {
    for (const name of stacks) {
        const stack = `bench-${name}`;
        engine.initStack(stack, path.join(ROOT, "stacks", `${name}.yaml`));
        ensureSecrets({ env: engine.env, cwd: ROOT }, stack, loadSpec(path.join(ROOT, "stacks", `${name}.yaml`)));
        const s: Record<string, number[]> = (samples[name] = {
            up: [], preview: [], migrate: [], destroy: [],
            probeDowntimeMs: [], libvirtDowntimeMs: [], totalMs: [], libvirtElapsedMs: [], dataMiB: [],
        });
        const migrates = fs.readFileSync(path.join(ROOT, "stacks", `${name}.yaml`), "utf8").includes("\nmigration:");
        const keep = (stackName: string) => {
            const m = JSON.parse(engine.ok(["stack", "output", "--json", "--stack", stackName]).stdout).migration;
            s.probeDowntimeMs.push(m.probe.downtimeMs);
            s.libvirtDowntimeMs.push(m.libvirt.downtimeMs);
            s.totalMs.push(m.totalMs);
            s.libvirtElapsedMs.push(m.libvirt.timeElapsedMs);
            s.dataMiB.push(m.libvirt.dataProcessedBytes / 1048576);
        };
        const config = (k: string, v: string) => engine.ok(["config", "set", "--stack", stack, configKey(k), v]);
        for (let i = 1; i <= runs; i++) {
            if (migrates) { config("migrationRun", "1"); config("migrationDirection", "forward"); }
            s.up.push(engine.ok(["up", "--yes", "--skip-preview", "--stack", stack]).seconds);
            if (migrates) keep(stack);
            s.preview.push(engine.ok(["preview", "--stack", stack]).seconds);
            if (migrates) {
                config("migrationRun", "2");
                config("migrationDirection", "back");
                s.migrate.push(engine.ok(["up", "--yes", "--skip-preview", "--stack", stack]).seconds);
                keep(stack);
            }
            s.destroy.push(engine.ok(["destroy", "--yes", "--skip-preview", "--stack", stack]).seconds);
            process.stderr.write(`[bench] ${name} run ${i}/${runs}: up ${s.up[i - 1].toFixed(2)} s, ` +
                `preview ${s.preview[i - 1].toFixed(2)} s, ` + (migrates ? `migrate ${s.migrate[i - 1].toFixed(2)} s, ` : "") +
                `destroy ${s.destroy[i - 1].toFixed(2)} s\n`);
        }
    }
} finally {
    engine.cleanup();
}

const file = path.join(ROOT, "results", `bench-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
fs.mkdirSync(path.dirname(file), { recursive: true });
fs.writeFileSync(file, JSON.stringify({
    date: new Date().toISOString(), host: os.hostname(), cpus: os.cpus().length, node: process.version, runs, samples,
}, null, 2));

const fmt = (xs: number[], digits = 2) => (xs.length ? median(xs).toFixed(digits) : "-");
console.log(`\nmedians over ${runs} runs`);
console.log(["stack".padEnd(8), "up s".padStart(7), "preview s".padStart(10), "migrate s".padStart(10), "destroy s".padStart(10)].join(" "));
for (const [name, s] of Object.entries(samples)) {
    console.log([name.padEnd(8), fmt(s.up).padStart(7), fmt(s.preview).padStart(10), fmt(s.migrate).padStart(10), fmt(s.destroy).padStart(10)].join(" "));
}
const measured = Object.entries(samples).filter(([, s]) => s.totalMs.length);
if (measured.length) {
    console.log(`\nmigration medians (${runs * 2} migrations per stack: run 1 forward, run 2 back)`);
    console.log(["stack".padEnd(8), "probe downtime ms".padStart(18), "libvirt downtime ms".padStart(20), "total ms".padStart(9),
        "libvirt elapsed ms".padStart(19), "data MiB".padStart(9)].join(" "));
    for (const [name, s] of measured) {
        console.log([name.padEnd(8), fmt(s.probeDowntimeMs, 1).padStart(18), fmt(s.libvirtDowntimeMs, 0).padStart(20),
            fmt(s.totalMs, 0).padStart(9), fmt(s.libvirtElapsedMs, 0).padStart(19), fmt(s.dataMiB, 1).padStart(9)].join(" "));
    }
}
console.log(`\nsamples: ${path.relative(ROOT, file)}`);
