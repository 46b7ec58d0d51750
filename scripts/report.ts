// npm run report -- results/<plan> [--out DIR]
// Writes report.md, report.html and the SVG figures for a plan's results (see
// lib/report.ts), into the results directory or DIR.
import * as fs from "node:fs";
import * as path from "node:path";
import { ResultStore, readCsv } from "../analysis/results";
import { writeReport } from "../analysis/report";
import { duration } from "../runner/progress";
import type { Plan } from "../model/plan";

async function main() {
    const args = process.argv.slice(2);
    const dir = args.find((a, i) => !a.startsWith("--") && args[i - 1] !== "--out");
    if (!dir) {
        console.error("usage: npm run report -- results/<plan> [--out DIR]");
        process.exit(2);
    }
    const out = args.includes("--out") ? args[args.indexOf("--out") + 1] : dir;
    const planFile = path.join(dir, "plan.json");
    if (!fs.existsSync(planFile)) {
        console.error(`${dir}: no plan.json here; is this a results directory written by npm run experiment?`);
        process.exit(2);
    }
    const plan: Plan = JSON.parse(fs.readFileSync(planFile, "utf8"));
    const store = new ResultStore(dir);
    const rows = store.rows();
    if (!rows.length) {
        console.error(`${store.jsonl}: no runs yet`);
        process.exit(2);
    }
    // The CSV is the same rows: say so if someone edited one and not the other.
    if (fs.existsSync(store.csv) && readCsv(store.csv).length !== rows.length) {
        console.error(`warning: ${store.csv} and ${store.jsonl} hold different numbers of runs; the report uses the JSON Lines`);
    }
    const starts = rows.map((r) => Date.parse(r.startedAt));
    const last = rows[starts.indexOf(Math.max(...starts))];
    const header = [
        `${(plan.stacks ?? [plan.stack]).length > 1 ? "stacks" : "stack"} ${(plan.stacks ?? [plan.stack]).map((x) => `\`${x}\``).join(", ")}, ${rows.length} runs, ${store.failed().length} failed attempt(s) (failures.jsonl)`,
        `first run ${new Date(Math.min(...starts)).toISOString()}, last ${last.startedAt}; ` +
        `span ${duration((Math.max(...starts) + last.totalMs - Math.min(...starts)) / 1000)}`,
        `repetitions: ${"fixed" in plan.repetitions ? plan.repetitions.fixed : JSON.stringify(plan.repetitions)}`,
        `report written ${new Date().toISOString()} by \`npm run report -- ${dir}\``,
    ];
    fs.mkdirSync(out, { recursive: true });
    // The FTP baseline (bench/ftp-baseline.sh), where it was measured: one JSON line per path and size.
    const baselineFile = path.join(dir, "ftp-baseline.jsonl");
    const baselines = fs.existsSync(baselineFile) ? fs.readFileSync(baselineFile, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l)) : [];
    for (const f of await writeReport(out, plan, rows, header, { traces: store.allTraces(), baselines })) console.log(f);
}

main().catch((err) => {
    console.error(`report failed: ${err?.stack ?? err}`);
    process.exit(1);
});
