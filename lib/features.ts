// What a host must have before the lab touches it: root, binaries and kernel features.
// Each kernel feature is probed in a throwaway network namespace (`unshare --net`), so a
// probe asks the kernel itself and leaves nothing behind.
import type { HostSpec, LabSpec } from "./spec";
import { netemArgs, perInterface, PROFILES } from "./wan-profiles";

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
    vxlan: {
        probe: "unshare --net ip link add wlp0 type vxlan id 1 dstport 4789",
        hint: "load the vxlan module (modprobe vxlan)",
    },
    bridge: {
        probe: "unshare --net ip link add wlp0 type bridge",
        hint: "load the bridge module (modprobe bridge)",
    },
    tun: {
        probe: "[ -c /dev/net/tun ]",
        hint: "Open vSwitch and libvirt need /dev/net/tun (modprobe tun)",
    },
    "qemu-iscsi": {
        probe: "ls /usr/lib/*/qemu/block-iscsi.so",
        hint: "QEMU opens the shared disk with its userspace iSCSI driver: install qemu-block-extra",
    },
    "libvirt-qemu-user": {
        probe: "getent passwd libvirt-qemu",
        hint: "libvirt's QEMU driver needs the libvirt-qemu user: install libvirt-daemon-system or run scripts/bootstrap.sh",
    },
    sch_netem: {
        probe: "unshare --net sh -c 'ip link set lo up && tc qdisc add dev lo root netem delay 1ms'",
        hint: "load sch_netem (modprobe sch_netem); where the kernel has none, run the router as an appliance",
    },
};

/** `kernel` holds every feature probed by KERNEL_FEATURES, kernel or not (a user, a driver). */
export interface Requirements { binaries: string[]; kernel: string[] }

/** What each host needs, derived from the parts of the spec that use it. */
export function requirementsFor(spec: LabSpec, host: HostSpec, wanProfile?: string): Requirements {
    const bins = new Set<string>(["sh", "ip"]);
    const kernel = new Set<string>();
    const add = (...b: string[]) => b.forEach((x) => bins.add(x));
    const name = host.name;
    if (host.appliance) {
        // This machine boots the VM and wires its NICs; what runs inside is the image's,
        // whose kernel has every feature (test/lab/appliance-image.test.ts).
        add("nsenter", "unshare", "mountpoint", "umount", "mount", "ethtool", "qemu-system-x86_64", "socat", "ssh-keygen", "ss", "setsid", "base64");
        kernel.add("netns").add("mntns").add("veth").add("tun").add("bridge");
        return { binaries: [...bins].sort(), kernel: [...kernel].sort() };
    }
    if (host.transport === "emulated") {
        add("nsenter", "unshare", "mountpoint", "umount", "mount");
        kernel.add("netns").add("mntns");
        if (spec.links.some((l) => l.ends.some((e) => e.host === name))) {
            kernel.add("veth");
            add("ethtool");
        }
    }
    const bridges = spec.bridges.filter((b) => b.host === name);
    if (bridges.some((b) => b.type === "ovs")) {
        add("ovs-vsctl", "ovs-appctl");
        if (host.transport === "emulated") add("ovsdb-tool", "ovsdb-server", "ovs-vswitchd");
        kernel.add("tun");
    }
    if (bridges.some((b) => b.type === "linux")) {
        add("bridge");
        kernel.add("bridge");
    }
    if (spec.tunnels.some((t) => t.endpoints.some((e) => e.host === name && bridges.find((b) => b.name === e.bridge)?.type === "linux")))
        kernel.add("vxlan");
    if (spec.storage.some((s) => s.host === name)) add("tgtd", "tgtadm", "truncate");
    const hypervisor = host.roles.includes("hypervisor") && spec.vms.length > 0;
    if (hypervisor) {
        add("virsh", "qemu-system-x86_64", "mktemp", "sed");
        if (host.transport === "emulated") add("libvirtd");
        kernel.add("tun").add("qemu-iscsi").add("libvirt-qemu-user");
    }
    if (spec.migration?.probe.from === name) add("virsh", "ping", "awk", "timeout", "mktemp");
    if (spec.checks.some((c) => c.from === name)) add("ping");
    if (host.forwarding ?? host.roles.includes("router")) add("sysctl");
    if (spec.wan?.router === name) {
        add("tc");
        // NetEm only where the profile adds something: a campus lab runs on any kernel.
        const p = wanProfile ?? spec.wan.profile;
        const params = typeof p === "string" ? PROFILES[p] : p;
        if (netemArgs(perInterface(params, spec.wan.mode)).length) kernel.add("sch_netem");
    }
    return { binaries: [...bins].sort(), kernel: [...kernel].sort() };
}
