// An emulated host: a network namespace plus a private mount namespace on this machine,
// with its own runtime directory. Every command for the host runs inside both.
import * as pulumi from "@pulumi/pulumi";
import type { HostSpec } from "../../lib/spec";
import { script } from "../../lib/shell";
import { CommandArgs, Host } from "./host";
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

    constructor(args: EmulatedHostArgs, opts?: pulumi.ComponentResourceOptions) {
        super("wanlab:host:EmulatedHost", args.spec, opts);
        const { netns, runDir } = emulatedNames(args.stack, args.spec.name);
        this.netns = netns;
        this.runDir = runDir;
        const env = {
            NETNS: netns, RUN: runDir, RUN_ROOT, STACK_DIR: `${RUN_ROOT}/${args.stack}`, PRIVATE_DIRS: PRIVATE_DIRS.join(" "),
        };

        // The mount namespace is pinned to a file, as `ip netns` pins network namespaces,
        // so that later commands can enter it with nsenter.
        this.namespace = localCommand(`${this.name}-namespace`, {
            create: script(
                '[ -e "/run/netns/$NETNS" ] || ip netns add "$NETNS"',
                'ip -n "$NETNS" link set lo up',
                'mkdir -p "$RUN"',
                'if ! mountpoint -q "$RUN/mnt"; then',
                '  touch "$RUN/mnt"',
                '  unshare --mount="$RUN/mnt" --propagation private true',
                'fi',
                // Mount each private directory that is not mounted yet, so that a host
                // created before a directory joined the list gets it too.
                'for d in $PRIVATE_DIRS; do',
                // A mount point this lab had to create is removed again on delete.
                '  [ -d "$d" ] || { mkdir -p "$d" && echo "$d" >> "$RUN/created-mountpoints"; }',
                '  mkdir -p "$RUN/fs$d"',
                '  nsenter --mount="$RUN/mnt" mountpoint -q "$d" || nsenter --mount="$RUN/mnt" mount --bind "$RUN/fs$d" "$d"',
                'done',
            ),
            delete: script(
                // Stop whatever still runs in the namespace, politely first.
                'pids=$(ip netns pids "$NETNS" 2>/dev/null || true)',
                'if [ -n "$pids" ]; then',
                '  kill $pids 2>/dev/null || true',
                '  for i in 1 2 3 4 5 6 7 8 9 10; do [ -z "$(ip netns pids "$NETNS" 2>/dev/null)" ] && break; sleep 0.5; done',
                '  pids=$(ip netns pids "$NETNS" 2>/dev/null || true)',
                '  [ -z "$pids" ] || kill -9 $pids 2>/dev/null || true',
                'fi',
                'if mountpoint -q "$RUN/mnt"; then umount "$RUN/mnt"; fi',
                // rmdir refuses while another lab still mounts over the directory.
                'if [ -f "$RUN/created-mountpoints" ]; then',
                '  while read -r d; do rmdir "$d" 2>/dev/null || true; done < "$RUN/created-mountpoints"',
                'fi',
                '[ ! -e "/run/netns/$NETNS" ] || ip netns del "$NETNS"',
                'rm -rf "$RUN"',
                'rmdir "$STACK_DIR" 2>/dev/null || true',
                'rmdir "$RUN_ROOT" 2>/dev/null || true',
            ),
            environment: env,
        }, { parent: this, dependsOn: args.preflights });
        this.ready = [this.namespace];
        this.registerOutputs({ netns, runDir });
    }

    protected runCommand(name: string, args: CommandArgs, opts: pulumi.CustomResourceOptions) {
        return localCommand(name, args, opts, [
            "nsenter", `--net=/run/netns/${this.netns}`, `--mount=${this.runDir}/mnt`, "--", "/bin/sh", "-c",
        ]);
    }
}
