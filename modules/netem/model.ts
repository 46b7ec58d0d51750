// WAN emulation: NetEm on the router's site-facing interfaces, with the studies' delay
// profiles (profiles.ts) and two readings of a profile's delay (per interface, or half of
// a round trip on each).
import type { ModuleModel } from "../../model/modules";
import { oneOf } from "../../model/config";
import { forwards } from "../routes/model";
import { netemArgs, type NetemParams, perInterface, PROFILES, type WanMode, withRate } from "./profiles";
import { wholeNumber } from "../../model/config";

export interface WanSpec {
    router: string;
    interfaces: string[];
    profile: string | NetemParams;
    mode: WanMode;
    /** A rate on every WAN interface, over the profile's (seed 000's ~100 Mbit/s host-link bottleneck). */
    rateMbit?: number;
}

declare module "../../model/types" {
    interface LabSpec { wan?: WanSpec }
}

/** The NetEm parameters each of the router's interfaces gets ("" for none). */
export function appliedArgs(w: WanSpec): string {
    const params = typeof w.profile === "string" ? PROFILES[w.profile] : w.profile;
    return netemArgs(withRate(perInterface(params, w.mode), w.rateMbit)).join(" ");
}

export const module: ModuleModel = {
    name: "netem",
    phase: "wan",
    capabilities: {
        tc: "traffic control (tc) on the router's interfaces",
        qdisc: "NetEm qdiscs (delay, jitter, loss)",
    },
    features: {
        sch_netem: {
            probe: "unshare --net sh -c 'ip link set lo up && tc qdisc add dev lo root netem delay 1ms'",
            hint: "load sch_netem (modprobe sch_netem); where the kernel has none, run the router as an appliance",
        },
    },
    configKeys: [{
        key: "wanProfile",
        description: "the WAN profile for this run, overriding the stack file's (`pulumi config set wanlab:wanProfile trans-atlantic && pulumi up`)",
        parse: oneOf("wanProfile", Object.keys(PROFILES), "a profile"),
    }, {
        key: "wanRateMbit",
        description: "a rate in Mbit/s on every WAN interface, over the profile (0: none, the stack file's otherwise)",
        parse: wholeNumber("wanRateMbit", 0, 100000, "Mbit/s"),
    }],
    applySettings(spec, settings) {
        if (spec.wan && settings.wanProfile !== undefined) spec.wan = { ...spec.wan, profile: settings.wanProfile as string };
        const rate = settings.wanRateMbit as number | undefined;
        if (spec.wan && rate !== undefined) spec.wan = { ...spec.wan, rateMbit: rate || undefined };
    },
    // On a router, on interfaces it has.
    check(spec, ctx) {
        const w = spec.wan;
        if (!w) return;
        if (ctx.hostRef("/wan/router", w.router) && !forwards(ctx.hosts.get(w.router)!))
            ctx.err("/wan/router", `host '${w.router}' does not forward: give it the role 'router'`);
        w.interfaces.forEach((ifname, i) => {
            if (ctx.hosts.has(w.router) && !ctx.hasInterface(w.router, ifname)) ctx.err(`/wan/interfaces/${i}`, `no interface '${ifname}' on host '${w.router}'`);
        });
    },
    // tc on the router; the qdisc only where the profile adds something (campus runs on any kernel).
    uses: (spec) => (spec.wan ? [
        { host: spec.wan.router, capability: "tc", pointer: "/wan/router" },
        ...(appliedArgs(spec.wan) ? [{ host: spec.wan.router, capability: "qdisc", pointer: "/wan/profile" }] : []),
    ] : []),
    graph(spec, g) {
        const w = spec.wan;
        if (!w) return;
        const name = typeof w.profile === "string" ? w.profile : "custom";
        for (const ifname of w.interfaces) g.annotateInterface(w.router, ifname, `WAN ${name}: ${appliedArgs(w) || "no NetEm"}`);
    },
};
