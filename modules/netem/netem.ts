// WAN emulation: a NetEm qdisc on each of the router's site-facing interfaces.
// `tc qdisc replace` makes a second run change nothing, a new profile updates the qdisc
// in place, and delete restores the interface's default root qdisc. The campus profile
// adds nothing, so it removes any NetEm qdisc left from an earlier profile.
import * as pulumi from "@pulumi/pulumi";
import { shellScript } from "../../lib/scripts";
import type { Host } from "../../components/host/host";
import { appliedArgs, type WanSpec } from "./model";

export interface NetemArgs {
    spec: WanSpec;
    router: Host;
    /** What must be up first: the interfaces and everything else the network has. */
    dependsOn: pulumi.Resource[];
}

export class Netem extends pulumi.ComponentResource {
    /** The netem arguments each interface gets ("" for none). */
    readonly applied: string;

    constructor(name: string, args: NetemArgs, opts?: pulumi.ComponentResourceOptions) {
        super("wanlab:netem:Netem", name, {}, { aliases: [{ type: "wanlab:network:Netem" }], ...opts });
        const { spec, router } = args;
        this.applied = appliedArgs(spec);
        for (const ifname of spec.interfaces) {
            router.command(`netem-${ifname}`, {
                create: shellScript(__dirname, "qdisc-create.sh"),
                delete: 'if tc qdisc show dev "$IF" root | grep -q "qdisc netem"; then tc qdisc del dev "$IF" root; fi',
                environment: { IF: ifname, NETEM: this.applied, PROFILE: typeof spec.profile === "string" ? spec.profile : "custom" },
            }, { parent: this, dependsOn: args.dependsOn });
        }
        this.registerOutputs({ applied: this.applied });
    }
}
