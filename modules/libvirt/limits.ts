// What a hypervisor's preflight checks on its machine before anything is created: the
// guest's files are there, and the machine has the memory its VMs and appliances need.
// Emulated hosts and appliances share this machine, so their demands add up; the
// migrating VM counts twice (it exists at both ends while it moves), and so does its
// local disk (a migration leaves a copy on each end).
import type { HostSpec, LabSpec } from "../../model/types";
import { quote } from "../../lib/shell";
import { vmHosts } from "./model";
import { guestFiles } from "./vm";
import { POOL_DIR } from "./local-disk";
import { RUN_ROOT } from "../../components/host/local";

/** What QEMU itself takes beside the guest's memory, per process (TCG's code buffer, devices), MiB. */
export const QEMU_OVERHEAD_MIB = 64;

/** The machine a host's processes run on: this one for every emulated host, else the host itself. */
const machineOf = (h: HostSpec) => (h.transport === "emulated" ? "this machine" : `host '${h.name}'`);

/** The memory each machine needs, MiB, with what it is made of. */
export function memoryDemand(spec: LabSpec): Map<string, { mib: number; parts: string[] }> {
    const hosts = new Map(spec.hosts.map((h) => [h.name, h]));
    const out = new Map<string, { mib: number; parts: string[] }>();
    const add = (h: HostSpec, mib: number, what: string) => {
        const d = out.get(machineOf(h)) ?? { mib: 0, parts: [] };
        d.mib += mib + QEMU_OVERHEAD_MIB;
        d.parts.push(`${what} ${mib} MiB`);
        out.set(machineOf(h), d);
    };
    for (const vm of spec.vms) for (const h of vmHosts(spec, vm)) add(hosts.get(h)!, vm.memoryMiB, `VM '${vm.name}' on '${h}'`);
    for (const h of spec.hosts) if (h.appliance) add(h, h.appliance.memoryMiB, `appliance '${h.name}'`);
    return out;
}

/** Preflight lines for hypervisor h: its guests' files, and (once per machine) the memory. */
export function limitLines(spec: LabSpec, h: HostSpec): string[] {
    const lines: string[] = [];
    spec.vms.forEach((vm, i) => {
        if (!vmHosts(spec, vm).includes(h.name)) return;
        const files = guestFiles(vm);
        for (const kind of ["kernel", "initrd"] as const) {
            const hint = vm.image
                ? `put it there or change /vms/${i}/image/${kind}`
                : "build wanlab's guest image: bash scripts/bootstrap.sh";
            lines.push(`[ -r ${quote(files[kind])} ] || add ${quote(`the ${kind} ${files[kind]} of VM '${vm.name}' is not there: ${hint}`)}`);
        }
    });
    // The first hypervisor on a machine checks its memory.
    const first = spec.hosts.find((x) => machineOf(x) === machineOf(h) && spec.vms.some((vm) => vmHosts(spec, vm).includes(x.name)));
    const d = memoryDemand(spec).get(machineOf(h));
    if (d && first?.name === h.name) {
        lines.push(
            "total_mib=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)",
            `[ "$total_mib" -ge ${d.mib} ] || add "memory: ${machineOf(h)} has $total_mib MiB in all, and its guests need ${d.mib} MiB ` +
            `(${d.parts.join(", ")}, each with ${QEMU_OVERHEAD_MIB} MiB for QEMU): give the VMs less memory (memoryMiB, wanlab:vmMemoryMiB)"`,
        );
    }
    return lines;
}

/** The local disks each machine holds, MiB: every copy a migration may leave. */
export function diskDemand(spec: LabSpec): Map<string, { mib: number; parts: string[] }> {
    const hosts = new Map(spec.hosts.map((h) => [h.name, h]));
    const out = new Map<string, { mib: number; parts: string[] }>();
    for (const vm of spec.vms) {
        if (!vm.disk.local) continue;
        for (const name of vmHosts(spec, vm)) {
            const d = out.get(machineOf(hosts.get(name)!)) ?? { mib: 0, parts: [] };
            d.mib += vm.disk.local.sizeMiB;
            d.parts.push(`VM '${vm.name}' on '${name}' ${vm.disk.local.sizeMiB} MiB`);
            out.set(machineOf(hosts.get(name)!), d);
        }
    }
    return out;
}

/** Preflight lines: the first hypervisor of a machine checks the free space its local disks need. */
export function diskSpaceLines(spec: LabSpec, h: HostSpec): string[] {
    const d = diskDemand(spec).get(machineOf(h));
    const first = spec.hosts.find((x) => machineOf(x) === machineOf(h) && spec.vms.some((vm) => vm.disk.local && vmHosts(spec, vm).includes(x.name)));
    if (!d || first?.name !== h.name) return [];
    // Emulated hosts keep their pools in their directories under RUN_ROOT; the nearest existing folder says which filesystem.
    const dir = h.transport === "emulated" ? RUN_ROOT : POOL_DIR;
    return [
        `d=${quote(dir)}; while [ ! -d "$d" ]; do d=$(dirname "$d"); done`,
        `free_mib=$(df -Pk "$d" | awk 'NR == 2 { print int($4 / 1024) }')`,
        `[ "$free_mib" -ge ${d.mib} ] || add "disk space: ${machineOf(h)} has $free_mib MiB free at $d, and its VMs' local disks need ${d.mib} MiB ` +
        `(${d.parts.join(", ")}: a migration leaves a copy on each end): give the disks less (/vms/N/disk/local/sizeMiB, wanlab:vmDiskMiB) or free some space"`,
    ];
}
