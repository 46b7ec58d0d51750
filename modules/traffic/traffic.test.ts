// The traffic split's classes, derived from the stack, and the split read from nft's own
// JSON (as `nft -j reset counters` prints it).
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { loadSpec } from "../../model/validate";
import { OTHER, splitFromNft, trafficClasses } from "./model";

const ROOT = path.resolve(__dirname, "..", "..");

describe("the traffic split's classes", () => {
    const spec = loadSpec(path.join(ROOT, "stacks", "local-wan.yaml"));
    const classes = trafficClasses(spec);

    it("seed 000's classes, the fixed ports before the migration's range (an ephemeral port may fall in it)", () => {
        assert.deepEqual(classes.map((c) => c.name), ["storage", "client", "migration", "tunnel"]);
    });

    it("the migration stream only between the hypervisors' underlay addresses; the probes also inside VXLAN", () => {
        const m = classes.find((c) => c.name === "migration")!;
        assert.deepEqual(m.matches, [
            "ip saddr { 192.168.1.10, 192.168.2.10 } ip daddr { 192.168.1.10, 192.168.2.10 } tcp dport 49152-49215",
            "ip saddr { 192.168.1.10, 192.168.2.10 } ip daddr { 192.168.1.10, 192.168.2.10 } tcp sport 49152-49215",
        ]);
        const client = classes.find((c) => c.name === "client")!;
        assert.ok(client.matches.includes("udp dport 4789 @th,224,16 0x0800 @th,312,8 1"), "ping inside the overlay");
        assert.ok(client.matches.includes("udp dport 4789 @th,224,16 0x0800 @th,312,8 6 @th,416,16 9001"), "the TCP probe inside the overlay");
        assert.deepEqual(classes.find((c) => c.name === "tunnel")!.matches, ["udp dport 4789"]);
    });

    it("a migration port from the stack file replaces libvirt's range; no overlay, no tunnel class", () => {
        const own = { ...spec, migration: { ...spec.migration!, port: 49200 }, tunnels: [] };
        const c = trafficClasses(own);
        assert.deepEqual(c.map((x) => x.name), ["storage", "client", "migration"]);
        assert.match(c[2].matches[0], /tcp dport 49200$/);
        assert.ok(!c[1].matches.some((x) => x.includes("4789")));
    });
});

describe("the classes inside GRE (seed 000 scenario 2, stacks/local-gre.yaml)", () => {
    const classes = trafficClasses(loadSpec(path.join(ROOT, "stacks", "local-gre.yaml")));

    it("the migration stream between the hypervisors inside Tunnel1, the probes too, and GRE that carries neither is the tunnel's", () => {
        const m = classes.find((c) => c.name === "migration")!;
        // Inner IPv4 after 20 bytes of outer header and GRE's 4 (no key): 192.168.1.10 is 0xc0a8010a.
        assert.ok(m.matches.includes("ip protocol gre @nh,160,16 & 0x2000 == 0 @nh,264,8 6 @nh,288,32 0xc0a8010a @nh,320,32 0xc0a8020a @nh,368,16 49152-49215"), m.matches.join("\n"));
        assert.equal(m.matches.length, 6);
        const client = classes.find((c) => c.name === "client")!;
        assert.ok(client.matches.includes("ip protocol gre @nh,160,16 & 0x2000 == 0 @nh,264,8 1"), "ping inside GRE");
        assert.deepEqual(classes.find((c) => c.name === "tunnel")!.matches, ["udp dport 4789", "ip protocol gre"]);
    });

    it("a keyed tunnel moves the inner packet 4 bytes on", () => {
        const spec = loadSpec(path.join(ROOT, "stacks", "local-gre.yaml"));
        (spec.tunnels[0] as any).key = 7;
        const client = trafficClasses(spec).find((c) => c.name === "client")!;
        assert.ok(client.matches.includes("ip protocol gre @nh,160,16 & 0x2000 == 0x2000 @nh,296,8 1"), client.matches.join("\n"));
    });
});

describe("a run's split from nft's reading", () => {
    const names = ["storage", "client", "migration", "tunnel", OTHER];
    const reading = (bytes: (cls: string, ifname: string) => number, skip?: string) => JSON.stringify({ nftables: [
        { metainfo: { version: "1.0.6", release_name: "Lester Gooch #5", json_schema_version: 1 } },
        ...names.flatMap((c) => ["eth1", "eth2"].map((i) => ({ counter: { family: "netdev", name: `${c}_${i}`, table: "wanlab_traffic", handle: 3, packets: 2, bytes: bytes(c, i) } })))
            .filter((x) => x.counter.name !== skip),
    ] });

    it("sums each class over the interfaces, keeps each interface's, and gives the shares of the whole", () => {
        const s = splitFromNft(reading((c, i) => (c === "migration" ? 997000 : c === "client" ? 1000 : 500) + (i === "eth2" ? 0 : 0)), names, ["eth1", "eth2"]);
        assert.equal(s.totalBytes, 2 * (997000 + 1000 + 3 * 500));
        assert.deepEqual(s.classes.migration, { bytes: 1994000, packets: 4 });
        assert.deepEqual(s.byInterface.eth1.client, { bytes: 1000, packets: 2 });
        assert.equal(s.sharePct.migration, Math.round((1994000 / s.totalBytes) * 1e6) / 1e4);
        assert.ok(Math.abs(Object.values(s.sharePct).reduce((a, b) => a + b, 0) - 100) < 0.01);
    });

    it("a reading that lacks a counter is an error that names what is missing, not a split without it", () => {
        assert.throws(() => splitFromNft(reading(() => 1, "tunnel_eth2"), names, ["eth1", "eth2"]), /has 9 of the 10 counters \(storage, client, migration, tunnel, other on eth1, eth2\)/);
    });
});
