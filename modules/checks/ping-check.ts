// A connectivity check that `pulumi up` must pass: pings from one host to an address.
// It runs when created (and when its parameters change); its output keeps the summary.
import * as pulumi from "@pulumi/pulumi";
import { shellScript } from "../../lib/scripts";
import type { Host } from "../../components/host/host";
import type { CheckSpec } from "./model";

export interface PingCheckArgs {
    spec: CheckSpec;
    from: Host;
    /** What makes the check run again (a replaced VM has to answer again). */
    triggers?: pulumi.Input<any>[];
}

export class PingCheck extends pulumi.ComponentResource {
    /** ping's summary lines: packets sent/received and rtt min/avg/max. */
    readonly summary: pulumi.Output<string>;

    constructor(name: string, args: PingCheckArgs, opts?: pulumi.ComponentResourceOptions) {
        super("wanlab:checks:PingCheck", name, {}, { aliases: [{ type: "wanlab:experiment:PingCheck" }], ...opts });
        const { spec, from } = args;
        const triggers = args.triggers ?? [];
        const cmd = from.command(`check-${name}`, {
            create: shellScript(__dirname, "ping-check.sh"),
            environment: { TARGET: spec.to, COUNT: String(spec.count), WAIT: String(spec.waitS), FROM: from.name },
            ...(triggers.length ? { triggers } : {}),
        }, { parent: this });
        this.summary = (cmd as any).stdout as pulumi.Output<string>;
        this.registerOutputs({ summary: this.summary });
    }
}
