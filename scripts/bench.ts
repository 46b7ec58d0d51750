// npm run bench [-- --runs N --stacks small,local]: times `up` from nothing, a no-op
// `preview` and `destroy` for each stack over several runs, on a throwaway state
// backend. Writes every sample to results/bench-<time>.json and prints the medians.
// A benchmark, not a test: it asserts nothing beyond each command succeeding.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Engine, ROOT } from "../lib/engine";

function arg(name: string, fallback: string): string {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const runs = Number(arg("runs", "3"));
const stacks = arg("stacks", "small,local").split(",");
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
        const s: Record<string, number[]> = (samples[name] = { up: [], preview: [], destroy: [] });
        for (let i = 1; i <= runs; i++) {
            s.up.push(engine.ok(["up", "--yes", "--skip-preview", "--stack", stack]).seconds);
            s.preview.push(engine.ok(["preview", "--stack", stack]).seconds);
            s.destroy.push(engine.ok(["destroy", "--yes", "--skip-preview", "--stack", stack]).seconds);
            process.stderr.write(`[bench] ${name} run ${i}/${runs}: up ${s.up[i - 1].toFixed(2)} s, ` +
                `preview ${s.preview[i - 1].toFixed(2)} s, destroy ${s.destroy[i - 1].toFixed(2)} s\n`);
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

console.log(`\nmedians over ${runs} runs (seconds)`);
console.log(["stack".padEnd(8), "up".padStart(7), "preview".padStart(8), "destroy".padStart(8)].join(" "));
for (const [name, s] of Object.entries(samples)) {
    console.log([name.padEnd(8), median(s.up).toFixed(2).padStart(7), median(s.preview).toFixed(2).padStart(8),
        median(s.destroy).toFixed(2).padStart(8)].join(" "));
}
console.log(`\nsamples: ${path.relative(ROOT, file)}`);
