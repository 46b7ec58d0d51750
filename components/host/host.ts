// The host seam: the only way components touch a machine. A component calls
// host.command() or host.file() and never learns whether the host is a real machine
// over SSH or an emulated one (a namespace on this machine).
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { HostSpec } from "../../model/types";
import { script } from "../../lib/shell";

export interface CommandArgs {
    /** Runs on create, and again on update when no `update` is given. Must be safe to run twice. */
    create: pulumi.Input<string>;
    /** Undoes create. */
    delete?: pulumi.Input<string>;
    update?: pulumi.Input<string>;
    /** A change to any of these replaces the command (delete, then create). */
    triggers?: pulumi.Input<any[]>;
    /** Values travel as environment variables, so commands refer to "$NAME" instead of splicing text. */
    environment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    stdin?: pulumi.Input<string>;
}

export interface FileArgs {
    /** Absolute path on the host (inside its mount namespace for emulated hosts). */
    path: string;
    content: pulumi.Input<string>;
    /** Octal permission bits; files are private (0600) unless told otherwise. */
    mode?: string;
}

/** Where a veth end goes when a link reaches this host directly: a network namespace here, and a bridge to join. */
export interface LocalEnd { netns: string; bridge?: string }

export abstract class Host extends pulumi.ComponentResource {
    readonly name: string;
    readonly spec: HostSpec;
    /** Resources every command on this host waits for (preflights, host set-up). */
    protected ready: pulumi.Input<pulumi.Resource>[] = [];

    protected constructor(type: string, name: string, spec: HostSpec, opts?: pulumi.ComponentResourceOptions) {
        super(type, name, {}, opts);
        this.name = spec.name;
        this.spec = spec;
    }

    /** How this transport runs one command resource. */
    protected abstract runCommand(name: string, args: CommandArgs, opts: pulumi.CustomResourceOptions): pulumi.CustomResource;

    /** Where a link's veth end for this interface goes, if the host is on this machine (undefined: a NIC of its own). */
    abstract localEnd(ifname: string): LocalEnd | undefined;

    /** What a veth into this host waits for. */
    abstract linkReady(): pulumi.Resource;

    /** Where one of its interfaces' frames can be counted without this host's own kernel
     * doing the work: the host that sees them, and the device there (its own, here). */
    counterEnd(ifname: string): { host: Host; device: string } {
        return { host: this, device: ifname };
    }

    /** The host as the stack's `hosts` output shows it. */
    abstract describe(): Record<string, unknown>;

    /** Facts that capability files' templates use ({{runDir}}, {{user}}, {{address}}). */
    abstract facts(): Record<string, string>;

    /** Run a command on this host as a resource: create on `up`, delete on `destroy`. */
    command(name: string, args: CommandArgs, opts: pulumi.CustomResourceOptions = {}): pulumi.CustomResource {
        const dependsOn = [...this.ready, ...asArray(opts.dependsOn)];
        return this.runCommand(`${this.name}-${name}`, args, { parent: this, ...opts, dependsOn });
    }

    /** Put a (rendered) file on the host; written atomically, removed on delete. */
    file(name: string, args: FileArgs, opts: pulumi.CustomResourceOptions = {}): pulumi.CustomResource {
        return this.command(`file-${name}`, {
            create: script(
                'mkdir -p "$(dirname "$FILE")"',
                'umask 077',
                'cat > "$FILE.tmp"',
                'chmod "$MODE" "$FILE.tmp"',
                'mv "$FILE.tmp" "$FILE"',
            ),
            delete: 'rm -f "$FILE"',
            environment: { FILE: path.posix.normalize(args.path), MODE: args.mode ?? "0600" },
            stdin: args.content,
        }, opts);
    }
}

export function asArray<T>(x: T | T[] | undefined | pulumi.Input<T[]>): any[] {
    if (x === undefined) return [];
    return Array.isArray(x) ? x : [x];
}
