// The stack file's JSON Schema: the core's (stacks/schema.json: sites, hosts, links)
// with every module's fragment (modules/<m>/schema.json) merged in, and ajv's errors in
// words (`pointer: reason`).
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv2020, { ErrorObject, ValidateFunction } from "ajv/dist/2020";
import addFormats from "ajv-formats";
import type { SpecError } from "./types";
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

export function compiledSchema(): ValidateFunction {
    if (!validator) {
        // useDefaults fills in the schema's defaults, so the rest of the code sees one shape.
        const ajv = new Ajv2020({ allErrors: true, useDefaults: true, verbose: true, strict: true, strictRequired: false });
        addFormats(ajv);
        validator = ajv.compile(composedSchema());
    }
    return validator;
}

/** The sections that are lists, so that a file without one gets an empty list. */
export function listSections(): string[] {
    const props = composedSchema().properties as Record<string, { type?: string }>;
    return Object.entries(props).filter(([, v]) => v.type === "array").map(([k]) => k);
}

// ajv's errors as one readable line each, without the noise of if/then wrappers.
export function schemaErrors(errors: ErrorObject[]): SpecError[] {
    const out: SpecError[] = [];
    for (const e of errors) {
        const p = e.instancePath;
        switch (e.keyword) {
            case "if":
                continue;
            case "additionalProperties":
                out.push({ pointer: p, reason: `unknown property '${(e.params as any).additionalProperty}'` });
                break;
            case "required":
                out.push({ pointer: p, reason: `missing required property '${(e.params as any).missingProperty}'` });
                break;
            case "enum":
                out.push({ pointer: p, reason: `must be one of ${(e.params as any).allowedValues.map((v: unknown) => JSON.stringify(v)).join(", ")}` });
                break;
            case "pattern":
                out.push({ pointer: p, reason: describePattern(e) });
                break;
            case "not":
                out.push({ pointer: p, reason: "'ssh' is only allowed with transport 'ssh'" });
                break;
            default:
                out.push({ pointer: p, reason: e.message ?? e.keyword });
        }
    }
    return out;
}

// What the value should look like in the schema's words, not as a regular expression.
function describePattern(e: ErrorObject): string {
    const desc: string | undefined = (e.parentSchema as any)?.description;
    const got = JSON.stringify(e.data);
    return desc ? `${got} is not valid: ${desc[0].toLowerCase()}${desc.slice(1).replace(/\.$/, "")}` : `${got} ${e.message}`;
}
