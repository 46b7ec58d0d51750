// What every shared storage module checks the same way: each hypervisor a VM on it may run
// on reaches the server, from an address the server lets in; and storage that no VM uses
// yet is reachable from at least one hypervisor. The paths come from the model's network.
import type { CheckContext } from "../../model/context";
import type { LabSpec } from "../../model/types";
import { inPrefix } from "../../model/address";
import { hostNode } from "../../model/network";
import { hypervisorHosts, vmHosts } from "./model";

/** Each storage module adds its kind of `storage` entry here (keyed by its type). */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface StorageKinds {}
/** Any kind of storage a VM's disk can be on. */
export type StorageSpec = StorageKinds[keyof StorageKinds];

declare module "../../model/types" {
    interface LabSpec { storage: StorageSpec[] }
}

export interface Reachable {
    /** Its index in `storage` and its name. */
    index: number; name: string;
    /** The address it serves on, and where the stack file gives it. */
    address: string; addressPointer: string;
    /** The client networks it lets in (empty or undefined: all), and what the stack file calls them. */
    allowed?: string[]; allowedWord: string;
}

export function checkStorageReach(spec: LabSpec, ctx: CheckContext, st: Reachable) {
    const users = spec.vms.map((vm, i) => ({ vm, i })).filter(({ vm }) => vm.disk.storage === st.name);
    const lets = (source: string) => !st.allowed?.length || st.allowed.some((p) => inPrefix(source, p));
    const allowedText = () => `its ${st.allowedWord} (${st.allowed!.join(", ")})`;
    for (const { vm, i } of users) {
        for (const host of vmHosts(spec, vm)) {
            const path = ctx.net.roundTrip(hostNode(host), st.address);
            if (!path.ok) {
                ctx.err(`/vms/${i}/disk/storage`, `host '${host}', where VM '${vm.name}' may run, cannot reach storage '${st.name}' at ${st.address}: ${path.reason}`);
            } else if (!lets(path.source)) {
                ctx.err(`/vms/${i}/disk/storage`, `host '${host}', where VM '${vm.name}' may run, reaches storage '${st.name}' from ${path.source}, ` +
                    `which none of ${allowedText()} lets in: add a prefix that holds ${path.source}`);
            }
        }
    }
    if (users.length) return;
    // Nothing uses it yet: some hypervisor must be able to.
    const hvs = hypervisorHosts(spec);
    if (!hvs.length) return;
    const why = hvs.map((h) => {
        const path = ctx.net.roundTrip(hostNode(h.name), st.address);
        if (!path.ok) return `host '${h.name}': ${path.reason}`;
        return lets(path.source) ? undefined : `host '${h.name}' comes from ${path.source}, which none of ${allowedText()} lets in`;
    });
    if (why.every((w) => w !== undefined))
        ctx.err(st.addressPointer, `no hypervisor can reach storage '${st.name}' at ${st.address} (${why.join("; ")})`);
}
