// The probe program (tools/probe) for real, on this machine's loopback: the UDP reflector
// answers over IPv4 and IPv6 alike, each answer carries the probe's sequence number and
// send time and the reflector's arrival time, and 1 ms intervals keep up; the TCP server
// sees a paused client as a stall and a closed one as a break.
import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { PROBE } from "./migration";

describe("wanlab-probe on loopback", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wanlab-test-udp-"));
    const port = 20000 + (process.pid % 20000);
    let reflector: ChildProcess;

    before(async () => {
        assert.ok(fs.existsSync(PROBE), `${PROBE}: scripts/bootstrap.sh builds it`);
        reflector = spawn(PROBE, ["reflect", "-port", String(port)], { stdio: "ignore" });
        await new Promise((r) => setTimeout(r, 200));
    });
    after(() => {
        reflector.kill("SIGKILL");
        fs.rmSync(dir, { recursive: true, force: true });
    });

    /** Probe for a second; the answers as [seq, sent, answered, reflected] in ns, and what it said it sent. */
    const probe = (to: string, interval: string) => {
        const out = path.join(dir, `${to.replace(/:/g, "_")}-${interval}`);
        const r = spawnSync("timeout", ["--preserve-status", "-s", "INT", "1", PROBE, "probe", "-to", to, "-port", String(port), "-interval", interval, "-out", out], { encoding: "utf8" });
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
        const r = spawnSync(PROBE, ["probe", "-to", "vm1", "-out", path.join(dir, "x")], { encoding: "utf8" });
        assert.equal(r.status, 1);
        assert.match(r.stderr, /-to "vm1" is not an IP address/);
    });
});

describe("wanlab-probe's TCP survival probe on loopback", () => {
    const port = 20000 + ((process.pid + 7) % 20000);
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const server = () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wanlab-test-tcp-"));
        const p = spawn(PROBE, ["tcp-server", "-port", String(port), "-ready", path.join(dir, "ready")], { stdio: ["ignore", "pipe", "inherit"] });
        let out = "";
        p.stdout!.on("data", (d) => (out += d));
        const report = async () => {
            p.kill("SIGTERM");
            await new Promise((r) => p.once("exit", r));
            fs.rmSync(dir, { recursive: true, force: true });
            return JSON.parse(out);
        };
        return { ready: () => fs.existsSync(path.join(dir, "ready")), report };
    };
    const client = () => spawn(PROBE, ["tcp-client", "-to", `127.0.0.1:${port}`, "-interval", "10ms"], { stdio: "ignore" });

    it("a client paused for 500 ms: one connection, no break, a stall of about 500 ms", async () => {
        const s = server();
        await sleep(100);
        const c = client();
        try {
            await sleep(500);
            assert.ok(s.ready(), "the first message arrived");
            c.kill("SIGSTOP");
            await sleep(500);
            c.kill("SIGCONT");
            await sleep(300);
            const r = await s.report();
            assert.equal(r.connections, 1);
            assert.deepEqual(r.breaks, []);
            assert.equal(r.missing, 0);
            const longest = Math.max(...r.stalls.map(([a, b]: number[]) => (b - a) / 1e6));
            assert.ok(longest >= 450 && longest < 800, `longest stall ${longest} ms`);
            assert.ok(r.messages >= 50, `${r.messages} messages`);
        } finally {
            c.kill("SIGKILL");
        }
    });

    it("a client that ends is a break (recv() 0), and one that comes back a second connection", async () => {
        const s = server();
        await sleep(100);
        const c1 = client();
        await sleep(400);
        c1.kill("SIGKILL");
        await sleep(200);
        const c2 = client();
        try {
            await sleep(400);
            const r = await s.report();
            assert.equal(r.connections, 2);
            assert.equal(r.breaks.length, 1, JSON.stringify(r.breaks));
            assert.match(r.breaks[0].reason, /^recv\(\) returned (0|-1)/);
        } finally {
            c2.kill("SIGKILL");
        }
    });
});
