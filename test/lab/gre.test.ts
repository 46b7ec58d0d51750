// GRE and RIP for real (seed 000 scenario 2's routing): two PE appliances with FRR, a GRE
// tunnel between their loopbacks across an emulated core router, and RIP teaching each PE
// the far site over it. The traffic between the sites must cross the tunnel, full-size
// packets must pass with DF set up to the tunnel's MTU and no further (the failure the
// study never looked for, 000.md §5), a bulk TCP transfer must go through, a second up
// must change nothing, and destroy must leave nothing behind.
import { after, before, describe, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { daemonPids, Engine, onAppliance, residue, ROOT, sh, txCounters } from "./harness";
import { forwardPort } from "../../components/host/appliance";

const STACK = "t-gre";

describe("GRE tunnel and RIP on two PE appliances", () => {
    const engine = new Engine();
    const keys = fs.mkdtempSync(path.join(os.tmpdir(), "wanlab-test-gre-key-"));
    const daemonsBefore = daemonPids();
    /** A command on a PE appliance, over its forwarded SSH port (this test's own key). */
    const onPe = (pe: string, cmd: string) => onAppliance(STACK, pe, `${keys}/id`, cmd);
    const inA = (cmd: string) => sh(`ip netns exec wl-${STACK}-a ${cmd}`);
    const tunnelPackets = (pe: string) => txCounters(STACK, pe, `${keys}/id`, "Tunnel1").packets;

    before(() => {
        assert.equal(sh(`ssh-keygen -q -t ed25519 -N '' -f ${keys}/id`).code, 0);
        engine.initStack(STACK, path.join(ROOT, "test/lab/fixtures/gre-rip.yaml"));
        engine.ok(["config", "set", "--secret", "--stack", STACK, "applianceKey", "--", fs.readFileSync(`${keys}/id`, "utf8")]);
    });
    after(() => {
        engine.cleanup();
        fs.rmSync(keys, { recursive: true, force: true });
    });

    test("up builds the tunnel and FRR; RIP converges: each PE holds the far site via Tunnel1", (t) => {
        const r = engine.pulumi(["up", "--yes", "--skip-preview", "--stack", STACK]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        t.diagnostic(`up with two PE appliances: ${r.seconds.toFixed(1)} s`);
        for (const [pe, far, via] of [["pe1", "10.32.2.0/24", "10.1.1.2"], ["pe2", "10.32.1.0/24", "10.1.1.1"]]) {
            const routes = JSON.parse(onPe(pe, `vtysh --vty_socket /var/lib/wanlab/${STACK}/frr -c 'show ip route ${far} json'`).out);
            const best = routes[far].find((x: any) => x.selected);
            assert.equal(best.protocol, "rip", JSON.stringify(routes));
            assert.deepEqual(best.nexthops.map((h: any) => [h.ip, h.interfaceName]), [[via, "Tunnel1"]]);
            t.diagnostic(`${pe}: ${far} via ${via} (Tunnel1), metric ${best.metric}`);
        }
        const dev = onPe("pe1", "ip -d link show dev Tunnel1").out;
        assert.match(dev, /mtu 1476 /);
        assert.match(dev, /gre remote 10\.0\.0\.2 local 10\.0\.0\.1 ttl 255/);
    });

    test("a's traffic to b crosses Tunnel1, as its counters show", () => {
        const before = tunnelPackets("pe1");
        assert.equal(inA("ping -n -q -c 20 -i 0.05 10.32.2.10").code, 0);
        const sent = tunnelPackets("pe1") - before;
        assert.ok(sent >= 20, `Tunnel1 sent ${sent} packets for 20 pings`);
    });

    test("full-size packets with DF set pass up to the tunnel's MTU (1476) and are refused above it", () => {
        // 1448 bytes of payload + 8 (ICMP) + 20 (IP) = 1476.
        const full = inA("ping -n -q -M do -s 1448 -c 3 -W 2 10.32.2.10");
        assert.equal(full.code, 0, full.out);
        const over = inA("ping -n -M do -s 1449 -c 2 -W 2 10.32.2.10");
        assert.notEqual(over.code, 0);
        assert.match(over.out, /mtu = 1476|message too long, mtu=1476/i);
    });

    test("a bulk TCP transfer crosses the tunnel (path MTU discovery finds 1476)", (t) => {
        const server = sh(`ip netns exec wl-${STACK}-b iperf3 -s -1 -D -p 5299 --pidfile ${keys}/iperf.pid`);
        assert.equal(server.code, 0, server.out);
        try {
            sh("sleep 0.5");
            const r = inA("iperf3 -c 10.32.2.10 -p 5299 -t 3 -J");
            assert.equal(r.code, 0, r.out);
            const j = JSON.parse(r.out);
            const mbit = j.end.sum_received.bits_per_second / 1e6;
            t.diagnostic(`iperf3 a -> b over GRE: ${mbit.toFixed(1)} Mbit/s, ${j.end.sum_sent.retransmits} retransmits`);
            assert.ok(j.end.sum_received.bytes > 1e6, `only ${j.end.sum_received.bytes} bytes arrived`);
        } finally {
            sh(`[ -f ${keys}/iperf.pid ] && kill $(cat ${keys}/iperf.pid) 2>/dev/null || true`);
        }
    });

    test("a second up changes nothing", () => {
        const again = JSON.parse(engine.ok(["preview", "--json", "--stack", STACK]).stdout);
        assert.deepEqual(Object.keys(again.changeSummary), ["same"]);
    });

    test("destroy stops FRR, removes the tunnel and the appliances, and leaves nothing behind", () => {
        // FRR's delete runs first: its daemons go, with their directory.
        engine.ok(["destroy", "--yes", "--skip-preview", "--stack", STACK]);
        assert.deepEqual(residue(STACK), []);
        assert.deepEqual([...daemonPids()].filter((p) => !daemonsBefore.has(p)), []);
        for (const pe of ["pe1", "pe2"]) assert.equal(sh(`ss -Hltn 'sport = :${forwardPort(STACK, pe)}'`).out.trim(), "");
    });
});
