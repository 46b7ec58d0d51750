// Shared storage on NFS (seed 003): one NFSv3 export holding a disk image, served by
// nfs-ganesha in userspace (this kernel has no nfsd) with its own rpcbind, and opened by
// QEMU's NFS client on every hypervisor, so that a migration copies memory only.
import type { ModuleModel } from "../../model/modules";
import { nodeId } from "../../model/graph";
import { hypervisorHosts } from "../libvirt/model";
import { checkStorageReach, type StorageSpec } from "../libvirt/storage";

export interface NfsStorageSpec {
    name: string; host: string; type: "nfs";
    server: string; sizeMiB: number; clients?: string[];
}

declare module "../libvirt/storage" {
    interface StorageKinds { nfs: NfsStorageSpec }
}

export const isNfs = (s: StorageSpec): s is NfsStorageSpec => s.type === "nfs";

/** The exported directory on the storage host (a private one on an emulated host), and the disk image in it. */
export const exportDir = (st: Pick<NfsStorageSpec, "name">) => `/var/lib/wanlab/nfs/${st.name}`;
export const imagePath = (st: Pick<NfsStorageSpec, "name">) => `${exportDir(st)}/${st.name}.img`;

/** The ports the server listens on: fixed, so that a firewall can let them in. */
export const NFS_PORTS = { portmapper: 111, nfs: 2049, mount: 20048 } as const;

export const module: ModuleModel = {
    name: "nfs",
    phase: "storage",
    capabilities: {
        ganesha: "an NFSv3 server with nfs-ganesha and rpcbind",
        client: "QEMU's NFS client on hypervisors",
    },
    features: {
        "qemu-nfs": {
            probe: "ls /usr/lib/*/qemu/block-nfs.so",
            hint: "QEMU opens the shared disk with its userspace NFS driver: install qemu-block-extra",
        },
        "ganesha-vfs": {
            probe: "ls /usr/lib/*/ganesha/libfsalvfs.so",
            hint: "nfs-ganesha serves a directory through its VFS backend: install nfs-ganesha-vfs",
        },
    },
    // On a known host, listening on one of its addresses; clients are networks.
    check(spec, ctx) {
        spec.storage.forEach((st, i) => {
            if (!isNfs(st)) return;
            if (ctx.hostRef(`/storage/${i}/host`, st.host) && !ctx.hasAddress(st.host, st.server))
                ctx.err(`/storage/${i}/server`, `${st.server} is not an address of host '${st.host}'`);
        });
        const servers = new Map<string, number>();
        spec.storage.forEach((st, i) => {
            if (!isNfs(st)) return;
            // One ganesha and one rpcbind per host: they hold the well-known ports.
            const first = servers.get(st.host);
            if (first !== undefined) ctx.err(`/storage/${i}/host`, `host '${st.host}' already serves NFS storage '${spec.storage[first].name}': one NFS server per host (it holds port ${NFS_PORTS.nfs}), so put both disks on one storage or on another host`);
            else servers.set(st.host, i);
        });
        // Every hypervisor a VM may run on opens its disk, from an address the export lets in.
        ctx.later(() => spec.storage.forEach((st, i) => {
            if (isNfs(st)) checkStorageReach(spec, ctx, { index: i, name: st.name, address: st.server, addressPointer: `/storage/${i}/server`, allowed: st.clients, allowedWord: "clients" });
        }));
    },
    uses(spec) {
        const servers = spec.storage.flatMap((st, i) => (isNfs(st) ? [{ host: st.host, capability: "ganesha", pointer: `/storage/${i}/type` }] : []));
        const used = spec.vms.some((vm) => spec.storage.find((s) => s.name === vm.disk.storage)?.type === "nfs");
        const clients = used ? hypervisorHosts(spec).map((h) => ({ host: h.name, capability: "client", pointer: "/vms" })) : [];
        return [...servers, ...clients];
    },
    graph(spec, g) {
        for (const st of spec.storage.filter(isNfs)) {
            g.node(nodeId.storage(st.name), { kind: "storage", parent: st.host, label: `${st.name}: NFSv3 (nfs-ganesha)`, lines: [`${st.server}:${exportDir(st)}`, `${st.sizeMiB} MiB`] });
        }
    },
};
