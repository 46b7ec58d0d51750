// The sweep (runner/sweep.ts) for real: a test process killed with SIGKILL while it brings
// up the small lab leaves the lab, its backend and its Pulumi.<stack>.yaml behind; the sweep
// destroys and removes them all, takes apart a lab whose state is gone (processes in its
// namespaces and one entering them, a pinned mount namespace, a LAN namespace), and leaves
// alone the stack of a live test (this one's).
import { after, before, describe, test } from "node:test";
import * as assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Engine, residue, ROOT, sh, stackConfigFile } from "./harness";
import { engineProcesses } from "../../runner/sweep";

const DEAD = "t-sweep-dead"; // the killed test's
const LIVE = "t-sweep-live"; // this test's own, alive
const GONE = "t-sweep-gone"; // a lab with no state at all
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const netns = () => sh("ip netns list").out.split("\n").map((l) => l.split(" ")[0]).filter(Boolean);

describe("the sweep after a killed test", () => {
    const engine = new Engine();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "wanlab-test-spec-"));
    let deadBackend = "";
    let deadSpecDir = "";
    let sweepOut = "";
    const extra: ReturnType<typeof spawn>[] = [];

    before(() => {
        fs.copyFileSync(path.join(ROOT, "stacks", "small.yaml"), path.join(work, "small.yaml"));
        engine.initStack(LIVE, path.join(work, "small.yaml"));
        engine.ok(["up", "--yes", "--skip-preview", "--stack", LIVE]);
    });
    after(() => {
        for (const c of extra) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
        engine.cleanup();
        fs.rmSync(work, { recursive: true, force: true });
        // If the sweep failed, what it left.
        if (deadBackend) fs.rmSync(deadBackend, { recursive: true, force: true });
        fs.rmSync(stackConfigFile(DEAD), { force: true });
    });

    test("a test killed with SIGKILL while its lab comes up leaves it behind", async (t) => {
        const child = spawn(process.execPath, ["--import", "tsx", path.join(__dirname, "fixtures", "sweep-owner.ts"), DEAD],
            { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (out += d));
        let exited = false;
        child.on("exit", () => (exited = true));
        // The lab exists once both hosts' namespaces do (the link and the check may be under way).
        for (let i = 0; i < 600 && !exited; i++) {
            const ns = netns();
            if (ns.includes(`wl-${DEAD}-h1`) && ns.includes(`wl-${DEAD}-h2`)) break;
            await sleep(50);
        }
        assert.ok(!exited, `the test process ended before it was killed:\n${out}`);
        process.kill(-child.pid!, "SIGKILL");
        deadBackend = /^backend (\S+)$/m.exec(out)?.[1] ?? "";
        assert.ok(deadBackend.startsWith(path.join(os.tmpdir(), "wanlab-test-state-")), out);
        t.diagnostic(`killed ${out.includes("\nup\n") ? "after" : "during"} its up`);
        // Its engine's plugins leave within a second or so of the engine.
        for (let i = 0; i < 100 && engineProcesses(deadBackend).length; i++) await sleep(100);
        assert.deepEqual(engineProcesses(deadBackend), []);

        const left = residue(DEAD);
        assert.ok(left.includes(`namespace wl-${DEAD}-h1`), left.join("\n"));
        assert.ok(fs.existsSync(deadBackend));
        assert.ok(fs.existsSync(stackConfigFile(DEAD)));
        deadSpecDir = path.dirname(/wanlab:spec: (\S+)/.exec(fs.readFileSync(stackConfigFile(DEAD), "utf8"))![1]);
        assert.ok(fs.existsSync(deadSpecDir));
    });

    test("a lab whose state is gone: processes in its namespace and one entering it, a pinned mount namespace, a LAN", () => {
        const run = `/run/wanlab/${GONE}/h1`;
        const made = sh([
            `ip netns add wl-${GONE}-h1`, `ip netns add wl-${GONE}-wan.lan`,
            `mkdir -p ${run}`, `touch ${run}/mnt`, `unshare --mount=${run}/mnt --propagation private true`,
        ].join(" && "));
        assert.equal(made.code, 0, made.out);
        const inside = spawn("ip", ["netns", "exec", `wl-${GONE}-h1`, "sleep", "600"], { detached: true, stdio: "ignore" });
        // As an SSH forwarder does: a process of the root namespace whose arguments enter the lab's.
        const forwarder = spawn("sh", ["-c", "while :; do sleep 1; done", `EXEC:nsenter --net=/run/netns/wl-${GONE}-h1 socat`], { detached: true, stdio: "ignore" });
        extra.push(inside, forwarder);
        const left = residue(GONE);
        assert.ok(left.some((l) => l.startsWith("mount ")) && left.some((l) => l.startsWith("process ")), left.join("\n"));
    });

    test("the sweep removes everything the dead test left, and only that", (t) => {
        const t0 = Date.now();
        const r = spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "runner", "sweep.ts")], { cwd: ROOT, encoding: "utf8" });
        sweepOut = `${r.stdout}${r.stderr}`;
        t.diagnostic(`sweep in ${((Date.now() - t0) / 1000).toFixed(1)} s:`);
        for (const l of sweepOut.trim().split("\n")) t.diagnostic(l);
        assert.equal(r.status, 0, sweepOut);

        assert.deepEqual(residue(DEAD), []);
        assert.ok(!fs.existsSync(deadBackend), `${deadBackend} is still there`);
        assert.ok(!fs.existsSync(stackConfigFile(DEAD)), `Pulumi.${DEAD}.yaml is still there`);
        assert.ok(!fs.existsSync(deadSpecDir), `${deadSpecDir} is still there`);
        assert.match(sweepOut, new RegExp(`sweep: backend ${deadBackend}: owner pid \\d+ is gone; stacks ${DEAD}`));
        assert.match(sweepOut, new RegExp(`sweep: backend ${deadBackend}: removed`));

        assert.deepEqual(residue(GONE), []);
        assert.match(sweepOut, new RegExp(`sweep: ${GONE}: stopped 2 processes`));
        assert.match(sweepOut, new RegExp(`sweep: ${GONE}: unmounted /run/wanlab/${GONE}/h1/mnt`));
        assert.match(sweepOut, new RegExp(`sweep: ${GONE}: deleted namespace wl-${GONE}-wan\\.lan`));
    });

    test("the live test's stack is untouched: its lab, its state, its backend and its file", () => {
        assert.match(sweepOut, new RegExp(`sweep: backend ${engine.backend}: owner pid ${process.pid} still runs: left alone with stacks ${LIVE}`));
        assert.doesNotMatch(sweepOut, new RegExp(`sweep: ${LIVE}:`));
        assert.deepEqual(residue(LIVE).filter((l) => l.startsWith("namespace")).sort(), [`namespace wl-${LIVE}-h1`, `namespace wl-${LIVE}-h2`]);
        assert.equal(sh(`ip netns exec wl-${LIVE}-h1 ping -c 1 -W 2 10.10.0.2`).code, 0);
        assert.ok(fs.existsSync(stackConfigFile(LIVE)));
        const preview = JSON.parse(engine.ok(["preview", "--json", "--stack", LIVE]).stdout);
        assert.deepEqual(preview.changeSummary, { same: 12 });
    });

    test("cleanup of the live stack after the sweep leaves nothing", () => {
        engine.cleanup();
        engine.stacks.clear();
        assert.deepEqual(residue(LIVE), []);
        assert.ok(!fs.existsSync(engine.backend));
    });
});
