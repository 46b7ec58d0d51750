// libvirtd on every hypervisor (once the lab has a VM), each set up for every storage the
// VMs' disks are on, then each VM on its first host, once the network, its storage and
// every hypervisor are up (a VM may move to any of them). Which accelerator each
// hypervisor uses is decided first (accel.ts), and said by its preflight.
import * as pulumi from "@pulumi/pulumi";
import type { Stage } from "../../components/stages";
import type { LabContext } from "../../components/context";
import type { HostSpec, LabSpec } from "../../model/types";
import { quote } from "../../lib/shell";
import type { DiskBackend } from "./disk";
import { hypervisorHosts, runsLibvirt, type VmSpec } from "./model";
import { decideAccel, type Decision, parseProbe, PROBE_TIMEOUT_S, probeScript, probeThisMachine, VM_CPU_MODEL } from "./accel";
import { Hypervisor } from "./hypervisor";
import { guestFiles, VirtualMachine } from "./vm";
import { diskSpaceLines, limitLines } from "./limits";
import { diskPool, localDiskBackend } from "./local-disk";
import { echoTarget, rrPort, streamTarget, tcpProbeServer } from "../migration/model";

/** The kernel a host's probe boots: that of a VM it runs first, else of any VM (each may move anywhere). */
function probeImage(spec: { vms: VmSpec[] }, host: string) {
    const vm = spec.vms.find((v) => v.host === host) ?? spec.vms[0];
    return guestFiles(vm);
}

/** Where the host's probe runs: in this program (a host on this machine) or in its preflight. */
const probeRuns = (lab: LabContext, h: HostSpec) => lab.capability(h.name, "libvirt", "kvm-probe").runs;

/** A hypervisor's accelerator: decided by this program, or from its preflight's output (the probe ran there). */
export function decisionOf(lab: LabContext, host: string): pulumi.Output<Decision> {
    const known = lab.lookup<pulumi.Output<Decision>>("accel-output", host);
    if (known) return known;
    const h = lab.spec.hosts.find((x) => x.name === host)!;
    const now = lab.lookup<Decision>("accel", host);
    const d = now ? pulumi.output(now) : lab.preflights[host].stdout.apply((out: string) => decideAccel(host, h.accel, parseProbe(out)));
    lab.provide("accel-output", host, d);
    return d;
}

/** The decision when this program made it (undefined: the host's preflight makes it). */
export const decidedNow = (lab: LabContext, host: string) => lab.lookup<Decision>("accel", host);

/** QEMU before 9.0 loses guest writes in a live migration under TCG (its dirty bitmap's fast path
 * leaves the TLB stale: docs/experiments/tcg-migration-hang). Checked where a VM migrates under TCG. */
export const TCG_MIGRATION_QEMU_MIN = 9;
export function tcgQemuLines(spec: LabSpec): string[] {
    if (!spec.migration) return [];
    return [
        "qemu_version=$(qemu-system-x86_64 --version 2>/dev/null | awk 'NR == 1 { print $4 }')",
        `[ "\${qemu_version%%.*}" -ge ${TCG_MIGRATION_QEMU_MIN} ] 2>/dev/null || add "QEMU \${qemu_version:-(none)}: ` +
        `before ${TCG_MIGRATION_QEMU_MIN}.0, QEMU loses guest memory writes in a live migration under TCG and the guest crashes after it: ` +
        `install QEMU ${TCG_MIGRATION_QEMU_MIN}.0 or newer (on Debian 12, bash scripts/bootstrap.sh takes it from bookworm-backports)"`,
    ];
}

/** The accelerator's preflight lines: the decision made here, or the probe that makes it on the host. */
function accelLines(lab: LabContext, h: HostSpec): string[] {
    const d = decidedNow(lab, h.name);
    if (d) {
        if ("error" in d) return [`add ${quote(d.error)}`];
        return [`echo "$HOST: "${quote(`accelerator ${d.accel}: ${d.reason}`)}`, ...(d.accel === "tcg" ? tcgQemuLines(lab.spec) : [])];
    }
    // The same probe as on this machine, on the host; its verdict comes back in the output.
    const img = probeImage(lab.spec, h.name);
    const tcg = tcgQemuLines(lab.spec);
    return [
        `probe=$(GUEST_KERNEL=${quote(img.kernel)} GUEST_INITRD=${quote(img.initrd)} CPU_MODEL=${VM_CPU_MODEL} ` +
            `CACHE_DIR="$HOME/.cache/wanlab/kvm-probe" TIMEOUT_S=${PROBE_TIMEOUT_S} sh -s <<'WANLAB_KVM_PROBE'`,
        ...probeScript().split("\n"),
        "WANLAB_KVM_PROBE",
        ")",
        'echo "kvm-probe: $probe"',
        ...(h.accel === "kvm" ? [
            'case "$probe" in *\'"ok":true\'*) ;; *) add "a KVM that runs guests (accel: kvm), but KVM did not run a guest here: ' +
            '$(printf %s "$probe" | sed \'s/.*"reason":"\\([^"]*\\)".*/\\1/\'). Use accel: tcg (emulation), or auto to take KVM only where it works" ;; esac',
        ] : []),
        // Not KVM: TCG, where the QEMU must be new enough to migrate.
        ...(h.accel !== "kvm" && tcg.length ? [
            h.accel === "tcg" ? "tcg=1" : `case "$probe" in *'"ok":true'*) ;; *) tcg=1 ;; esac`,
            'if [ -n "${tcg:-}" ]; then', ...tcg.map((l) => `  ${l}`), "fi",
        ] : []),
    ];
}

export const stage: Stage = {
    prepare(lab) {
        for (const h of hypervisorHosts(lab.spec)) {
            if (h.accel === "tcg") {
                lab.provide("accel", h.name, decideAccel(h.name, h.accel, undefined));
            } else if (probeRuns(lab, h) === "program") {
                const img = probeImage(lab.spec, h.name);
                const probe = (lab.probes.kvm as typeof probeThisMachine | undefined) ?? probeThisMachine;
                const verdict = probe(img.kernel, img.initrd, {
                    onSlow: (t) => pulumi.log.info(`checking whether KVM runs a guest on this machine: once per boot, at most ${t} s`),
                });
                lab.provide("accel", h.name, decideAccel(h.name, h.accel, verdict));
            }
        }
    },

    preflight(lab, h) {
        if (!runsLibvirt(lab.spec, h)) return [];
        return [...limitLines(lab.spec, h), ...diskSpaceLines(lab.spec, h), ...accelLines(lab, h)];
    },

    build(lab) {
        const backends = lab.all<DiskBackend>("disk");
        const hosts = lab.outputs.hosts as Record<string, Record<string, unknown>>;
        const hypervisors = hypervisorHosts(lab.spec).map((h) => {
            const d = decisionOf(lab, h.name);
            hosts[h.name].accel = d.apply((x) => ("error" in x ? "none" : x.accel));
            hosts[h.name].accelReason = d.apply((x) => ("error" in x ? x.error : x.reason));
            // The daemon needs only its host: it starts while the network is built. A VM, whose
            // NIC libvirt plugs into the host's OVS, waits for the network (below).
            const hv = new Hypervisor(h.name, {
                host: lab.hosts[h.name], stack: lab.stack, capability: lab.capability(h.name, "libvirt", "hypervisor"),
            }, lab.child);
            for (const b of backends) b.onHypervisor?.(hv);
            lab.provide("hypervisor", h.name, hv);
            lab.add("compute", hv);
            return hv;
        });
        // A pool for local disks on every hypervisor, where a VM has one (a copy may land anywhere).
        const pools = lab.spec.vms.some((vm) => vm.disk.local) ? hypervisors.map(diskPool) : [];
        const vmsOutput: Record<string, unknown> = {};
        for (const vm of lab.spec.vms) {
            const disk = vm.disk.local ? localDiskBackend(vm.name, vm.disk.local.sizeMiB, pools) : lab.need<DiskBackend>("disk", vm.disk.storage!);
            const machine = new VirtualMachine(vm.name, {
                spec: vm, disk,
                home: lab.need<Hypervisor>("hypervisor", vm.host), hypervisors,
                // A refused accel (kvm that does not work) stops the preflight: nothing starts with it.
                accel: decisionOf(lab, vm.host).apply((d) => ("error" in d ? "kvm" : d.accel)),
                bridgeTypes: Object.fromEntries(lab.spec.bridges.filter((b) => b.host === vm.host).map((b) => [b.name, b.type])),
                tcpProbeTo: tcpProbeServer(lab.spec, vm.name),
                echo: echoTarget(lab.spec, vm.name) ? { to: echoTarget(lab.spec, vm.name)!, intervalMs: lab.spec.migration!.probe.intervalMs } : undefined,
                stream: streamTarget(lab.spec, vm.name), rrPort: rrPort(lab.spec, vm.name),
                localDiskMiB: vm.disk.local?.sizeMiB,
                // Not the WAN's emulation: a VM boots the same with or without it.
                dependsOn: [...lab.builtIn("links", "network", "routing"), disk.ready, ...(disk.waitFor ?? []), ...hypervisors],
            }, lab.child);
            lab.provide("vm", vm.name, machine);
            lab.add("compute", machine);
            vmsOutput[vm.name] = { address: machine.address ?? null, memoryMiB: vm.memoryMiB, host: vm.host };
        }
        lab.outputs.vms = vmsOutput;
    },
};
