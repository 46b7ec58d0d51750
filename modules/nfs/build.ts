// One NFS server per NFS storage, once its host has its addresses. Each becomes a disk
// backend for the VMs: a network disk that QEMU opens over NFSv3, uncached, so that a
// migration copies memory only.
import type { Stage } from "../../components/stages";
import { render } from "../../lib/render";
import type { DiskBackend } from "../libvirt/disk";
import { imagePath, isNfs } from "./model";
import { NfsServer } from "./server";

export const stage: Stage = {
    build(lab) {
        for (const st of lab.spec.storage.filter(isNfs)) {
            const server = new NfsServer(st.name, {
                spec: st, host: lab.hosts[st.host],
                dependsOn: lab.underlay(st.host).length ? lab.underlay(st.host) : lab.builtIn("links", "network"),
            }, lab.child);
            lab.add("storage", server);
            const backend: DiskBackend = {
                ready: server,
                note: "disk on the shared NFS export",
                diskXml: render("libvirt/nfs-disk.xml.hbs", { path: imagePath(st), server: st.server }).replace(/\n$/, ""),
            };
            lab.provide("disk", st.name, backend);
        }
    },
};
