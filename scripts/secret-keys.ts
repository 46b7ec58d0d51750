// Prints the configuration keys of the secrets a stack's experiment file refers to:
//   tsx scripts/secret-keys.ts STACK [chap|ssh|appliance]
import * as fs from "node:fs";
import * as yaml from "js-yaml";
import { SpecValidationError } from "../model/types";
import { loadSpec } from "../model/validate";

const [stack, kind] = process.argv.slice(2);
const cfg = yaml.load(fs.readFileSync(`Pulumi.${stack}.yaml`, "utf8")) as any;
let spec;
try {
    spec = loadSpec(cfg.config["wanlab:spec"]);
} catch (err) {
    if (!(err instanceof SpecValidationError)) throw err;
    console.error(err.message);
    process.exit(1);
}
const keys = new Set<string>();
if (!kind || kind === "chap") spec.storage.forEach((s) => s.chap && keys.add(s.chap.password.config));
if (!kind || kind === "ssh") spec.hosts.forEach((h) => h.ssh && keys.add(h.ssh.privateKey.config));
if (!kind || kind === "appliance") spec.hosts.forEach((h) => h.appliance && keys.add(h.appliance.key.config));
console.log([...keys].join("\n"));
