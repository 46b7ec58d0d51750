// npm run configs -- <stack name or file> [--out DIR]
// Writes each routing device's configuration (FRR's frr.conf for Linux routers with RIP,
// an IOS configuration for every router with GRE or RIP) under DIR/<host>/, as netlab
// writes its devices' configs, for review or for pasting into real routers. Each IOS one
// is checked structurally first (lib/ios-lint.ts); a defect fails the run. A stack with a
// pmipv6 section also gets OAI pmip6d's configuration of its LMA and MAGs (and each MAG's
// RADIUS client servers file), whichever daemon the lab runs, checked first for what pmip6d
// would refuse or misread (modules/pmipv6/pmip6d.ts).
import * as fs from "node:fs";
import * as path from "node:path";
import { loadSpec } from "../model/validate";
import { SpecValidationError } from "../model/types";
import { deviceConfigs } from "../modules/rip/configs";
import { lintIos } from "../lib/ios-lint";
import { lintPmip6d, pmip6dConfigs, pmip6dErrors } from "../modules/pmipv6/pmip6d";

const ROOT = path.resolve(__dirname, "..");

function usage(): never {
    console.error("usage: npm run configs -- <stack name or file> [--out DIR]");
    process.exit(2);
}

function main() {
    const args = process.argv.slice(2);
    const out = args.includes("--out") ? args[args.indexOf("--out") + 1] : undefined;
    if (args.includes("--out") && !out) usage();
    const target = args.find((a, i) => !a.startsWith("--") && args[i - 1] !== "--out");
    if (!target) usage();
    const file = fs.existsSync(target) ? target : path.join(ROOT, "stacks", `${target}.yaml`);
    if (!fs.existsSync(file)) {
        console.error(`configs: no stack file ${target} (nor stacks/${target}.yaml)`);
        process.exit(2);
    }
    let spec;
    try {
        spec = loadSpec(file);
    } catch (e) {
        if (e instanceof SpecValidationError) { console.error(e.message); process.exit(1); }
        throw e;
    }
    const dir = path.resolve(out ?? path.join(ROOT, "configs", spec.name));
    const pmip = pmip6dErrors(spec);
    if (pmip.length) {
        console.error(`configs: OAI pmip6d would refuse or misread what this stack renders:\n${pmip.map((e) => `${file}: ${e.pointer}: ${e.reason}`).join("\n")}`);
        process.exit(1);
    }
    const configs: { platform: string; file: string; text: string }[] = [
        ...deviceConfigs(spec),
        ...pmip6dConfigs(spec).map((c) => ({ ...c, platform: c.file.endsWith("pmip6d.conf") ? "pmip6d" : "radiusclient" })),
    ];
    if (!configs.length) {
        console.error(`configs: ${path.relative(process.cwd(), file)} has no routing device (no GRE tunnel, no RIP) and no pmipv6 section: nothing to write`);
        process.exit(1);
    }
    const defects = [
        ...configs.filter((c) => c.platform === "ios").flatMap((c) => lintIos(c.text).map((d) => `${c.file}:${d.line}: ${d.reason}`)),
        ...configs.filter((c) => c.platform === "pmip6d").flatMap((c) => lintPmip6d(c.text).map((d) => `${c.file}:${d.line}: ${d.reason}`)),
    ];
    if (defects.length) {
        console.error(`configs: the rendered configurations have defects:\n${defects.join("\n")}`);
        process.exit(1);
    }
    for (const c of configs) {
        const f = path.join(dir, c.file);
        fs.mkdirSync(path.dirname(f), { recursive: true });
        fs.writeFileSync(f, c.text);
        console.log(`${c.platform.padEnd(12)}  ${f.startsWith(process.cwd() + path.sep) ? path.relative(process.cwd(), f) : f}`);
    }
}

main();
