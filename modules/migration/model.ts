// The live migration, as a resource action: which VM, between which hypervisors, probed
// from which client, with which libvirt options; and the settings an experiment varies
// per run (run number, direction, the migrated VM's memory).
import type { ModuleModel } from "../../model/modules";
import { wholeNumber } from "../../model/config";
import { bridgeRef } from "../bridge/model";
import type { LabSpec } from "../../model/types";
import { hostPart } from "../../model/address";
import { ipv6Owner } from "../ipv6/model";
import { hostNode } from "../../model/network";
import { type VmSpec, vmNode, withVmOn } from "../libvirt/model";

export interface MigrationSpec {
    vm: string; from: string; to: string;
    /** address: where the VM's TCP probe sends (by default the checks set it to where the probes leave from). */
    probe: {
        from: string; intervalMs: number; address?: string;
        /** Whether the probe host reaches the VM (not behind a NAT). */
        toVm: boolean;
        /** The VM's own echo probe, to an address of the probe host. */
        fromVm?: { target: string; port: number };
    };
    port?: number; bandwidthMiBps?: number; maxDowntimeMs?: number;
    /** How a local disk moves with the VM (the schema's default applies to a VM with one only). */
    copyStorage?: "all" | "inc";
    /** Seed 004's TCP watch: a bulk stream from the VM, request/response, a capture of the migration. */
    tcpWatch?: { streamMbit?: number; requestResponse: boolean; capture: boolean };
    autoConverge: boolean; postCopy: boolean; timeoutS: number;
}

declare module "../../model/types" {
    interface LabSpec { migration?: MigrationSpec }
}

export type Direction = "forward" | "back";

/** The ports of the probes (tools/probe): the guest answers UDP on one, the probe host's TCP server listens on the other. */
export const UDP_PROBE_PORT = 9000;
export const TCP_PROBE_PORT = 9001;
/** The TCP watch's: the probe host's stream server, the guest's sockperf server. */
export const STREAM_PORT = 9003;
export const RR_PORT = 11111;

/** Where the migrated VM's bulk stream goes (ADDR:PORT) and at what rate, if the migration watches TCP with one. */
export function streamTarget(spec: LabSpec, vm: string): { to: string; rateMbit: number } | undefined {
    const m = spec.migration;
    if (!m || m.vm !== vm || !m.tcpWatch?.streamMbit || !m.probe.address) return undefined;
    return { to: hostPort(m.probe.address, STREAM_PORT), rateMbit: m.tcpWatch.streamMbit };
}

/** The port of the migrated VM's sockperf server, if the migration watches TCP request/response. */
export const rrPort = (spec: LabSpec, vm: string): number | undefined =>
    (spec.migration?.vm === vm && spec.migration.tcpWatch?.requestResponse ? RR_PORT : undefined);

/**
 * Where the migrated VM's TCP survival probe sends (ADDR:PORT): the address the probe
 * host's probes leave from (the checks find it on the model's network). Undefined for
 * any other VM, or without a migration.
 */
export function tcpProbeServer(spec: LabSpec, vm: string): string | undefined {
    const m = spec.migration;
    if (!m || m.vm !== vm || !m.probe.address) return undefined;
    return hostPort(m.probe.address, TCP_PROBE_PORT);
}

/** Where the migrated VM's echo probe sends (ADDR:PORT); undefined for any other VM, or without one. */
export function echoTarget(spec: LabSpec, vm: string): string | undefined {
    const m = spec.migration;
    if (!m || m.vm !== vm || !m.probe.fromVm) return undefined;
    return `${m.probe.fromVm.target}:${m.probe.fromVm.port}`;
}

/** Runs per `up`: each is a resource of its own, and its record is in the state until the next batch. */
export const MAX_RUNS_PER_UP = 50;

/** One run of a batch: its number and ends. */
export interface RunPlan { run: number; from: string; to: string }

/** Which way a run from `from` goes: forward is the stack file's from -> to. */
export const directionOf = (spec: Pick<MigrationSpec, "from">, from: string): Direction => (from === spec.from ? "forward" : "back");

/** The VM that per-run settings change (the migrated one, else the first), changed by `change`; the others as they are. */
export function changeMigratedVm(spec: LabSpec, change: (vm: VmSpec) => VmSpec): void {
    const target = spec.migration?.vm ?? spec.vms[0]?.name;
    spec.vms = spec.vms.map((vm) => (vm.name === target ? change(vm) : vm));
}

/** The runs a batch performs: from `run`, alternating direction from `direction`. */
export function batchRuns(spec: Pick<MigrationSpec, "from" | "to">, run: number, direction: Direction, runs: number): RunPlan[] {
    return Array.from({ length: runs }, (_, i) => {
        const forward = (direction === "forward") === (i % 2 === 0);
        return { run: run + i, ...(forward ? { from: spec.from, to: spec.to } : { from: spec.to, to: spec.from }) };
    });
}

/** A run's record (computed from migrate.sh's output: record.ts). */
export type { MigrationRecord } from "./record";

/** Specs whose migrated VM was given a disk size (wanlab:vmDiskMiB) that its storage cannot take. */
const unsizedDisk = new WeakMap<LabSpec, { vm: string; storage: string; type: string }>();

export const module: ModuleModel = {
    name: "migration",
    phase: "experiment",
    capabilities: { probe: "the migration's probe and virsh client" },
    configKeys: [
        {
            key: "migrationRun",
            description: "the migration's trigger: run N of the migration (0: build the lab without migrating)",
            parse: wholeNumber("migrationRun", 0, 1_000_000_000),
        },
        {
            key: "migrationDirection",
            description: "forward (the stack file's from -> to) or back",
            parse: (raw) => {
                if (raw !== "forward" && raw !== "back") throw new Error(`wanlab:migrationDirection must be 'forward' or 'back', not '${raw}'`);
                return raw;
            },
        },
        {
            key: "migrationRuns",
            description: "how many runs one `up` performs, there and back: runs migrationRun .. migrationRun + N - 1 (default 1)",
            parse: wholeNumber("migrationRuns", 1, MAX_RUNS_PER_UP),
        },
        {
            key: "probeIntervalMs",
            description: "the probes' interval in ms for this run (ping and the UDP probe; 1 ms needs root on the probe host, as ping does)",
            parse: wholeNumber("probeIntervalMs", 1, 1000, "ms"),
        },
        {
            key: "vmMemoryMiB",
            description: "the migrated VM's memory for this run (a new value replaces the VM)",
            parse: wholeNumber("vmMemoryMiB", 64, 65536, "MiB"),
        },
        {
            key: "vmDiskMiB",
            description: "the migrated VM's disk size for this run: a local disk's (a new value replaces the VM), or its NFS export's image (grown or shrunk in place)",
            parse: wholeNumber("vmDiskMiB", 16, 1048576, "MiB"),
        },
    ],
    applySettings(spec, settings) {
        const interval = settings.probeIntervalMs as number | undefined;
        if (spec.migration && interval !== undefined) spec.migration = { ...spec.migration, probe: { ...spec.migration.probe, intervalMs: interval } };
        const mib = settings.vmMemoryMiB as number | undefined;
        if (mib !== undefined) changeMigratedVm(spec, (vm) => ({ ...vm, memoryMiB: mib }));
        const disk = settings.vmDiskMiB as number | undefined;
        // A local disk is the VM's; a shared one is its storage's image (an NFS export's file).
        if (disk !== undefined) changeMigratedVm(spec, (vm) => {
            if (vm.disk.local) return { ...vm, disk: { local: { sizeMiB: disk } } };
            spec.storage = spec.storage.map((st) => {
                if (st.name !== vm.disk.storage) return st;
                if (st.type !== "nfs") unsizedDisk.set(spec, { vm: vm.name, storage: st.name, type: st.type });
                return { ...st, sizeMiB: disk };
            });
            return vm;
        });
    },
    settledErrors(spec) {
        const d = unsizedDisk.get(spec);
        return d ? [`wanlab:vmDiskMiB sets the size of VM '${d.vm}''s disk, which is on ${d.type} storage '${d.storage}', whose size a run cannot change: ` +
            "give the storage its size in the stack file and unset it (pulumi config rm wanlab:vmDiskMiB)"] : [];
    },
    // An existing VM between two different hypervisors that both have its bridges.
    check(spec, ctx) {
        const m = spec.migration;
        if (!m) return;
        const vm = spec.vms.find((v) => v.name === m.vm);
        if (!vm) ctx.err("/migration/vm", `unknown VM '${m.vm}'`);
        for (const end of ["from", "to"] as const) {
            if (ctx.hostRef(`/migration/${end}`, m[end]) && !ctx.hasRole(m[end], "hypervisor"))
                ctx.err(`/migration/${end}`, `host '${m[end]}' does not have the role 'hypervisor'`);
            else if (vm && ctx.hosts.has(m[end])) vm.interfaces.forEach((nic) => bridgeRef(ctx, `/migration/${end}`, m[end], nic.bridge));
        }
        if (m.from === m.to) ctx.err("/migration/to", "source and destination of a migration must be different hosts");
        // Forward is from -> to; the VM starts on its own host (wanlab:migrationDirection turns it round).
        if (vm && ctx.hosts.has(m.from) && m.from !== vm.host) ctx.err("/migration/from", `VM '${m.vm}' starts on '${vm.host}', so a migration starts there, not on '${m.from}'`);
        // A KVM guest does not run under TCG, nor the other way round.
        const [a, b] = [ctx.hosts.get(m.from)?.accel, ctx.hosts.get(m.to)?.accel];
        if (a && b && a !== "auto" && b !== "auto" && a !== b)
            ctx.err("/migration/to", `host '${m.from}' has accel ${a} and host '${m.to}' accel ${b}: a VM migrates only between hypervisors with the same accelerator; give both the same accel (or auto)`);
        if (ctx.hostRef("/migration/probe/from", m.probe.from) && m.probe.address) {
            const address = m.probe.address;
            ctx.later(() => {
                const owner = address.includes(":") ? ipv6Owner(spec, address) : ctx.ownerOf(address);
                if (owner !== m.probe.from) ctx.err("/migration/probe/address", `${address} is ${owner ? `host '${owner}''s address` : "no host's address"}, not one of host '${m.probe.from}' (the probe host, where the TCP probe's server listens)`);
            });
        }
        if (vm && !vm.interfaces[0].address && !vm.interfaces[0].address6) ctx.err("/migration/vm", `VM '${m.vm}' needs an address on its first interface for the probe`);
        if (!m.probe.toVm && m.tcpWatch?.requestResponse)
            ctx.err("/migration/tcpWatch/requestResponse", "request/response runs from the probe host to the VM, which it cannot reach (toVm is false): turn one of them off");
        if (!m.probe.toVm && !m.probe.fromVm)
            ctx.err("/migration/probe/toVm", "with toVm false nothing would see the VM through the migration: give the VM its own probe (fromVm: { target: an address of the probe host })");
        const echo = m.probe.fromVm;
        if (echo && ctx.hosts.has(m.probe.from)) ctx.later(() => {
            if (!ctx.hasAddress(m.probe.from, echo.target)) {
                const owner = ctx.ownerOf(echo.target);
                ctx.err("/migration/probe/fromVm/target", `${echo.target} is ${owner ? `host '${owner}''s address` : "no host's address"}, not one of host '${m.probe.from}' ` +
                    "(the probe host, which runs the migration and the target of the VM's probe)");
            }
        });
        if (vm && !vm.disk.local && m.copyStorage !== undefined)
            ctx.err("/migration/copyStorage", `VM '${m.vm}' has its disk on shared storage '${vm.disk.storage}': there is no disk to copy (copyStorage is for a local disk)`);
        if (!vm) return;
        ctx.later(() => {
            // The migration stream goes to the destination's underlay address, either way round.
            for (const [a, b, what] of [[m.from, m.to, "forward"], [m.to, m.from, "back"]]) {
                const dst = underlayAddress(spec, b);
                const path = ctx.net.roundTrip(hostNode(a), dst);
                if (!path.ok) ctx.err(`/migration/${what === "forward" ? "to" : "from"}`, `the migration ${what} cannot go from host '${a}' to host '${b}' at ${dst}: ${path.reason}`);
            }
            // The probe must reach the VM on both ends, and the VM's TCP client the probe
            // host's server (said only where the probe itself gets through).
            // An IPv6-only VM (seed 001's, on PMIPv6): the IPv4 model has no path to it; the
            // pmipv6 module checks the probe host's route to its prefix through the LMA.
            if (!vm.interfaces[0].address) return;
            const ip = hostPart(vm.interfaces[0].address);
            for (const host of [m.from, m.to]) {
                // The VM's own probe reaches its target, and the replies come back, wherever it runs.
                if (echo && ctx.hasAddress(m.probe.from, echo.target)) {
                    const out = withVmOn(ctx.net, vm, host, () => ctx.net.roundTrip(vmNode(vm.name, host), echo.target));
                    if (!out.ok) ctx.err("/migration/probe/fromVm/target", `VM '${vm.name}' cannot reach its probe's target ${echo.target} while it runs on host '${host}': ${out.reason}`);
                }
                if (!m.probe.toVm) {
                    // Nothing outside reaches the VM: its TCP probe's server listens where its echo probe sends.
                    m.probe.address ??= echo?.target;
                    const server = m.probe.address;
                    const tcp = server ? withVmOn(ctx.net, vm, host, () => ctx.net.roundTrip(vmNode(vm.name, host), server)) : undefined;
                    if (tcp && !tcp.ok) ctx.err("/migration/probe/address", `VM '${vm.name}' cannot reach its TCP probe's server on host '${m.probe.from}' at ${server} while it runs on host '${host}': ${tcp.reason}`);
                    continue;
                }
                const path = withVmOn(ctx.net, vm, host, () => ctx.net.roundTrip(hostNode(m.probe.from), ip));
                if (!path.ok) {
                    ctx.err("/migration/probe/from", `the probe from host '${m.probe.from}' cannot reach VM '${vm.name}' at ${ip} while it runs on host '${host}': ${path.reason}`);
                    continue;
                }
                // The TCP probe's server listens where the probes leave from, unless told.
                m.probe.address ??= path.source;
                const server = m.probe.address;
                const tcp = withVmOn(ctx.net, vm, host, () => ctx.net.roundTrip(vmNode(vm.name, host), server));
                if (!tcp.ok) ctx.err("/migration/probe/from", `VM '${vm.name}' cannot reach its TCP probe's server on host '${m.probe.from}' at ${server} while it runs on host '${host}': ${tcp.reason}`);
            }
        });
    },
    uses: (spec) => (spec.migration ? [{ host: spec.migration.probe.from, capability: "probe", pointer: "/migration/probe/from" }] : []),
    graph(spec, g) {
        const m = spec.migration;
        if (!m) return;
        g.edge(m.from, m.to, { kind: "migration", label: `live migration of ${m.vm}\nprobe from ${m.probe.from} every ${m.probe.intervalMs} ms` });
    },
};

/** ADDR:PORT, with an IPv6 address in brackets. */
export const hostPort = (address: string, port: number) => (address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`);

/** The interface that carries a host's uplink address (underlayAddress): the bridge, else the link's interface. */
export function underlayInterface(spec: LabSpec, host: string): string {
    const address = underlayAddress(spec, host);
    const bridge = spec.bridges.find((b) => b.host === host && b.address && hostPart(b.address) === address);
    if (bridge) return bridge.name;
    for (const l of spec.links) {
        const end = l.ends.find((e) => e.host === host && e.address && hostPart(e.address) === address);
        if (end) return end.interface;
    }
    throw new Error(`host '${host}' has no interface with ${address}`);
}

/** A host's address on its uplink (where a migration stream goes): that of a bridge a link is plugged into, else its first link address. */
export function underlayAddress(spec: LabSpec, host: string): string {
    const uplinks = new Set(spec.links.flatMap((l) => l.ends.filter((e) => e.host === host && e.bridge).map((e) => e.bridge)));
    const bridge = spec.bridges.find((b) => b.host === host && b.address && uplinks.has(b.name));
    if (bridge) return hostPart(bridge.address!);
    for (const l of spec.links) {
        const end = l.ends.find((e) => e.host === host && e.address);
        if (end) return hostPart(end.address!);
    }
    throw new Error(`host '${host}' has no address`);
}
