// Faults on the default lab, for real: `pulumi up` killed with SIGKILL halfway through
// building it, then the destination's libvirtd killed in the middle of a migration. Each
// time the next `up` converges to the same lab, nothing is duplicated, the VM runs where
// it was and its disk counter neither skips back nor stops, and destroy leaves nothing.
import { after, before, describe, test } from "node:test";
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { daemonPids, Engine, residue, ROOT, sh, tmpEntries } from "./harness";

const STACK = "t-faults";
const RUN = `/run/wanlab/${STACK}`;
const HOSTS = ["host1", "host2", "router", "storage"];
const uri = (host: string) => `qemu+unix:///system?socket=${RUN}/${host}/fs/run/libvirt/libvirt-sock`;
const domstate = (host: string) => sh(`virsh -c '${uri(host)}' domstate vm1 2>&1`).out.trim();
const diskCounter = () => Number(fs.readFileSync(`${RUN}/storage/fs/var/lib/wanlab/shared.img`).subarray(0, 32).toString().split("\n")[0]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Lab daemons by host: which namespace each process of the lab is in. */
function daemonsByHost(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const h of HOSTS) {
        const pids = sh(`ip netns pids wl-${STACK}-${h} 2>/dev/null`).out.split("\n").filter(Boolean);
        out[h] = pids.map((p) => sh(`cat /proc/${p}/comm 2>/dev/null`).out.trim())
            .filter((c) => /^(ovs-vswitchd|ovsdb-server|libvirtd|tgtd|qemu-system)/.test(c)).sort();
    }
    return out;
}

/** Every mount of the lab's, as "mount point" lines; a duplicate shows twice. */
const labMounts = () => fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.includes(`${RUN}/`)).map((l) => l.split(" ")[4]).sort();

describe("faults on the default lab", () => {
    const engine = new Engine();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "wanlab-test-spec-"));
    const daemonsBefore = daemonPids();
    let tmpBefore: Set<string>;

    /** `pulumi up` in a child process of its own, so that the test can act while it runs. */
    const upAsync = () => {
        const child = spawn("pulumi", ["up", "--yes", "--skip-preview", "--stack", STACK], { cwd: ROOT, env: engine.env, detached: true });
        let out = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (out += d));
        const done = new Promise<{ code: number | null; signal: string | null; out: string }>((resolve) =>
            child.on("exit", (code, signal) => resolve({ code, signal, out })));
        return { child, done };
    };
    const run = (n: number, direction = "forward") => {
        engine.ok(["config", "set", "--stack", STACK, "wanlab:migrationRun", String(n)]);
        engine.ok(["config", "set", "--stack", STACK, "wanlab:migrationDirection", direction]);
    };

    before(() => {
        tmpBefore = tmpEntries();
        const spec = path.join(work, "local.yaml");
        fs.copyFileSync(path.join(ROOT, "stacks", "local.yaml"), spec);
        engine.initStack(STACK, spec);
        engine.ok(["config", "set", "--secret", "--stack", STACK, "chapPassword", "--", "faults-chap-secret"]);
        run(0);
    });
    after(() => {
        engine.cleanup();
        fs.rmSync(work, { recursive: true, force: true });
        fs.rmSync(path.join(ROOT, "results", STACK), { recursive: true, force: true });
    });

    let whole: { daemons: Record<string, string[]>; mounts: string[] };

    test("`pulumi up` killed with SIGKILL halfway: the next up (after pulumi cancel) converges, with nothing twice", async (t) => {
        const up = upAsync();
        // Halfway: the namespaces and some daemons exist, the VM does not yet.
        for (let i = 0; i < 600 && !fs.existsSync(`${RUN}/host2/fs/run/libvirt`); i++) await sleep(50);
        await sleep(1500);
        process.kill(-up.child.pid!, "SIGKILL");
        const killed = await up.done;
        assert.equal(killed.signal, "SIGKILL");
        t.diagnostic(`killed after: ${killed.out.split("\n").filter((l) => /created/.test(l)).length} lines of created resources`);
        // The file backend keeps the dead engine's lock (cancel removes it) and the creates it
        // had under way, which the next up creates again (their scripts may run twice).
        engine.pulumi(["cancel", "--yes", "--stack", STACK]);
        engine.ok(["refresh", "--yes", "--clear-pending-creates", "--skip-preview", "--stack", STACK]);
        const again = engine.pulumi(["up", "--yes", "--skip-preview", "--stack", STACK]);
        assert.equal(again.code, 0, again.stdout + again.stderr);
        whole = { daemons: daemonsByHost(), mounts: labMounts() };
        assert.deepEqual(whole.daemons, {
            host1: ["libvirtd", "ovs-vswitchd", "ovsdb-server", "qemu-system-x86"],
            host2: ["libvirtd", "ovs-vswitchd", "ovsdb-server"],
            router: [],
            storage: ["tgtd", "tgtd"], // tgtd runs as a parent and a child
        });
        assert.equal(new Set(whole.mounts).size, whole.mounts.length, `a mount twice: ${whole.mounts.join(", ")}`);
        assert.equal(domstate("host1"), "running");
        const second = engine.ok(["preview", "--json", "--stack", STACK]);
        assert.deepEqual(Object.keys(JSON.parse(second.stdout).changeSummary), ["same"]);
    });

    test("the destination's libvirtd killed in the middle of a migration: the VM runs on, on its source, its disk counter goes on, and the run fails with libvirt's reason", async () => {
        run(1);
        const pidFile = `${RUN}/host2/fs/run/libvirt/libvirtd.pid`;
        const up = upAsync();
        // The migration is under way once the destination's QEMU is waiting for the stream.
        let incoming = false;
        for (let i = 0; i < 1200 && !incoming; i++) {
            incoming = daemonsByHost().host2.includes("qemu-system-x86");
            if (!incoming) await sleep(50);
        }
        assert.ok(incoming, "the migration started");
        // Memory is still being copied: at campus 256 MiB take about 3 s.
        await sleep(200);
        const samples: number[] = [];
        const sampler = setInterval(() => samples.push(diskCounter()), 100);
        sh(`kill -9 $(cat ${pidFile})`);
        const r = await up.done;
        await sleep(2000);
        clearInterval(sampler);
        assert.notEqual(r.code, 0);
        assert.match(r.out, /migration of vm1 from host1 to host2 failed/);
        assert.match(r.out, /error: .+/, "libvirt's reason");
        assert.equal(domstate("host1"), "running");
        // The guest writes 1, 2, 3, ... every 100 ms to its disk: never back, and on.
        assert.ok(samples.length > 5, `${samples.length} samples`);
        for (let i = 1; i < samples.length; i++) assert.ok(samples[i] >= samples[i - 1], `counter went back: ${samples.join(",")}`);
        assert.ok(samples[samples.length - 1] > samples[0], `counter stopped: ${samples.join(",")}`);
    });

    test("the next up starts that libvirtd again and the migration runs; nothing is left twice", () => {
        const r = engine.pulumi(["up", "--yes", "--skip-preview", "--stack", STACK]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.equal(domstate("host2"), "running");
        assert.match(domstate("host1"), /failed to get domain|Domain not found/);
        assert.deepEqual(daemonsByHost(), {
            ...whole.daemons,
            host1: ["libvirtd", "ovs-vswitchd", "ovsdb-server"],
            host2: ["libvirtd", "ovs-vswitchd", "ovsdb-server", "qemu-system-x86"],
        });
        assert.deepEqual(labMounts(), whole.mounts);
    });

    test("destroy leaves nothing behind", () => {
        engine.ok(["destroy", "--yes", "--skip-preview", "--stack", STACK]);
        assert.deepEqual(residue(STACK), []);
        assert.deepEqual([...daemonPids()].filter((p) => !daemonsBefore.has(p)), []);
        assert.deepEqual([...tmpEntries()].filter((e) => !tmpBefore.has(e)), []);
    });
});
