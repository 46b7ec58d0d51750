// The traffic split's counters on the WAN router: one nftables table, on the host side of
// an appliance's taps (in its shell) or on an emulated or real router's own interfaces.
// The migration reads (and zeroes) them around each run: see `TrafficCounters`.
import * as crypto from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";
import type { Host } from "../../components/host/host";
import type { Stage } from "../../components/stages";
import { render } from "../../lib/render";
import { countsTraffic, OTHER, trafficClasses } from "./model";

/** The nftables table's name, on the counting host. */
export const TABLE = "wanlab_traffic";

/** What the migration needs to read the counters: where, and which classes and interfaces they are. */
export interface TrafficCounters {
    host: Host;
    classes: string[];
    interfaces: string[];
    ready: pulumi.Resource;
}

/** Zero the counters, printing what they held (nft's JSON). */
export const READ_SCRIPT = `nft -j reset counters table netdev ${TABLE}`;

/** A netdev chain sees every protocol: an IPv6 match says so, the rest are IPv4's. */
export const withProtocol = (match: string) =>
    (match.startsWith("meta protocol") ? match : `meta protocol ${/^(ip6 |icmpv6 )/.test(match) ? "ip6" : "ip"} ${match}`);

export const stage: Stage = {
    build(lab) {
        const w = lab.spec.wan;
        if (!w || !countsTraffic(lab.spec)) return;
        const router = lab.hosts[w.router];
        const ends = w.interfaces.map((ifname) => ({ name: ifname, ...router.counterEnd(ifname) }));
        // One host counts: an appliance's taps are all in its shell.
        const host = ends[0].host;
        const classes = trafficClasses(lab.spec);
        const ruleset = render("nftables/traffic-split.nft.hbs", {
            router: w.router, table: TABLE, other: OTHER, hooks: ["ingress", "egress"],
            classes: [...classes.map((c) => ({ ...c, matches: c.matches.map(withProtocol) })), { name: OTHER, matches: [] }],
            devices: ends.map((e) => ({ name: e.name, device: e.device })),
        });
        const counters = host.command("traffic-counters", {
            create: "nft -f -",
            delete: `nft delete table netdev ${TABLE} 2>/dev/null || true`,
            stdin: ruleset,
            // A changed ruleset replaces the table.
            triggers: [crypto.createHash("sha256").update(ruleset).digest("hex").slice(0, 16)],
        }, { ...lab.child, dependsOn: [router.linkReady(), ...lab.builtIn("links")], deleteBeforeReplace: true });
        lab.provide("traffic", "counters", {
            host, classes: [...classes.map((c) => c.name), OTHER], interfaces: w.interfaces, ready: counters,
        } satisfies TrafficCounters);
        lab.add("wan", counters);
    },
};
