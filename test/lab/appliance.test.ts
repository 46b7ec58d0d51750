// A router appliance in a lab, for real: the lab boots the router image under QEMU,
// wires its NICs into the lab's links and drives it over the ssh transport with a key
// held as a Pulumi secret. NetEm runs in the appliance's kernel, so the RTT between the
// sites must match the profile (seed 000's reading: the delay on each router interface,
// so about twice the delay), and a profile change updates the qdiscs in place.
import { after, before, describe, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { daemonPids, Engine, residue, ROOT, sh } from "./harness";
import { forwardPort } from "../../components/host/appliance";

const STACK = "t-appliance";
const rtt = () => {
    const out = sh(`ip netns exec wl-${STACK}-a ping -n -q -c 20 -i 0.2 10.31.2.10`).out;
    return Number(/= [\d.]+\/([\d.]+)\//.exec(out)?.[1] ?? NaN);
};

describe("router appliance with NetEm, over the ssh transport", () => {
    const engine = new Engine();
    const keys = fs.mkdtempSync(path.join(os.tmpdir(), "wanlab-test-appliance-key-"));
    const daemonsBefore = daemonPids();
    let keyText = "";

    before(() => {
        assert.equal(sh(`ssh-keygen -q -t ed25519 -N '' -f ${keys}/id`).code, 0);
        keyText = fs.readFileSync(`${keys}/id`, "utf8");
        engine.initStack(STACK, path.join(ROOT, "test/lab/fixtures/wan-appliance.yaml"));
        engine.ok(["config", "set", "--secret", "--stack", STACK, "applianceKey", "--", keyText]);
    });
    after(() => {
        engine.cleanup();
        fs.rmSync(keys, { recursive: true, force: true });
    });

    test("up boots the appliance and applies intra-eu: RTT between the sites about 2 x 30 ms", (t) => {
        const r = engine.pulumi(["up", "--yes", "--skip-preview", "--stack", STACK]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        t.diagnostic(`up with the appliance: ${r.seconds.toFixed(1)} s`);
        const m = rtt();
        t.diagnostic(`rtt intra-eu: ${m} ms`);
        assert.ok(m > 50 && m < 90, `rtt ${m} ms`);
        const out = JSON.parse(engine.ok(["stack", "output", "--json", "--stack", STACK]).stdout);
        assert.equal(out.wan.netem, "delay 30ms 6ms distribution pareto");
        assert.equal(out.hosts.r.appliance, "router");
    });

    test("the key stays a secret", () => {
        const body = keyText.split("\n")[1];
        assert.ok(!engine.stateText(STACK).includes(body));
    });

    test("the appliance's SSH host key is made by the lab and pinned: every command on it holds that key, and QEMU's command line only a file name", () => {
        const state = JSON.parse(engine.ok(["stack", "export", "--stack", STACK, "--show-secrets"]).stdout).deployment.resources;
        const vm = state.find((x: any) => x.urn.endsWith("::r-appliance"));
        // `stack export --show-secrets` gives a secret as {plaintext: JSON}.
        const plain = (v: any) => (v && typeof v === "object" && "plaintext" in v ? JSON.parse(v.plaintext) : v);
        const stdout = String(plain(vm.outputs.stdout));
        const hostKey = /^host-key: (ssh-ed25519 \S+)$/m.exec(stdout)?.[1];
        assert.ok(hostKey, stdout);
        const remote = state.filter((x: any) => x.type === "command:remote:Command");
        assert.ok(remote.length >= 2);
        for (const x of remote) assert.equal(plain(x.inputs.connection).hostKey, hostKey, x.urn);
        // Its private half is in a 0600 file that QEMU reads; no process shows it.
        const qemu = sh(`ps -eo args= | grep -F 'wanlab.name=r ' | grep -v grep`).out;
        assert.match(qemu, /-fw_cfg name=opt\/wanlab\/host_key,file=\S+\/host_key/);
        assert.doesNotMatch(qemu, /PRIVATE KEY|wanlab.hostkey=/i);
        // The appliance serves exactly that key.
        const port = forwardPort(STACK, "r");
        const served = sh(`ssh-keyscan -t ed25519 -p ${port} 127.0.0.1 2>/dev/null`).out.trim().split(/\s+/).slice(1, 3).join(" ");
        assert.equal(served, hostKey);
    });

    test("a new profile shows as exactly that change, and up updates the qdiscs in place", (t) => {
        engine.ok(["config", "set", "--stack", STACK, "wanlab:wanProfile", "trans-atlantic"]);
        const diff = engine.ok(["preview", "--diff", "--stack", STACK]).stdout;
        assert.equal(diff.match(/~ NETEM\s*: "delay 30ms 6ms distribution pareto" => "delay 90ms 10ms distribution pareto"/g)?.length, 2, diff);
        assert.match(diff, /~ 2 to update\s+\d+ unchanged/);
        const r = engine.ok(["up", "--yes", "--skip-preview", "--stack", STACK]);
        assert.match(r.stdout, /~ 2 updated/);
        const m = rtt();
        t.diagnostic(`rtt trans-atlantic: ${m} ms`);
        assert.ok(m > 165 && m < 220, `rtt ${m} ms`);
        const again = JSON.parse(engine.ok(["preview", "--json", "--stack", STACK]).stdout);
        assert.deepEqual(Object.keys(again.changeSummary), ["same"]);
    });

    test("destroy stops the VM and the forwarder and leaves nothing behind", () => {
        engine.ok(["destroy", "--yes", "--skip-preview", "--stack", STACK]);
        assert.deepEqual(residue(STACK), []);
        assert.deepEqual([...daemonPids()].filter((p) => !daemonsBefore.has(p)), []);
        assert.equal(sh(`ss -Hltn 'sport = :${forwardPort(STACK, "r")}'`).out.trim(), "");
    });
});
