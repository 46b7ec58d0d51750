// What a storage module gives the VMs whose disks it holds: what to wait for, the domain
// XML's <disk> element, and whatever each hypervisor must hold to open it (a secret).
import * as pulumi from "@pulumi/pulumi";
import type { Hypervisor } from "./hypervisor";

export interface DiskBackend {
    /** The storage component: a VM starts once it is up. */
    ready: pulumi.Resource;
    /** More that must be up first (a local disk's pools on every hypervisor it may move to). */
    waitFor?: pulumi.Resource[];
    /** The rendered <disk> element, and a note for the domain XML's comment. */
    diskXml: string;
    note: string;
    /** Set up each hypervisor for this storage (e.g. define a CHAP secret); returns nothing to wait on separately. */
    onHypervisor?(hv: Hypervisor): void;
}
