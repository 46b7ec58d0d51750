// The lab's PMIPv6 daemon (tools/pmipd) on one LMA or MAG: its configuration, the RADIUS
// shared secret and password beside it (files of mode 0600, never on a command line), and
// the daemon itself, started in the background and stopped on delete, when it removes
// its tunnels, routes and rules.
import * as crypto from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { shellScript } from "../../lib/scripts";
import type { Host } from "../../components/host/host";

export interface PmipDaemonArgs {
    host: Host;
    dir: string;
    config: object;
    secret: pulumi.Output<string>;
    password: pulumi.Output<string>;
    dependsOn: pulumi.Resource[];
}

export class PmipDaemon extends pulumi.ComponentResource {
    readonly ready: pulumi.Resource;

    constructor(name: string, args: PmipDaemonArgs, opts?: pulumi.ComponentResourceOptions) {
        super("wanlab:pmipv6:PmipDaemon", name, {}, opts);
        const { host, dir } = args;
        const config = JSON.stringify(args.config, null, 2) + "\n";
        const deps = { parent: this, dependsOn: args.dependsOn };
        const files = [
            host.file("pmipd-config", { path: `${dir}/config.json`, content: config }, deps),
            host.file("pmipd-radius-secret", { path: `${dir}/radius-secret`, content: args.secret }, deps),
            host.file("pmipd-radius-password", { path: `${dir}/radius-password`, content: args.password }, deps),
        ];
        // A new configuration or secret restarts the daemon (the hashes, not the secrets, are inputs).
        const digest = pulumi.all([args.secret, args.password]).apply(([s, p]) =>
            crypto.createHash("sha256").update(config).update("\0").update(s).update("\0").update(p).digest("hex").slice(0, 16));
        this.ready = host.command("pmipd", {
            create: shellScript(__dirname, "pmipd-start.sh"),
            delete: shellScript(__dirname, "pmipd-stop.sh"),
            environment: { DIR: dir },
            triggers: [digest],
        }, { parent: this, dependsOn: files });
        this.registerOutputs({});
    }
}
