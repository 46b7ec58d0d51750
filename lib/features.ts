// What a host must have before the lab touches it: root, binaries and kernel features.
// Each kernel feature is probed in a throwaway network namespace (`unshare --net`), so a
// probe asks the kernel itself and leaves nothing behind.
import type { HostSpec, LabSpec } from "./spec";

export interface Feature { probe: string; hint: string }

export const KERNEL_FEATURES: Record<string, Feature> = {
    netns: {
        probe: "unshare --net true",
        hint: "the kernel needs network namespaces (CONFIG_NET_NS)",
    },
    mntns: {
        probe: "unshare --mount true",
        hint: "the kernel needs mount namespaces (CONFIG_NAMESPACES)",
    },
    veth: {
        probe: "unshare --net ip link add wlp0 type veth peer name wlp1",
        hint: "load the veth module (modprobe veth) or use a kernel with CONFIG_VETH",
    },
    sch_netem: {
        probe: "unshare --net sh -c 'ip link set lo up && tc qdisc add dev lo root netem delay 1ms'",
        hint: "load sch_netem (modprobe sch_netem); where the kernel has none, run the router as an appliance",
    },
};

export interface Requirements { binaries: string[]; kernel: string[] }

/** What each host needs, derived from the parts of the spec that use it. */
export function requirementsFor(spec: LabSpec, host: HostSpec): Requirements {
    const bins = new Set<string>(["sh", "ip"]);
    const kernel = new Set<string>();
    if (host.transport === "emulated") {
        ["nsenter", "unshare", "mountpoint", "umount"].forEach((b) => bins.add(b));
        kernel.add("netns").add("mntns");
        if (spec.links.some((l) => l.ends.some((e) => e.host === host.name))) {
            kernel.add("veth");
            bins.add("ethtool");
        }
    }
    if (spec.checks.some((c) => c.from === host.name)) bins.add("ping");
    if (host.forwarding ?? host.roles.includes("router")) bins.add("sysctl");
    return { binaries: [...bins].sort(), kernel: [...kernel].sort() };
}
