// A multi-access link for real: three emulated hosts on one LAN segment (a Linux bridge
// in a namespace of the link's own, a veth from each end), routed on to a fourth host.
// Each pings the others; a second up changes nothing; destroy leaves no namespace.
import { after, before, describe, test } from "node:test";
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { Engine, residue, ROOT, sh } from "./harness";
import { lanNamespace } from "../../components/host/link";

const STACK = "t-lan";

describe("a LAN segment with three ends, for real", () => {
    const engine = new Engine();
    const lan = lanNamespace(STACK, "switch");

    before(() => engine.initStack(STACK, path.join(ROOT, "test/lab/fixtures/lan.yaml")));
    after(() => engine.cleanup());

    test("up builds the segment: every end reaches the others, and the router's uplink leads on", () => {
        engine.ok(["up", "--yes", "--stack", STACK, "--skip-preview"]);
        const out = JSON.parse(engine.ok(["stack", "output", "--json", "--stack", STACK]).stdout);
        for (const c of ["a-to-b", "b-to-c", "c-to-a", "d-to-c"]) assert.match(out.checks[c], /0% packet loss/, c);
        assert.deepEqual(out.links.switch.ends, ["a:eth0 10.50.0.1/24", "b:eth0 10.50.0.2/24", "c:eth0 10.50.0.3/24"]);
        // The segment: one bridge, three ports.
        const ports = sh(`ip -n '${lan}' -o link show master lan`).out.trim().split("\n").map((l) => l.split(":")[1].trim().split("@")[0]);
        assert.deepEqual(ports.sort(), ["p0", "p1", "p2"]);
        // Independently of the stack's checks: b reaches a, and d reaches b through c.
        assert.equal(sh(`ip netns exec wl-${STACK}-b ping -c 1 -W 2 10.50.0.1`).code, 0);
        assert.equal(sh(`ip -n wl-${STACK}-b route add 10.60.0.0/30 via 10.50.0.3 && ip netns exec wl-${STACK}-d ping -c 1 -W 2 10.50.0.2`).code, 0);
    });

    test("a second up changes nothing", () => {
        const r = engine.ok(["preview", "--stack", STACK, "--json"]);
        assert.deepEqual(Object.keys(JSON.parse(r.stdout).changeSummary), ["same"]);
    });

    test("destroy removes the segment's namespace with the hosts'", () => {
        engine.ok(["destroy", "--yes", "--stack", STACK, "--skip-preview"]);
        assert.deepEqual(residue(STACK), []);
        assert.doesNotMatch(sh("ip netns list").out, new RegExp(lan.replace(".", "\\.")));
    });
});
