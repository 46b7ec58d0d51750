// The Pulumi program: read the stack's experiment file, validate it before anything is
// registered, and build the lab it describes.
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { loadSpec, SpecValidationError } from "./lib/spec";
import { Lab } from "./components/lab";
import { EmulatedHost } from "./components/host/emulated";
import { ApplianceHost } from "./components/host/appliance";
import { PROFILES } from "./lib/wan-profiles";

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

function direction(): "forward" | "back" {
    const d = config.get("migrationDirection") ?? "forward";
    if (d !== "forward" && d !== "back") throw new pulumi.RunError(`wanlab:migrationDirection must be 'forward' or 'back', not '${d}'`);
    return d;
}

function wanProfile(): string | undefined {
    const p = config.get("wanProfile");
    if (p !== undefined && !(p in PROFILES)) {
        throw new pulumi.RunError(`wanlab:wanProfile '${p}' is not a profile: use one of ${Object.keys(PROFILES).join(", ")}`);
    }
    return p;
}

/** wanlab:vmMemoryMiB: the migrated VM's memory for this run (a new value replaces the VM). */
function vmMemory(): number | undefined {
    const raw = config.get("vmMemoryMiB");
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 64 || n > 65536) {
        throw new pulumi.RunError(`wanlab:vmMemoryMiB must be a whole number of MiB from 64 to 65536, not '${raw}'`);
    }
    return n;
}

const spec = load();
const memoryOverride = vmMemory();
if (memoryOverride !== undefined) {
    const target = spec.migration?.vm ?? spec.vms[0]?.name;
    spec.vms = spec.vms.map((vm) => (vm.name === target ? { ...vm, memoryMiB: memoryOverride } : vm));
}
const stack = pulumi.getStack();
const profileOverride = wanProfile();
const lab = new Lab(spec.name, {
    spec, stack,
    // The migration's trigger: `pulumi config set wanlab:migrationRun N && pulumi up`.
    migrationRun: config.getNumber("migrationRun") ?? 1,
    migrationDirection: direction(),
    // WAN profile for this run: `pulumi config set wanlab:wanProfile trans-atlantic && pulumi up`.
    wanProfile: profileOverride,
});

export const experiment = spec.name;
export const hosts = Object.fromEntries(spec.hosts.map((h) => {
    const host = lab.hosts[h.name];
    return [h.name, {
        transport: h.transport,
        site: h.site ?? null,
        roles: h.roles,
        ...(host instanceof EmulatedHost ? { netns: host.netns }
            : host instanceof ApplianceHost ? { netns: host.shell.netns, appliance: h.appliance!.image }
                : { address: h.ssh!.address }),
    }];
}));
export const links = Object.fromEntries(spec.links.map((l) => [l.name, {
    subnet: l.subnet,
    ends: l.ends.map((e) => `${e.host}:${e.interface}${e.address ? ` ${e.address}` : ""}`),
}]));
export const checks = Object.fromEntries(Object.entries(lab.checks).map(([n, c]) => [n, c.summary]));

// Where each VM runs now: on its destination if the last migration started after the VM
// did, else where the stack file starts it (a changed VM is started again there).
export const vms = Object.fromEntries(spec.vms.map((vm) => {
    const migration = spec.migration?.vm === vm.name ? lab.migration : undefined;
    return [vm.name, {
        address: lab.vms[vm.name].address ?? null,
        memoryMiB: vm.memoryMiB,
        host: migration
            ? pulumi.all([lab.vms[vm.name].startedAt, migration.record]).apply(([started, r]) => (r.startedAt > started ? r.to : vm.host))
            : vm.host,
    }];
}));
export const migration = lab.migration?.record;

// One JSON record per run under results/<stack>/, written once the run has completed.
if (lab.migration && !pulumi.runtime.isDryRun()) {
    lab.migration.record.apply((r) => {
        const dir = path.join("results", stack);
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, `migration-${r.run}-${r.from}-${r.to}.json`), JSON.stringify(r, null, 2) + "\n");
    });
}

// The WAN profile in force and what each router interface applies.
export const wan = spec.wan && {
    profile: profileOverride ?? (typeof spec.wan.profile === "string" ? spec.wan.profile : "custom"),
    mode: spec.wan.mode,
    netem: lab.wan!.applied || "none",
};
