// WAN profiles from the studies, and the NetEm arguments they become.
//
// The studies disagree on what a profile's delay means, so a stack says which reading
// it follows (`wan.mode`):
// - per-interface (seed 000, Appendix D): the delay and jitter are applied as they are on
//   each site-facing interface of the router: `netem delay 30ms 6ms distribution pareto`
//   on eth0 and eth1. The host-to-host stream then sees the delay in each direction.
// - split-rtt (seed 001, §4.2): the delay is the client-to-VM round-trip time, and each
//   direction crosses one router egress, so each interface gets half of it (15/45/80 ms).
//   Seed 001 emulated delay only: its profiles are used without jitter.

export interface NetemParams {
    delayMs?: number;
    jitterMs?: number;
    distribution?: "normal" | "pareto" | "paretonormal";
    /** Correlation of each delay with the previous one, in percent. */
    correlationPct?: number;
    lossPct?: number;
    duplicatePct?: number;
    corruptPct?: number;
    /** Percent of packets sent at once, out of order (needs a delay). */
    reorderPct?: number;
    rateMbit?: number;
}

export const PROFILES: Readonly<Record<string, NetemParams>> = {
    // Seed 000 C0 / seed 001 "Campus Ntk": no added delay.
    campus: {},
    // Seed 000 C1: 30 ms, jitter 6 ms, pareto ("between a host in Sweden and Greece").
    "intra-eu": { delayMs: 30, jitterMs: 6, distribution: "pareto" },
    // Seed 000 C2: 90 ms, jitter 10 ms, pareto (Sweden and USA).
    "trans-atlantic": { delayMs: 90, jitterMs: 10, distribution: "pareto" },
    // Seed 000 C3: 160 ms, jitter 20 ms, pareto.
    "trans-pacific": { delayMs: 160, jitterMs: 20, distribution: "pareto" },
};

export type WanMode = "per-interface" | "split-rtt";

/** What one router interface applies for a profile under a reading. */
export function perInterface(p: NetemParams, mode: WanMode): NetemParams {
    if (mode === "per-interface") return p;
    const half = (x?: number) => (x === undefined ? undefined : x / 2);
    const { jitterMs: _jitter, distribution: _dist, correlationPct: _corr, ...rest } = p;
    return { ...rest, delayMs: half(p.delayMs) };
}

/** `tc qdisc ... netem` arguments; empty when the profile adds nothing (no qdisc at all). */
export function netemArgs(p: NetemParams): string[] {
    const a: string[] = [];
    if (p.delayMs) {
        a.push("delay", `${p.delayMs}ms`);
        if (p.jitterMs) {
            a.push(`${p.jitterMs}ms`);
            if (p.correlationPct !== undefined) a.push(`${p.correlationPct}%`);
            if (p.distribution) a.push("distribution", p.distribution);
        }
    }
    if (p.lossPct) a.push("loss", `${p.lossPct}%`);
    if (p.duplicatePct) a.push("duplicate", `${p.duplicatePct}%`);
    if (p.corruptPct) a.push("corrupt", `${p.corruptPct}%`);
    if (p.reorderPct) a.push("reorder", `${p.reorderPct}%`);
    if (p.rateMbit) {
        a.push("rate", `${p.rateMbit}mbit`);
        // NetEm holds a rate's queue and the delayed packets in one queue of 1000 packets by
        // default: at 100 Mbit/s and 160 ms that is less than what is in flight, and the
        // queue would drop. Room for twice the bandwidth-delay product of full frames.
        const bdp = Math.ceil((2 * p.rateMbit * 1e6 * ((p.delayMs ?? 0) + (p.jitterMs ?? 0) + 10)) / 1000 / 8 / 1500);
        if (bdp > 1000) a.push("limit", String(bdp));
    }
    return a;
}

/** A profile with a rate on top (the studies' host-link bottleneck), or as it is. */
export function withRate(p: NetemParams, rateMbit: number | undefined): NetemParams {
    return rateMbit ? { ...p, rateMbit } : p;
}
