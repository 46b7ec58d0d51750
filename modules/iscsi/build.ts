// One tgt target per iSCSI storage, once its host has its addresses (tgtd binds the portal;
// the initiators need the rest of the network only to log in). Each becomes a disk backend
// for the VMs: the <disk> element, and on every hypervisor the CHAP secret that QEMU presents.
import * as pulumi from "@pulumi/pulumi";
import type { Stage } from "../../components/stages";
import { render } from "../../lib/render";
import { shellScript } from "../../lib/scripts";
import type { DiskBackend } from "../libvirt/disk";
import { nameUuid } from "../libvirt/hypervisor";
import { isIscsi } from "./model";
import { IscsiTarget } from "./target";

export const stage: Stage = {
    build(lab) {
        const config = new pulumi.Config();
        for (const st of lab.spec.storage.filter(isIscsi)) {
            const chapPassword = st.chap ? config.requireSecret(st.chap.password.config) : undefined;
            const target = new IscsiTarget(st.name, {
                spec: st, host: lab.hosts[st.host], chapPassword,
                dependsOn: lab.underlay(st.host).length ? lab.underlay(st.host) : lab.builtIn("links", "network"),
            }, lab.child);
            lab.add("storage", target);
            const backend: DiskBackend = {
                ready: target,
                note: "disk on the shared iSCSI LUN",
                diskXml: render("libvirt/iscsi-disk.xml.hbs", {
                    iqn: st.iqn, portal: st.portal, chapUser: st.chap?.user ?? "", secretUsage: st.iqn,
                }).replace(/\n$/, ""),
                // The same secret UUID on every hypervisor, so that a migrated VM finds it.
                onHypervisor: chapPassword && ((hv) => {
                    const uuid = nameUuid(`iscsi-secret/${st.iqn}`);
                    hv.host.command(`secret-${st.name}`, {
                        create: shellScript(__dirname, "secret-create.sh"),
                        delete: 'virsh -q -c qemu:///system secret-undefine "$UUID" >/dev/null 2>&1 || true',
                        stdin: render("libvirt/iscsi-secret.xml.hbs", { uuid, usage: st.iqn }),
                        environment: { UUID: uuid, CHAP_PASSWORD: chapPassword },
                    }, { parent: hv, dependsOn: [hv.daemon] });
                }),
            };
            lab.provide("disk", st.name, backend);
        }
    },
};
