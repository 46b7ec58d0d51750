// npm run experiment -- <plan.yaml> [--results DIR] [--reuse DIR]... [--destroy]
// Runs a plan's migrations on its stack (see lib/experiment.ts), storing each run in
// results/<plan>/ as it completes. Ctrl-C once finishes the run under way and stops; run
// the same command again to resume. Exit status: 0 complete, 130 interrupted, 2 a bad
// plan or stack file, 1 anything else.
import * as path from "node:path";
import { loadPlan } from "../model/plan";
import { SpecValidationError } from "../model/types";
import { Runner } from "../runner/experiment";
import { measured } from "../analysis/results";
import { describe } from "../analysis/stats";
import { duration } from "../runner/progress";

function usage(): never {
    console.error("usage: npm run experiment -- <plan.yaml> [--results DIR] [--reuse DIR]... [--destroy]");
    process.exit(2);
}

async function main() {
    const args = process.argv.slice(2);
    const valued = ["--results", "--reuse"];
    const file = args.find((a, i) => !a.startsWith("--") && !valued.includes(args[i - 1]));
    if (!file) usage();
    const results = args.includes("--results") ? args[args.indexOf("--results") + 1] : undefined;
    if (args.includes("--results") && !results) usage();
    // Earlier runs of the same stack and settings, for this plan's cells that have none.
    const reuse = args.flatMap((a, i) => (a === "--reuse" ? [args[i + 1]] : []));
    if (reuse.some((d) => !d || d.startsWith("--"))) usage();

    let runner: Runner;
    try {
        runner = new Runner(loadPlan(file), { resultsDir: results && path.resolve(results), reuse, destroy: args.includes("--destroy") });
    } catch (err) {
        if (err instanceof SpecValidationError) {
            console.error(`invalid plan:\n${err.message}`);
            process.exit(2);
        }
        throw err;
    }
    process.on("SIGINT", () => runner.interrupt());
    process.on("SIGTERM", () => runner.interrupt());
    const t0 = Date.now();
    const outcome = await runner.execute();

    const rows = runner.store.rows();
    const cellKeys = [...new Set(rows.map((r) => r.cell))];
    console.error(`\n${runner.plan.name}: ${rows.length} runs in ${runner.store.dir}; this session took ${duration((Date.now() - t0) / 1000)}`);
    for (const key of cellKeys) {
        const cell = rows.filter((r) => r.cell === key);
        const down = measured(cell, "probeDowntimeMs");
        const total = measured(cell, "totalMs").map((ms) => ms / 1000);
        const line = (name: string, v: number[], unit: string, d: number) => {
            if (!v.length) return `${name} -`;
            const s = describe(v);
            return `${name} ${s.mean.toFixed(d)} ${unit}` + (s.n > 1 ? ` ± ${s.halfWidth.toFixed(d)}` : "");
        };
        console.error(`  ${key}: n ${total.length}, ${line("downtime", down, "ms", 0)}, ${line("total", total, "s", 2)}`);
    }
    if (outcome === "interrupted") {
        console.error(`stopped before the plan was complete: run the same command again to resume`);
        process.exit(130);
    }
}

main().catch((err) => {
    if (err instanceof SpecValidationError) {
        console.error(`invalid stack file:\n${err.message}`);
        process.exit(2);
    }
    console.error(`\nexperiment failed: ${err?.message ?? err}`);
    process.exit(1);
});
