// Platforms and their capability files (platforms/<platform>/capabilities.yaml, netlab's
// device feature matrices): which modules a platform supports, what each capability needs
// on the machine, and how it is done there. Preflight requirements, "not supported on this
// platform" errors and "not built yet" refusals all come from these files.
import { pushTo } from "../lib/maps";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import type { HostSpec, LabSpec, SpecError } from "./types";
import { modules, type Use } from "./modules";
import { features } from "./features";

export const PLATFORMS_DIR = path.join(__dirname, "..", "platforms");

export interface Requirements { binaries: string[]; kernel: string[] }

/** One capability on one platform: what it needs, and platform facts its components read (how, datapath, uri, ...). */
export interface Capability { binaries?: string[]; kernel?: string[]; how?: string; [fact: string]: unknown }

export interface PlatformCapabilities {
    platform: string;
    description: string;
    host: Capability;
    links: Capability;
    modules: Record<string, Record<string, Capability>>;
}

let cache: Map<string, PlatformCapabilities> | undefined;

/** Every platform's capability file, checked against the modules and features that exist. */
export function platforms(): Map<string, PlatformCapabilities> {
    if (cache) return cache;
    const out = new Map<string, PlatformCapabilities>();
    const known = features();
    const mods = new Map(modules().map((m) => [m.name, m]));
    for (const name of fs.readdirSync(PLATFORMS_DIR).sort()) {
        const file = path.join(PLATFORMS_DIR, name, "capabilities.yaml");
        if (!fs.existsSync(file)) continue;
        const c = yaml.load(fs.readFileSync(file, "utf8")) as PlatformCapabilities;
        const bad = (why: string) => { throw new Error(`${path.relative(process.cwd(), file)}: ${why}`); };
        if (c.platform !== name) bad(`platform must be '${name}'`);
        const checkNeeds = (where: string, cap: Capability) => {
            for (const k of cap?.kernel ?? []) if (!known[k]) bad(`${where}: unknown kernel feature '${k}'`);
        };
        c.host ??= {};
        c.links ??= {};
        c.modules ??= {};
        checkNeeds("host", c.host);
        checkNeeds("links", c.links);
        for (const [m, caps] of Object.entries(c.modules)) {
            const mod = mods.get(m);
            if (!mod) bad(`unknown module '${m}'`);
            for (const [k, cap] of Object.entries(caps ?? {})) {
                if (!(k in mod!.capabilities)) bad(`module ${m} has no capability '${k}' (it has ${Object.keys(mod!.capabilities).join(", ")})`);
                checkNeeds(`${m}.${k}`, cap ?? {});
                caps[k] = cap ?? {};
            }
        }
        out.set(name, c);
    }
    return (cache = out);
}

/** The platform a host runs on. */
export function platformOf(host: HostSpec): string {
    if (host.platform === "ios") return "ios";
    return host.appliance ? "appliance" : host.transport;
}

/** Hosts whose configuration is rendered, not built (platform ios: no IOS here to push to). */
export const renderedOnly = (host: HostSpec) => capabilitiesOf(host).host.build === false;

export function capabilitiesOf(host: HostSpec): PlatformCapabilities {
    const p = platforms().get(platformOf(host));
    if (!p) throw new Error(`no capability file for platform '${platformOf(host)}' (host '${host.name}')`);
    return p;
}

/** What a platform says about one capability of one module on this host (undefined: not supported). */
export function capabilityOf(host: HostSpec, module: string, capability: string): Capability | undefined {
    return capabilitiesOf(host).modules[module]?.[capability];
}

const usesCache = new WeakMap<LabSpec, Map<string, { module: string; use: Use }[]>>();

/** What every module does on this host (computed once per spec). */
export function usesOn(spec: LabSpec, host: HostSpec): { module: string; use: Use }[] {
    let byHost = usesCache.get(spec);
    if (!byHost) {
        byHost = new Map();
        for (const m of modules()) {
            for (const use of m.uses?.(spec) ?? []) {
                pushTo(byHost, use.host, { module: m.name, use });
            }
        }
        usesCache.set(spec, byHost);
    }
    return byHost.get(host.name) ?? [];
}

/** What a host needs before the lab touches it: its platform's, its links', and every capability it uses. */
export function requirementsFor(spec: LabSpec, host: HostSpec): Requirements {
    const c = capabilitiesOf(host);
    const bins = new Set<string>(c.host.binaries ?? []);
    const kernel = new Set<string>(c.host.kernel ?? []);
    const add = (cap: Capability | undefined) => {
        cap?.binaries?.forEach((b) => bins.add(b));
        cap?.kernel?.forEach((k) => kernel.add(k));
    };
    if (hostsWithLinks(spec).has(host.name)) add(c.links);
    for (const { module, use } of usesOn(spec, host)) add(c.modules[module]?.[use.capability]);
    return { binaries: [...bins].sort(), kernel: [...kernel].sort() };
}

const linkedCache = new WeakMap<LabSpec, Set<string>>();
function hostsWithLinks(spec: LabSpec): Set<string> {
    let s = linkedCache.get(spec);
    if (!s) linkedCache.set(spec, (s = new Set(spec.links.flatMap((l) => l.ends.map((e) => e.host)))));
    return s;
}

/** Platforms that have this capability. */
function platformsWith(module: string, capability: string): string[] {
    return [...platforms().values()].filter((p) => p.modules[module]?.[capability]).map((p) => p.platform);
}

/** A use that no platform has: the schema accepts it, but nothing builds it yet. */
export function notBuilt(spec: LabSpec): string[] {
    const out: string[] = [];
    for (const h of spec.hosts) {
        for (const { module, use } of usesOn(spec, h)) {
            if (!platformsWith(module, use.capability).length && !out.includes(use.pointer)) out.push(use.pointer);
        }
    }
    return out;
}

/** A use that some platforms have, on a host whose platform does not. */
export function platformErrors(spec: LabSpec): SpecError[] {
    const out: SpecError[] = [];
    for (const h of spec.hosts) {
        const c = capabilitiesOf(h);
        for (const { module, use } of usesOn(spec, h)) {
            const can = platformsWith(module, use.capability);
            if (!can.length || c.modules[module]?.[use.capability]) continue;
            const what = modules().find((m) => m.name === module)!.capabilities[use.capability];
            out.push({
                pointer: use.pointer,
                reason: `host '${h.name}' is ${c.description} (platform ${c.platform}), which cannot do this: ${what}; ` +
                    `platforms that can: ${can.join(", ")}`,
            });
        }
    }
    return out;
}
