// The default lab across an emulated WAN (stacks/local-wan.yaml), for real: the router
// is an appliance applying NetEm, and the VM migrates at two profiles. The probe must
// show the profile's added round trip before the migration (seed 000's reading: the
// client-to-VM path crosses one delayed router egress, so the RTT is about the delay),
// and the migration must take longer across the longer WAN, as in the studies; with a rate
// on the WAN below what the appliance carries, the stream is held to it.
// (Profiles beyond intra-eu are measured by hand and by the benchmark; see the notes.)
import { after, before, describe, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { daemonPids, Engine, residue, ROOT, sh } from "./harness";
import type { MigrationRecord } from "../../modules/migration/record";

const STACK = "t-lwan";

describe("local-wan: migrations across the router appliance's NetEm", () => {
    const engine = new Engine();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "wanlab-test-lwan-"));
    const daemonsBefore = daemonPids();
    const runs: MigrationRecord[] = [];

    const up = (run: number, direction: string, profile: string): MigrationRecord => {
        engine.ok(["config", "set", "--stack", STACK, "wanlab:migrationRun", String(run)]);
        engine.ok(["config", "set", "--stack", STACK, "wanlab:migrationDirection", direction]);
        engine.ok(["config", "set", "--stack", STACK, "wanlab:wanProfile", profile]);
        engine.ok(["up", "--yes", "--skip-preview", "--stack", STACK]);
        const m = JSON.parse(engine.ok(["stack", "output", "--json", "--stack", STACK]).stdout).migration as MigrationRecord;
        runs.push(m);
        return m;
    };

    before(() => {
        const spec = path.join(work, "local-wan.yaml");
        fs.copyFileSync(path.join(ROOT, "stacks", "local-wan.yaml"), spec);
        engine.initStack(STACK, spec);
        engine.ok(["config", "set", "--secret", "--stack", STACK, "chapPassword", "--", "lwan-chap-7"]);
        assert.equal(sh(`ssh-keygen -q -t ed25519 -N '' -f ${work}/id`).code, 0);
        engine.ok(["config", "set", "--secret", "--stack", STACK, "applianceKey", "--", fs.readFileSync(`${work}/id`, "utf8")]);
    });
    after(() => {
        engine.cleanup();
        fs.rmSync(work, { recursive: true, force: true });
        fs.rmSync(path.join(ROOT, "results", STACK), { recursive: true, force: true });
    });

    test("campus: the lab comes up through the appliance and the VM moves to host2", (t) => {
        const m = up(1, "forward", "campus");
        t.diagnostic(`campus: ${JSON.stringify(m)}`);
        assert.deepEqual([m.from, m.to, m.probe.answeredAfter], ["host1", "host2", true]);
        assert.ok(m.probe.rttBeforeMs! < 15, `rtt ${m.probe.rttBeforeMs} ms`);
    });

    test("intra-eu: the probe shows about 30 ms more before the migration, which takes longer", (t) => {
        const m = up(2, "back", "intra-eu");
        t.diagnostic(`intra-eu: ${JSON.stringify(m)}`);
        // No tolerance for a guest that stops answering: QEMU 9.0 and later keep its memory whole.
        assert.deepEqual([m.from, m.to, m.probe.answeredAfter], ["host2", "host1", true]);
        // 30 ms with 6 ms of pareto jitter on one egress, plus the path's own few ms.
        assert.ok(m.probe.rttBeforeMs! > 24 && m.probe.rttBeforeMs! < 60, `rtt ${m.probe.rttBeforeMs} ms`);
        assert.ok(m.libvirt.timeElapsedMs! > runs[0].libvirt.timeElapsedMs!,
            `elapsed ${m.libvirt.timeElapsedMs} ms at intra-eu vs ${runs[0].libvirt.timeElapsedMs} ms at campus`);
    });

    test("campus with wanlab:wanRateMbit 40, below what TCG carries here: the migration stream is held to it", (t) => {
        // Not seed 000's 100 Mbit/s: under load the appliance itself carried as little as 72
        // Mbit/s, and a rate above that would hold nothing back.
        engine.ok(["config", "set", "--stack", STACK, "wanlab:wanRateMbit", "40"]);
        const m = up(3, "forward", "campus");
        const wan = JSON.parse(engine.ok(["stack", "output", "--json", "--stack", STACK]).stdout).wan;
        assert.deepEqual([wan.rateMbit, wan.netem], [40, "rate 40mbit"]);
        // Average over libvirt's elapsed time, setup included: at most the rate (IP and TCP
        // headers take their share of it). Unrated, campus through the appliance carries more.
        const mbit = (r: MigrationRecord) => (r.libvirt.dataProcessedBytes! * 8) / (r.libvirt.timeElapsedMs! * 1000);
        t.diagnostic(`campus at 40 Mbit/s: ${mbit(m).toFixed(1)} Mbit/s over ${m.libvirt.timeElapsedMs} ms; unrated ${mbit(runs[0]).toFixed(1)} Mbit/s`);
        assert.deepEqual([m.from, m.to, m.probe.answeredAfter], ["host1", "host2", true]);
        assert.ok(mbit(m) <= 40, `${mbit(m).toFixed(1)} Mbit/s`);
        assert.ok(mbit(runs[0]) > 1.2 * mbit(m), `unrated ${mbit(runs[0]).toFixed(1)} Mbit/s against ${mbit(m).toFixed(1)} rated`);
    });

    test("destroy leaves nothing behind", () => {
        engine.ok(["destroy", "--yes", "--skip-preview", "--stack", STACK]);
        assert.deepEqual(residue(STACK), []);
        assert.deepEqual([...daemonPids()].filter((p) => !daemonsBefore.has(p)), []);
    });
});
