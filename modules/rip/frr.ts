// FRR on a Linux router: zebra, staticd and ripd with their own directory, loaded with the
// config rendered from templates/frr/. A new config replaces the daemons (delete, then
// create), so nothing of the old one lingers in their running state.
import * as crypto from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { shellScript } from "../../lib/scripts";
import type { Host } from "../../components/host/host";

export interface FrrArgs {
    host: Host;
    /** The rendered integrated config (frr.conf). */
    config: string;
    /** The daemons' directory on the host. */
    dir: string;
    /** Where FRR's daemons are installed. */
    daemons: string;
    /** What the routing waits for: the host's addresses and tunnels. */
    dependsOn: pulumi.Resource[];
}

export class Frr extends pulumi.ComponentResource {
    constructor(name: string, args: FrrArgs, opts?: pulumi.ComponentResourceOptions) {
        super("wanlab:rip:Frr", name, {}, opts);
        args.host.command("frr", {
            create: shellScript(__dirname, "frr-create.sh"),
            delete: shellScript(__dirname, "frr-delete.sh"),
            environment: { DIR: args.dir, FRR_DAEMONS: args.daemons },
            stdin: args.config,
            triggers: [crypto.createHash("sha256").update(args.config).digest("hex").slice(0, 16)],
        }, { parent: this, dependsOn: args.dependsOn });
        this.registerOutputs({});
    }
}
