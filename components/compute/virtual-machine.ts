// A libvirt VM, defined and started on its first host. A migration moves it, so its
// current host is not in this resource: delete looks for it on every hypervisor, and a
// later `up` does not fight a completed migration.
import * as crypto from "node:crypto";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { StorageSpec, VmSpec } from "../../lib/spec";
import { hostPart } from "../../lib/address";
import { render } from "../../lib/render";
import { imageDir } from "../../lib/images";
import { script } from "../../lib/shell";
import { Hypervisor, nameUuid } from "./hypervisor";

/** wanlab's own guest, built by scripts/image.sh from Debian packages. */
export const GUEST_IMAGE = imageDir("guest");

export interface VirtualMachineArgs {
    spec: VmSpec;
    storage: StorageSpec;
    /** The hypervisor it starts on, and every hypervisor it may have moved to. */
    home: Hypervisor;
    hypervisors: Hypervisor[];
    accel: "auto" | "kvm" | "tcg";
    /** The type of each bridge the VM's NICs join, by name (OVS needs a virtualport). */
    bridgeTypes: Record<string, "ovs" | "linux">;
    dependsOn: pulumi.Resource[];
}

export class VirtualMachine extends pulumi.ComponentResource {
    readonly resource: pulumi.Resource;
    readonly address?: string;
    /** When this VM was started (ms since the epoch; 0 if it was found running). A
     * migration that started later has moved it; a replacement started it again at home. */
    readonly startedAt: pulumi.Output<number>;

    constructor(args: VirtualMachineArgs, opts?: pulumi.ComponentResourceOptions) {
        super("wanlab:compute:VirtualMachine", args.spec.name, {}, opts);
        const { spec, storage } = args;
        const nic = spec.interfaces[0];
        this.address = nic.address ? hostPart(nic.address) : undefined;
        const cmdline = [
            "console=ttyS0", "quiet", "panic=-1",
            ...(nic.address ? [`wanlab.ip=${nic.address}`] : []),
            ...(nic.gateway ? [`wanlab.gw=${nic.gateway}`] : []),
            `wanlab.mtu=${nic.mtu}`,
        ].join(" ");
        const xml = render("libvirt/domain.xml.hbs", {
            name: spec.name,
            uuid: nameUuid(`vm/${spec.name}`),
            memoryMiB: spec.memoryMiB,
            vcpus: spec.vcpus,
            kernel: spec.image?.kernel ?? path.join(GUEST_IMAGE, "vmlinuz"),
            initrd: spec.image?.initrd ?? path.join(GUEST_IMAGE, "initrd.img"),
            cmdline,
            disk: {
                iqn: storage.iqn, portal: storage.portal,
                chapUser: storage.chap?.user ?? "", secretUsage: storage.iqn,
            },
            interfaces: spec.interfaces.map((i) => ({ ...i, ovs: args.bridgeTypes[i.bridge] === "ovs" })),
        });
        this.resource = args.home.host.command(`vm-${spec.name}`, {
            create: script(
                // KVM where the host has it, else TCG emulation (auto).
                'case "$ACCEL" in kvm) t=kvm ;; tcg) t=qemu ;; *) if [ -c /dev/kvm ]; then t=kvm; else t=qemu; fi ;; esac',
                'f=$(mktemp -p /run/libvirt)',
                'trap \'rm -f "$f"\' EXIT',
                'sed "s/@DOMAIN_TYPE@/$t/" > "$f"',
                // Already running somewhere (a migrated VM): leave it where it is.
                'for u in $URIS; do',
                '  if [ "$(virsh -c "$u" domstate "$VM" 2>/dev/null)" = running ]; then echo "$VM running ($u)"; exit 0; fi',
                'done',
                'virsh -q -c qemu:///system define "$f" >/dev/null',
                'virsh -q -c qemu:///system start "$VM" >/dev/null',
                'echo "$VM started ($t) at $(date +%s%3N)"',
            ),
            delete: script(
                'for u in $URIS; do',
                '  if virsh -c "$u" dominfo "$VM" >/dev/null 2>&1; then',
                '    virsh -q -c "$u" destroy "$VM" >/dev/null 2>&1 || true',
                '    virsh -q -c "$u" undefine "$VM" >/dev/null 2>&1 || true',
                '  fi',
                'done',
            ),
            stdin: xml,
            environment: { VM: spec.name, ACCEL: args.accel, URIS: args.hypervisors.map((h) => h.uri).join(" ") },
            // A running domain keeps its definition, so a changed definition (memory,
            // vCPUs, NICs) means a new VM: deleted wherever it runs, then started at home.
            triggers: [crypto.createHash("sha256").update(xml).digest("hex").slice(0, 16)],
        }, { parent: this, dependsOn: args.dependsOn, deleteBeforeReplace: true });
        this.startedAt = (this.resource as any).stdout.apply((s: string) => Number(/ at (\d+)$/.exec(s.trim())?.[1] ?? 0));
        this.registerOutputs({});
    }
}
