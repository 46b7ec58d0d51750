// The host component for each platform (the capability files name the same platforms).
import * as pulumi from "@pulumi/pulumi";
import type { HostSpec } from "../../model/types";
import { platformOf } from "../../model/platforms";
import type { Host } from "./host";
import { EmulatedHost } from "./emulated";
import { SshHost } from "./ssh";
import { ApplianceHost } from "./appliance";

export interface HostArgs {
    spec: HostSpec;
    stack: string;
    preflights: pulumi.Resource[];
    /** The host's interfaces on the lab's links (an appliance gets a NIC for each). */
    interfaces: string[];
}

const HOSTS: Record<string, (name: string, args: HostArgs, opts: pulumi.ComponentResourceOptions) => Host> = {
    emulated: (name, a, opts) => new EmulatedHost(name, a, opts),
    ssh: (name, a, opts) => new SshHost(name, a, opts),
    appliance: (name, a, opts) => new ApplianceHost(name, a, opts),
};

export function createHost(args: HostArgs, opts: pulumi.ComponentResourceOptions): Host {
    const make = HOSTS[platformOf(args.spec)];
    if (!make) throw new Error(`no host component for platform '${platformOf(args.spec)}'`);
    return make(args.spec.name, args, opts);
}
