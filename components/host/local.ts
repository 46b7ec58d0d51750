// Commands on the machine that hosts the emulated lab (the root namespaces). Only the
// emulated transport and links between emulated hosts use it.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import type { CommandArgs } from "./host";

export function localCommand(name: string, args: CommandArgs, opts: pulumi.CustomResourceOptions, interpreter?: string[]) {
    return new command.local.Command(name, {
        ...args,
        interpreter,
        addPreviousOutputInEnv: true,
    }, opts);
}

/** Where each emulated lab keeps its per-host runtime directories on this machine. */
export const RUN_ROOT = "/run/wanlab";

/** Names of an emulated host's namespace and runtime directory, per stack. */
export function emulatedNames(stack: string, host: string) {
    return {
        netns: `wl-${stack}-${host}`,
        runDir: `${RUN_ROOT}/${stack}/${host}`,
    };
}
