// A real machine reached over SSH. Commands run through @pulumi/command's remote.Command;
// the private key comes from the stack's secret configuration and stays a secret.
import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import type { HostSpec } from "../../model/types";
import { script } from "../../lib/shell";
import { knownHostKey } from "../../model/known-hosts";
import { asArray, CommandArgs, FileArgs, Host, LocalEnd } from "./host";

export interface SshHostArgs {
    spec: HostSpec;
    preflights: pulumi.Resource[];
    /** Where to connect, for a host without an `ssh` section (an appliance). */
    connection?: command.types.input.remote.ConnectionArgs;
}

/** The connection for a host's ssh settings; the key is read as a Pulumi secret. */
export function sshConnection(spec: HostSpec): command.types.input.remote.ConnectionArgs {
    const ssh = spec.ssh!;
    const hostKey = pinnedHostKey(spec);
    return {
        host: ssh.address,
        port: ssh.port,
        user: ssh.user,
        privateKey: new pulumi.Config().requireSecret(ssh.privateKey.config),
        dialErrorLimit: 5,
        perDialTimeout: 10,
        ...(hostKey ? { hostKey } : {}),
    };
}

/**
 * The host key an ssh host is pinned to: ssh.hostKey, or its entry in ssh.knownHosts
 * (undefined: not pinned). A known_hosts file without the host is an error, said before
 * anything is registered (components/lab.ts).
 */
export function pinnedHostKey(spec: HostSpec): string | undefined {
    const ssh = spec.ssh!;
    if (ssh.hostKey) return ssh.hostKey.split(/\s+/).slice(0, 2).join(" ");
    if (!ssh.knownHosts) return undefined;
    let text: string;
    try {
        text = fs.readFileSync(ssh.knownHosts, "utf8");
    } catch (e: any) {
        throw new Error(`cannot read the known_hosts file ${ssh.knownHosts}: ${e.code ?? e.message}`);
    }
    const key = knownHostKey(text, ssh.address, ssh.port);
    if (!key) {
        const name = ssh.port === 22 ? ssh.address : `[${ssh.address}]:${ssh.port}`;
        throw new Error(`${ssh.knownHosts} has no key for ${name}, so its key is unknown: add it once you have checked its fingerprint ` +
            `(ssh-keyscan -p ${ssh.port} ${ssh.address}, then ssh-keygen -lf), or pin it with ssh.hostKey`);
    }
    return key;
}

export class SshHost extends Host {
    /** Set by the constructor; an appliance adds the host key its VM was given. */
    protected connection: command.types.input.remote.ConnectionArgs;

    constructor(name: string, args: SshHostArgs, opts?: pulumi.ComponentResourceOptions, type = "wanlab:host:SshHost") {
        super(type, name, args.spec, opts);
        this.connection = args.connection ?? sshConnection(args.spec);
        this.ready = args.preflights;
        if (args.spec.ssh) this.registerOutputs({ address: args.spec.ssh.address });
    }

    /**
     * Files go over SFTP (remote.CopyToRemote) to a staging path, then a command moves them
     * into place with their mode, and removes them on delete (CopyToRemote alone does not).
     */
    file(name: string, args: FileArgs, opts: pulumi.CustomResourceOptions = {}): pulumi.CustomResource {
        // Under root's home (the lab logs in as root), not a world-readable /tmp.
        const staging = `/root/.wanlab-staging/${name}`;
        const copy = new command.remote.CopyToRemote(`${this.name}-upload-${name}`, {
            connection: this.connection,
            source: pulumi.output(args.content).apply((c) => new pulumi.asset.StringAsset(c)),
            remotePath: staging,
        }, { parent: this, ...opts, dependsOn: [...this.ready, ...asArray(opts.dependsOn)] });
        return this.command(`file-${name}`, {
            create: script(
                'mkdir -p "$(dirname "$FILE")"',
                'chmod "$MODE" "$STAGING"',
                'mv -f "$STAGING" "$FILE"',
            ),
            delete: 'rm -f "$FILE"',
            environment: { FILE: args.path, MODE: args.mode ?? "0600", STAGING: staging },
            // New content is a new upload: move it into place again.
            triggers: [copy.id],
        }, { ...opts, dependsOn: [copy, ...asArray(opts.dependsOn)] });
    }

    protected runCommand(name: string, args: CommandArgs, opts: pulumi.CustomResourceOptions) {
        return new command.remote.Command(name, {
            ...args,
            connection: this.connection,
            addPreviousOutputInEnv: true,
        }, opts);
    }

    /** A real machine's link ends are its own NICs. */
    localEnd(_ifname: string): LocalEnd | undefined {
        return undefined;
    }

    linkReady(): pulumi.Resource {
        return this;
    }

    describe(): Record<string, unknown> {
        return { address: this.spec.ssh!.address };
    }

    facts(): Record<string, string> {
        return { address: this.spec.ssh!.address, user: this.spec.ssh!.user };
    }
}
