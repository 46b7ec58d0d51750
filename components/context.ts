// What the Lab hands each module's stage: the validated spec, the hosts, the components
// earlier phases built (to depend on them, not on lists of their children), registries
// through which modules find each other's components, and the stack outputs they add.
import { pushTo } from "../lib/maps";
import * as pulumi from "@pulumi/pulumi";
import type { LabSpec } from "../model/types";
import type { Phase } from "../model/modules";
import { capabilityOf, type Capability } from "../model/platforms";
import type { Settings } from "../model/config";
import type { Host } from "./host/host";

export type Built = Phase | "links";

export class LabContext {
    readonly hosts: Record<string, Host> = {};
    /** Each host's preflight (its stdout carries what the host showed, e.g. a KVM probe's verdict). */
    readonly preflights: Record<string, pulumi.CustomResource & { stdout: pulumi.Output<string> }> = {};
    /** Stack outputs the modules add (index.ts exports each key). */
    readonly outputs: Record<string, unknown> = {};
    private readonly built = new Map<Built, pulumi.Resource[]>();
    private readonly registry = new Map<string, Map<string, unknown>>();
    private readonly underlays = new Map<string, pulumi.Resource[]>();

    constructor(
        readonly lab: pulumi.ComponentResource,
        readonly spec: LabSpec,
        readonly stack: string,
        readonly settings: Settings,
        /** Stand-ins for probes of this machine (tests), by name. */
        readonly probes: Record<string, unknown> = {},
    ) {}

    /** Options for a component the Lab owns directly. */
    get child(): pulumi.ComponentResourceOptions {
        return { parent: this.lab };
    }

    /** A component built in a phase: later stages may depend on it. */
    add(phase: Built, ...components: pulumi.Resource[]) {
        pushTo(this.built, phase, ...components);
    }

    /** The components these phases built, in the order they were added. */
    builtIn(...phases: Built[]): pulumi.Resource[] {
        return phases.flatMap((p) => this.built.get(p) ?? []);
    }

    /** What gives a host its addresses (its links' ends, an addressed bridge): routes wait for these. */
    addUnderlay(host: string, ...rs: pulumi.Resource[]) {
        pushTo(this.underlays, host, ...rs);
    }

    underlay(host: string): pulumi.Resource[] {
        return this.underlays.get(host) ?? [];
    }

    /** Make a component findable by other modules (e.g. a bridge by "host/name"). */
    provide<T>(kind: string, key: string, value: T) {
        let m = this.registry.get(kind);
        if (!m) this.registry.set(kind, (m = new Map()));
        if (m.has(key)) throw new Error(`two ${kind} components named '${key}'`);
        m.set(key, value);
    }

    lookup<T>(kind: string, key: string): T | undefined {
        return this.registry.get(kind)?.get(key) as T | undefined;
    }

    /** Like lookup, for what validation guarantees exists. */
    need<T>(kind: string, key: string): T {
        const v = this.lookup<T>(kind, key);
        if (v === undefined) throw new Error(`no ${kind} '${key}': a stage that provides it must come first`);
        return v;
    }

    all<T>(kind: string): T[] {
        return [...(this.registry.get(kind)?.values() ?? [])] as T[];
    }

    /** Every component of a kind, by key. */
    entries<T>(kind: string): Record<string, T> {
        return Object.fromEntries(this.registry.get(kind) ?? []) as Record<string, T>;
    }

    /** How the host's platform does one capability of one module (validation made sure it can). */
    capability(host: string, module: string, capability: string): Capability {
        const h = this.spec.hosts.find((x) => x.name === host)!;
        const c = capabilityOf(h, module, capability);
        if (!c) throw new Error(`host '${host}' cannot do ${module} ${capability}: validation should have said so`);
        return c;
    }
}
