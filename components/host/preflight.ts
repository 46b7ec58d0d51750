// Preflight: before the lab changes anything on a host, check root, binaries and kernel
// features there, and fail with one message that names the host, each missing thing and
// what to do. The lab makes every host wait for every preflight, so a failure on one
// host leaves all hosts untouched.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import type { HostSpec } from "../../model/types";
import { features } from "../../model/features";
import type { Requirements } from "../../model/platforms";
import { quote, script } from "../../lib/shell";
import type { CommandArgs } from "./host";
import { localCommand } from "./local";
import { sshConnection } from "./ssh";

/** lines: what modules add (facts to print, or `add "..."` for a problem), after the binaries and kernel features. */
export function preflightScript(spec: HostSpec, req: Requirements, lines: string[] = []): string {
    const where = spec.transport === "emulated" ? "emulated on this machine" : `ssh ${spec.ssh!.address}`;
    const body = [
        `HOST=${quote(`host '${spec.name}' (${where})`)}`,
        "missing=''",
        "add() { missing=\"$missing\n  - $1\"; }",
        '[ "$(id -u)" = 0 ] || add "root privileges: run as root (the lab creates namespaces, links and routes)"',
        ...req.binaries.map((b) => `command -v ${quote(b)} >/dev/null 2>&1 || add ${quote(`binary '${b}': install the package that provides it`)}`),
        ...req.kernel.map((f) => `(${features()[f].probe}) >/dev/null 2>&1 || add ${quote(`kernel feature '${f}': ${features()[f].hint}`)}`),
        ...lines,
        'if [ -n "$missing" ]; then',
        '  printf "%s is missing:%s\\nNothing was changed on any host.\\n" "$HOST" "$missing" >&2',
        "  exit 1",
        "fi",
        'echo "$HOST: preflight ok"',
    ];
    return script(...body);
}

export function preflight(spec: HostSpec, req: Requirements, lines: string[], opts: pulumi.CustomResourceOptions): command.local.Command | command.remote.Command {
    const args = {
        create: preflightScript(spec, req, lines),
        // Run again when what is required changes.
        triggers: [req.binaries.join(" "), req.kernel.join(" ")],
    };
    return hostCheck(spec, "preflight", args, opts);
}

/** A check that runs on a host before the host component exists (a preflight, a gate): here for emulated hosts, over SSH else. */
export function hostCheck(spec: HostSpec, what: string, args: Pick<CommandArgs, "create" | "triggers" | "environment">,
    opts: pulumi.CustomResourceOptions): command.local.Command | command.remote.Command {
    const name = `${spec.name}-${what}`;
    if (spec.transport === "emulated") return localCommand(name, args, opts);
    return new command.remote.Command(name, { ...args, connection: sshConnection(spec) }, opts);
}
