// The whole lab from one validated spec, in the order a network engineer would build it:
// preflight every host, then hosts, Open vSwitch and bridges, links, routes, tunnels,
// shared storage, hypervisors, VMs, checks, and last the migration. Every host waits for
// every preflight, so a missing feature anywhere changes nothing anywhere.
import * as pulumi from "@pulumi/pulumi";
import type { LabSpec } from "../lib/spec";
import { hostPart } from "../lib/address";
import { requirementsFor } from "../lib/features";
import { Host } from "./host/host";
import { EmulatedHost } from "./host/emulated";
import { SshHost } from "./host/ssh";
import { ApplianceHost } from "./host/appliance";
import { Link } from "./host/link";
import { preflight } from "./host/preflight";
import { OpenVSwitch } from "./network/ovs";
import { Bridge } from "./network/bridge";
import { VxlanTunnel } from "./network/vxlan";
import { Netem } from "./network/netem";
import { IscsiTarget } from "./storage/iscsi-target";
import { Hypervisor } from "./compute/hypervisor";
import { VirtualMachine } from "./compute/virtual-machine";
import { PingCheck } from "./experiment/ping-check";
import { Migration } from "./experiment/migration";

export interface LabArgs {
    spec: LabSpec;
    /** Distinguishes the namespaces of two stacks on one machine. */
    stack: string;
    /** The migration trigger: run N of the migration (0: do not migrate). */
    migrationRun?: number;
    migrationDirection?: "forward" | "back";
    /** Overrides the stack file's WAN profile (wanlab:wanProfile). */
    wanProfile?: string;
}

/** Parts of the schema that validate today but have no component yet. */
export function unbuiltSections(spec: LabSpec): string[] {
    const out: string[] = [];
    spec.tunnels.forEach((t, i) => { if (t.type !== "vxlan") out.push(`/tunnels/${i}/type`); });
    spec.storage.forEach((s, i) => { if (s.implementation !== "tgt") out.push(`/storage/${i}/implementation`); });
    return out;
}

export class Lab extends pulumi.ComponentResource {
    readonly hosts: Record<string, Host> = {};
    readonly links: Record<string, Link> = {};
    readonly checks: Record<string, PingCheck> = {};
    readonly hypervisors: Record<string, Hypervisor> = {};
    readonly vms: Record<string, VirtualMachine> = {};
    readonly migration?: Migration;
    readonly wan?: Netem;

    constructor(name: string, args: LabArgs, opts?: pulumi.ComponentResourceOptions) {
        super("wanlab:Lab", name, {}, opts);
        const { spec, stack } = args;
        const unbuilt = unbuiltSections(spec);
        if (unbuilt.length) {
            throw new pulumi.RunError(`these parts of the stack file are valid but not built by this version yet: ${unbuilt.join(", ")}`);
        }
        const child = { parent: this };

        const preflights = spec.hosts.map((h) => preflight(h, requirementsFor(spec, h, args.wanProfile), child));
        for (const h of spec.hosts) {
            const interfaces = spec.links.flatMap((l) => l.ends.filter((e) => e.host === h.name).map((e) => e.interface));
            this.hosts[h.name] = h.appliance ? new ApplianceHost({ spec: h, stack, preflights, interfaces }, child)
                : h.transport === "emulated" ? new EmulatedHost({ spec: h, stack, preflights }, child)
                    : new SshHost({ spec: h, preflights }, child);
        }

        // Open vSwitch where a host has an OVS bridge, then the bridges.
        const ovs: Record<string, OpenVSwitch> = {};
        for (const b of spec.bridges) {
            if (b.type === "ovs" && !ovs[b.host]) ovs[b.host] = new OpenVSwitch(b.host, this.hosts[b.host], child);
        }
        const bridges: Record<string, Bridge> = {};
        const bridgeOf = (host: string, name: string) => bridges[`${host}/${name}`];
        for (const b of spec.bridges) bridges[`${b.host}/${b.name}`] = new Bridge(b, this.hosts[b.host], ovs[b.host], child);

        // Links, with bridged ends plugged into their bridge.
        const network: pulumi.Resource[] = Object.values(bridges).map((b) => b.resource);
        const underlayOf = new Map<string, pulumi.Resource[]>();
        const touch = (host: string, ...rs: pulumi.Resource[]) => underlayOf.set(host, [...(underlayOf.get(host) ?? []), ...rs]);
        for (const l of spec.links) {
            const link = new Link(l, [this.hosts[l.ends[0].host], this.hosts[l.ends[1].host]], child);
            this.links[l.name] = link;
            network.push(...link.resources);
            for (const e of l.ends) {
                touch(e.host, ...link.resources);
                if (e.bridge) {
                    const port = bridgeOf(e.host, e.bridge).addPort(e.interface, link.resources);
                    network.push(port);
                    touch(e.host, port);
                }
            }
        }
        for (const b of spec.bridges) if (b.address) touch(b.host, bridgeOf(b.host, b.name).resource);

        for (const h of spec.hosts) {
            const host = this.hosts[h.name];
            if (h.forwarding ?? h.roles.includes("router")) network.push(host.enableForwarding());
            for (const r of h.routes ?? []) network.push(host.route(r.to, r.via, { dependsOn: underlayOf.get(h.name) ?? [] }));
        }
        for (const t of spec.tunnels) {
            const tunnel = new VxlanTunnel(t, t.endpoints.map((e) => bridgeOf(e.host, e.bridge)), child);
            network.push(...tunnel.resources);
        }

        // The WAN: NetEm on the router's site-facing interfaces, once they are up.
        if (spec.wan) {
            this.wan = new Netem(spec.wan, args.wanProfile ?? spec.wan.profile, this.hosts[spec.wan.router], [...network], child);
            network.push(...this.wan.resources);
        }

        // Shared storage, hypervisors with the storage's CHAP secret, and the VMs.
        const config = new pulumi.Config();
        const storage: Record<string, IscsiTarget> = {};
        const chapPasswords: Record<string, pulumi.Output<string>> = {};
        for (const s of spec.storage) {
            if (s.chap) chapPasswords[s.name] = config.requireSecret(s.chap.password.config);
            storage[s.name] = new IscsiTarget(s, this.hosts[s.host], chapPasswords[s.name], { parent: this, dependsOn: network });
        }
        if (spec.vms.length) {
            for (const h of spec.hosts.filter((x) => x.roles.includes("hypervisor"))) {
                const hv = new Hypervisor(this.hosts[h.name], stack, { parent: this, dependsOn: ovs[h.name] ? [ovs[h.name].ready] : [] });
                for (const s of spec.storage) {
                    if (s.chap) hv.addIscsiSecret(s.name, { usage: s.iqn, password: chapPasswords[s.name] });
                }
                this.hypervisors[h.name] = hv;
            }
        }
        const all = Object.values(this.hypervisors);
        for (const vm of spec.vms) {
            const st = spec.storage.find((s) => s.name === vm.disk.storage)!;
            this.vms[vm.name] = new VirtualMachine({
                spec: vm, storage: st, home: this.hypervisors[vm.host], hypervisors: all,
                accel: spec.hosts.find((h) => h.name === vm.host)!.accel,
                bridgeTypes: Object.fromEntries(spec.bridges.filter((b) => b.host === vm.host).map((b) => [b.name, b.type])),
                dependsOn: [...network, storage[st.name].ready, ...all.flatMap((h) => [h.ready, ...h.secrets])],
            }, child);
        }

        const built = [...network, ...Object.values(this.vms).map((v) => v.resource)];
        for (const c of spec.checks) {
            // validateDocument names every check.
            // A check of a VM's address runs again when that VM is started again.
            const vm = Object.values(this.vms).find((v) => v.address === c.to);
            this.checks[c.name!] = new PingCheck(c.name!, c, this.hosts[c.from], { parent: this, dependsOn: built },
                vm ? [vm.startedAt] : []);
        }

        const m = spec.migration;
        if (m && (args.migrationRun ?? 1) > 0) {
            const vm = this.vms[m.vm];
            this.migration = new Migration(`${m.vm}-migration`, {
                spec: m,
                run: args.migrationRun ?? 1,
                direction: args.migrationDirection ?? "forward",
                probe: this.hosts[m.probe.from],
                vmAddress: vm.address!,
                hypervisors: this.hypervisors,
                addresses: Object.fromEntries([m.from, m.to].map((h) => [h, underlayAddress(spec, h)])),
                // The VM answered every check before it moves.
                dependsOn: [...built, ...Object.values(this.checks)],
            }, child);
        }
        this.registerOutputs({});
    }
}

/** A host's address on its uplink: a bridge's address, else its first link address. */
export function underlayAddress(spec: LabSpec, host: string): string {
    const bridge = spec.bridges.find((b) => b.host === host && b.address);
    if (bridge) return hostPart(bridge.address!);
    for (const l of spec.links) {
        const end = l.ends.find((e) => e.host === host && e.address);
        if (end) return hostPart(end.address!);
    }
    throw new Error(`host '${host}' has no address`);
}
