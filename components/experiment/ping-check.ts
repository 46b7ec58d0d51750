// A connectivity check that `pulumi up` must pass: pings from one host to an address.
// It runs when created (and when its parameters change); its output keeps the summary.
import * as pulumi from "@pulumi/pulumi";
import type { CheckSpec } from "../../lib/spec";
import { script } from "../../lib/shell";
import { Host } from "../host/host";

export class PingCheck extends pulumi.ComponentResource {
    /** ping's summary lines: packets sent/received and rtt min/avg/max. */
    readonly summary: pulumi.Output<string>;

    constructor(name: string, spec: CheckSpec, from: Host, opts?: pulumi.ComponentResourceOptions) {
        super("wanlab:experiment:PingCheck", name, {}, opts);
        const cmd = from.command(`check-${name}`, {
            create: script(
                'out=$(ping -n -q -c "$COUNT" -i 0.2 -W 2 "$TARGET" 2>&1) || {',
                '  echo "ping from $FROM to $TARGET failed:" >&2; echo "$out" >&2; exit 1; }',
                'echo "$out" | tail -n 2',
            ),
            environment: { TARGET: spec.to, COUNT: String(spec.count), FROM: from.name },
        }, { parent: this });
        this.summary = (cmd as any).stdout as pulumi.Output<string>;
        this.registerOutputs({ summary: this.summary });
    }
}
