// Hypervisors and their VMs: libvirtd with QEMU on every host with the hypervisor role
// (when the lab has VMs), and each VM defined and started on its first host. Which
// accelerator a hypervisor uses is decided by a probe that boots a guest (accel.ts).
import type { ModuleModel } from "../../model/modules";
import type { LabSpec } from "../../model/types";
import { inPrefix, macProblem } from "../../model/address";
import { bridgeRef, bridgeSegment } from "../bridge/model";
import type { Network } from "../../model/network";
import { nodeId } from "../../model/graph";

export type Accel = "auto" | "kvm" | "tcg";
export interface VmInterface { bridge: string; mac: string; address?: string; gateway?: string; mtu: number }
export interface VmSpec {
    name: string; host: string; memoryMiB: number; vcpus: number; interfaces: VmInterface[];
    /** On shared storage, or local to its hypervisor (exactly one: the schema says so). */
    disk: { storage?: string; local?: { sizeMiB: number } };
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

/** A VM's node in the model's Network, on one of the hosts it may run on. */
export const vmNode = (vm: string, host: string) => `VM '${vm}' on host '${host}'`;

function placeVm(net: Network, vm: VmSpec, host: string) {
    const node = vmNode(vm.name, host);
    for (const nic of vm.interfaces) {
        if (!nic.address) continue;
        net.address(node, nic.address, bridgeSegment(host, nic.bridge));
        if (nic.gateway) net.route(node, "0.0.0.0/0", nic.gateway);
    }
}

/** Ask the network about the VM as if it ran on host (it sits on its first host otherwise). */
export function withVmOn<T>(net: Network, vm: VmSpec, host: string, ask: () => T): T {
    if (host === vm.host) return ask();
    net.remove(vmNode(vm.name, vm.host));
    placeVm(net, vm, host);
    try {
        return ask();
    } finally {
        net.remove(vmNode(vm.name, host));
        placeVm(net, vm, vm.host);
    }
}

/** The hosts a VM may run on: its first, and the migration's destination if it is the one that moves. */
export function vmHosts(spec: LabSpec, vm: VmSpec): string[] {
    const m = spec.migration;
    return m && m.vm === vm.name && m.to !== vm.host ? [vm.host, m.to] : [vm.host];
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
            if (vm.disk.storage !== undefined && !ctx.lookup("storage", vm.disk.storage)) ctx.err(`${at}/disk/storage`, `unknown storage '${vm.disk.storage}'`);
            // wanlab's own guest image is built on this machine; a real host needs its own files.
            if (ctx.hosts.get(vm.host)?.transport === "ssh" && !vm.image)
                ctx.err(`${at}`, "a VM on an ssh host must name its kernel and initrd in 'image' (files present on every hypervisor)");
            vm.interfaces.forEach((nic, j) => {
                const ip = `${at}/interfaces/${j}`;
                if (nic.gateway && nic.address && !inPrefix(nic.gateway, nic.address))
                    ctx.err(`${ip}/gateway`, `gateway ${nic.gateway} is outside ${nic.address}`);
                bridgeRef(ctx, `${ip}/bridge`, vm.host, nic.bridge);
                const first = macs.get(nic.mac);
                const bad = macProblem(nic.mac);
                const bridgeMac = ctx.lookup<string>("bridge mac", nic.mac);
                if (bad) ctx.err(`${ip}/mac`, bad);
                else if (first) ctx.err(`${ip}/mac`, `MAC ${nic.mac} is already used (at ${first})`);
                else if (bridgeMac) ctx.err(`${ip}/mac`, `MAC ${nic.mac} is a bridge's (at ${bridgeMac}): give the VM a MAC of its own`);
                else macs.set(nic.mac, `${ip}/mac`);
                // On every host the VM may run on: unique there, and in the lab unless the bridge is private to its host (a NAT's inside).
                if (nic.address) ctx.claimAddress(nic.address, `${ip}/address`, vmHosts(spec, vm).map((host) => ({ host, segment: bridgeSegment(host, nic.bridge) })));
            });
            placeVm(ctx.net, vm, vm.host);
            // Each NIC's frames must fit its bridge's segment wherever the VM runs.
            ctx.later(() => {
                for (const host of vmHosts(spec, vm)) vm.interfaces.forEach((nic, j) => {
                    const mtu = ctx.net.mtu(bridgeSegment(host, nic.bridge));
                    if (nic.mtu > mtu) {
                        ctx.err(`${at}/interfaces/${j}/mtu`, `mtu ${nic.mtu} does not fit bridge '${nic.bridge}' on host '${host}', whose segment carries at most ${mtu} bytes ` +
                            `(the smallest mtu of its links and tunnels): give the interface an mtu of at most ${mtu}`);
                    }
                });
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
                lines: [`${vm.memoryMiB} MiB, ${vm.vcpus} vCPU`, ...(nic?.address ? [nic.address] : []), vm.disk.local ? `local disk, ${vm.disk.local.sizeMiB} MiB` : `disk on ${vm.disk.storage}`],
            });
            for (const n of vm.interfaces) g.edge(nodeId.vm(vm.name), nodeId.bridge(vm.host, n.bridge), { kind: "attach", label: n.mac });
        }
        // Every hypervisor can run every VM, so each opens the storage its disks are on.
        for (const st of new Set(spec.vms.flatMap((vm) => (vm.disk.storage ? [vm.disk.storage] : [])))) {
            for (const h of hypervisorHosts(spec)) g.edge(h.name, nodeId.storage(st), { kind: "disk", label: "disk" });
        }
    },
};
