// A real machine reached over SSH. Commands run through @pulumi/command's remote.Command;
// the private key comes from the stack's secret configuration and stays a secret.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import type { HostSpec } from "../../lib/spec";
import { CommandArgs, Host } from "./host";

export interface SshHostArgs {
    spec: HostSpec;
    preflights: pulumi.Resource[];
}

/** The connection for a host's ssh settings; the key is read as a Pulumi secret. */
export function sshConnection(spec: HostSpec): command.types.input.remote.ConnectionArgs {
    const ssh = spec.ssh!;
    return {
        host: ssh.address,
        port: ssh.port,
        user: ssh.user,
        privateKey: new pulumi.Config().requireSecret(ssh.privateKey.config),
        dialErrorLimit: 5,
        perDialTimeout: 10,
    };
}

export class SshHost extends Host {
    private readonly connection: command.types.input.remote.ConnectionArgs;

    constructor(args: SshHostArgs, opts?: pulumi.ComponentResourceOptions) {
        super("wanlab:host:SshHost", args.spec, opts);
        this.connection = sshConnection(args.spec);
        this.ready = args.preflights;
        this.registerOutputs({ address: args.spec.ssh!.address });
    }

    protected runCommand(name: string, args: CommandArgs, opts: pulumi.CustomResourceOptions) {
        return new command.remote.Command(name, {
            ...args,
            connection: this.connection,
            addPreviousOutputInEnv: true,
        }, opts);
    }
}
