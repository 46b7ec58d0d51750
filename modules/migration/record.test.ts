// The migration record, computed from migrate.sh's raw output: fixture files (one from a
// real run of the default lab, and variants of it) with their records beside them
// (fixtures/<name>.record.json; UPDATE_GOLDEN=1 rewrites them), and the figures that
// matter asserted one by one.
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { computeRecord, jobFields, libvirtJob, type MigrationRecord, type RawMigration, recordFile, recordFromOutput, silences } from "./record";

const FIXTURES = path.join(__dirname, "fixtures");
const raw = (name: string): RawMigration => JSON.parse(fs.readFileSync(path.join(FIXTURES, `${name}.raw.json`), "utf8"));

function record(name: string): MigrationRecord {
    const r = computeRecord(raw(name));
    const file = path.join(FIXTURES, `${name}.record.json`);
    if (process.env.UPDATE_GOLDEN) fs.writeFileSync(file, JSON.stringify(r, null, 2) + "\n");
    assert.deepEqual(r, JSON.parse(fs.readFileSync(file, "utf8")), `${name}: the record differs from ${file}`);
    return r;
}

describe("the UDP probe's figures", () => {
    // Probes every 10 ms from t = 1000 ms; 41 to 60 never reach the VM (it is paused); each
    // answer comes back 1 ms after it was sent. The VM's clock stood still 150 ms of the pause.
    const answers: [number, number, number, number][] = [];
    for (let seq = 1; seq <= 100; seq++) {
        if (seq > 40 && seq <= 60) continue;
        const sent = 1000 + 10 * (seq - 1);
        answers.push([seq, sent, sent + 1, sent + 0.5 - (seq > 60 ? 150 : 0)]);
    }
    const base = { ...raw("local-tcg"), t0: 1000 + 10 * 29, tEnd: 2100 };

    it("both forms from one flow: the echo gap on the client's clock, the one-way gap from the lost run's send times", () => {
        const r = computeRecord({ ...base, udp: { sent: 100, answers } });
        assert.deepEqual(r.udp, {
            intervalMs: 10, sent: 100, received: 80, lost: 20, unansweredAtEnd: 0, duplicates: 0,
            echo: { downtimeMs: 210 },
            // From probe 30, the first sent after the migrate command started, to probe 61.
            oneWay: { downtimeMs: 210, lostInRun: 20, tmtMs: 310, vmClockGapMs: 60 },
        });
    });

    it("probes delivered late, not lost: the echo form sees the silence, the one-way form none", () => {
        // Probes 41 to 60 (sent from 1400 to 1590 ms) held by the overlay and delivered at 1600.
        const held = Array.from({ length: 20 }, (_, i): [number, number, number, number] => [41 + i, 1400 + 10 * i, 1600.5, 1450]);
        const r = computeRecord({ ...base, udp: { sent: 100, answers: [...answers, ...held] } });
        assert.equal(r.udp!.echo.downtimeMs, 1600.5 - 1391);
        assert.deepEqual(r.udp!.oneWay, { downtimeMs: 0, lostInRun: 0, tmtMs: null, vmClockGapMs: null });
        assert.deepEqual(computeRecord({ ...base, udp: { sent: 100, answers: [] } }).udp!.oneWay.downtimeMs, null, "no answer: no figure");
    });

    it("a probe answered twice (a flooding overlay's copy) counts once, at its first answer: the copy does not end a silence", () => {
        const copies = answers.filter(([seq]) => seq <= 40).map(([seq, sent, , vm]): [number, number, number, number] => [seq, sent, 1500, vm]);
        const r = computeRecord({ ...base, udp: { sent: 100, answers: [...answers, ...copies] } });
        assert.deepEqual([r.udp!.received, r.udp!.duplicates, r.udp!.echo.downtimeMs], [80, 40, 210]);
    });

    it("probes after the last answer are on their way when the window closes, not lost", () => {
        const r = computeRecord({ ...base, udp: { sent: 112, answers } });
        assert.deepEqual([r.udp!.received, r.udp!.lost, r.udp!.unansweredAtEnd], [80, 20, 12]);
    });

    it("no wanlab-probe on the probe host: null", () => {
        assert.equal(computeRecord({ ...base, udp: null }).udp, null);
        assert.equal(computeRecord(raw("local-tcg")).udp, null);
    });
});

describe("the TCP probe's figures", () => {
    const base = { ...raw("local-tcg"), t0: 1000, t1: 3000, tEnd: 3500 };
    const ns = (ms: number) => ms * 1e6;
    const tcp = { connections: 1, breaks: [], messages: 250, firstAt: ns(500), lastAt: ns(3490), retransmissions: 3, missing: 0,
        stalls: [[ns(1200), ns(1260)], [ns(2500), ns(2900)]] as [number, number][] };

    it("one connection from before the migration and no break: survived; the stall is the longest silence", () => {
        assert.deepEqual(computeRecord({ ...base, tcp }).tcp, {
            survived: true, connectedBefore: true, connections: 1, breaks: 0, breakReasons: [], messages: 250,
            longestStallMs: 400, stallFromStartMs: 1500, retransmissions: 3,
        });
    });

    it("a break (recv() 0 or -1), a reconnection or a client that connected only after the start: not survived", () => {
        const broke = { ...tcp, connections: 2, breaks: [{ at: ns(2600), reason: "recv() returned -1: connection reset by peer" }] };
        const r = computeRecord({ ...base, tcp: broke }).tcp!;
        assert.deepEqual([r.survived, r.breaks, r.breakReasons], [false, 1, ["recv() returned -1: connection reset by peer"]]);
        assert.deepEqual([computeRecord({ ...base, tcp: { ...tcp, firstAt: ns(1100) } }).tcp!.survived,
            computeRecord({ ...base, tcp: { ...tcp, connections: 2 } }).tcp!.survived], [false, false]);
    });

    it("no silence over the server's threshold: a stall of 0, not unknown; no probe: null", () => {
        assert.equal(computeRecord({ ...base, tcp: { ...tcp, stalls: [] } }).tcp!.longestStallMs, 0);
        assert.equal(computeRecord({ ...base, tcp: { ...tcp, messages: 0, stalls: [] } }).tcp!.longestStallMs, null);
        assert.equal(computeRecord(raw("local-tcg")).tcp, null);
    });
});

describe("the migration record", () => {
    it("a real run of the default lab: the longest silence, losses, duplicates counted once by ping, libvirt's figures", () => {
        const r = record("local-tcg");
        assert.deepEqual([r.run, r.vm, r.from, r.to, r.ok], [1, "vm1", "host1", "host2", true]);
        assert.equal(r.totalMs, raw("local-tcg").t1 - raw("local-tcg").t0);
        assert.equal(r.probe.downtimeMs, 170.3);
        assert.equal(r.probe.gapStartedAt, 1796116567041);
        assert.deepEqual(r.probe.longestGaps.map((g) => g.ms), [170.3, 53.5, 27.9]);
        assert.deepEqual([r.probe.sent, r.probe.received, r.probe.lost], [443, 443, 0]);
        assert.equal(r.probe.answeredAfter, true);
        assert.equal(r.probe.rttBeforeMs, 1.561);
        assert.deepEqual([r.libvirt.downtimeMs, r.libvirt.timeElapsedMs, r.libvirt.setupTimeMs, r.libvirt.memoryIterations], [116, 1467, 5, 3]);
        assert.equal(r.libvirt.dataProcessedBytes, Math.round(81.716 * 1048576));
        assert.equal(r.libvirt.memoryTotalBytes, Math.round(256.758 * 1048576));
        assert.equal(r.libvirt.memoryBandwidthBytesPerS, Math.round(77.865 * 1048576));
        assert.equal(r.libvirt.dirtyRatePagesPerS, 0);
        assert.deepEqual([r.libvirt.constantPages, r.libvirt.normalPages, r.libvirt.pageSizeBytes], [45313, 20779, 4096]);
        // Memory only: the disk is shared.
        assert.equal(r.libvirt.diskTotalBytes, null);
    });

    it("a silence that lasts to the end of the window is the downtime, and the VM did not answer after", () => {
        const x = raw("silence-to-end");
        const r = record("silence-to-end");
        const last = x.replies[x.replies.length - 1][0];
        assert.equal(r.probe.downtimeMs, Math.round((x.tEnd - last) * 10) / 10);
        assert.equal(r.probe.gapStartedAt, Math.round(last));
        assert.equal(r.probe.answeredAfter, false);
        assert.equal(r.probe.lost, 443 - x.replies.length);
    });

    it("a reply that comes 8 s after the migrate command returned: answered after, the silence before it is the downtime", () => {
        const x = raw("late-reply");
        const r = record("late-reply");
        assert.equal(r.probe.answeredAfter, true);
        const before = x.replies.filter(([t]) => t <= 1796116567041).at(-1)![0];
        assert.equal(r.probe.downtimeMs, Math.round((x.t1 + 8000 - before) * 10) / 10);
        assert.ok(r.probe.downtimeMs! > 8000);
        assert.ok(r.probe.downtimeMs! > r.libvirt.downtimeMs! + 1000, "late: far longer than libvirt's pause");
    });

    it("a failed job: not ok, virsh's error, the figures libvirt kept of the failed job", () => {
        const r = record("failed");
        assert.equal(r.ok, false);
        assert.equal(r.error, "virsh migrate exited 1: error: operation failed: migration out job: unexpectedly failed");
        assert.equal(r.libvirt.jobType, "Failed");
        assert.equal(r.libvirt.downtimeMs, null);
        assert.equal(r.libvirt.memoryRemainingBytes, Math.round(176.021 * 1048576));
        assert.equal(r.probe.downtimeMs, null, "a failed run keeps no replies");
        assert.deepEqual([r.probe.sent, r.probe.received], [336, 336]);
    });

    it("no reply at all: no downtime, not answered, all lost, no round-trip time", () => {
        const r = record("no-replies");
        assert.deepEqual([r.probe.downtimeMs, r.probe.gapStartedAt, r.probe.answeredAfter, r.probe.lost, r.probe.rttBeforeMs], [null, null, false, 443, null]);
        assert.deepEqual(r.probe.longestGaps, []);
    });

    it("silences: the first of equal gaps wins, and the window's end counts", () => {
        assert.deepEqual(silences([0, 10, 20], 30)[0], { startedAt: 0, ms: 10 });
        assert.deepEqual(silences([0, 10, 20], 60)[0], { startedAt: 20, ms: 40 });
        assert.deepEqual(silences([], 60), []);
    });

    it("libvirt's lines: units in bytes, rates per second, and missing keys as null", () => {
        assert.deepEqual(jobFields("Time elapsed:     1467         ms\nbad line\nData total: 1.5 GiB"), { "Time elapsed": "1467         ms", "Data total": "1.5 GiB" });
        const j = libvirtJob("Data processed: 2 KiB\nMemory bandwidth: 1.5 MiB/s\nFile total: 4.000 GiB\nIteration: x\n");
        assert.equal(j.dataProcessedBytes, 2048);
        assert.equal(j.memoryBandwidthBytesPerS, 1572864);
        assert.equal(j.diskTotalBytes, 4 * 1024 ** 3);
        assert.equal(j.memoryIterations, null);
        assert.equal(j.timeElapsedMs, null);
    });

    it("the command's output: a raw record is computed; a record from a lab built before is kept", () => {
        const text = fs.readFileSync(path.join(FIXTURES, "local-tcg.raw.json"), "utf8");
        assert.deepEqual(recordFromOutput(text), computeRecord(JSON.parse(text)));
        const old = { run: 1, vm: "vm1", from: "a", to: "b", startedAt: 1, totalMs: 2, probe: { downtimeMs: 3 }, libvirt: { downtimeMs: 4 } };
        assert.deepEqual(recordFromOutput(JSON.stringify(old)), { ok: true, ...old });
        assert.throws(() => recordFromOutput('{"x":1}'), /neither a raw record nor a record/);
    });
});

describe("the record's file", () => {
    it("lands at results/<stack>/migration-<run>-<from>-<to>.json", () => {
        assert.equal(recordFile("/r", "local", { run: 3, from: "host1", to: "host2" }), "/r/local/migration-3-host1-host2.json");
        assert.equal(recordFile("/r", "dev.v2", { run: 3, from: "host1", to: "host2" }), "/r/dev.v2/migration-3-host1-host2.json", "a stack name with a dot");
    });

    it("refuses parts a host or a stack name could use to write elsewhere, naming each", () => {
        for (const [stack, from, to] of [["local", "../../etc", "host2"], ["..", "host1", "host2"], ["local", "host1", "x/y"], ["local", "", "host2"], ["a b", "h1", "h2"], [".hidden", "h1", "h2"], ["local", "h1/..", "h2"]]) {
            assert.throws(() => recordFile("/r", stack, { run: 1, from, to }), /refusing to write the migration record: .* is not a plain name/, `${stack} ${from} ${to}`);
        }
        assert.throws(() => recordFile("/r", "local", { run: -1, from: "h1", to: "h2" }), /run "-1" is not a plain name/);
        assert.doesNotThrow(() => recordFile("/r", "local", { run: 0, from: "h1", to: "h2" }));
        assert.throws(() => recordFile("/r", "local", { run: 1.5, from: "h1", to: "h2" }), /run "1.5"/);
    });
});

describe("a local disk copied along (seed 004)", () => {
    // The source's job, read every 0.5 s: the disk's copy first (1 GiB at 32 MiB/s), then
    // the memory; the guest's counter rewrites a block or two meanwhile.
    const t0 = 1_000_000;
    const lines = [
        `${t0 + 500}|File processed: 16.000 MiB|File total: 1.000 GiB|Memory processed: 0.000 B`,
        `${t0 + 16_500}|File processed: 512.000 MiB|File total: 1.000 GiB|Memory processed: 0.000 B`,
        `${t0 + 32_500}|File processed: 1.000 GiB|File total: 1.000 GiB|Memory processed: 12.000 MiB`,
        `${t0 + 33_000}|File processed: 1.000 GiB|File total: 1.000 GiB|Memory processed: 40.500 MiB`,
        // A read as the job ended: no lines.
        `${t0 + 33_500}|`,
    ];
    const base = { ...raw("local-tcg"), t0, t1: t0 + 34_000, tEnd: t0 + 35_000 };

    it("its size, what was copied, when it was through (the memory's pre-copy starts then), and its progress beside the memory's", () => {
        const r = computeRecord({ ...base, diskProgress: lines.join("\n") });
        const GiB = 1024 ** 3, MiB = 1024 ** 2;
        assert.deepEqual(r.diskCopy, {
            totalBytes: GiB, processedBytes: GiB, doneFromStartMs: 32_500,
            samples: [[500, 16 * MiB, 0], [16_500, 512 * MiB, 0], [32_500, GiB, 12 * MiB], [33_000, GiB, 40.5 * MiB]],
        });
    });
    it("a shared disk has no copy: no figures, where the output has none", () => {
        assert.equal(computeRecord(base).diskCopy, undefined);
        assert.equal(computeRecord({ ...base, diskProgress: null }).diskCopy, undefined);
    });
});
