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
import { daemonPids, Engine, initLabStack, residue, ROOT } from "./harness";
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

    before(() => initLabStack(engine, STACK, "stacks/local-wan.yaml", work, "lwan-chap-7"));
    after(() => {
        engine.cleanup();
        fs.rmSync(work, { recursive: true, force: true });
        fs.rmSync(path.join(ROOT, "results", STACK), { recursive: true, force: true });
    });

    test("campus: the lab comes up through the appliance and the VM moves to host2", (t) => {
        const m = up(1, "forward", "campus");
        t.diagnostic(`campus: ${JSON.stringify(m)}`);
        assert.deepEqual([m.from, m.to, m.probe.answeredAfter], ["host1", "host2", true]);
        // No NetEm delay: below intra-eu's floor (24 ms). Under TCG on a busy machine the
        // guest and the appliance alone took up to 17.5 ms (a fresh-clone CI run).
        assert.ok(m.probe.rttBeforeMs! < 24, `rtt ${m.probe.rttBeforeMs} ms`);
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

    test("campus with wanlab:wanRateMbit 40, below what TCG carries here, and a guest that fills half its memory: the stream is held to the rate", (t) => {
        // Not seed 000's 100 Mbit/s: under load the appliance itself carried as little as 72
        // Mbit/s, and a rate above that would hold nothing back. The new fill replaces the
        // VM, which starts again on host1.
        engine.ok(["config", "set", "--stack", STACK, "wanlab:wanRateMbit", "40"]);
        engine.ok(["config", "set", "--stack", STACK, "wanlab:vmFillPct", "50"]);
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

    test("the same run, measured every way: memory moved is the filled memory, the TCP connection survived, UDP beside ping, the split on the appliance's taps", (t) => {
        const m = runs[2];
        t.diagnostic(`run 3: guest ${JSON.stringify(m.guest)}, data ${m.libvirt.dataProcessedBytes} B in ${m.libvirt.memoryIterations} iterations; ` +
            `ping ${m.probe.downtimeMs} ms, UDP echo ${m.udp?.echo.downtimeMs} ms, one-way ${m.udp?.oneWay.downtimeMs} ms; TCP ${JSON.stringify(m.tcp)}; split ${JSON.stringify(m.traffic?.sharePct)}`);
        // 128 MiB filled with data that does not compress, on top of the bare guest's ~85 MiB.
        assert.deepEqual(m.guest, { memoryMiB: 256, fillMiB: 128, dirtyMiBps: 0 });
        // At 40 Mbit/s pre-copy sends the pages the guest rewrites meanwhile again, for as
        // many iterations as it takes to fit the downtime (measured: 15, 84 and 193, moving
        // 212, 267 and 346 MiB; 0.67 MiB an iteration): at least the fill on top of what the
        // unfilled guest of run 1 moved, and at most a tenth more plus 1 MiB an iteration.
        const movedMiB = m.libvirt.dataProcessedBytes! / 1048576;
        const bareMiB = runs[0].libvirt.dataProcessedBytes! / 1048576;
        const iterations = m.libvirt.memoryIterations ?? 0;
        assert.ok(movedMiB >= 128 + 0.8 * bareMiB && movedMiB <= 1.1 * (128 + bareMiB) + iterations,
            `moved ${movedMiB.toFixed(1)} MiB in ${iterations} iterations for 128 MiB filled, against ${bareMiB.toFixed(1)} MiB for the unfilled guest`);
        // The guest's TCP connection to the client lasted through it.
        assert.deepEqual([m.tcp?.survived, m.tcp?.breaks], [true, 0], JSON.stringify(m.tcp));
        // UDP beside ping: the guest's programs lag after it resumes under TCG (README), so
        // the echo form is within a second of ping, and no shorter than libvirt's pause.
        assert.ok(Math.abs(m.udp!.echo.downtimeMs! - m.probe.downtimeMs!) <= 1000, `UDP echo ${m.udp!.echo.downtimeMs} ms, ping ${m.probe.downtimeMs} ms`);
        assert.ok(m.udp!.echo.downtimeMs! >= m.libvirt.downtimeMs! - 20);
        // Counted on the host side of the appliance's taps: the stream in on one and out on the other.
        const s = m.traffic!;
        const ratio = s.classes.migration.bytes / (2 * m.libvirt.dataProcessedBytes!);
        assert.ok(ratio >= 1 && ratio <= 1.5, `stream ${s.classes.migration.bytes} B against 2 x ${m.libvirt.dataProcessedBytes} B: ${ratio.toFixed(3)}`);
        assert.ok(s.sharePct.migration > 95 && s.classes.client.bytes > 0 && s.classes.storage.bytes > 0, JSON.stringify(s.sharePct));
    });

    test("destroy leaves nothing behind", () => {
        engine.ok(["destroy", "--yes", "--skip-preview", "--stack", STACK]);
        assert.deepEqual(residue(STACK), []);
        assert.deepEqual([...daemonPids()].filter((p) => !daemonsBefore.has(p)), []);
    });
});
