// The migration, once every check has passed (the VM answered before it moves), as run
// wanlab:migrationRun in wanlab:migrationDirection (and wanlab:migrationRuns - 1 more, there
// and back). Each run's record is in the stack output `migrations` (the last is `migration`)
// and a file results/<stack>/migration-<run>-<from>-<to>.json; the VM's `host` output follows.
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { Stage } from "../../components/stages";
import type { Hypervisor } from "../libvirt/hypervisor";
import type { VirtualMachine } from "../libvirt/vm";
import type { PingCheck } from "../checks/ping-check";
import { hostCheck } from "../../components/host/preflight";
import { decidedNow, decisionOf } from "../libvirt/build";
import { type Direction, type RunPlan, underlayAddress, underlayInterface } from "./model";
import { Migration } from "./migration";
import { type MigrationRecord, recordFile } from "./record";
import { fillMiB } from "../workload/model";
import type { TrafficCounters } from "../traffic/build";
import type { VmSpec } from "../libvirt/model";
import { pmipAfterRun } from "../pmipv6/build";

const guestWorkload = (vm: VmSpec) => ({ memoryMiB: vm.memoryMiB, fillMiB: fillMiB(vm.memoryMiB, vm.workload), dirtyMiBps: vm.workload?.dirtyMiBps ?? 0 });

const mismatch = (m: { vm: string; from: string; to: string }, a: string, b: string) =>
    `the migration of ${m.vm} needs the same accelerator on both hypervisors, but ${m.from} would use ${a} and ${m.to} ${b}: ` +
    "give both the same accel (tcg runs everywhere)";

export const stage: Stage = {
    // A KVM guest cannot move to a TCG hypervisor: refuse the lab before anything exists.
    prepare(lab) {
        const m = lab.spec.migration;
        const [a, b] = m ? [decidedNow(lab, m.from), decidedNow(lab, m.to)] : [];
        if (m && a && b && !("error" in a) && !("error" in b) && a.accel !== b.accel) {
            throw new pulumi.RunError(mismatch(m, `${a.accel} (${a.reason})`, `${b.accel} (${b.reason})`));
        }
    },

    // Where a host's own preflight decides (a real machine), compare once both have.
    gates(lab) {
        const m = lab.spec.migration;
        if (!m || (decidedNow(lab, m.from) && decidedNow(lab, m.to))) return [];
        const accel = (h: string) => decisionOf(lab, h).apply((d) => ("error" in d ? "none" : d.accel));
        // On a host whose own preflight decided, which is reached as its preflight was.
        const on = lab.spec.hosts.find((h) => h.name === (decidedNow(lab, m.from) ? m.to : m.from))!;
        return [hostCheck(on, `migration-accel-${m.vm}`, {
            create: '[ "$FROM_ACCEL" = "$TO_ACCEL" ] || { echo "$MESSAGE" >&2; exit 1; }',
            environment: {
                FROM_ACCEL: accel(m.from), TO_ACCEL: accel(m.to),
                MESSAGE: pulumi.all([accel(m.from), accel(m.to)]).apply(([a, b]) => mismatch(m, a, b)),
            },
        }, { ...lab.child, dependsOn: Object.values(lab.preflights) })];
    },

    build(lab) {
        const m = lab.spec.migration;
        const run = (lab.settings.migrationRun as number | undefined) ?? 1;
        if (!m || run <= 0) return;
        const direction = (lab.settings.migrationDirection as Direction | undefined) ?? "forward";
        const runs = (lab.settings.migrationRuns as number | undefined) ?? 1;
        const vm = lab.need<VirtualMachine>("vm", m.vm);
        const migration = new Migration(`${m.vm}-migration`, {
            spec: m, run, direction, runs,
            probe: lab.hosts[m.probe.from],
            vmAddress: vm.address!,
            hypervisors: Object.fromEntries([m.from, m.to].map((h) => [h, lab.need<Hypervisor>("hypervisor", h)])),
            addresses: Object.fromEntries([m.from, m.to].map((h) => [h, underlayAddress(lab.spec, h)])),
            interfaces: Object.fromEntries([m.from, m.to].map((h) => [h, underlayInterface(lab.spec, h)])),
            runDir: `/var/lib/wanlab/${lab.stack}/migrate-${m.vm}`,
            guest: guestWorkload(lab.spec.vms.find((v) => v.name === m.vm)!),
            copyStorage: lab.spec.vms.find((v) => v.name === m.vm)!.disk.local ? m.copyStorage ?? "all" : undefined,
            // The lab's counters, if it has them, unless wanlab:trafficSplit is off.
            traffic: lab.settings.trafficSplit === "off" ? undefined : lab.lookup<TrafficCounters>("traffic", "counters"),
            afterRun: pmipAfterRun(lab, m.vm),
            // The VM answered every check before it moves.
            dependsOn: [...lab.builtIn("links", "network", "routing", "wan"), ...lab.all<VirtualMachine>("vm"), ...lab.all<PingCheck>("check")],
        }, lab.child);
        lab.provide("migration", m.vm, migration);
        lab.add("experiment", migration);
        lab.outputs.migration = migration.record;
        lab.outputs.migrations = pulumi.all(migration.records);

        // Where the VM runs now: on the destination if the last migration started after the
        // VM did, else where the stack file starts it (a changed VM is started again there).
        const home = lab.spec.vms.find((v) => v.name === m.vm)!.host;
        const vms = lab.outputs.vms as Record<string, { host: pulumi.Input<string> }>;
        vms[m.vm].host = pulumi.all([vm.startedAt, migration.record]).apply(([started, r]) => (r.startedAt > started ? r.to : home));

        // One JSON record per run under results/<stack>/, written as that run completes
        // (a later run of the batch may fail: the earlier ones are kept), and again with its
        // traffic split once that is read.
        if (!pulumi.runtime.isDryRun()) {
            const write = (want: RunPlan, r: MigrationRecord) => {
                // The host reports the run: it must be the run and the ends this program asked for.
                if (r.run !== want.run || r.from !== want.from || r.to !== want.to) {
                    pulumi.log.warn(`the migration's record is of run ${r.run} ${r.from} -> ${r.to}, not of run ${want.run} ${want.from} -> ${want.to}: not written to results/`);
                    return;
                }
                const file = recordFile("results", lab.stack, want);
                fs.mkdirSync(path.dirname(file), { recursive: true });
                fs.writeFileSync(file, JSON.stringify(r, null, 2) + "\n");
            };
            migration.runs.forEach((want, i) => {
                migration.measured[i].apply((r) => write(want, r));
                if (migration.records[i] !== migration.measured[i]) migration.records[i].apply((r) => write(want, r));
            });
        }
    },
};
