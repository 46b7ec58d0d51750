// The RADIUS server: FreeRADIUS on its host, in the host's namespaces, with its own raddb
// (rendered here from templates/freeradius/ with the Pulumi secrets), log and pid file in
// its own directory. It starts with the lab and stops on delete, and its directory goes.
// The secrets reach the host on the create script's stdin (a Pulumi secret, so encrypted in
// the state) and live there in 0600 files in a 0700 directory: no command line holds one.
import * as pulumi from "@pulumi/pulumi";
import { shellScript } from "../../lib/scripts";
import type { Host } from "../../components/host/host";
import type { LabSpec } from "../../model/types";
import { fileBundle, listenSocket, radiusFiles } from "./config";

export interface RadiusServerArgs {
    spec: LabSpec;
    stack: string;
    host: Host;
    /** The server's directory on the host (config.ts radiusDir). */
    dir: string;
    /** The users' password and each client's secret (radius.clients' order). */
    password: pulumi.Output<string>;
    secrets: pulumi.Output<string>[];
    /** What must be up first: the address it listens on. */
    dependsOn: pulumi.Resource[];
}

export class RadiusServer extends pulumi.ComponentResource {
    /** The server's command on its host: the check reruns when it is replaced. */
    readonly command: pulumi.CustomResource;

    constructor(name: string, args: RadiusServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("wanlab:radius:RadiusServer", name, {}, { ...opts, dependsOn: args.dependsOn });
        const r = args.spec.radius!;
        // A secret in, a secret out: the rendered files are as secret as what they hold.
        const stdin = pulumi.all([args.password, ...args.secrets]).apply(([password, ...secrets]) =>
            fileBundle(radiusFiles(args.spec, args.stack, args.dir, { password, secrets })));
        this.command = args.host.command("radius", {
            create: shellScript(__dirname, "server-create.sh"),
            delete: shellScript(__dirname, "server-delete.sh"),
            stdin: pulumi.secret(stdin),
            environment: {
                DIR: args.dir, PORT: String(r.port), LISTEN: listenSocket(r),
                STOP_SCRIPT: shellScript(__dirname, "server-stop.sh"),
            },
        }, { parent: this });
        this.registerOutputs({});
    }
}
