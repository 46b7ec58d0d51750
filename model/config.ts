// The stack's configuration keys (`pulumi config set wanlab:<key> ...`), in one registry:
// the core's and each module's, each with what it means and what values it takes. The
// program reads them through here, and the experiment runner and the tools name them
// through here, so no other file spells `wanlab:<key>`.

import { modules } from "./modules";
import type { LabSpec } from "./types";

export const NAMESPACE = "wanlab";

export interface ConfigKey {
    /** The key without its namespace, e.g. "wanProfile". */
    key: string;
    description: string;
    /** The value's meaning; throws an Error whose message says what is allowed, in words. */
    parse(raw: string): unknown;
}

export type Settings = Record<string, unknown>;

export const CORE_CONFIG: ConfigKey[] = [
    { key: "spec", description: "the experiment file (stacks/<name>.yaml) this stack builds", parse: (raw) => raw },
];

/** "wanlab:<key>". */
export function configKey(key: string): string {
    return `${NAMESPACE}:${key}`;
}

/** A whole number within bounds, or an error that says so. */
export function wholeNumber(key: string, min: number, max: number, unit = ""): (raw: string) => number {
    return (raw) => {
        const n = Number(raw);
        if (!/^-?\d+$/.test(raw.trim()) || !Number.isInteger(n) || n < min || n > max) {
            throw new Error(`${configKey(key)} must be a whole number${unit ? ` of ${unit}` : ""} from ${min} to ${max}, not '${raw}'`);
        }
        return n;
    };
}

/** One of a fixed list (own names only: 'constructor' is not a profile). */
export function oneOf(key: string, values: readonly string[], what: string): (raw: string) => string {
    return (raw) => {
        if (!values.includes(raw)) throw new Error(`${configKey(key)} '${raw}' is not ${what}: use one of ${values.join(", ")}`);
        return raw;
    };
}

/** Every key: the core's and the modules'. */
export function configKeys(): ConfigKey[] {
    const out = [...CORE_CONFIG];
    for (const m of modules()) {
        for (const k of m.configKeys ?? []) {
            if (out.some((o) => o.key === k.key)) throw new Error(`module ${m.name} redefines configuration key ${configKey(k.key)}`);
            out.push(k);
        }
    }
    return out;
}

/** The run-time settings from the stack's configuration (get(key) returns wanlab:<key>'s raw value, or undefined). */
export function parseSettings(get: (key: string) => string | undefined): { settings: Settings; errors: string[] } {
    const settings: Settings = {};
    const errors: string[] = [];
    for (const k of configKeys()) {
        if (k.key === "spec") continue;
        const raw = get(k.key);
        if (raw === undefined) continue;
        try {
            settings[k.key] = k.parse(raw);
        } catch (err: any) {
            errors.push(err.message);
        }
    }
    return { settings, errors };
}

/** Apply the settings that change the lab (a WAN profile, a VM's memory) to a validated spec. */
export function applySettings<T>(spec: T, settings: Settings): T {
    for (const m of modules()) m.applySettings?.(spec as any, settings);
    return spec;
}

/** What no longer holds in a spec once the settings are applied, one message each. */
export function settledErrors(spec: LabSpec): string[] {
    return modules().flatMap((m) => m.settledErrors?.(spec) ?? []);
}

/** Every secret the spec refers to (`{ config: KEY }`), with where: what must be set before anything is built. */
export function secretRefs(doc: unknown, pointer = ""): { pointer: string; key: string }[] {
    if (Array.isArray(doc)) return doc.flatMap((v, i) => secretRefs(v, `${pointer}/${i}`));
    if (!doc || typeof doc !== "object") return [];
    const keys = Object.keys(doc);
    if (keys.length === 1 && keys[0] === "config" && typeof (doc as any).config === "string") return [{ pointer, key: (doc as any).config }];
    return keys.flatMap((k) => secretRefs((doc as any)[k], `${pointer}/${k}`));
}

/** The secrets the spec names that are not set, one message each (get: the stack's config by key). */
export function missingSecrets(spec: unknown, get: (key: string) => string | undefined): string[] {
    const seen = new Set<string>();
    return secretRefs(spec).flatMap(({ pointer, key }) => {
        if (get(key) !== undefined || seen.has(key)) return [];
        seen.add(key);
        return [`${pointer}: the secret ${configKey(key)} is not set in this stack: set it with ` +
            `\`pulumi config set --secret ${configKey(key)}\` (the value on stdin), or let \`npm run lab\` make one up`];
    });
}
