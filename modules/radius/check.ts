// The lab's check of the RADIUS server, which `pulumi up` must pass: from the server's host,
// real Access-Requests for every VM user (an Access-Accept with its prefix and interface
// id), every MAG user (an Access-Accept) and an unknown MAC (an Access-Reject).
//
// Where radclient runs: on the server's host, as the loopback client the server's create
// made (127.0.0.1, a listener of its own, its secret generated into the server's directory
// and never leaving it). A client host (a MAG) would ask across the lab's network with a
// MAG's secret, which would then have to be on two hosts, and would test the routes as
// much as the server; the MAGs' own requests are the PMIPv6 module's business. The
// password goes on stdin (a Pulumi secret), the check's secret is read from its file (-S).
import * as pulumi from "@pulumi/pulumi";
import { shellScript } from "../../lib/scripts";
import type { Host } from "../../components/host/host";
import type { LabSpec } from "../../model/types";
import { checkCases } from "./config";

export interface RadiusCheckArgs {
    spec: LabSpec;
    host: Host;
    dir: string;
    password: pulumi.Output<string>;
    /** The server's command: a new server is checked again. */
    server: pulumi.CustomResource;
}

export class RadiusCheck extends pulumi.ComponentResource {
    /** One line per request: who, and the answer. */
    readonly summary: pulumi.Output<string>;

    constructor(name: string, args: RadiusCheckArgs, opts?: pulumi.ComponentResourceOptions) {
        super("wanlab:radius:RadiusCheck", name, {}, opts);
        const r = args.spec.radius!;
        const cmd = args.host.command("radius-check", {
            create: shellScript(__dirname, "check.sh"),
            stdin: pulumi.secret(args.password.apply((p) => `${p}\n`)),
            environment: { DIR: args.dir, PORT: String(r.port), HOST_NAME: r.host, ...checkCases(args.spec) },
            triggers: [args.server.id],
        }, { parent: this, dependsOn: [args.server] });
        this.summary = (cmd as any).stdout as pulumi.Output<string>;
        this.registerOutputs({ summary: this.summary });
    }
}
