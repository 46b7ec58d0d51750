// The stack file's JSON Schema: the core's (stacks/schema.json: sites, hosts, links)
// with every module's fragment (modules/<m>/schema.json) merged in, and ajv's errors in
// words (`pointer: reason`).
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv2020, { ErrorObject, ValidateFunction } from "ajv/dist/2020";
import standaloneCode from "ajv/dist/standalone";
import addFormats from "ajv-formats";
import type { SpecError } from "./types";
import { CACHE_DIR, writeCacheFile } from "../lib/cache";
import { modules, type LoadedModule } from "./modules";

export const ROOT_SCHEMA = path.join(__dirname, "..", "stacks", "schema.json");

let composed: any;

/** The whole schema: the root plus each module's sections, definitions, extensions and variants. */
export function composedSchema(): any {
    return (composed ??= compose(modules()));
}

function compose(all: LoadedModule[]): any {
    const schema = JSON.parse(fs.readFileSync(ROOT_SCHEMA, "utf8"));
    const variants = new Map<string, { discriminator: string; description?: string; values: string[]; branches: object[] }>();
    const owner = new Map<string, string>();
    const claim = (what: string, by: string) => {
        const first = owner.get(what);
        if (first) throw new Error(`modules ${first} and ${by} both define ${what}`);
        owner.set(what, by);
    };
    for (const m of all) {
        const f = m.schema;
        if (!f) continue;
        for (const [k, v] of Object.entries(f.$defs ?? {})) {
            claim(`$defs/${k}`, m.name);
            if (schema.$defs[k]) throw new Error(`module ${m.name} redefines the core's $defs/${k}`);
            schema.$defs[k] = v;
        }
        for (const [k, v] of Object.entries(f.properties ?? {})) {
            claim(`section ${k}`, m.name);
            if (schema.properties[k]) throw new Error(`module ${m.name} redefines the core's section ${k}`);
            schema.properties[k] = v;
        }
        for (const [def, props] of Object.entries(f.extend ?? {})) {
            const target = schema.$defs[def];
            if (!target?.properties) throw new Error(`module ${m.name} extends $defs/${def}, which has no properties`);
            for (const [k, v] of Object.entries(props)) {
                claim(`${def}.${k}`, m.name);
                target.properties[k] = v;
            }
        }
        for (const [section, v] of Object.entries(f.variants ?? {})) {
            let entry = variants.get(section);
            if (!entry) {
                if (schema.properties[section]) throw new Error(`module ${m.name} adds variants to ${section}, which another module owns`);
                entry = { discriminator: v.discriminator, description: v.description, values: [], branches: [] };
                variants.set(section, entry);
                // Placed now, so that sections keep the modules' order.
                schema.properties[section] = {};
            }
            if (entry.discriminator !== v.discriminator) throw new Error(`module ${m.name}: ${section} is keyed by '${entry.discriminator}', not '${v.discriminator}'`);
            claim(`${section} ${v.discriminator} ${v.value}`, m.name);
            entry.values.push(v.value);
            entry.branches.push({
                if: { properties: { [v.discriminator]: { const: v.value } }, required: [v.discriminator] },
                then: v.schema,
            });
        }
    }
    // A shared section: each item names its variant, and only that variant's schema applies.
    for (const [section, v] of variants) {
        schema.properties[section] = {
            type: "array",
            ...(v.description ? { description: v.description } : {}),
            items: {
                type: "object",
                required: [v.discriminator],
                properties: { [v.discriminator]: { enum: v.values } },
                allOf: v.branches,
            },
        };
    }
    return schema;
}

let validator: ValidateFunction | undefined;

/** Compiled validators, by schema and ajv version (a machine cache: compiling takes 0.2-0.4 s). */
const VALIDATOR_CACHE = path.join(CACHE_DIR, "schema");

export function compiledSchema(): ValidateFunction {
    if (validator) return validator;
    const schema = composedSchema();
    const version = require("ajv/package.json").version;
    const key = crypto.createHash("sha256").update(`${version}\0${JSON.stringify(schema)}`).digest("hex").slice(0, 32);
    const file = path.join(VALIDATOR_CACHE, `${key}.js`);
    if (fs.existsSync(file)) return (validator = require(file) as ValidateFunction);
    // useDefaults fills in the schema's defaults, so the rest of the code sees one shape.
    const ajv = new Ajv2020({ allErrors: true, useDefaults: true, verbose: true, strict: true, strictRequired: false, code: { source: true } });
    addFormats(ajv);
    validator = ajv.compile(schema);
    writeCacheFile(file, standaloneCode(ajv, validator));
    return validator;
}

/** The sections that are lists, so that a file without one gets an empty list. */
export function listSections(): string[] {
    const props = composedSchema().properties as Record<string, { type?: string }>;
    return Object.entries(props).filter(([, v]) => v.type === "array").map(([k]) => k);
}

// ajv's errors as one readable line each, in words, without the noise of if/then wrappers
// and of the oneOf branches that the value was plainly not meant for.
export function schemaErrors(errors: ErrorObject[]): SpecError[] {
    const out: SpecError[] = [];
    const dropped = oneOfNoise(errors);
    for (const e of errors) {
        if (dropped.has(e)) continue;
        const reason = inWords(e);
        if (reason !== undefined) out.push({ pointer: e.instancePath, reason });
    }
    return out;
}

const TYPE_WORDS: Record<string, string> = {
    object: "a mapping (key: value)", array: "a list", string: "a string", number: "a number",
    integer: "a whole number", boolean: "true or false", null: "empty",
};

function inWords(e: ErrorObject): string | undefined {
    const params = e.params as any;
    switch (e.keyword) {
        case "if":
            return undefined;
        case "additionalProperties":
            return `unknown property '${params.additionalProperty}'` + allowedKeys(e.parentSchema);
        case "required":
            return `missing required property '${params.missingProperty}'`;
        case "enum":
            return `${JSON.stringify(e.data)} is not allowed: must be one of ${params.allowedValues.map((v: unknown) => JSON.stringify(v)).join(", ")}`;
        case "const":
            return `must be ${JSON.stringify(params.allowedValue)}`;
        case "pattern":
        case "format":
            return describePattern(e);
        case "not":
            return "'ssh' is only allowed with transport 'ssh'";
        case "type": {
            const want = String(params.type).split(",").map((t) => TYPE_WORDS[t] ?? t).join(" or ");
            return `must be ${want}, not ${valueWords(e.data)}`;
        }
        case "minimum": return `${e.data} is too small: must be at least ${params.limit}`;
        case "maximum": return `${e.data} is too large: must be at most ${params.limit}`;
        case "exclusiveMinimum": return `${e.data} is too small: must be more than ${params.limit}`;
        case "exclusiveMaximum": return `${e.data} is too large: must be less than ${params.limit}`;
        case "multipleOf": return `${e.data} must be a multiple of ${params.multipleOf}`;
        case "minItems": return `needs at least ${params.limit} item${params.limit === 1 ? "" : "s"}`;
        case "maxItems": return `allows at most ${params.limit} item${params.limit === 1 ? "" : "s"}`;
        case "uniqueItems": return `items ${params.j} and ${params.i} are the same: each item must be different`;
        case "minLength": return `must have at least ${params.limit} character${params.limit === 1 ? "" : "s"}`;
        case "maxLength": return `must have at most ${params.limit} characters`;
        case "minProperties": return `needs at least ${params.limit} propert${params.limit === 1 ? "y" : "ies"}`;
        case "oneOf": {
            const alternatives = (e.schema as any[]).map(branchWords).join(", or ");
            return `${JSON.stringify(e.data)} is not valid: must be ${alternatives}`;
        }
        default:
            return e.message ?? e.keyword;
    }
}

function valueWords(v: unknown): string {
    if (v === null) return "empty";
    if (Array.isArray(v)) return "a list";
    if (typeof v === "object") return "a mapping";
    return `${typeof v} ${JSON.stringify(v)}`;
}

function allowedKeys(schema: any): string {
    const keys = Object.keys(schema?.properties ?? {});
    return keys.length && keys.length <= 16 ? ` (allowed: ${keys.join(", ")})` : "";
}

function lower(s: string): string {
    const first = /^[A-Z](?![A-Z])/.test(s) ? s[0].toLowerCase() : s[0];
    return first + s.slice(1).replace(/\.$/, "");
}

function branchWords(b: any): string {
    if (b.enum) return `one of ${b.enum.map((v: unknown) => JSON.stringify(v)).join(", ")}`;
    if (b.const !== undefined) return JSON.stringify(b.const);
    const def = typeof b.$ref === "string" ? composedSchema().$defs[b.$ref.split("/").pop()] : b;
    if (def?.description) return def.description.replace(/\.$/, "");
    return TYPE_WORDS[def?.type] ?? "another shape";
}

// Where a value fails every branch of a oneOf, ajv reports each branch's errors and then
// the oneOf's. A branch that failed only on the value's shape (its type, its enum) was not
// meant; if one branch failed deeper, its errors alone are the news; if none did, the
// oneOf's own line (the alternatives in words) is.
function oneOfNoise(errors: ErrorObject[]): Set<ErrorObject> {
    const drop = new Set<ErrorObject>();
    for (const one of errors) {
        if (one.keyword !== "oneOf") continue;
        // A branch's errors sit under the oneOf's schema path, or under its $ref's target.
        const roots = [`${one.schemaPath}/`, ...(one.schema as any[]).filter((b) => typeof b.$ref === "string").map((b) => `${b.$ref}/`)];
        const under = (e: ErrorObject) => e.instancePath === one.instancePath || e.instancePath.startsWith(`${one.instancePath}/`);
        const branch = errors.filter((e) => e !== one && under(e) && roots.some((r) => e.schemaPath.startsWith(r)));
        const shallow = (e: ErrorObject) => e.instancePath === one.instancePath && ["type", "enum", "const"].includes(e.keyword);
        const deep = branch.some((e) => !shallow(e));
        if (deep) drop.add(one);
        for (const e of branch) if (!deep || shallow(e)) drop.add(e);
    }
    return drop;
}

// What the value should look like in the schema's words, not as a regular expression.
function describePattern(e: ErrorObject): string {
    const desc: string | undefined = (e.parentSchema as any)?.description;
    const got = JSON.stringify(e.data);
    return desc ? `${got} is not valid: ${lower(desc)}` : `${got} is not valid (${e.keyword} ${JSON.stringify((e.params as any).pattern ?? (e.params as any).format)})`;
}
