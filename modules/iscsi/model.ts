// Shared storage on iSCSI: a target with one LUN that every hypervisor opens with QEMU's
// userspace initiator, so that a migration copies memory only. tgt is built; LIO is in
// the format but no platform has it yet.
import type { ModuleModel } from "../../model/modules";
import type { SecretRef } from "../../model/types";
import { nodeId } from "../../model/graph";
import { hypervisorHosts, vmHosts } from "../libvirt/model";
import { hostNode } from "../../model/network";
import { inPrefix } from "../../model/address";

export interface IscsiStorageSpec {
    name: string; host: string; type: "iscsi"; implementation: "tgt" | "lio";
    portal: string; iqn: string; sizeMiB: number; initiators?: string[];
    chap?: { user: string; password: SecretRef };
}
/** Any kind of storage a VM's disk can be on (each kind is a module's variant of `storage`). */
export type StorageSpec = { name: string; host: string; type: string } & Partial<IscsiStorageSpec>;

declare module "../../model/types" {
    interface LabSpec { storage: StorageSpec[] }
}

export const isIscsi = (s: StorageSpec): s is IscsiStorageSpec => s.type === "iscsi";

export const module: ModuleModel = {
    name: "iscsi",
    phase: "storage",
    capabilities: {
        tgt: "an iSCSI target with tgt",
        lio: "an iSCSI target with LIO",
        initiator: "QEMU's iSCSI initiator on hypervisors",
    },
    features: {
        "qemu-iscsi": {
            probe: "ls /usr/lib/*/qemu/block-iscsi.so",
            hint: "QEMU opens the shared disk with its userspace iSCSI driver: install qemu-block-extra",
        },
    },
    // On a known host, listening on one of its addresses.
    check(spec, ctx) {
        ctx.unique("storage", spec.storage);
        spec.storage.forEach((st, i) => {
            ctx.provide("storage", st.name, st.type);
            if (!isIscsi(st)) return;
            if (ctx.hostRef(`/storage/${i}/host`, st.host) && !ctx.hasAddress(st.host, st.portal))
                ctx.err(`/storage/${i}/portal`, `${st.portal} is not an address of host '${st.host}'`);
        });
        // Every hypervisor a VM may run on opens its disk: it reaches the portal, from an address the target lets in.
        ctx.later(() => spec.vms.forEach((vm, i) => {
            const st = spec.storage.find((s) => s.name === vm.disk.storage);
            if (!st || !isIscsi(st)) return;
            for (const host of vmHosts(spec, vm)) {
                const path = ctx.net.roundTrip(hostNode(host), st.portal);
                if (!path.ok) {
                    ctx.err(`/vms/${i}/disk/storage`, `host '${host}', where VM '${vm.name}' may run, cannot reach storage '${st.name}' at ${st.portal}: ${path.reason}`);
                } else if (st.initiators?.length && !st.initiators.some((p) => inPrefix(path.source, p))) {
                    ctx.err(`/vms/${i}/disk/storage`, `host '${host}', where VM '${vm.name}' may run, reaches storage '${st.name}' from ${path.source}, ` +
                        `which none of its initiators (${st.initiators.join(", ")}) lets in: add a prefix that holds ${path.source}`);
                }
            }
        }));
    },
    // The target on its host; the initiator on every hypervisor, where any VM may run.
    uses(spec) {
        const targets = spec.storage.flatMap((st, i) => (isIscsi(st) ? [{ host: st.host, capability: st.implementation, pointer: `/storage/${i}/implementation` }] : []));
        const used = spec.vms.some((vm) => spec.storage.find((s) => s.name === vm.disk.storage)?.type === "iscsi");
        const initiators = used ? hypervisorHosts(spec).map((h) => ({ host: h.name, capability: "initiator", pointer: "/vms" })) : [];
        return [...targets, ...initiators];
    },
    graph(spec, g) {
        for (const st of spec.storage.filter(isIscsi)) {
            g.node(nodeId.storage(st.name), { kind: "storage", parent: st.host, label: `${st.name}: iSCSI ${st.implementation}`, lines: [`${st.portal}:3260`, st.iqn, `${st.sizeMiB} MiB${st.chap ? ", CHAP" : ""}`] });
        }
    },
};
