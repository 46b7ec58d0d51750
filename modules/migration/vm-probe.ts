// The VM-side echo probe's figures (seed 003): the VM sends a request to a target (the
// study's "college proxy") every interval while it migrates, and tells the target, inside
// its requests, which replies it got and their round trips (tools/probe/echo.go). The
// finding is on the return path: after a NAT move, replies in flight reach the old host
// and are lost; after a bridged move they arrive late at most. A pure function of the
// target's record and the migration's window.

/** What `wanlab-probe echo-target` prints when it is stopped (tools/probe/echo.go). */
export interface RawEcho {
    format: "wanlab-echo/1";
    /** Each request's first copy, by sequence number: [seq, arrival in µs since the epoch (the target's clock), index into sources]. */
    requests: [number, number, number][];
    /** The addresses requests came from (a NAT move adds one). */
    sources: string[];
    /** The VM's reports, in the order its replies came: [seq, round trip in µs on the VM's clock]. */
    reports: [number, number][];
    /** Requests answered; those not answered (the target's send failed), by seq. */
    answered: number;
    notAnswered: number[];
    /** Copies of requests already recorded; report entries the client sent again; datagrams of no session. */
    duplicates: number;
    repeatedReports: number;
    foreign: number;
    /** When the target was stopped (µs since the epoch). */
    endUs: number;
}

/** The migration's window: the migrate command's start and end (ms since the epoch), and the probe's interval. */
export interface VmProbeWindow { t0: number; t1: number; intervalMs: number }

/** Replies counted late: a round trip above max(LATE_FACTOR × the median before t0, LATE_FLOOR_MS). */
export const LATE_FACTOR = 3;
export const LATE_FLOOR_MS = 50;

export interface VmProbeFigures {
    intervalMs: number;
    /** Requests received by the target (each sequence number once). */
    requests: number;
    /** Of them, those that arrived between t0 and t1. */
    requestsInWindow: number;
    /** And those that arrived after t1: the VM came back (0: it did not, by the target's end). */
    requestsAfter: number;
    /**
     * The forward path's break: the longest silence between two consecutive request
     * arrivals (in arrival order) that overlaps [t0, t1], counting one from the last
     * arrival to the target's end; ms, when it began relative to t0 (ms), and how many
     * sequence numbers never arrived across it. null: no request reached the target.
     */
    forwardGap: { ms: number; fromStartMs: number; missing: number } | null;
    /** Requests the target answered, and those it could not (its send failed). */
    answered: number;
    notAnswered: number;
    /** Replies the VM reported (each sequence number once). */
    reported: number;
    /**
     * Replies lost on the way back: requests the target answered whose reply the VM never
     * reported, counted between the first and the last sequence number reported (before
     * the first, the VM's probe was not receiving yet; after the last, reports may still
     * have been on their way when the target stopped).
     */
    repliesLost: number;
    /** Their sequence numbers as runs [first, last] of consecutive numbers. */
    lostRanges: [number, number][];
    /** When the first and the last lost reply left the target, relative to t0 (ms). */
    lostFromStartMs: [number, number] | null;
    /** Requests answered after the last sequence number reported: not counted as lost. */
    unreportedAtEnd: number;
    /** The median round trip of the replies to requests that arrived before t0 (ms, VM clock). */
    rttBeforeMs: number | null;
    /** The threshold above which a reply is late: max(3 × rttBeforeMs, 50 ms); 50 ms without rttBeforeMs. */
    lateThresholdMs: number;
    /** Replies reported with a round trip above the threshold, and their sequence numbers as runs. */
    repliesLate: number;
    lateRanges: [number, number][];
    /** The longest round trip reported (ms). */
    maxRttMs: number | null;
    /**
     * The source addresses in the order the requests (in arrival order) came from them:
     * one entry per change, with the first sequence number from it and its arrival
     * relative to t0 (ms). A NAT move adds an entry; a bridged move does not.
     */
    sources: { address: string; fromSeq: number; fromStartMs: number }[];
    /** Copies of requests, and report entries the VM sent more than once (its retransmissions). */
    duplicates: number;
    repeatedReports: number;
}

/** Sorted distinct integers as runs [first, last] of consecutive ones. */
export function ranges(seqs: number[]): [number, number][] {
    const out: [number, number][] = [];
    for (const s of [...new Set(seqs)].sort((a, b) => a - b)) {
        const last = out[out.length - 1];
        if (last && s === last[1] + 1) last[1] = s;
        else out.push([s, s]);
    }
    return out;
}

function median(xs: number[]): number | null {
    if (!xs.length) return null;
    const s = [...xs].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const round = (x: number) => Math.round(x * 10) / 10;
// Not Math.min(...xs): a long run's 100 000 values are too many arguments.
const minOf = (xs: number[]) => xs.reduce((a, b) => Math.min(a, b), Infinity);
const maxOf = (xs: number[]) => xs.reduce((a, b) => Math.max(a, b), -Infinity);

/** The echo probe's figures (VmProbeFigures) from the target's record and the migration's window. */
export function vmProbeFigures(raw: RawEcho, w: VmProbeWindow): VmProbeFigures {
    // Arrivals in ms since the epoch, by seq and in arrival order.
    const arrival = new Map<number, number>();
    for (const [seq, us] of raw.requests) arrival.set(seq, us / 1000);
    const byTime = [...raw.requests].sort((a, b) => a[1] - b[1] || a[0] - b[0]);
    const ms = (r: [number, number, number]) => r[1] / 1000;

    let forwardGap: VmProbeFigures["forwardGap"] = null;
    for (let i = 0; i < byTime.length; i++) {
        const from = ms(byTime[i]);
        const to = i + 1 < byTime.length ? ms(byTime[i + 1]) : raw.endUs / 1000;
        if (to < w.t0 || from > w.t1) continue;
        const missing = i + 1 < byTime.length ? Math.max(0, byTime[i + 1][0] - byTime[i][0] - 1) : 0;
        if (!forwardGap || to - from > forwardGap.ms) forwardGap = { ms: to - from, fromStartMs: from - w.t0, missing };
    }
    if (forwardGap) forwardGap = { ms: round(forwardGap.ms), fromStartMs: round(forwardGap.fromStartMs), missing: forwardGap.missing };

    // Each seq's first report.
    const rtt = new Map<number, number>();
    for (const [seq, us] of raw.reports) if (!rtt.has(seq)) rtt.set(seq, us / 1000);
    const reportedSeqs = [...rtt.keys()];
    const firstReported = minOf(reportedSeqs);
    const lastReported = maxOf(reportedSeqs);
    const notAnswered = new Set(raw.notAnswered);
    const answered = raw.requests.map(([seq]) => seq).filter((s) => !notAnswered.has(s));
    const lost = answered.filter((s) => s >= firstReported && s <= lastReported && !rtt.has(s));
    const lostAt = lost.map((s) => arrival.get(s)! - w.t0);

    const rttBeforeMs = median(reportedSeqs.filter((s) => (arrival.get(s) ?? Infinity) < w.t0).map((s) => rtt.get(s)!));
    const lateThresholdMs = Math.max(rttBeforeMs === null ? 0 : LATE_FACTOR * rttBeforeMs, LATE_FLOOR_MS);
    const late = reportedSeqs.filter((s) => rtt.get(s)! > lateThresholdMs);

    const sources: VmProbeFigures["sources"] = [];
    for (const r of byTime) {
        const address = raw.sources[r[2]] ?? `#${r[2]}`;
        if (sources[sources.length - 1]?.address !== address) sources.push({ address, fromSeq: r[0], fromStartMs: round(ms(r) - w.t0) });
    }

    return {
        intervalMs: w.intervalMs,
        requests: raw.requests.length,
        requestsInWindow: byTime.filter((r) => ms(r) >= w.t0 && ms(r) <= w.t1).length,
        requestsAfter: byTime.filter((r) => ms(r) > w.t1).length,
        forwardGap,
        answered: raw.answered, notAnswered: raw.notAnswered.length,
        reported: rtt.size,
        repliesLost: lost.length,
        lostRanges: ranges(lost),
        lostFromStartMs: lost.length ? [round(minOf(lostAt)), round(maxOf(lostAt))] : null,
        unreportedAtEnd: answered.filter((s) => s > lastReported).length,
        rttBeforeMs: rttBeforeMs === null ? null : round(rttBeforeMs),
        lateThresholdMs: round(lateThresholdMs),
        repliesLate: late.length,
        lateRanges: ranges(late),
        maxRttMs: rtt.size ? round(maxOf([...rtt.values()])) : null,
        sources,
        duplicates: raw.duplicates, repeatedReports: raw.repeatedReports,
    };
}
