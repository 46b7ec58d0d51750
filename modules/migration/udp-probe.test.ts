// The UDP probe program (tools/probe) for real, on this machine's loopback: the reflector
// answers over IPv4 and IPv6 alike, each answer carries the probe's sequence number and
// send time and the reflector's arrival time, and 1 ms intervals keep up.
import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { UDP_PROBE } from "./migration";

describe("wanlab-udp on loopback", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wanlab-test-udp-"));
    const port = 20000 + (process.pid % 20000);
    let reflector: ChildProcess;

    before(async () => {
        assert.ok(fs.existsSync(UDP_PROBE), `${UDP_PROBE}: scripts/bootstrap.sh builds it`);
        reflector = spawn(UDP_PROBE, ["reflect", "-port", String(port)], { stdio: "ignore" });
        await new Promise((r) => setTimeout(r, 200));
    });
    after(() => {
        reflector.kill("SIGKILL");
        fs.rmSync(dir, { recursive: true, force: true });
    });

    /** Probe for a second; the answers as [seq, sent, answered, reflected] in ns, and what it said it sent. */
    const probe = (to: string, interval: string) => {
        const out = path.join(dir, `${to.replace(/:/g, "_")}-${interval}`);
        const r = spawnSync("timeout", ["--preserve-status", "-s", "INT", "1", UDP_PROBE, "probe", "-to", to, "-port", String(port), "-interval", interval, "-out", out], { encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
        const sent = Number(/^sent (\d+)$/m.exec(r.stdout)?.[1]);
        const answers = fs.readFileSync(out, "utf8").trim().split("\n").map((l) => l.split(" ").map(Number));
        return { sent, answers };
    };

    for (const to of ["127.0.0.1", "::1"]) {
        it(`answers over ${to.includes(":") ? "IPv6" : "IPv4"} every 10 ms: sequence, send time, answer, the reflector's arrival between them`, () => {
            const { sent, answers } = probe(to, "10ms");
            assert.ok(sent >= 90 && sent <= 101, `sent ${sent}`);
            assert.equal(answers.length, sent);
            answers.forEach(([seq, sentNs, backNs, vmNs], i) => {
                assert.equal(seq, i + 1);
                assert.ok(sentNs <= vmNs && vmNs <= backNs, `answer ${seq}: ${sentNs} ${vmNs} ${backNs}`);
            });
        });
    }

    it("keeps up with 1 ms: most of a second's 1000 probes sent and answered", () => {
        const { sent, answers } = probe("::1", "1ms");
        assert.ok(sent > 800, `sent ${sent}`);
        assert.ok(answers.length >= 0.99 * sent, `${answers.length} answers of ${sent}`);
    });

    it("refuses what is not an address, saying so", () => {
        const r = spawnSync(UDP_PROBE, ["probe", "-to", "vm1", "-out", path.join(dir, "x")], { encoding: "utf8" });
        assert.equal(r.status, 1);
        assert.match(r.stderr, /-to "vm1" is not an IP address/);
    });
});
