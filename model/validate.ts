// Loading and validating a stack file (stacks/<name>.yaml). Validation runs before any
// resource is registered and reports every error at once, each as
// `file: /json/pointer: reason`: first the composed schema, then the core's rules, then
// each module's, then whether each host's platform can do what the file asks of it.
import * as fs from "node:fs";
import * as yaml from "js-yaml";
import { type LabSpec, type SpecError, SpecValidationError } from "./types";
import { compiledSchema, composedSchema, listSections, schemaErrors } from "./schema";
import { modules } from "./modules";
import { CheckContext } from "./context";
import { coreErrors } from "./checks";
import { platformErrors } from "./platforms";

/** Validate a parsed document; returns the typed spec or the list of errors. */
export function validateDocument(doc: unknown): { spec?: LabSpec; errors: SpecError[] } {
    const shape = rootShape(doc);
    if (shape) return { errors: [{ pointer: "", reason: shape }] };
    const validate = compiledSchema();
    if (!validate(doc)) return { errors: schemaErrors(validate.errors ?? []) };
    const raw = doc as any;
    const spec: LabSpec = {
        ...Object.fromEntries(listSections().map((s) => [s, []])),
        ...raw,
        hosts: raw.hosts.map((h: any) => ({ roles: [], ...h })),
    };
    for (const m of modules()) m.normalize?.(spec);
    const ctx = new CheckContext(spec);
    coreErrors(spec, ctx);
    for (const m of modules()) m.check?.(spec, ctx);
    // Address clashes that only a host-private segment (declared by any module) could clear.
    ctx.settle();
    if (!ctx.errors.length) ctx.runLater();
    if (!ctx.errors.length) ctx.errors.push(...platformErrors(spec));
    return ctx.errors.length ? { errors: ctx.errors } : { spec, errors: [] };
}

// An empty file or one that is not a mapping: say what a stack file is, not "must be object".
function rootShape(doc: unknown): string | undefined {
    const required: string[] = composedSchema().required ?? [];
    const want = `a stack file is a YAML mapping of sections, with at least ${required.map((k) => `'${k}'`).join(", ")}`;
    if (doc === null || doc === undefined) return `the file is empty: ${want}`;
    if (Array.isArray(doc)) return `the file holds a list: ${want}`;
    if (typeof doc !== "object") return `the file holds a single ${typeof doc} (${JSON.stringify(doc)}): ${want}`;
    return undefined;
}

/** Read, parse and validate a stack file; throws SpecValidationError listing every problem. */
export function loadSpec(file: string): LabSpec {
    const { spec, errors } = validateDocument(readYaml(file));
    if (!spec) throw new SpecValidationError(file, errors);
    return spec;
}

/** Read and parse a YAML file; an unreadable or malformed file is a SpecValidationError. */
export function readYaml(file: string): unknown {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (err: any) {
        throw new SpecValidationError(file, [{ pointer: "", reason: `cannot read file: ${err.code ?? err.message}` }]);
    }
    let doc: unknown;
    try {
        doc = yaml.load(text, { filename: file });
    } catch (err: any) {
        const m = err.mark ? ` at line ${err.mark.line + 1}, column ${err.mark.column + 1}` : "";
        throw new SpecValidationError(file, [{ pointer: "", reason: `YAML error${m}: ${err.reason ?? err.message}` }]);
    }
    return doc;
}
