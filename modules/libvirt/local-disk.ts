// Local disks (seed 004's non-shared storage): a qcow2 volume in a storage pool of the
// hypervisor's, which a migration copies with the memory. Every hypervisor has the pool,
// so that libvirt creates the copy on the destination itself (same name, size, format).
import * as pulumi from "@pulumi/pulumi";
import { render } from "../../lib/render";
import { shellScript } from "../../lib/scripts";
import type { DiskBackend } from "./disk";
import type { Hypervisor } from "./hypervisor";

/** The pool's name and directory on every hypervisor (a private one on an emulated host). */
export const POOL = "wanlab";
export const POOL_DIR = "/var/lib/wanlab/disks";
export const localDiskPath = (vm: string) => `${POOL_DIR}/${vm}.qcow2`;

/** The pool on one hypervisor, once its daemon is up. */
export function diskPool(hv: Hypervisor): pulumi.Resource {
    return hv.host.command("disk-pool", {
        create: shellScript(__dirname, "pool-create.sh"),
        delete: shellScript(__dirname, "pool-delete.sh"),
        environment: { POOL, POOL_DIR },
    }, { parent: hv, dependsOn: [hv.daemon] });
}

/** A VM's local disk: its <disk> element; the VM creates the volume on its first host (vm-create.sh). */
export function localDiskBackend(vm: string, sizeMiB: number, pools: pulumi.Resource[]): DiskBackend {
    return {
        ready: pools[0],
        waitFor: pools,
        note: `a local ${sizeMiB} MiB disk`,
        diskXml: render("libvirt/local-disk.xml.hbs", { path: localDiskPath(vm) }).replace(/\n$/, ""),
    };
}
