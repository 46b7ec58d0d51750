// npm run validate -- stacks/<name>.yaml [more files]: schema and semantic checks,
// every error as `file: /json/pointer: reason`; exits 1 if any file has errors.
import { SpecValidationError } from "../model/types";
import { loadSpec } from "../model/validate";

const files = process.argv.slice(2);
if (files.length === 0) {
    console.error("usage: npm run validate -- stacks/<name>.yaml [...]");
    process.exit(2);
}
let failed = false;
for (const file of files) {
    try {
        const spec = loadSpec(file);
        console.log(`${file}: ok (${spec.hosts.length} hosts, ${spec.links.length} links)`);
    } catch (err) {
        if (!(err instanceof SpecValidationError)) throw err;
        console.error(err.message);
        failed = true;
    }
}
process.exit(failed ? 1 : 0);
