// The migration action: a resource that live-migrates the VM and records downtime and
// total migration time. It runs again whenever its trigger changes:
//   pulumi config set wanlab:migrationRun 2 && pulumi up
// wanlab:migrationDirection (forward | back) says which way: forward is the stack file's
// from -> to. wanlab:migrationRuns N makes one `up` run N migrations, there and back
// (runs R .. R+N-1): each its own command, after the one before, so that each run's record
// is kept as it completes and a failed one stops the rest. The command runs on the probe
// host (the client), which reaches both libvirt daemons and pings the VM through the switchover.
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { shellScript } from "../../lib/scripts";
import { CACHE_DIR } from "../../lib/cache";
import { type GuestWorkload, type MigrationRecord, type MigrationSettings, recordFromOutput } from "./record";
import type { Host } from "../../components/host/host";
import type { Hypervisor } from "../libvirt/hypervisor";
import type { TrafficCounters } from "../traffic/build";
import { READ_SCRIPT } from "../traffic/build";
import { splitFromNft } from "../traffic/model";
import { batchRuns, type Direction, directionOf, type MigrationSpec, RR_PORT, type RunPlan, STREAM_PORT, TCP_PROBE_PORT, UDP_PROBE_PORT } from "./model";
import { captureFigures } from "./tcp-watch";

export interface MigrationArgs {
    spec: MigrationSpec;
    /** The first run, its direction, and how many runs (alternating direction) this up performs. */
    run: number;
    direction: Direction;
    runs: number;
    probe: Host;
    vmAddress: string;
    hypervisors: Record<string, Hypervisor>;
    /** Underlay address of each hypervisor, for the migration stream, and its interface (for a capture). */
    addresses: Record<string, string>;
    interfaces: Record<string, string>;
    /** Where on the probe host a run keeps its files (removed by the run, the next one, and delete). */
    runDir: string;
    /** The migrated guest's memory and workload, for the record. */
    guest: GuestWorkload;
    /** Whether a local disk is copied along, and how (undefined: the disk is shared). */
    copyStorage?: "all" | "inc";
    /** The WAN's traffic counters, read after each run (the split is off without them). */
    traffic?: TrafficCounters;
    /** What other modules read after each run into its record (PMIPv6's signalling). */
    afterRun?: AfterRun[];
    dependsOn: pulumi.Resource[];
}

export type { MigrationRecord };

/** A reading on some host after each run, merged into the run's record (a module's own figures). */
export interface AfterRun {
    name: string;
    /** Where to read, for this run (the new MAG differs with the direction). */
    host: (r: RunPlan) => Host;
    script: string;
    /** The run's environment: what to read, from when (its record's startedAt, ms since the epoch). */
    environment: (r: RunPlan, startedAt: number) => Record<string, string>;
    merge: (rec: MigrationRecord, stdout: string, r: RunPlan) => MigrationRecord;
}

/** The probes (tools/probe), as scripts/bootstrap.sh builds them. */
export const PROBE = path.join(CACHE_DIR, "bin", "wanlab-probe");

export class Migration extends pulumi.ComponentResource {
    /** Each run's record, in order; `record` is the last one's. */
    readonly records: pulumi.Output<MigrationRecord>[];
    /** The same as soon as the run is over, before its traffic is read (a run cut after it is still a run). */
    readonly measured: pulumi.Output<MigrationRecord>[] = [];
    readonly record: pulumi.Output<MigrationRecord>;
    readonly runs: RunPlan[];

    constructor(name: string, args: MigrationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("wanlab:migration:Migration", name, {}, { aliases: [{ type: "wanlab:experiment:Migration" }], ...opts });
        const { spec } = args;
        this.runs = batchRuns(spec, args.run, args.direction, args.runs);
        const options = [
            ...(spec.bandwidthMiBps ? [`--bandwidth ${spec.bandwidthMiBps}`] : []),
            ...(spec.autoConverge ? ["--auto-converge"] : []),
            ...(spec.postCopy ? ["--postcopy", "--postcopy-after-precopy"] : []),
            // A local disk goes along; libvirt creates its copy on the destination first (local-disk.ts).
            ...(args.copyStorage ? [`--copy-storage-${args.copyStorage}`] : []),
        ];
        const settings: MigrationSettings = { bandwidthMiBps: spec.bandwidthMiBps ?? null, copyStorage: args.copyStorage ?? null };
        let before: pulumi.Resource[] = args.dependsOn;
        const traffic = args.traffic;
        // Each read zeroes the counters, so a run's reading holds what passed since the run
        // before it ended; before the batch's first run, a read that is thrown away.
        const read = (name: string, r: RunPlan, after: pulumi.Resource[]) => traffic!.host.command(name, {
            create: READ_SCRIPT,
            update: READ_SCRIPT,
            triggers: [r.run, directionOf(spec, r.from)],
        }, { parent: this, dependsOn: [...after, traffic!.ready] });
        if (traffic) before = [...before, read(`traffic-zero-${spec.vm}`, this.runs[0], before)];
        // Seed 004's capture, on each run's source: started before the run, read after it.
        const range: [number, number] = spec.port ? [spec.port, spec.port] : [49152, 49215];
        const ports = `${range[0]}-${range[1]}`;
        const captureEnv = (r: RunPlan) => ({
            DIR: `/var/lib/wanlab/capture-${spec.vm}`, IFACE: args.interfaces[r.from], PORTS: ports,
            FILTER: spec.port ? `tcp port ${spec.port}` : "tcp portrange 49152-49215",
            PROBE: args.hypervisors[r.from].host.spec.transport === "emulated" ? PROBE : "",
        });
        const capture = (i: number, r: RunPlan, step: "start" | "read", after: pulumi.Resource[]) =>
            args.hypervisors[r.from].host.command(`capture-${step}-${spec.vm}${i ? `-${i + 1}` : ""}`, {
                create: shellScript(__dirname, `capture-${step}.sh`),
                // The read is the record's: an update keeps it (as the run's).
                ...(step === "read" ? { update: 'printf "%s\\n" "$PULUMI_COMMAND_STDOUT"' } : {}),
                delete: shellScript(__dirname, "capture-delete.sh"),
                environment: captureEnv(r),
                triggers: [r.run, directionOf(spec, r.from)],
            }, { parent: this, dependsOn: after });
        this.records = this.runs.map((r, i) => {
            const dst = args.addresses[r.to];
            if (spec.tcpWatch?.capture) before = [capture(i, r, "start", before)];
            const cmd = args.probe.command(i === 0 ? `migrate-${spec.vm}` : `migrate-${spec.vm}-${i + 1}`, {
                create: shellScript(__dirname, "migrate.sh"),
                // No delete: the run removes RUN_DIR itself, and the next run what a killed one left.
                // A changed option alone does not migrate again; it waits for the next run. The
                // update keeps the record: the provider hands over a large one in a file.
                update: '[ -n "${PULUMI_COMMAND_STDOUT_FILE:-}" ] && cat "$PULUMI_COMMAND_STDOUT_FILE" || printf "%s\\n" "$PULUMI_COMMAND_STDOUT"',
                environment: {
                    VM: spec.vm, VM_ADDR: args.vmAddress, RUN: String(r.run),
                    SRC_HOST: r.from, DST_HOST: r.to,
                    SRC_URI: args.hypervisors[r.from].uri, DST_URI: args.hypervisors[r.to].uri,
                    MIGRATE_URI: `tcp://${dst}${spec.port ? `:${spec.port}` : ""}`,
                    STREAM_PORT: spec.tcpWatch?.streamMbit ? String(STREAM_PORT) : "", RR_PORT: spec.tcpWatch?.requestResponse ? String(RR_PORT) : "",
                    TO_VM: spec.probe.toVm ? "1" : "", ECHO_PORT: spec.probe.fromVm ? String(spec.probe.fromVm.port) : "", ECHO_RECOVER_S: "5",
                    OPTIONS: options.join(" "), COPY_STORAGE: args.copyStorage ?? "", MAX_DOWNTIME_MS: spec.maxDowntimeMs ? String(spec.maxDowntimeMs) : "",
                    INTERVAL_MS: String(spec.probe.intervalMs), INTERVAL_S: (spec.probe.intervalMs / 1000).toFixed(3),
                    TIMEOUT_S: String(spec.timeoutS), RECOVER_S: "15", RUN_DIR: args.runDir,
                    // This machine's build of the probes for its emulated hosts; elsewhere, wanlab-probe on PATH if there.
                    PROBE: args.probe.spec.transport === "emulated" ? PROBE : "", UDP_PORT: String(UDP_PROBE_PORT), TCP_PORT: String(TCP_PROBE_PORT),
                },
                // A new run (or direction) replaces the resource: create migrates again.
                triggers: [r.run, directionOf(spec, r.from)],
            }, { parent: this, dependsOn: before });
            before = [cmd];
            let record = (cmd as any).stdout.apply((s: string) => ({ ...recordFromOutput(s), guest: args.guest, settings })) as pulumi.Output<MigrationRecord>;
            if (spec.tcpWatch?.capture) {
                const read = capture(i, r, "read", [cmd]);
                before = [read];
                record = pulumi.all([record, (read as any).stdout as pulumi.Output<string>]).apply(([rec, out]) =>
                    (out ? { ...rec, capture: captureFigures(JSON.parse(out), rec.startedAt, range) } : rec));
            }
            for (const a of args.afterRun ?? []) {
                const reading = a.host(r).command(`${a.name}-${spec.vm}${i ? `-${i + 1}` : ""}`, {
                    create: a.script,
                    // The reading is the record's: an update keeps it (as the run's).
                    update: 'printf "%s\\n" "$PULUMI_COMMAND_STDOUT"',
                    environment: record.apply((rec) => a.environment(r, rec.startedAt)),
                    triggers: [r.run, directionOf(spec, r.from)],
                }, { parent: this, dependsOn: before });
                before = [reading];
                record = pulumi.all([record, (reading as any).stdout as pulumi.Output<string>]).apply(([rec, out]) => (out ? a.merge(rec, out, r) : rec));
            }
            this.measured.push(record);
            if (!traffic) return record;
            // After the capture's read, if any: the next run waits for both.
            const counted = read(i === 0 ? `traffic-${spec.vm}` : `traffic-${spec.vm}-${i + 1}`, r, before);
            before = [counted];
            // No reading yet (a preview): the record without the split.
            return pulumi.all([record, (counted as any).stdout as pulumi.Output<string>]).apply(([rec, out]) =>
                (out ? { ...rec, traffic: splitFromNft(out, traffic.classes, traffic.interfaces) } : rec));
        });
        this.record = this.records[this.records.length - 1];
        this.registerOutputs({ record: this.record });
    }
}
