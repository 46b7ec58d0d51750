// libvirtd on every hypervisor (once the lab has a VM), each set up for every storage the
// VMs' disks are on, then each VM on its first host, once the network, its storage and
// every hypervisor are up (a VM may move to any of them).
import type { Stage } from "../../components/stages";
import type { OpenVSwitch } from "../bridge/ovs";
import type { DiskBackend } from "./disk";
import { hypervisorHosts } from "./model";
import { Hypervisor } from "./hypervisor";
import { VirtualMachine } from "./vm";

export const stage: Stage = {
    build(lab) {
        const backends = lab.all<DiskBackend>("disk");
        const hypervisors = hypervisorHosts(lab.spec).map((h) => {
            // libvirtd plugs VMs' NICs into the host's OVS: that, not the network, comes first.
            const ovs = lab.lookup<OpenVSwitch>("ovs", h.name);
            const hv = new Hypervisor(h.name, {
                host: lab.hosts[h.name], stack: lab.stack, capability: lab.capability(h.name, "libvirt", "hypervisor"),
            }, { ...lab.child, dependsOn: ovs ? [ovs] : [] });
            for (const b of backends) b.onHypervisor?.(hv);
            lab.provide("hypervisor", h.name, hv);
            lab.add("compute", hv);
            return hv;
        });
        const vmsOutput: Record<string, unknown> = {};
        for (const vm of lab.spec.vms) {
            const disk = lab.need<DiskBackend>("disk", vm.disk.storage);
            const machine = new VirtualMachine(vm.name, {
                spec: vm, disk,
                home: lab.need<Hypervisor>("hypervisor", vm.host), hypervisors,
                accel: lab.spec.hosts.find((h) => h.name === vm.host)!.accel,
                bridgeTypes: Object.fromEntries(lab.spec.bridges.filter((b) => b.host === vm.host).map((b) => [b.name, b.type])),
                dependsOn: [...lab.builtIn("links", "network", "routing", "wan"), disk.ready, ...hypervisors],
            }, lab.child);
            lab.provide("vm", vm.name, machine);
            lab.add("compute", machine);
            vmsOutput[vm.name] = { address: machine.address ?? null, memoryMiB: vm.memoryMiB, host: vm.host };
        }
        lab.outputs.vms = vmsOutput;
    },
};
