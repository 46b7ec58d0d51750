// The Pulumi program: read the stack's experiment file, validate it before anything is
// registered, and build the lab it describes.
import * as pulumi from "@pulumi/pulumi";
import { loadSpec, SpecValidationError } from "./lib/spec";
import { Lab } from "./components/lab";
import { EmulatedHost } from "./components/host/emulated";

const config = new pulumi.Config("wanlab");
const specFile = config.require("spec");

function load() {
    try {
        return loadSpec(specFile);
    } catch (err) {
        // RunError: the engine prints the message alone, without a stack trace.
        if (err instanceof SpecValidationError) throw new pulumi.RunError(`invalid stack file:\n${err.message}`);
        throw err;
    }
}

const spec = load();
const lab = new Lab(spec.name, { spec, stack: pulumi.getStack() });

export const experiment = spec.name;
export const hosts = Object.fromEntries(spec.hosts.map((h) => {
    const host = lab.hosts[h.name];
    return [h.name, {
        transport: h.transport,
        site: h.site ?? null,
        roles: h.roles,
        ...(host instanceof EmulatedHost ? { netns: host.netns } : { address: h.ssh!.address }),
    }];
}));
export const links = Object.fromEntries(spec.links.map((l) => [l.name, {
    subnet: l.subnet,
    ends: l.ends.map((e) => `${e.host}:${e.interface}${e.address ? ` ${e.address}` : ""}`),
}]));
export const checks = Object.fromEntries(Object.entries(lab.checks).map(([n, c]) => [n, c.summary]));
