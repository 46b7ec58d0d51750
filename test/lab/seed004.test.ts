// Seed 004's non-shared storage for real (stacks/seed004-local.yaml): a VM whose disk is
// local to its hypervisor migrates with its disk copied along (libvirt creates the copy
// on the destination), while TCP is watched: the VM's bulk stream survives the move, the
// sockperf request/response goes on, and the capture on the source sees the migration's
// connections. A copy that cannot be made leaves the VM running on its source with its
// disk, and destroy removes every copy, the pools and the capture.
import { after, before, describe, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { daemonPids, Engine, lastRecord, residue, ROOT, sh, tmpEntries, upRun } from "./harness";

const STACK = "t-seed004";
const RUN = `/run/wanlab/${STACK}`;
const uri = (host: string) => `qemu+unix:///system?socket=${RUN}/${host}/fs/run/libvirt/libvirt-sock`;
const domstate = (host: string) => sh(`virsh -c '${uri(host)}' domstate vm1 2>&1`).out.trim();
const disk = (host: string) => `${RUN}/${host}/fs/var/lib/wanlab/disks/vm1.qcow2`;
/** The counter the guest writes to the first sector of its disk every 100 ms, read from the image on a host. */
const diskCounter = (host: string) => {
    const r = sh(`qemu-io -U -r -f qcow2 -c 'read -v 0 16' '${disk(host)}'`);
    const hex = r.out.split("\n")[0].split(":")[1]?.trim().split(/\s+/).slice(0, 16) ?? [];
    return Number(hex.map((h) => String.fromCharCode(parseInt(h, 16))).join("").split("\n")[0]);
};

describe("seed 004: a local disk copied with the memory, TCP watched, for real", () => {
    const engine = new Engine();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "wanlab-test-spec-"));
    const daemonsBefore = daemonPids();
    let tmpBefore: Set<string>;

    const up = (run: number, direction = "forward") => upRun(engine, STACK, run, direction);
    const record = () => lastRecord(engine, STACK);

    before(() => {
        tmpBefore = tmpEntries();
        const spec = path.join(work, "seed004-local.yaml");
        fs.copyFileSync(path.join(ROOT, "stacks", "seed004-local.yaml"), spec);
        engine.initStack(STACK, spec);
        // A 256 MiB disk: the same copy as 1 GiB's, in a quarter of the time.
        engine.ok(["config", "set", "--stack", STACK, "wanlab:vmDiskMiB", "256"]);
    });
    after(() => {
        engine.cleanup();
        fs.rmSync(work, { recursive: true, force: true });
        fs.rmSync(path.join(ROOT, "results", STACK), { recursive: true, force: true });
    });

    test("up builds the lab; the VM's disk is a filled 256 MiB image on host-a only", (t) => {
        const r = up(0);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        t.diagnostic(`up from nothing: ${r.seconds.toFixed(1)} s`);
        assert.equal(domstate("host-a"), "running");
        const info = JSON.parse(sh(`qemu-img info -U --output=json '${disk("host-a")}'`).out);
        assert.equal(info["virtual-size"], 256 * 1048576);
        // Filled: every cluster holds data (a sparse image would leave the copy nothing to do).
        assert.ok(info["actual-size"] >= 256 * 1048576, `${info["actual-size"]} bytes allocated`);
        assert.ok(!fs.existsSync(disk("host-b")));
        const c = diskCounter("host-a");
        sh("sleep 0.5");
        assert.ok(diskCounter("host-a") > c, "the guest writes to its disk");
    });

    test("migration run 1 copies the disk to host-b with the memory; the stream survives, request/response goes on, the capture sees the copy", (t) => {
        const r = up(1);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        const m = record();
        t.diagnostic(`run 1: ${m.totalMs} ms, downtime ${m.libvirt.downtimeMs} ms, disk ${JSON.stringify({ ...m.diskCopy, samples: m.diskCopy?.samples.length })}`);
        t.diagnostic(`stream: ${JSON.stringify({ ...m.stream, series: undefined })}`);
        t.diagnostic(`capture: ${JSON.stringify(m.capture)}`);
        assert.equal(domstate("host-b"), "running");
        assert.match(domstate("host-a"), /failed to get domain|Domain not found/);
        assert.deepEqual(m.settings, { bandwidthMiBps: 32, copyStorage: "all" });
        // The whole disk went, before the memory's pre-copy (libvirt's order), and its copy on host-b is the guest's now.
        const d = m.diskCopy!;
        // The whole disk, and the blocks the guest wrote again while it went (its counter).
        assert.ok(d.totalBytes! >= 256 * 1048576 && d.totalBytes! < 260 * 1048576, `${d.totalBytes} bytes`);
        // The last live sample may catch one of the guest's counter writes on its way through
        // the mirror (the job's total grows with each): within a MiB of the total, never over it.
        assert.ok(d.processedBytes! <= d.totalBytes! && d.totalBytes! - d.processedBytes! <= 1048576, `${d.processedBytes} of ${d.totalBytes} bytes`);
        assert.ok(d.doneFromStartMs! > 0 && d.doneFromStartMs! < m.totalMs, `disk done at ${d.doneFromStartMs} ms of ${m.totalMs}`);
        // At 32 MiB/s, 256 MiB take 8 s at least.
        assert.ok(d.doneFromStartMs! >= 7000, `disk done at ${d.doneFromStartMs} ms`);
        const c = diskCounter("host-b");
        sh("sleep 0.5");
        assert.ok(diskCounter("host-b") > c, "the guest writes to its disk's copy on host-b");
        // The VM's stream to the client: one connection through the move, back after it.
        const s = m.stream!;
        assert.deepEqual([s.connections, s.breaks, s.survived], [1, 0, true], JSON.stringify(s.breakReasons));
        assert.ok(s.meanMbps.before! > 10, `before: ${s.meanMbps.before} Mbit/s`);
        assert.ok(s.longestStall!.ms >= m.libvirt.downtimeMs! - 20, `stall ${s.longestStall!.ms} ms, pause ${m.libvirt.downtimeMs} ms`);
        // Request/response went on before, through and after the move.
        const rr = m.rr!;
        t.diagnostic(`request/response: ${JSON.stringify({ ...rr, series: rr.series.length })}`);
        assert.ok(rr.transactions > 1000, `${rr.transactions} transactions`);
        assert.ok(rr.perSecondIn.before! > 100 && rr.perSecondIn.after! > 100, JSON.stringify(rr.perSecondIn));
        assert.ok(rr.longestGap!.ms >= m.libvirt.downtimeMs! - 20, `longest gap ${rr.longestGap!.ms} ms, pause ${m.libvirt.downtimeMs} ms`);
        // The migration's connections, captured on host-a's uplink: the disk's (NBD) is the larger.
        const cap = m.capture!;
        assert.ok(cap.bytes.total >= 256 * 1048576, `${cap.bytes.total} bytes`);
        assert.ok(cap.whole, "SYN and FIN captured");
    });

    test("a copy cut in the middle (the destination's QEMU killed) leaves the VM running on its source with its disk", async (t) => {
        // Once the disk's copy is under way, the destination's QEMU goes.
        const killer = spawn("sh", ["-c", `
            for i in $(seq 600); do
              virsh -c '${uri("host-b")}' domjobinfo vm1 2>/dev/null | grep -q '^File processed: *[1-9]' && break; sleep 0.1
            done
            for p in $(ip netns pids wl-${STACK}-host-a); do case "$(cat /proc/$p/comm)" in qemu-system*) kill -9 "$p" && echo killed;; esac; done`], { stdio: ["ignore", "pipe", "inherit"] });
        let said = "";
        killer.stdout.on("data", (b) => (said += b));
        const r = up(2, "back");
        if (killer.exitCode === null) await new Promise((res) => killer.on("exit", res));
        await new Promise((res) => setImmediate(res));
        t.diagnostic(`the killer: ${said.trim() || "nothing"}`);
        assert.match(said, /killed/);
        assert.notEqual(r.code, 0);
        assert.match(r.stdout + r.stderr, /migration of vm1 from host-b to host-a failed/);
        assert.match(r.stdout + r.stderr, /vm1 on host-b: running/);
        assert.equal(domstate("host-b"), "running");
        const c = diskCounter("host-b");
        sh("sleep 0.5");
        assert.ok(diskCounter("host-b") > c, "the guest still writes to its disk");
    });

    test("destroy removes the VM, every copy of its disk, the pools and the captures", (t) => {
        const r = engine.ok(["destroy", "--yes", "--skip-preview", "--stack", STACK]);
        t.diagnostic(`destroy: ${r.seconds.toFixed(1)} s`);
        assert.deepEqual(residue(STACK), []);
        assert.deepEqual([...daemonPids()].filter((p) => !daemonsBefore.has(p)), []);
        // (A zombie is gone: its parent, init here, reaps it when it will.)
        assert.equal(sh("for p in $(pgrep -x tcpdump; pgrep -x sockperf); do ps -o pid=,stat=,args= -p $p; done | awk '$2 !~ /^Z/'").out.trim(), "");
        assert.deepEqual([...tmpEntries()].filter((e) => !tmpBefore.has(e)), []);
    });
});
