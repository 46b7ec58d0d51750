// An emulated host: a network namespace plus a private mount namespace on this machine,
// with its own runtime directory. Every command for the host runs inside both.
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { HostSpec } from "../../model/types";
import { shellScript } from "../../lib/scripts";
import { CommandArgs, Host, LocalEnd } from "./host";
import { emulatedNames, localCommand, RUN_ROOT } from "./local";
import { quote } from "../../lib/shell";

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

/** Who an emulated host's namespaces belong to: this checkout's stack of that name. */
export const labOwner = (stack: string) => `${path.resolve(__dirname, "..", "..")} ${stack}`;

/**
 * Preflight lines: the host's namespaces, if they exist, are this lab's. Two checkouts (or
 * users) on one machine with a stack of the same name would otherwise share them.
 */
export function ownerCheck(stack: string, host: string): string[] {
    const { runDir } = emulatedNames(stack, host);
    return [
        `owner=$(cat ${quote(`${runDir}/owner`)} 2>/dev/null || true)`,
        `[ -z "$owner" ] || [ "$owner" = ${quote(labOwner(stack))} ] || add "its namespaces on this machine: another lab has them (the stack '${stack}' of $\{owner% *}). Destroy that one, or give this stack another name"`,
    ];
}

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
                OWNER: labOwner(args.stack),
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
