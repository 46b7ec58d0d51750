// A libvirt VM, defined and started on its first host. A migration moves it, so its
// current host is not in this resource: delete looks for it on every hypervisor, and a
// later `up` does not fight a completed migration.
import * as crypto from "node:crypto";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { hostPart } from "../../model/address";
import { workloadArgs } from "../workload/model";
import { render } from "../../lib/render";
import { imageDir } from "../../lib/images";
import { shellScript } from "../../lib/scripts";
import type { VmSpec } from "./model";
import type { DiskBackend } from "./disk";
import { Hypervisor, nameUuid } from "./hypervisor";
import { POOL } from "./local-disk";

/** wanlab's own guest, built by scripts/image.sh from Debian packages. */
export const GUEST_IMAGE = imageDir("guest");

/** A VM's kernel and initrd: its own image's, else wanlab's guest. */
export const guestFiles = (vm: VmSpec) => vm.image ?? { kernel: path.join(GUEST_IMAGE, "vmlinuz"), initrd: path.join(GUEST_IMAGE, "initrd.img") };

export interface VirtualMachineArgs {
    spec: VmSpec;
    /** Where its disk is (a storage module's backend). */
    disk: DiskBackend;
    /** The hypervisor it starts on, and every hypervisor it may have moved to. */
    home: Hypervisor;
    hypervisors: Hypervisor[];
    /** The accelerator decided for its first host: kvm or tcg. */
    accel: pulumi.Input<string>;
    /** The type of each bridge the VM's NICs join, by name (OVS needs a virtualport). */
    bridgeTypes: Record<string, "ovs" | "linux">;
    /** Where the guest's TCP survival probe sends (ADDR:PORT), if it is the migrated VM. */
    tcpProbeTo?: string;
    /** Where the guest's echo probe sends (ADDR:PORT) and how often, if it is the migrated VM and has one. */
    echo?: { to: string; intervalMs: number };
    /** Seed 004's TCP watch in the guest: its bulk stream (to ADDR:PORT at a rate) and its sockperf server's port. */
    stream?: { to: string; rateMbit: number };
    rrPort?: number;
    /** A local disk's size: the VM creates it in its first host's pool. */
    localDiskMiB?: number;
    dependsOn: pulumi.Resource[];
}

export class VirtualMachine extends pulumi.ComponentResource {
    readonly resource: pulumi.Resource;
    readonly address?: string;
    /** When this VM was started (ms since the epoch; 0 if it was found running). A
     * migration that started later has moved it; a replacement started it again at home. */
    readonly startedAt: pulumi.Output<number>;

    constructor(name: string, args: VirtualMachineArgs, opts?: pulumi.ComponentResourceOptions) {
        super("wanlab:libvirt:VirtualMachine", name, {}, { aliases: [{ type: "wanlab:compute:VirtualMachine" }], ...opts });
        const { spec } = args;
        const nic = spec.interfaces[0];
        this.address = nic.address ? hostPart(nic.address) : nic.address6;
        const cmdline = [
            "console=ttyS0", "quiet", "panic=-1",
            ...(nic.address ? [`wanlab.ip=${nic.address}`] : []),
            ...(nic.gateway ? [`wanlab.gw=${nic.gateway}`] : []),
            `wanlab.mtu=${nic.mtu}`,
            ...(args.tcpProbeTo ? [`wanlab.tcp=${args.tcpProbeTo}`] : []),
            ...(args.echo ? [`wanlab.echo=${args.echo.to}`, `wanlab.echoms=${args.echo.intervalMs}`] : []),
            ...(args.stream ? [`wanlab.stream=${args.stream.to}`, `wanlab.streamrate=${args.stream.rateMbit}`] : []),
            ...(args.rrPort ? [`wanlab.rr=${args.rrPort}`] : []),
            ...workloadArgs(spec.memoryMiB, spec.workload),
        ].join(" ");
        const xml = render("libvirt/domain.xml.hbs", {
            name: spec.name,
            uuid: nameUuid(`vm/${spec.name}`),
            memoryMiB: spec.memoryMiB,
            vcpus: spec.vcpus,
            ...guestFiles(spec),
            cmdline,
            diskXml: args.disk.diskXml,
            diskNote: args.disk.note,
            interfaces: spec.interfaces.map((i) => ({ ...i, ovs: args.bridgeTypes[i.bridge] === "ovs" })),
        });
        this.resource = args.home.host.command(`vm-${spec.name}`, {
            create: shellScript(__dirname, "vm-create.sh"),
            delete: shellScript(__dirname, "vm-delete.sh"),
            stdin: xml,
            environment: {
                VM: spec.name, ACCEL: args.accel, URIS: args.hypervisors.map((h) => h.uri).join(" "),
                ...(args.localDiskMiB ? { DISK_MIB: String(args.localDiskMiB), POOL } : {}),
            },
            // A running domain keeps its definition, so a changed definition (memory,
            // vCPUs, NICs, disk) means a new VM: deleted wherever it runs, then started at home.
            triggers: [crypto.createHash("sha256").update(xml).update(String(args.localDiskMiB ?? "")).digest("hex").slice(0, 16)],
        }, { parent: this, dependsOn: args.dependsOn, deleteBeforeReplace: true });
        this.startedAt = (this.resource as any).stdout.apply((s: string) => Number(/ at (\d+)$/.exec(s.trim())?.[1] ?? 0));
        this.registerOutputs({});
    }
}
