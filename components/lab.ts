// The whole lab from one validated spec. The Lab preflights every host, creates the
// hosts and their links, and then runs each module's stage in the registry's order
// (model/modules.ts PHASES: network, routing, wan, storage, compute, validation,
// experiment). Every host waits for every preflight, so a missing feature anywhere
// changes nothing anywhere. The Lab names no module: it finds them in modules/.
import { pushTo } from "../lib/maps";
import * as pulumi from "@pulumi/pulumi";
import type { LabSpec } from "../model/types";
import { applySettings, missingSecrets, settledErrors, type Settings } from "../model/config";
import { notBuilt, platformErrors, renderedOnly, requirementsFor } from "../model/platforms";
import { LabContext } from "./context";
import { stages } from "./stages";
import { preflight } from "./host/preflight";
import { createHost } from "./host/platforms";
import { Link } from "./host/link";
import { pinnedHostKey } from "./host/ssh";
import { ownerCheck } from "./host/emulated";

export interface LabArgs {
    spec: LabSpec;
    /** Distinguishes the namespaces of two stacks on one machine. */
    stack: string;
    /** Run-time settings from the stack's configuration (model/config.ts): a run number, a profile, ... */
    settings?: Settings;
    /** Stand-ins for what stages would ask this machine (a test's KVM probe verdict), by name. */
    probes?: Record<string, unknown>;
}

export class Lab extends pulumi.ComponentResource {
    readonly context: LabContext;
    /** The stack outputs: hosts and links, and what each module adds. */
    readonly outputs: Record<string, unknown>;

    constructor(name: string, args: LabArgs, opts?: pulumi.ComponentResourceOptions) {
        // Everything the lab needs is checked before the Lab itself is registered.
        const settings = args.settings ?? {};
        // A copy: settings change this lab, not the caller's spec.
        const spec = applySettings(structuredClone(args.spec), settings);
        const unsettled = settledErrors(spec);
        if (unsettled.length) throw new pulumi.RunError(`invalid stack configuration:\n${unsettled.join("\n")}`);
        const unbuilt = notBuilt(spec);
        if (unbuilt.length) {
            throw new pulumi.RunError(`these parts of the stack file are valid but not built by this version yet: ${unbuilt.join(", ")}`);
        }
        const unsupported = platformErrors(spec);
        if (unsupported.length) throw new pulumi.RunError(unsupported.map((e) => `${e.pointer}: ${e.reason}`).join("\n"));
        const rendered = spec.hosts.flatMap((h, i) => (renderedOnly(h) ? [`/hosts/${i}/platform: host '${h.name}' is a Cisco IOS router: ` +
            `the lab renders its configuration (npm run configs -- ${spec.name}) and does not push it, as no IOS here could test a push; give it platform linux to build it`] : []));
        if (rendered.length) throw new pulumi.RunError(rendered.join("\n"));
        const config = new pulumi.Config();
        const unset = missingSecrets(spec, (key) => (config.getSecret(key) === undefined ? undefined : "set"));
        if (unset.length) throw new pulumi.RunError(`the stack's configuration lacks what the stack file needs:\n${unset.join("\n")}`);
        const unpinned = spec.hosts.flatMap((h, i) => {
            if (!h.ssh) return [];
            try {
                pinnedHostKey(h);
                return [];
            } catch (e: any) {
                return [`/hosts/${i}/ssh/knownHosts: host '${h.name}': ${e.message}`];
            }
        });
        if (unpinned.length) throw new pulumi.RunError(unpinned.join("\n"));
        super("wanlab:Lab", name, {}, opts);

        const lab = (this.context = new LabContext(this, spec, args.stack, settings, args.probes ?? {}));
        const all = stages();
        for (const { stage } of all) stage.prepare?.(lab);
        for (const h of spec.hosts) {
            const lines = [
                ...(h.transport === "emulated" ? ownerCheck(args.stack, h.name) : []),
                ...all.flatMap(({ stage }) => stage.preflight?.(lab, h) ?? []),
            ];
            lab.preflights[h.name] = preflight(h, requirementsFor(spec, h), lines, lab.child);
        }
        // Every host waits for every preflight and every check across hosts.
        const preflights = [...Object.values(lab.preflights), ...all.flatMap(({ stage }) => stage.gates?.(lab) ?? [])];
        const interfaces = new Map<string, string[]>();
        for (const l of spec.links) for (const e of l.ends) pushTo(interfaces, e.host, e.interface);
        for (const h of spec.hosts) {
            lab.hosts[h.name] = createHost({ spec: h, stack: args.stack, preflights, interfaces: interfaces.get(h.name) ?? [] }, lab.child);
        }
        for (const l of spec.links) {
            const link = new Link(l.name, { spec: l, hosts: l.ends.map((e) => lab.hosts[e.host]), stack: args.stack }, lab.child);
            lab.add("links", link);
            lab.provide("link", l.name, link);
            for (const e of l.ends) lab.addUnderlay(e.host, link);
        }
        // The core's outputs first: a module may add to a host's entry (its accelerator, say).
        Object.assign(lab.outputs, {
            experiment: spec.name,
            hosts: Object.fromEntries(spec.hosts.map((h) => [h.name, {
                transport: h.transport, site: h.site ?? null, roles: h.roles, ...lab.hosts[h.name].describe(),
            }])),
            links: Object.fromEntries(spec.links.map((l) => [l.name, {
                subnet: l.subnet,
                ends: l.ends.map((e) => `${e.host}:${e.interface}${e.address ? ` ${e.address}` : ""}`),
            }])),
        });
        for (const { stage } of all) stage.build(lab);
        this.outputs = lab.outputs;
        this.registerOutputs({});
    }
}
