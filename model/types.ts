// The lab's data model: what a validated stack file (stacks/<name>.yaml) becomes. The core
// is sites, hosts and links; every module adds its own section or fields to these
// interfaces by declaration merging (`declare module "../../model/types"` in its model.ts),
// so the core names no module.

export type Transport = "emulated" | "ssh";
export type Role = "hypervisor" | "router" | "storage" | "client" | "service" | "aaa";

export interface SecretRef { config: string }
export interface SshSpec { address: string; port: number; user: string; privateKey: SecretRef; hostKey?: string; knownHosts?: string }
export interface SiteSpec { name: string; description?: string }

export interface HostSpec {
    name: string;
    site?: string;
    description?: string;
    transport: Transport;
    roles: Role[];
    ssh?: SshSpec;
    appliance?: { image: "router"; memoryMiB: number; key: SecretRef };
    /** The device's OS: linux (built), or ios (rendered by `npm run configs`, never pushed). */
    platform?: "linux" | "ios";
}

export interface LinkEnd { host: string; interface: string; address?: string }
/** A segment: two ends (point to point) or more (a LAN, as the studies' switches were). */
export interface LinkSpec { name: string; subnet: string; mtu: number; ends: LinkEnd[] }

export interface LabSpec {
    name: string;
    description?: string;
    sites: SiteSpec[];
    hosts: HostSpec[];
    links: LinkSpec[];
}

/** One problem in a stack file: where (a JSON pointer) and why. */
export interface SpecError { pointer: string; reason: string }

export class SpecValidationError extends Error {
    constructor(public readonly file: string, public readonly errors: SpecError[]) {
        super(errors.map((e) => `${file}: ${e.pointer || "/"}: ${e.reason}`).join("\n"));
        this.name = "SpecValidationError";
    }
}
