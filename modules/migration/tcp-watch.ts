// Seed 004's TCP watch during a live migration, as figures: the VM's bulk stream
// (wanlab-probe stream-server's report, tools/probe/stream.go), TCP request/response
// (sockperf ping-pong's --full-log, reduced by wanlab-probe sockperf-bins, tools/probe/rr.go)
// and the migration connection in a capture (wanlab-probe tcp-capture-stats,
// tools/probe/pcap.go). Pure functions of those outputs and of the migration's window
// [t0, t1] (ms since the epoch, the client host's clock).
//
// Times in stream-server's and tcp-capture-stats' JSON are ns since the epoch: beyond
// 2^53, so JSON.parse keeps them to a few hundred ns, which the ms figures here do not notice.

/** stream-server's report (tools/probe/stream.go), as printed. */
export interface StreamReport {
    binMs: number;
    /** Start of the first bin (ns since the epoch, a whole multiple of binMs); the bins run to the stop. */
    startNs: number;
    bytes: number[];
    totalBytes: number;
    firstAt: number; lastAt: number; stoppedAt: number;
    connections: number;
    breaks: { at: number; reason: string }[];
    longestStall: { startNs: number; durationNs: number; toStop: boolean } | null;
    sender: {
        reports: number; rateBps: number; retransmissions: number;
        bytesSent: number; bytesRetrans: number; bytesAcked: number; written: number;
        rttUs: number; cwnd: number; lastAt: number;
    };
    /** The client host's CLOCK_REALTIME and CLOCK_MONOTONIC read together at the stop. */
    clock: { realtimeNs: number; monotonicNs: number };
}

/** The three periods of a run: before the migration's window, during it, after it. */
export interface Periods<T> { before: T; during: T; after: T }

/** The VM's bulk stream around the migration (seed 004's TCP_STREAM). */
export interface StreamFigures {
    /** The sender's cap (Mbit/s). */
    rateMbps: number;
    /** Throughput per bin: [bin start from t0 (ms), Mbit/s]. Only whole bins: not the first (the stream began inside it) nor the last (the stop cut it). */
    series: [number, number][];
    /** Mean throughput (Mbit/s) of the bins whose middle lies before t0, in [t0, t1], after t1 (null: no such bin). */
    meanMbps: Periods<number | null>;
    /** The dip: the lowest mean over 1 s (consecutive bins) among the 1 s spans that overlap [t0, t1], and when that span began, from t0 (ms). */
    dip: { mbps: number; atMs: number } | null;
    /** The longest time without a byte at the receiver, when it began (from t0, ms), and whether it lasted to the stop. */
    longestStall: { ms: number; atMs: number; toStop: boolean } | null;
    /** The VM's retransmitted segments and bytes (its TCP_INFO, summed over its connections). */
    retransmissions: number;
    retransmittedBytes: number;
    /** Receiving before t0. */
    connectedBefore: boolean;
    /** Bytes arrived after t1. */
    resumed: boolean;
    /** One connection, no break, connected before the window and bytes after it: TCP carried the stream across the migration. */
    survived: boolean;
    connections: number; breaks: number; breakReasons: string[];
    totalBytes: number;
}

/** The mean of a list (null when empty). */
function mean(xs: number[]): number | null {
    return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

/** Rounds to 3 decimals: figures, not float noise. */
const r3 = (x: number): number => Math.round(x * 1000) / 1000;

/** The stream's figures, for the migration's window [t0, t1] (ms since the epoch). */
export function streamFigures(r: StreamReport, t0: number, t1: number): StreamFigures {
    const startMs = r.startNs / 1e6, firstMs = r.firstAt / 1e6, stopMs = r.stoppedAt / 1e6;
    const bins: { at: number; mbps: number }[] = [];
    r.bytes.forEach((b, i) => {
        const at = startMs + i * r.binMs;
        if (at < firstMs || at + r.binMs > stopMs) return; // partial
        bins.push({ at, mbps: (b * 8) / (r.binMs * 1000) });
    });
    const mid = (b: { at: number }): number => b.at + r.binMs / 2;
    const meanOf = (keep: (m: number) => boolean): number | null => {
        const m = mean(bins.filter((b) => keep(mid(b))).map((b) => b.mbps));
        return m === null ? null : r3(m);
    };
    // 1 s spans of consecutive whole bins, overlapping the window.
    const span = Math.max(1, Math.round(1000 / r.binMs));
    let dip: StreamFigures["dip"] = null;
    for (let i = 0; i + span <= bins.length; i++) {
        // The whole bins are consecutive: only the first and the last were left out.
        const from = bins[i].at, to = bins[i + span - 1].at + r.binMs;
        if (to <= t0 || from >= t1) continue;
        const m = bins.slice(i, i + span).reduce((a, b) => a + b.mbps, 0) / span;
        if (!dip || m < dip.mbps) dip = { mbps: r3(m), atMs: r3(from - t0) };
    }
    const st = r.longestStall;
    const connectedBefore = r.totalBytes > 0 && firstMs <= t0;
    const resumed = r.totalBytes > 0 && r.lastAt / 1e6 > t1;
    return {
        rateMbps: r.sender.rateBps / 1e6,
        series: bins.map((b) => [r3(b.at - t0), r3(b.mbps)]),
        meanMbps: { before: meanOf((m) => m < t0), during: meanOf((m) => m >= t0 && m <= t1), after: meanOf((m) => m > t1) },
        dip,
        longestStall: st ? { ms: r3(st.durationNs / 1e6), atMs: r3(st.startNs / 1e6 - t0), toStop: st.toStop } : null,
        retransmissions: r.sender.retransmissions,
        retransmittedBytes: r.sender.bytesRetrans,
        connectedBefore, resumed,
        survived: r.connections === 1 && r.breaks.length === 0 && connectedBefore && resumed,
        connections: r.connections, breaks: r.breaks.length, breakReasons: r.breaks.map((b) => b.reason),
        totalBytes: r.totalBytes,
    };
}

/**
 * ms to add to a CLOCK_MONOTONIC reading (ms) on the client host to get ms since the
 * epoch: from the pair stream-server reads together (its report's clock).
 */
export function monotonicOffsetMs(clock: StreamReport["clock"]): number {
    return (clock.realtimeNs - clock.monotonicNs) / 1e6;
}

/**
 * sockperf ping-pong's --full-log, reduced on the host that ran it (wanlab-probe
 * sockperf-bins, tools/probe/rr.go), as printed: the log itself is too big for the
 * migration's record. Times in ms on the clock sockperf timed with (CLOCK_MONOTONIC with
 * --no-rdtsc), to the µs. sockperf logs only its valid span: from about 0.4 s after its
 * warm-up to about 0.3 s before its end.
 */
export interface RrBins {
    binMs: number;
    /** Start of the first bin (a whole multiple of binMs on the monotonic clock); bin i holds the replies in [startMs + i·binMs, startMs + (i+1)·binMs), to the last reply's bin. */
    startMs: number;
    /** Per bin: transactions completed (by their reply), and the sum of their round trips (µs). */
    count: number[];
    rttUs: number[];
    transactions: number;
    /** The first request and the last reply. */
    firstTxMs: number; lastRxMs: number;
    /** The longest time between two consecutive replies, from the log itself (null: fewer than two). */
    longestGap: { atMs: number; ms: number } | null;
    /** Lines without a reply, left out. */
    skipped?: number;
    /** The host's clocks read together after sockperf (monotonicOffsetMs places the bins on the epoch). */
    clock?: StreamReport["clock"];
}

/** TCP request/response around the migration (seed 004's TCP_RR, here sockperf ping-pong). */
export interface RrFigures {
    transactions: number;
    /** The span the log covers: the first request's send to the last reply (from t0, ms). */
    fromMs: number; toMs: number;
    /** Transactions per second over the whole log. */
    perSecond: number;
    /** Transactions per second in the bins the log covers whole whose middle lies before t0, in [t0, t1], after t1 (null: no such bin). */
    perSecondIn: Periods<number | null>;
    /** Per bin the log covers whole: [bin start from t0 (ms), transactions per second]. The bins are whole multiples of binMs on the monotonic clock, not on the epoch as the stream's. */
    series: [number, number][];
    /** The longest time without a completed transaction (between two replies), and when it began (from t0, ms): exact, not from the bins. */
    longestGap: { ms: number; atMs: number } | null;
    /**
     * Mean round trip (µs) of the transactions in the bins whose middle lies before t0,
     * after t1 (null: none there). A mean, not a median: the bins keep sums. It counts a
     * long round trip the median would hide, such as one in flight at t1 (its reply in
     * the first bin after).
     */
    meanRttUs: { before: number | null; after: number | null };
}

/**
 * The request/response figures: bins from wanlab-probe sockperf-bins, offsetMs what turns
 * their clock into ms since the epoch (monotonicOffsetMs, for sockperf --no-rdtsc on the
 * host that ran stream-server), the migration's window [t0, t1] in ms since the epoch. Null
 * for a log without a transaction.
 */
export function rrFigures(bins: RrBins, offsetMs: number, t0: number, t1: number): RrFigures | null {
    if (!bins.transactions || !bins.count.length) return null;
    const w = bins.binMs;
    const from = bins.firstTxMs + offsetMs, to = bins.lastRxMs + offsetMs;
    const all = bins.count.map((n, i) => ({ at: bins.startMs + i * w + offsetMs, n, rtt: bins.rttUs[i] }));
    const whole = all.filter((b) => b.at >= from && b.at + w <= to);
    const mid = (b: { at: number }): number => b.at + w / 2;
    const before = (b: { at: number }): boolean => mid(b) < t0;
    const during = (b: { at: number }): boolean => mid(b) >= t0 && mid(b) <= t1;
    const after = (b: { at: number }): boolean => mid(b) > t1;
    const rate = (keep: (b: { at: number }) => boolean): number | null => {
        const bs = whole.filter(keep);
        return bs.length ? r3(bs.reduce((a, b) => a + b.n, 0) / ((bs.length * w) / 1000)) : null;
    };
    // Round trips from every bin, the partial ones at the ends too: a mean per transaction.
    const rtt = (keep: (b: { at: number }) => boolean): number | null => {
        const bs = all.filter(keep), n = bs.reduce((a, b) => a + b.n, 0);
        return n ? r3(bs.reduce((a, b) => a + b.rtt, 0) / n) : null;
    };
    const gap = bins.longestGap;
    return {
        transactions: bins.transactions,
        fromMs: r3(from - t0), toMs: r3(to - t0),
        perSecond: r3(bins.transactions / ((to - from) / 1000)),
        perSecondIn: { before: rate(before), during: rate(during), after: rate(after) },
        series: whole.map((b) => [r3(b.at - t0), r3((b.n * 1000) / w)]),
        longestGap: gap && { ms: r3(gap.ms), atMs: r3(gap.atMs + offsetMs - t0) },
        meanRttUs: { before: rtt(before), after: rtt(after) },
    };
}

/** One direction of a connection in tcp-capture-stats' report. */
export interface CaptureDirection {
    bytes: number; segments: number; dataSegments: number;
    retransmissions: number; retransmittedBytes: number;
    outOfOrder: number; holeFills: number; dupAcks: number;
}

/** tcp-capture-stats' report (tools/probe/pcap.go), as printed. */
export interface CaptureReport {
    linkType: number; packets: number; tcpPackets: number; undecoded: number;
    firstNs: number; lastNs: number;
    connections: {
        client: string; server: string; handshake: boolean; fin: boolean; rst: boolean;
        firstNs: number; lastNs: number; packets: number;
        toServer: CaptureDirection; toClient: CaptureDirection;
    }[];
}

/** The migration connection as the capture saw it (seed 004's Wireshark conversation and overhead). */
export interface CaptureFigures {
    /** The connection: the one on the port range with the most bytes. */
    client: string; server: string;
    /** Its SYN and its FIN were captured: the whole migration is in the capture. */
    whole: boolean;
    /** Its first to its last packet (the seed's total migration time), and when it began, from t0 (ms). */
    durationMs: number; atMs: number;
    /** Payload bytes each way (retransmissions included), and both together. */
    bytes: { toServer: number; toClient: number; total: number };
    segments: number;
    /** Data segments sent again (some of their range seen already), both ways, and their bytes. */
    retransmissions: number; retransmittedBytes: number;
    /** retransmittedBytes over bytes.total. */
    retransmittedShare: number;
    /** Data segments beyond the next expected sequence (the ones before them lost before the capture point, or late), both ways. */
    outOfOrder: number;
    /** Data segments filling such a hole, both ways. */
    holeFills: number;
    /** Duplicate ACKs, both ways. */
    dupAcks: number;
    /** Other connections on the port range (a migration with several streams). */
    otherConnections: number;
    /** Records of the whole capture whose headers were cut short (Wireshark's malformed, roughly). */
    undecoded: number;
}

const portOf = (ep: string): number => Number(ep.slice(ep.lastIndexOf(":") + 1));

/**
 * The migration connection's figures: the connection with the most bytes among those with
 * an end on ports [lo, hi] (QEMU's migration ports by default), t0 as elsewhere. Null where
 * the capture holds none.
 */
export function captureFigures(r: CaptureReport, t0: number, ports: [number, number] = [49152, 49215]): CaptureFigures | null {
    const on = r.connections.filter((c) => [c.client, c.server].some((ep) => portOf(ep) >= ports[0] && portOf(ep) <= ports[1]));
    if (!on.length) return null;
    const total = (c: CaptureReport["connections"][number]): number => c.toServer.bytes + c.toClient.bytes;
    const c = on.reduce((a, b) => (total(b) > total(a) ? b : a));
    const both = (k: keyof CaptureDirection): number => c.toServer[k] + c.toClient[k];
    const bytes = total(c);
    return {
        client: c.client, server: c.server, whole: c.handshake && c.fin,
        durationMs: r3((c.lastNs - c.firstNs) / 1e6), atMs: r3(c.firstNs / 1e6 - t0),
        bytes: { toServer: c.toServer.bytes, toClient: c.toClient.bytes, total: bytes },
        segments: both("segments"),
        retransmissions: both("retransmissions"), retransmittedBytes: both("retransmittedBytes"),
        retransmittedShare: bytes ? both("retransmittedBytes") / bytes : 0,
        outOfOrder: both("outOfOrder"), holeFills: both("holeFills"), dupAcks: both("dupAcks"),
        otherConnections: on.length - 1,
        undecoded: r.undecoded,
    };
}
