// Hypervisors and their VMs: libvirtd with QEMU on every host with the hypervisor role
// (when the lab has VMs), and each VM defined and started on its first host. Which
// accelerator a hypervisor uses is decided by a probe that boots a guest (accel.ts).
import type { ModuleModel } from "../../model/modules";
import { inPrefix } from "../../model/address";
import { bridgeRef } from "../bridge/model";
import { nodeId } from "../../model/graph";

export type Accel = "auto" | "kvm" | "tcg";
export interface VmInterface { bridge: string; mac: string; address?: string; gateway?: string; mtu: number }
export interface VmSpec {
    name: string; host: string; memoryMiB: number; vcpus: number; interfaces: VmInterface[];
    disk: { storage: string };
    image?: { kernel: string; initrd: string };
}

declare module "../../model/types" {
    interface LabSpec { vms: VmSpec[] }
    interface HostSpec { accel: Accel }
}

/** Whether a host runs libvirtd: every hypervisor does, once the lab has a VM. */
export function runsLibvirt(spec: { vms: VmSpec[] }, h: { roles: string[] }): boolean {
    return spec.vms.length > 0 && h.roles.includes("hypervisor");
}

/** The hosts that run libvirtd. */
export function hypervisorHosts<H extends { roles: string[] }>(spec: { hosts: H[]; vms: VmSpec[] }): H[] {
    return spec.hosts.filter((h) => runsLibvirt(spec, h));
}

export const module: ModuleModel = {
    name: "libvirt",
    phase: "compute",
    capabilities: {
        hypervisor: "libvirtd with QEMU (a hypervisor)",
        "kvm-probe": "a probe that boots the guest's kernel under KVM",
    },
    features: {
        "libvirt-qemu-user": {
            probe: "getent passwd libvirt-qemu",
            hint: "libvirt's QEMU driver needs the libvirt-qemu user: install libvirt-daemon-system or run scripts/bootstrap.sh",
        },
    },
    // On hypervisors, with unique MACs and bridges that exist on their host.
    check(spec, ctx) {
        ctx.unique("vms", spec.vms);
        const macs = new Map<string, string>();
        spec.vms.forEach((vm, i) => {
            const at = `/vms/${i}`;
            if (ctx.hostRef(`${at}/host`, vm.host) && !ctx.hasRole(vm.host, "hypervisor"))
                ctx.err(`${at}/host`, `host '${vm.host}' does not have the role 'hypervisor'`);
            if (!ctx.lookup("storage", vm.disk.storage)) ctx.err(`${at}/disk/storage`, `unknown storage '${vm.disk.storage}'`);
            // wanlab's own guest image is built on this machine; a real host needs its own files.
            if (ctx.hosts.get(vm.host)?.transport === "ssh" && !vm.image)
                ctx.err(`${at}`, "a VM on an ssh host must name its kernel and initrd in 'image' (files present on every hypervisor)");
            vm.interfaces.forEach((nic, j) => {
                const ip = `${at}/interfaces/${j}`;
                if (nic.gateway && nic.address && !inPrefix(nic.gateway, nic.address))
                    ctx.err(`${ip}/gateway`, `gateway ${nic.gateway} is outside ${nic.address}`);
                bridgeRef(ctx, `${ip}/bridge`, vm.host, nic.bridge);
                const first = macs.get(nic.mac);
                if (first) ctx.err(`${ip}/mac`, `MAC ${nic.mac} is already used (at ${first})`);
                else macs.set(nic.mac, `${ip}/mac`);
                if (nic.address) ctx.claimAddress(nic.address, `${ip}/address`);
            });
        });
    },
    uses: (spec) => spec.hosts.flatMap((h, i) => {
        if (!runsLibvirt(spec, h)) return [];
        const at = `/hosts/${i}`;
        return [
            { host: h.name, capability: "hypervisor", pointer: `${at}/roles` },
            ...(h.accel !== "tcg" ? [{ host: h.name, capability: "kvm-probe", pointer: `${at}/accel` }] : []),
        ];
    }),
    graph(spec, g) {
        for (const vm of spec.vms) {
            const nic = vm.interfaces[0];
            g.node(nodeId.vm(vm.name), {
                kind: "vm", parent: vm.host, label: `VM ${vm.name}`,
                lines: [`${vm.memoryMiB} MiB, ${vm.vcpus} vCPU`, ...(nic?.address ? [nic.address] : []), `disk on ${vm.disk.storage}`],
            });
            for (const n of vm.interfaces) g.edge(nodeId.vm(vm.name), nodeId.bridge(vm.host, n.bridge), { kind: "attach", label: n.mac });
        }
        // Every hypervisor can run every VM, so each opens the storage its disks are on.
        for (const st of new Set(spec.vms.map((vm) => vm.disk.storage))) {
            for (const h of hypervisorHosts(spec)) g.edge(h.name, nodeId.storage(st), { kind: "disk", label: "disk" });
        }
    },
};
