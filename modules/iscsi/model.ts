// Shared storage on iSCSI: a target with one LUN that every hypervisor opens with QEMU's
// userspace initiator, so that a migration copies memory only. tgt is built; LIO is in
// the format but no platform has it yet.
import type { ModuleModel } from "../../model/modules";
import type { SecretRef } from "../../model/types";
import { nodeId } from "../../model/graph";
import { hypervisorHosts } from "../libvirt/model";
import { checkStorageReach, type StorageSpec } from "../libvirt/storage";

export interface IscsiStorageSpec {
    name: string; host: string; type: "iscsi"; implementation: "tgt" | "lio";
    portal: string; iqn: string; sizeMiB: number; initiators?: string[];
    chap?: { user: string; password: SecretRef };
}
declare module "../libvirt/storage" {
    interface StorageKinds { iscsi: IscsiStorageSpec }
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
        ctx.later(() => spec.storage.forEach((st, i) => {
            if (isIscsi(st)) checkStorageReach(spec, ctx, { index: i, name: st.name, address: st.portal, addressPointer: `/storage/${i}/portal`, allowed: st.initiators, allowedWord: "initiators" });
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
