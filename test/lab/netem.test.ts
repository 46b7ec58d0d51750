// WAN emulation on an emulated router, for real. On a kernel without sch_netem (this
// machine) the preflight must stop the lab before anything is created, naming the host,
// the feature and the appliance router; the campus profile (no qdisc) still works, and a
// profile change fails again without touching the interfaces. On a kernel with sch_netem
// the router applies the profile, and the measured RTT matches it.
import { after, before, describe, test } from "node:test";
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { Engine, residue, ROOT, sh } from "./harness";

const STACK = "t-wan";
const hasNetem = sh("unshare --net sh -c 'ip link set lo up && tc qdisc add dev lo root netem delay 1ms'").code === 0;
const qdisc = (ifname: string) => sh(`tc -n wl-${STACK}-r qdisc show dev ${ifname} root`).out;
const rttAvg = (summary: string) => Number(/= [\d.]+\/([\d.]+)\//.exec(summary)![1]);

describe(`NetEm on an emulated router (this kernel ${hasNetem ? "has" : "lacks"} sch_netem)`, () => {
    const engine = new Engine();
    const profile = (p: string) => engine.ok(["config", "set", "--stack", STACK, "wanlab:wanProfile", p]);
    const up = () => engine.pulumi(["up", "--yes", "--skip-preview", "--stack", STACK]);
    const outputs = () => JSON.parse(engine.ok(["stack", "output", "--json", "--stack", STACK]).stdout);

    before(() => engine.initStack(STACK, path.join(ROOT, "test/lab/fixtures/wan.yaml")));
    after(() => engine.cleanup());

    if (!hasNetem) {
        test("a delay profile stops at preflight, names host, feature and remedy, and creates nothing", () => {
            const r = up();
            assert.notEqual(r.code, 0);
            const out = r.stdout + r.stderr;
            assert.match(out, /host 'r' \(emulated on this machine\) is missing:/);
            assert.match(out, /kernel feature 'sch_netem': load sch_netem \(modprobe sch_netem\); where the kernel has none, run the router as an appliance/);
            assert.match(out, /Nothing was changed on any host\./);
            assert.deepEqual(residue(STACK), []);
            const state = JSON.parse(engine.ok(["stack", "export", "--stack", STACK]).stdout);
            const made = (state.deployment.resources ?? []).map((x: any) => x.urn.split("::").pop());
            assert.deepEqual(made.filter((n: string) => /namespace|veth|netem|route/.test(n)), []);
        });

        test("campus adds no qdisc, so the lab comes up on this kernel", () => {
            profile("campus");
            const r = up();
            assert.equal(r.code, 0, r.stdout + r.stderr);
            assert.equal(outputs().wan.netem, "none");
            assert.doesNotMatch(qdisc("eth1"), /netem/);
        });

        test("changing to a delay profile shows the change, then fails at preflight and leaves the interfaces as they were", () => {
            profile("trans-atlantic");
            const text = engine.ok(["preview", "--diff", "--stack", STACK]).stdout;
            // The two qdiscs change in place, and the router's preflight runs again for the new feature.
            assert.equal(text.match(/\+ NETEM\s*: "delay 90ms 10ms distribution pareto"/g)?.length, 2, text);
            assert.equal(text.match(/~ PROFILE\s*: "campus" => "trans-atlantic"/g)?.length, 2, text);
            assert.match(text, /~ \[1\]: "mntns netns veth" => "mntns netns sch_netem veth"/);
            assert.match(text, /~ 2 to update\s+\+-1 to replace\s+3 changes/);
            const r = up();
            assert.notEqual(r.code, 0);
            assert.match(r.stdout + r.stderr, /kernel feature 'sch_netem'/);
            assert.doesNotMatch(qdisc("eth1"), /netem/);
            assert.doesNotMatch(qdisc("eth2"), /netem/);
        });
    } else {
        test("intra-eu: each router interface delays 30 ms, the RTT between the sites is about 60 ms", () => {
            const r = up();
            assert.equal(r.code, 0, r.stdout + r.stderr);
            assert.match(qdisc("eth1"), /netem .*delay 30ms\s+6ms/);
            const rtt = rttAvg(outputs().checks["a-to-b"]);
            assert.ok(rtt > 45 && rtt < 80, `rtt ${rtt} ms`);
        });

        test("a new profile updates the qdiscs in place", () => {
            profile("trans-atlantic");
            const r = up();
            assert.equal(r.code, 0, r.stdout + r.stderr);
            assert.match(qdisc("eth2"), /delay 90ms\s+10ms/);
            const rtt = Number(/rtt [^=]+= [\d.]+\/([\d.]+)\//.exec(sh(`ip netns exec wl-${STACK}-a ping -q -c 10 -i 0.2 10.31.2.10`).out)![1]);
            assert.ok(rtt > 155 && rtt < 220, `rtt ${rtt} ms`);
        });
    }

    test("destroy leaves nothing behind", () => {
        engine.ok(["destroy", "--yes", "--skip-preview", "--stack", STACK]);
        assert.deepEqual(residue(STACK), []);
    });
});
