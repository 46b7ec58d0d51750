// npm run lab's secrets: for STACK, generate each secret its experiment file needs and
// the stack does not have yet (a CHAP password, an appliance's SSH key), in the same
// format as the experiment runner and the benchmark (runner/secrets.ts).
//   node --import tsx scripts/secrets.ts STACK
import * as fs from "node:fs";
import * as yaml from "js-yaml";
import { SpecValidationError } from "../model/types";
import { loadSpec } from "../model/validate";
import { configKey } from "../model/config";
import { engineEnv, ROOT } from "../runner/engine";
import { ensureSecrets } from "../runner/secrets";

const [stack] = process.argv.slice(2);
if (!stack) {
    console.error("usage: node --import tsx scripts/secrets.ts STACK");
    process.exit(2);
}
try {
    const cfg = yaml.load(fs.readFileSync(`Pulumi.${stack}.yaml`, "utf8")) as any;
    const spec = loadSpec(cfg.config[configKey("spec")]);
    for (const key of ensureSecrets({ env: { ...process.env, ...engineEnv() }, cwd: ROOT }, stack, spec)) {
        console.error(`generated the secret ${configKey(key)} for stack ${stack}`);
    }
} catch (err) {
    if (!(err instanceof SpecValidationError)) throw err;
    console.error(err.message);
    process.exit(1);
}
