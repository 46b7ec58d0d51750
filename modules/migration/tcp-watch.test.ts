// Seed 004's TCP watch: the stream, request/response and capture figures from synthetic
// outputs shaped as the tools print them (tools/probe/stream.go, rr.go and pcap.go),
// around a migration window of 5 s.
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { captureFigures, type CaptureReport, monotonicOffsetMs, type RrBins, rrFigures, streamFigures, type StreamReport } from "./tcp-watch";

const r3 = (x: number): number => Math.round(x * 1000) / 1000;

const t0 = 1_700_000_010_000; // the migrate command's start (ms since the epoch)
const t1 = t0 + 5000;
const ns = (ms: number): number => ms * 1e6;

/** A 20 Mbit/s stream from t0 - 8 s to t0 + 10.05 s: 15 Mbit/s in the window, and no byte from t0 + 3 s to t0 + 3.7 s. */
function stream(over: Partial<StreamReport> = {}): StreamReport {
    const startMs = t0 - 8000;
    const bytes: number[] = [];
    for (let i = 0; i <= 180; i++) {
        const at = startMs + 100 * i;
        const mbps = i === 0 ? 12 : at >= t0 + 3000 && at < t0 + 3700 ? 0 : at >= t0 && at < t0 + 3000 ? 15 : i === 180 ? 10 : 20;
        bytes.push((mbps * 1e6 / 8) * 0.1);
    }
    const total = bytes.reduce((a, b) => a + b, 0);
    return {
        binMs: 100, startNs: ns(startMs), bytes, totalBytes: total,
        firstAt: ns(startMs + 40), lastAt: ns(t0 + 10049.9), stoppedAt: ns(t0 + 10050),
        connections: 1, breaks: [],
        longestStall: { startNs: ns(t0 + 2999.5), durationNs: 700.8e6, toStop: false },
        sender: { reports: 181, rateBps: 20e6, retransmissions: 12, bytesSent: total + 17376, bytesRetrans: 17376,
            bytesAcked: total, written: total, rttUs: 1200, cwnd: 40, lastAt: ns(t0 + 10000) },
        clock: { realtimeNs: ns(t0 + 10050), monotonicNs: 10_010.05e9 },
        ...over,
    };
}

describe("the stream's figures", () => {
    it("throughput before, during and after the window, the dip, the stall, the sender's retransmissions", () => {
        const f = streamFigures(stream(), t0, t1);
        assert.equal(f.rateMbps, 20);
        // Whole bins only: not the first (the stream began 40 ms into it) nor the last (the stop).
        assert.equal(f.series.length, 179);
        assert.deepEqual(f.series[0], [-7900, 20]);
        assert.deepEqual(f.series[f.series.length - 1], [9900, 20]);
        assert.deepEqual(f.series.find(([t]) => t === 3100), [3100, 0]);
        assert.deepEqual(f.series.find(([t]) => t === 1000), [1000, 15]);
        // In the window: 30 bins at 15, 7 at 0, 13 at 20.
        assert.deepEqual(f.meanMbps, { before: 20, during: (30 * 15 + 13 * 20) / 50, after: 20 });
        // The lowest 1 s: 2.7 s to 3.7 s, three bins at 15 and the seven empty ones.
        assert.deepEqual(f.dip, { mbps: 4.5, atMs: 2700 });
        assert.deepEqual(f.longestStall, { ms: 700.8, atMs: 2999.5, toStop: false });
        assert.deepEqual([f.retransmissions, f.retransmittedBytes], [12, 17376]);
        assert.deepEqual([f.connectedBefore, f.resumed, f.survived, f.connections, f.breaks], [true, true, true, 1, 0]);
    });

    it("a break and a new connection: not survived, with the reason", () => {
        const reason = "recv() returned -1: read tcp 10.0.0.100:9003->10.0.0.5:40000: read: connection reset by peer";
        const f = streamFigures(stream({ connections: 2, breaks: [{ at: ns(t0 + 3500), reason }] }), t0, t1);
        assert.deepEqual([f.survived, f.connections, f.breaks, f.breakReasons], [false, 2, 1, [reason]]);
    });

    it("a stream that never came back: the stall lasts to the stop, nothing after the window", () => {
        const r = stream();
        const stall = { startNs: ns(t0 + 3000), durationNs: ns(7050), toStop: true };
        const f = streamFigures({ ...r, bytes: r.bytes.map((b, i) => (i >= 110 ? 0 : b)), lastAt: ns(t0 + 2999.9), longestStall: stall }, t0, t1);
        assert.deepEqual([f.resumed, f.survived], [false, false]);
        assert.deepEqual(f.longestStall, { ms: 7050, atMs: 3000, toStop: true });
        assert.equal(f.meanMbps.after, 0);
        assert.deepEqual(f.dip, { mbps: 0, atMs: 3000 });
    });

    it("a stream that began after t0: not connected before, no figure before", () => {
        const r = stream();
        const late = { ...r, startNs: ns(t0 + 1000), firstAt: ns(t0 + 1000), bytes: r.bytes.slice(90) };
        const f = streamFigures(late, t0, t1);
        assert.deepEqual([f.connectedBefore, f.survived, f.meanMbps.before], [false, false, null]);
    });

    it("no byte at all: no figure", () => {
        const f = streamFigures(stream({ bytes: [], totalBytes: 0, firstAt: 0, lastAt: 0, startNs: 0, longestStall: null }), t0, t1);
        assert.deepEqual([f.series, f.meanMbps, f.dip, f.longestStall, f.survived], [[], { before: null, during: null, after: null }, null, null, false]);
    });
});

// sockperf ping-pong --tcp --mps=max --no-rdtsc --full-rtt --full-log FILE on the client
// host, whose CLOCK_MONOTONIC reads 10000 s at t0, reduced there by wanlab-probe
// sockperf-bins. Transactions back to back: 500 µs before t0 and after t1, 1 ms in the
// window, and one of 800 ms at t0 + 3 s.
const offsetMs = monotonicOffsetMs({ realtimeNs: ns(t0), monotonicNs: 10_000e9 });

/** The transactions as [request, reply], µs on the monotonic clock, from 9995 s + 250 µs (off the 100 ms edges) to 10010 s. */
function transactions(): { log: [number, number][]; stallFrom: number } {
    const log: [number, number][] = [];
    let t = 250, stallFrom = 0, stalled = false;
    while (t < 15_000_000) {
        let rtt = t >= 5_000_000 && t < 10_000_000 ? 1000 : 500;
        if (!stalled && t >= 8_000_000) { rtt = 800_000; stalled = true; stallFrom = t; }
        log.push([9_995_000_000 + t, 9_995_000_000 + t + rtt]);
        t += rtt;
    }
    return { log, stallFrom };
}

/** What sockperf-bins prints for them (tools/probe/rr.go's rules): bins by reply, contiguous, and the exact longest gap. */
function binned(log: [number, number][], binMs = 100): RrBins {
    const w = binMs * 1000, k0 = Math.floor(log[0][1] / w), k1 = Math.floor(log[log.length - 1][1] / w);
    const count: number[] = Array(k1 - k0 + 1).fill(0), rttUs: number[] = Array(k1 - k0 + 1).fill(0);
    let gap: RrBins["longestGap"] = null;
    log.forEach(([s, a], i) => {
        const k = Math.floor(a / w) - k0;
        count[k]++;
        rttUs[k] += a - s;
        const d = i ? (a - log[i - 1][1]) / 1000 : -1;
        if (i && (!gap || d > gap.ms)) gap = { atMs: log[i - 1][1] / 1000, ms: d };
    });
    return { binMs, startMs: k0 * binMs, count, rttUs, transactions: log.length,
        firstTxMs: log[0][0] / 1000, lastRxMs: log[log.length - 1][1] / 1000, longestGap: gap };
}

const near = (got: number | null, want: number, tol: number, what: string): void =>
    assert.ok(got !== null && Math.abs(got - want) <= tol, `${what}: ${got}, want ${want} ± ${tol}`);

describe("the request/response figures", () => {
    const { log, stallFrom } = transactions();
    const bins = binned(log);

    it("reads sockperf-bins' JSON as printed", () => {
        const printed: RrBins = JSON.parse('{"binMs":100,"startMs":10000000,"count":[3,0,2],"rttUs":[900,0,4000],' +
            '"transactions":5,"firstTxMs":10000000.05,"lastRxMs":10000250.5,"longestGap":{"atMs":10000020,"ms":200.1}}');
        assert.deepEqual(rrFigures(printed, offsetMs, t0, t1), {
            transactions: 5, fromMs: 0.05, toMs: 250.5, perSecond: r3(5 / 0.25045),
            // Only the middle bin is whole: the log began inside the first and ended inside the last.
            perSecondIn: { before: null, during: 0, after: null },
            series: [[100, 0]],
            longestGap: { ms: 200.1, atMs: 20 },
            meanRttUs: { before: null, after: null },
        });
    });

    it("transactions per second overall, before, during and after the window, per 100 ms, and the longest gap", () => {
        const f = rrFigures(bins, offsetMs, t0, t1)!;
        assert.equal(f.transactions, log.length);
        near(f.fromMs, -4999.75, 1e-3, "first send");
        near(f.toMs, 10_000.25, 1e-3, "last reply");
        assert.equal(f.perSecondIn.before, 2000);
        // 4.2 s of 1 ms transactions and the one of 800 ms, in the 50 bins of the window.
        assert.equal(f.perSecondIn.during, 4201 / 5);
        assert.equal(f.perSecondIn.after, 2000);
        near(f.perSecond, log.length / 15, 1, "overall");
        const at = (ms: number): number | undefined => f.series.find(([t]) => t === ms)?.[1];
        // At 3 s the last reply before the 800 ms one, then none until 3.8 s.
        assert.deepEqual([at(-4900), at(-1000), at(1000), at(3000), at(3300), at(3700), at(3800), at(6000), at(9800)],
            [2000, 2000, 1000, 10, 0, 0, 1000, 2000, 2000]);
        assert.equal(f.series.length, 149, "whole bins from -4.9 s to 9.9 s");
        assert.deepEqual(f.longestGap, { ms: 800, atMs: (stallFrom - 5_000_000) / 1000 });
        // After t1: 10001 transactions, one of them of 1 ms (in flight at t1).
        assert.equal(f.meanRttUs.before, 500);
        assert.equal(f.meanRttUs.after, r3(5_001_000 / 10_001));
    });

    it("wider bins: the same transactions and gap, rates over fewer bins", () => {
        const f = rrFigures(binned(log, 1000), offsetMs, t0, t1)!;
        assert.equal(f.series.length, 14, "whole 1 s bins from -4 s to 9 s");
        assert.deepEqual([f.perSecondIn.before, f.perSecondIn.during, f.perSecondIn.after], [2000, 4201 / 5, 2000]);
        assert.deepEqual(f.longestGap, { ms: 800, atMs: (stallFrom - 5_000_000) / 1000 });
    });

    it("a log that began after t0 has no figure before it", () => {
        const f = rrFigures(binned(log.filter(([s]) => s >= 10_001_000_000)), offsetMs, t0, t1)!;
        assert.equal(f.perSecondIn.before, null);
        assert.equal(f.meanRttUs.before, null);
        // The whole bins from 1.1 s to 5 s: 3101 replies in 3.9 s.
        assert.equal(f.perSecondIn.during, r3(3101 / 3.9));
    });

    it("no transaction: no figure", () => {
        const none: RrBins = { binMs: 100, startMs: 0, count: [], rttUs: [], transactions: 0, firstTxMs: 0, lastRxMs: 0, longestGap: null };
        assert.equal(rrFigures(none, offsetMs, t0, t1), null);
    });

    it("the monotonic offset comes from the pair stream-server read together", () => {
        assert.equal(monotonicOffsetMs(stream().clock), t0 + 10050 - 10_010_050);
        assert.equal(offsetMs, t0 - 10_000_000);
    });
});

describe("the capture's figures", () => {
    const dir = (bytes: number, segs: number, more: Partial<CaptureReport["connections"][number]["toServer"]> = {}) =>
        ({ bytes, segments: segs, dataSegments: bytes ? segs : 0, retransmissions: 0, retransmittedBytes: 0, outOfOrder: 0, holeFills: 0, dupAcks: 0, ...more });
    const report: CaptureReport = {
        linkType: 1, packets: 140_000, tcpPackets: 139_990, undecoded: 1, firstNs: ns(t0 - 20), lastNs: ns(t0 + 9000),
        connections: [
            // ssh from the lab, more bytes than the migration: not on the migration ports.
            { client: "192.168.1.1:50000", server: "192.168.1.10:22", handshake: true, fin: true, rst: false,
                firstNs: ns(t0 - 20), lastNs: ns(t0 + 9000), packets: 200_000, toServer: dir(1e9, 1000), toClient: dir(5e8, 1000) },
            { client: "192.168.1.10:41234", server: "192.168.2.10:49152", handshake: true, fin: true, rst: false,
                firstNs: ns(t0 + 12.5), lastNs: ns(t0 + 4712.5), packets: 100_000,
                toServer: dir(70_000_000, 60_000, { retransmissions: 14, retransmittedBytes: 20_272, outOfOrder: 3, holeFills: 3 }),
                toClient: dir(1200, 40_000, { dupAcks: 9, dataSegments: 4 }) },
            // A second, short connection on the range (a probe of the port).
            { client: "192.168.1.10:41230", server: "192.168.2.10:49153", handshake: true, fin: true, rst: false,
                firstNs: ns(t0 + 5), lastNs: ns(t0 + 6), packets: 6, toServer: dir(100, 3), toClient: dir(0, 3) },
        ],
    };

    it("the migration connection: its bytes, time, retransmissions, out-of-order segments, duplicate ACKs", () => {
        assert.deepEqual(captureFigures(report, t0), {
            client: "192.168.1.10:41234", server: "192.168.2.10:49152", whole: true,
            durationMs: 4700, atMs: 12.5,
            bytes: { toServer: 70_000_000, toClient: 1200, total: 70_001_200 },
            segments: 100_000,
            retransmissions: 14, retransmittedBytes: 20_272, retransmittedShare: 20_272 / 70_001_200,
            outOfOrder: 3, holeFills: 3, dupAcks: 9,
            otherConnections: 1, undecoded: 1,
        });
    });

    it("another port range, or none on it", () => {
        assert.equal(captureFigures(report, t0, [22, 22])!.server, "192.168.1.10:22");
        assert.equal(captureFigures(report, t0, [5000, 5001]), null);
        assert.equal(captureFigures({ ...report, connections: [] }, t0), null);
    });
});
