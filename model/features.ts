// Kernel features and machine facts a capability may require, each with a probe that asks
// the machine itself. Preflight runs the probes of what a host needs. Each probe runs in a
// throwaway network namespace (`unshare --net`) where it creates anything, so it leaves
// nothing behind. The core's are here; each module brings its own (model.ts `features`).
import { modules } from "./modules";

export interface Feature { probe: string; hint: string }

export const CORE_FEATURES: Record<string, Feature> = {
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
    bridge: {
        probe: "unshare --net ip link add wlp0 type bridge",
        hint: "load the bridge module (modprobe bridge)",
    },
    tun: {
        probe: "[ -c /dev/net/tun ]",
        hint: "Open vSwitch and libvirt need /dev/net/tun (modprobe tun)",
    },
};

let all: Record<string, Feature> | undefined;

/** Every feature any capability may name: the core's and the modules'. */
export function features(): Record<string, Feature> {
    if (all) return all;
    const out: Record<string, Feature> = { ...CORE_FEATURES };
    for (const m of modules()) {
        for (const [k, f] of Object.entries(m.features ?? {})) {
            if (out[k]) throw new Error(`module ${m.name} redefines feature '${k}'`);
            out[k] = f;
        }
    }
    return (all = out);
}
