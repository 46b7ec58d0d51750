// An emulated host: a network namespace plus a private mount namespace on this machine,
// with its own runtime directory. Every command for the host runs inside both.
import * as pulumi from "@pulumi/pulumi";
import type { HostSpec } from "../../model/types";
import { shellScript } from "../../lib/scripts";
import { CommandArgs, Host, LocalEnd } from "./host";
import { emulatedNames, localCommand, RUN_ROOT } from "./local";

export interface EmulatedHostArgs {
    spec: HostSpec;
    /** The stack name: namespaces of two stacks never collide. */
    stack: string;
    /** Preflight checks that must pass before this host is created. */
    preflights: pulumi.Resource[];
}

// Directories each emulated host keeps to itself, so that every daemon (libvirtd, OVS,
// tgtd) finds its own state at its usual path. They are bind-mounted from the host's
// runtime directory inside its mount namespace.
export const PRIVATE_DIRS = [
    "/etc/libvirt", "/run/libvirt", "/var/lib/libvirt", "/var/log/libvirt", "/var/cache/libvirt",
    "/etc/openvswitch", "/run/openvswitch", "/var/log/openvswitch", "/run/tgtd", "/var/lib/wanlab",
];

export class EmulatedHost extends Host {
    readonly netns: string;
    readonly runDir: string;
    readonly namespace: pulumi.CustomResource;

    constructor(name: string, args: EmulatedHostArgs, opts?: pulumi.ComponentResourceOptions) {
        super("wanlab:host:EmulatedHost", name, args.spec, opts);
        const { netns, runDir } = emulatedNames(args.stack, args.spec.name);
        this.netns = netns;
        this.runDir = runDir;
        this.namespace = localCommand(`${this.name}-namespace`, {
            create: shellScript(__dirname, "namespace-create.sh"),
            delete: shellScript(__dirname, "namespace-delete.sh"),
            environment: {
                NETNS: netns, RUN: runDir, RUN_ROOT, STACK_DIR: `${RUN_ROOT}/${args.stack}`, PRIVATE_DIRS: PRIVATE_DIRS.join(" "),
            },
        }, { parent: this, dependsOn: args.preflights });
        this.ready = [this.namespace];
        this.registerOutputs({ netns, runDir });
    }

    protected runCommand(name: string, args: CommandArgs, opts: pulumi.CustomResourceOptions) {
        return localCommand(name, args, opts, [
            "nsenter", `--net=/run/netns/${this.netns}`, `--mount=${this.runDir}/mnt`, "--", "/bin/sh", "-c",
        ]);
    }

    localEnd(): LocalEnd {
        return { netns: this.netns };
    }

    linkReady(): pulumi.Resource {
        return this.namespace;
    }

    describe() {
        return { netns: this.netns };
    }

    facts() {
        return { runDir: this.runDir, netns: this.netns };
    }
}
