// The echo probe's figures on synthetic records: a run without loss, a NAT move (the
// source changes, the forward path breaks for two seconds, the replies in flight are
// lost) and a bridged move (a pause: a forward gap, late replies, none lost).
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { ranges, type RawEcho, vmProbeFigures } from "./vm-probe";

const BASE = 1_700_000_000_000; // ms since the epoch
const A = "192.168.1.10:40000";
const B = "198.51.100.7:51234";

/**
 * A record of requests 1..n sent every 10 ms, each arriving at BASE + 10 seq + shift(seq)
 * ms, or not at all (shift null), from source src(seq), its reply reported with a round
 * trip of rtt(seq) ms, or never (null).
 */
function record(n: number, o: { shift?: (s: number) => number | null; src?: (s: number) => number; rtt?: (s: number) => number | null; notAnswered?: number[] } = {}): RawEcho {
    const requests: [number, number, number][] = [];
    const reports: [number, number][] = [];
    for (let s = 1; s <= n; s++) {
        const shift = o.shift ? o.shift(s) : 0;
        if (shift === null) continue;
        requests.push([s, (BASE + 10 * s + shift) * 1000, o.src ? o.src(s) : 0]);
        const rtt = o.notAnswered?.includes(s) ? null : o.rtt ? o.rtt(s) : 2;
        if (rtt !== null) reports.push([s, rtt * 1000]);
    }
    return {
        format: "wanlab-echo/1", requests, sources: [A, B], reports,
        answered: requests.length - (o.notAnswered?.length ?? 0), notAnswered: o.notAnswered ?? [],
        duplicates: 0, repeatedReports: 0, foreign: 0, endUs: (BASE + 10 * n + 400) * 1000,
    };
}
// The migrate command from request 300's arrival to request 800's.
const window = { t0: BASE + 3000, t1: BASE + 8000, intervalMs: 10 };

describe("the echo probe's figures", () => {
    it("no loss: a forward gap of one interval, nothing lost or late, one source; the last reports still on their way are not lost", () => {
        const f = vmProbeFigures(record(1000, { rtt: (s) => (s > 997 ? null : 2) }), window);
        assert.deepEqual(f, {
            intervalMs: 10, requests: 1000, requestsInWindow: 501, requestsAfter: 200,
            forwardGap: { ms: 10, fromStartMs: -10, missing: 0 },
            answered: 1000, notAnswered: 0, reported: 997,
            repliesLost: 0, lostRanges: [], lostFromStartMs: null, unreportedAtEnd: 3,
            rttBeforeMs: 2, lateThresholdMs: 50, repliesLate: 0, lateRanges: [], maxRttMs: 2,
            sources: [{ address: A, fromSeq: 1, fromStartMs: -2990 }],
            duplicates: 0, repeatedReports: 0,
        });
    });

    it("a NAT move: the source changes, the forward path breaks, the replies in flight to the old host are lost", () => {
        // Paused 300 ms after request 500; requests 501-700 go to the old host (2 s); from
        // 701 on, from the new address. Replies to 481-500 were in flight; 701-703 are late.
        const f = vmProbeFigures(record(1000, {
            shift: (s) => (s <= 500 ? 0 : s <= 700 ? null : 300),
            src: (s) => (s <= 500 ? 0 : 1),
            rtt: (s) => (s > 480 && s <= 500 ? null : s >= 701 && s <= 703 ? 120 : 2),
        }), window);
        assert.deepEqual(f.forwardGap, { ms: 2310, fromStartMs: 2000, missing: 200 });
        assert.equal(f.repliesLost, 20);
        assert.deepEqual(f.lostRanges, [[481, 500]]);
        assert.deepEqual(f.lostFromStartMs, [1810, 2000]);
        assert.deepEqual(f.sources, [{ address: A, fromSeq: 1, fromStartMs: -2990 }, { address: B, fromSeq: 701, fromStartMs: 4310 }]);
        assert.equal(f.repliesLate, 3);
        assert.deepEqual(f.lateRanges, [[701, 703]]);
        assert.equal(f.maxRttMs, 120);
        assert.equal(f.requests, 800);
        assert.equal(f.requestsInWindow, 201 + 70);
        assert.equal(f.unreportedAtEnd, 0);
    });

    it("a bridged move: a forward gap (the pause), the replies in flight late but none lost, one source", () => {
        const f = vmProbeFigures(record(1000, {
            shift: (s) => (s <= 500 ? 0 : 300),
            rtt: (s) => (s === 499 ? 302 : s === 500 ? 301 : 2),
        }), window);
        assert.deepEqual(f.forwardGap, { ms: 310, fromStartMs: 2000, missing: 0 });
        assert.equal(f.repliesLost, 0);
        assert.deepEqual(f.lostRanges, []);
        assert.equal(f.lostFromStartMs, null);
        assert.deepEqual(f.sources, [{ address: A, fromSeq: 1, fromStartMs: -2990 }]);
        assert.equal(f.repliesLate, 2);
        assert.deepEqual(f.lateRanges, [[499, 500]]);
        assert.equal(f.rttBeforeMs, 2);
    });

    it("late: 3 × the median round trip before t0 when that is above 50 ms", () => {
        const f = vmProbeFigures(record(1000, { rtt: (s) => (s < 300 ? 40 : s === 600 ? 121 : s === 601 ? 119 : 40) }), window);
        assert.equal(f.rttBeforeMs, 40);
        assert.equal(f.lateThresholdMs, 120);
        assert.deepEqual(f.lateRanges, [[600, 600]]);
    });

    it("requests the target could not answer are not lost replies", () => {
        const f = vmProbeFigures(record(1000, { notAnswered: [400, 401] }), window);
        assert.equal(f.notAnswered, 2);
        assert.equal(f.answered, 998);
        assert.equal(f.repliesLost, 0);
    });

    it("a VM that never comes back: the gap runs to the target's end", () => {
        const f = vmProbeFigures(record(1000, { shift: (s) => (s <= 500 ? 0 : null) }), window);
        // From request 500's arrival (BASE + 5000) to the end (BASE + 10400).
        assert.deepEqual(f.forwardGap, { ms: 5400, fromStartMs: 2000, missing: 0 });
    });

    it("no request at all: no gap, no round trip", () => {
        const f = vmProbeFigures(record(0), window);
        assert.equal(f.forwardGap, null);
        assert.equal(f.rttBeforeMs, null);
        assert.equal(f.maxRttMs, null);
        assert.deepEqual(f.sources, []);
    });

    it("ranges: runs of consecutive sequence numbers", () => {
        assert.deepEqual(ranges([8, 1, 2, 3, 5, 7, 3]), [[1, 3], [5, 5], [7, 8]]);
        assert.deepEqual(ranges([]), []);
    });
});
