// The migration action: a resource that live-migrates the VM and records downtime and
// total migration time. It runs again whenever its trigger changes:
//   pulumi config set wanlab:migrationRun 2 && pulumi up
// wanlab:migrationDirection (forward | back) says which way: forward is the stack file's
// from -> to. The command runs on the probe host (the client), which reaches both
// libvirt daemons and pings the VM through the switchover.
import * as pulumi from "@pulumi/pulumi";
import { shellScript } from "../../lib/scripts";
import { type MigrationRecord, recordFromOutput } from "./record";
import type { Host } from "../../components/host/host";
import type { Hypervisor } from "../libvirt/hypervisor";
import type { Direction, MigrationSpec } from "./model";

export interface MigrationArgs {
    spec: MigrationSpec;
    run: number;
    direction: Direction;
    probe: Host;
    vmAddress: string;
    hypervisors: Record<string, Hypervisor>;
    /** Underlay address of each hypervisor, for the migration stream. */
    addresses: Record<string, string>;
    dependsOn: pulumi.Resource[];
}

export type { MigrationRecord };

export class Migration extends pulumi.ComponentResource {
    readonly record: pulumi.Output<MigrationRecord>;
    readonly from: string;
    readonly to: string;

    constructor(name: string, args: MigrationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("wanlab:migration:Migration", name, {}, { aliases: [{ type: "wanlab:experiment:Migration" }], ...opts });
        const { spec } = args;
        [this.from, this.to] = args.direction === "forward" ? [spec.from, spec.to] : [spec.to, spec.from];
        const options = [
            ...(spec.bandwidthMiBps ? [`--bandwidth ${spec.bandwidthMiBps}`] : []),
            ...(spec.autoConverge ? ["--auto-converge"] : []),
            ...(spec.postCopy ? ["--postcopy", "--postcopy-after-precopy"] : []),
        ];
        const dst = args.addresses[this.to];
        const cmd = args.probe.command(`migrate-${spec.vm}`, {
            create: shellScript(__dirname, "migrate.sh"),
            // A changed option alone does not migrate again; it waits for the next run.
            update: 'printf "%s\\n" "$PULUMI_COMMAND_STDOUT"',
            environment: {
                VM: spec.vm, VM_ADDR: args.vmAddress, RUN: String(args.run),
                SRC_HOST: this.from, DST_HOST: this.to,
                SRC_URI: args.hypervisors[this.from].uri, DST_URI: args.hypervisors[this.to].uri,
                MIGRATE_URI: `tcp://${dst}${spec.port ? `:${spec.port}` : ""}`,
                OPTIONS: options.join(" "), MAX_DOWNTIME_MS: spec.maxDowntimeMs ? String(spec.maxDowntimeMs) : "",
                INTERVAL_MS: String(spec.probe.intervalMs), INTERVAL_S: (spec.probe.intervalMs / 1000).toFixed(3),
                TIMEOUT_S: String(spec.timeoutS), RECOVER_S: "15",
            },
            // A new run (or direction) replaces the resource: create migrates again.
            triggers: [args.run, args.direction],
        }, { parent: this, dependsOn: args.dependsOn });
        this.record = (cmd as any).stdout.apply((s: string) => recordFromOutput(s));
        this.registerOutputs({ record: this.record });
    }
}
