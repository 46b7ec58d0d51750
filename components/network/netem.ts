// WAN emulation: a NetEm qdisc on each of the router's site-facing interfaces.
// `tc qdisc replace` makes a second run change nothing, a new profile updates the qdisc
// in place, and delete restores the interface's default root qdisc. The campus profile
// adds nothing, so it removes any NetEm qdisc left from an earlier profile.
import * as pulumi from "@pulumi/pulumi";
import type { WanSpec } from "../../lib/spec";
import { netemArgs, NetemParams, perInterface, PROFILES } from "../../lib/wan-profiles";
import { script } from "../../lib/shell";
import { Host } from "../host/host";

export class Netem extends pulumi.ComponentResource {
    readonly resources: pulumi.Resource[];
    /** The netem arguments each interface gets ("" for none). */
    readonly applied: string;

    constructor(spec: WanSpec, profile: string | NetemParams, router: Host, dependsOn: pulumi.Resource[], opts?: pulumi.ComponentResourceOptions) {
        super("wanlab:network:Netem", `${spec.router}-wan`, {}, opts);
        const params = typeof profile === "string" ? PROFILES[profile] : profile;
        this.applied = netemArgs(perInterface(params, spec.mode)).join(" ");
        this.resources = spec.interfaces.map((ifname) => router.command(`netem-${ifname}`, {
            create: script(
                'if [ -n "$NETEM" ]; then',
                // shellcheck: NETEM is a list of tc words, split on purpose.
                '  tc qdisc replace dev "$IF" root netem $NETEM',
                'elif tc qdisc show dev "$IF" root | grep -q "qdisc netem"; then',
                '  tc qdisc del dev "$IF" root',
                'fi',
            ),
            delete: 'tc qdisc show dev "$IF" root | grep -q "qdisc netem" && tc qdisc del dev "$IF" root || true',
            environment: { IF: ifname, NETEM: this.applied, PROFILE: typeof profile === "string" ? profile : "custom" },
        }, { parent: this, dependsOn }));
        this.registerOutputs({ applied: this.applied });
    }
}
