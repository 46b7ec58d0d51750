// npm run graph -- <stack name or file> [--format svg|dot|mermaid] [--out FILE]
// Draws a lab from its stack file alone (model/graph.ts): no engine, no root. A stack
// name is read from Pulumi.<name>.yaml (wanlab:spec), else stacks/<name>.yaml.
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { SpecValidationError } from "../model/types";
import { loadSpec } from "../model/validate";
import { configKey } from "../model/config";
import { labGraph, toDot, toMermaid, toSvg } from "../model/graph";

const ROOT = path.resolve(__dirname, "..");
const FORMATS = ["svg", "dot", "mermaid"] as const;

function usage(why?: string): never {
    if (why) console.error(why);
    console.error("usage: npm run graph -- <stack name or stack file> [--format svg|dot|mermaid] [--out FILE]");
    process.exit(2);
}

/** The stack file a name or path stands for. */
export function specFileOf(arg: string): string {
    if (fs.existsSync(arg) && fs.statSync(arg).isFile() && !/^Pulumi\./.test(path.basename(arg))) return arg;
    const stackConfig = path.join(ROOT, `Pulumi.${arg}.yaml`);
    if (fs.existsSync(stackConfig)) {
        const file = (yaml.load(fs.readFileSync(stackConfig, "utf8")) as any)?.config?.[configKey("spec")];
        if (file) return path.resolve(ROOT, file);
    }
    const shipped = path.join(ROOT, "stacks", `${arg}.yaml`);
    if (fs.existsSync(shipped)) return shipped;
    usage(`${arg}: neither a stack file nor a stack (no ${path.relative(process.cwd(), stackConfig)}, no ${path.relative(process.cwd(), shipped)})`);
}

async function main() {
    const args = process.argv.slice(2);
    const value = (flag: string) => {
        const i = args.indexOf(flag);
        if (i < 0) return undefined;
        if (!args[i + 1] || args[i + 1].startsWith("--")) usage(`${flag} needs a value`);
        return args[i + 1];
    };
    const format = (value("--format") ?? "svg") as (typeof FORMATS)[number];
    if (!FORMATS.includes(format)) usage(`--format must be one of ${FORMATS.join(", ")}, not '${format}'`);
    const out = value("--out");
    const target = args.find((a, i) => !a.startsWith("--") && !["--format", "--out"].includes(args[i - 1]));
    if (!target) usage();
    const g = labGraph(loadSpec(specFileOf(target)));
    const text = format === "svg" ? await toSvg(g) : format === "dot" ? toDot(g) : toMermaid(g);
    if (out) {
        fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
        fs.writeFileSync(out, text);
        console.error(`${out}: ${format}, ${g.nodes.size} nodes, ${g.edges.length} edges`);
    } else {
        process.stdout.write(text);
    }
}

main().catch((err) => {
    if (err instanceof SpecValidationError) {
        console.error(`invalid stack file:\n${err.message}`);
        process.exit(2);
    }
    console.error(`graph failed: ${err?.message ?? err}`);
    process.exit(1);
});
