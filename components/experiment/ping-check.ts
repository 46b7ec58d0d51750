// A connectivity check that `pulumi up` must pass: pings from one host to an address.
// It runs when created (and when its parameters change); its output keeps the summary.
import * as pulumi from "@pulumi/pulumi";
import type { CheckSpec } from "../../lib/spec";
import { script } from "../../lib/shell";
import { Host } from "../host/host";

export class PingCheck extends pulumi.ComponentResource {
    /** ping's summary lines: packets sent/received and rtt min/avg/max. */
    readonly summary: pulumi.Output<string>;

    /** triggers: what makes the check run again (a replaced VM has to answer again). */
    constructor(name: string, spec: CheckSpec, from: Host, opts?: pulumi.ComponentResourceOptions, triggers: pulumi.Input<any>[] = []) {
        super("wanlab:experiment:PingCheck", name, {}, opts);
        const cmd = from.command(`check-${name}`, {
            create: script(
                // Keep trying until the deadline: a VM may still be booting.
                'deadline=$(( $(date +%s) + WAIT ))',
                'until out=$(ping -n -q -c "$COUNT" -i 0.2 -W 1 "$TARGET" 2>&1); do',
                '  if [ "$(date +%s)" -ge "$deadline" ]; then',
                '    echo "ping from $FROM to $TARGET failed for ${WAIT}s:" >&2; echo "$out" >&2; exit 1',
                '  fi',
                '  sleep 1',
                'done',
                'echo "$out" | tail -n 2',
            ),
            environment: { TARGET: spec.to, COUNT: String(spec.count), WAIT: String(spec.waitS), FROM: from.name },
            ...(triggers.length ? { triggers } : {}),
        }, { parent: this });
        this.summary = (cmd as any).stdout as pulumi.Output<string>;
        this.registerOutputs({ summary: this.summary });
    }
}
