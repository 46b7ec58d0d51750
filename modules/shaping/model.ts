// Link rates: a token bucket filter (tbf) on every end of a link with `rateMbit`, so that
// a lab has the studies' link speeds on this kernel, which has tbf and lacks the WAN
// emulator's qdisc.
import type { ModuleModel } from "../../model/modules";

declare module "../../model/types" {
    interface LinkSpec { rateMbit?: number }
}

export const module: ModuleModel = {
    name: "shaping",
    phase: "network",
    after: ["bridge"],
    capabilities: { tbf: "a link's rate (tc tbf on its ends)" },
    features: {
        sch_tbf: {
            probe: "unshare --net sh -c 'ip link add wlt0 type veth peer name wlt1 && tc qdisc add dev wlt0 root tbf rate 1mbit burst 16k latency 50ms'",
            hint: "a link's rate needs the token bucket filter: load sch_tbf (modprobe sch_tbf) or use a kernel with CONFIG_NET_SCH_TBF",
        },
    },
    uses: (spec) => spec.links.flatMap((l, i) => (l.rateMbit ? l.ends.map((e) => ({ host: e.host, capability: "tbf", pointer: `/links/${i}/rateMbit` })) : [])),
};

/** tbf's bucket: 5 ms at the rate (at least 16 KB, so that one full TSO segment fits), and a queue of 50 ms. */
export const tbfArgs = (rateMbit: number) => `rate ${rateMbit}mbit burst ${Math.max(16384, Math.round((rateMbit * 1e6) / 8 / 200))} latency 50ms`;
