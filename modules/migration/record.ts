// A migration run's record, computed from what migrate.sh collected (its raw JSON): the
// probe's replies, the migrate command's times and libvirt's job statistics. A pure
// function, so that every figure can be checked on fixture files.

import * as path from "node:path";
import type { TrafficSplit } from "../traffic/model";
import { type RawEcho, type VmProbeFigures, vmProbeFigures } from "./vm-probe";
import { type CaptureFigures, monotonicOffsetMs, type RrBins, type RrFigures, rrFigures, type StreamFigures, streamFigures, type StreamReport } from "./tcp-watch";

/** What migrate.sh prints. */
export interface RawMigration {
    format: "wanlab-migration-raw/1";
    run: number; vm: string; from: string; to: string; intervalMs: number;
    /** The migrate command's start and end, and the end of the probe's window (ms since the epoch). */
    t0: number; t1: number; tEnd: number;
    exitCode: number;
    /** Each reply: [arrival in ms since the epoch, ICMP sequence number]. */
    replies: [number, number][];
    /** ping's line "N packets transmitted, M received, ...". */
    summary: string;
    /** ping's output for the round-trip time before the migration. */
    rttBefore: string;
    /** `virsh domjobinfo --completed`, as printed. */
    job: string;
    /** What `virsh migrate` printed (its error, when it failed). */
    migrate: string;
    /** The UDP probe (tools/probe), where the probe host has it: each answer [seq, sent, answered, on the VM] in ms. */
    udp?: { sent: number; answers: [number, number, number, number][] } | null;
    /** The TCP survival probe's server report (tools/probe/tcp.go), where the probe host has it. Times in ns. */
    tcp?: RawTcp | null;
    /** A copied disk's progress, read from the source's job every 0.5 s: lines "ms|File processed: 7.000 MiB|...". */
    diskProgress?: string | null;
    /** The VM's echo probe's target record (tools/probe/echo.go), where the VM probes. */
    echo?: RawEcho | null;
    /** The TCP watch's stream server report (tools/probe/stream.go), and sockperf's binned log (tools/probe/rr.go). */
    stream?: StreamReport | null;
    rr?: RrBins | null;
}

/**
 * A local disk copied with the memory (seed 004's non-shared storage), from libvirt's
 * job on the source while it ran (its completed job keeps no disk figures): the disk's
 * size, what was copied, when the copy was through, and the progress of disk and memory.
 */
export interface DiskCopyFigures {
    totalBytes: number | null;
    processedBytes: number | null;
    /** When the disk was copied whole, from the migrate command's start (ms); the memory's pre-copy starts about then. */
    doneFromStartMs: number | null;
    /** Samples: [ms from the start, disk bytes copied, memory bytes copied]. */
    samples: [number, number, number][];
}

export interface RawTcp {
    connections: number; breaks: { at: number; reason: string }[];
    messages: number; firstAt: number; lastAt: number;
    stalls: [number, number][]; retransmissions: number; missing: number;
}

/**
 * The TCP survival probe (seed 000 §3 item 8): the VM's client sends to the probe host's
 * server every 10 ms. A break is a recv() of 0 or -1 on the server; the stall is the
 * longest silence between two messages (the migration's pause, and TCP's retransmission
 * timer after it); retransmissions are the VM's.
 */
export interface TcpFigures {
    /** The connection lasted the whole window: connected before the migration, and no break. */
    survived: boolean;
    /** Whether the client was connected when the migrate command started. */
    connectedBefore: boolean;
    connections: number; breaks: number; breakReasons: string[];
    messages: number;
    longestStallMs: number | null;
    /** When the longest stall began, from the migrate command's start (ms). */
    stallFromStartMs: number | null;
    retransmissions: number;
}

/**
 * The UDP probe's figures, in both of the studies' forms, from one flow:
 * - echo (seed 001 §4.3): the longest silence between answers, on the client's clock;
 * - one-way (seed 000 §3 item 5): the run of probes that never reached the VM, timed by
 *   the send times of the probes on either side of it (the VM's own clock is not used: a
 *   guest's clock stands still while it is paused). TMT runs from the first probe sent
 *   after the migrate command started to the first probe the VM received after the run.
 */
export interface UdpFigures {
    intervalMs: number; sent: number; received: number;
    /** Probes unanswered between the first answer and the last. */
    lost: number;
    /** Probes sent after the last answer: still on their way when the window closed. */
    unansweredAtEnd: number;
    /** Answers to a probe already answered (the overlay delivered it twice). */
    duplicates: number;
    echo: { downtimeMs: number | null };
    oneWay: { downtimeMs: number | null; lostInRun: number; tmtMs: number | null;
        /** The same gap on the VM's clock, for comparison. */
        vmClockGapMs: number | null };
}

/** libvirt's job statistics (null where libvirt did not say). */
export interface LibvirtJob {
    jobType: string | null;
    downtimeMs: number | null;
    downtimeWithoutNetworkMs: number | null;
    timeElapsedMs: number | null;
    timeElapsedWithoutNetworkMs: number | null;
    setupTimeMs: number | null;
    dataProcessedBytes: number | null;
    dataTotalBytes: number | null;
    memoryProcessedBytes: number | null;
    memoryRemainingBytes: number | null;
    memoryTotalBytes: number | null;
    memoryBandwidthBytesPerS: number | null;
    /** Pre-copy iterations over memory ("Iteration"). */
    memoryIterations: number | null;
    dirtyRatePagesPerS: number | null;
    pageSizeBytes: number | null;
    constantPages: number | null;
    normalPages: number | null;
    postcopyRequests: number | null;
    /** Storage copied with the migration (a non-shared disk): libvirt's "File" lines. */
    diskProcessedBytes: number | null;
    diskRemainingBytes: number | null;
    diskTotalBytes: number | null;
    diskBandwidthBytesPerS: number | null;
}

export interface ProbeFigures {
    intervalMs: number; sent: number; received: number; lost: number;
    /** The longest silence between two replies, counting one that lasts to the end of the window. */
    downtimeMs: number | null;
    gapStartedAt: number | null;
    /** The three longest silences, longest first. */
    longestGaps: { startedAt: number; ms: number }[];
    /** Whether the VM answered after the migrate command returned. */
    answeredAfter: boolean;
    rttBeforeMs: number | null;
}

export interface MigrationRecord {
    run: number; vm: string; from: string; to: string;
    /** When the migrate command started (ms since the epoch), and its wall time. */
    startedAt: number; totalMs: number;
    /** false: the migration failed (the VM stayed on its source); error says why. */
    ok: boolean;
    error?: string;
    probe: ProbeFigures;
    /** The UDP probe's figures (null where the probe host has no wanlab-probe). */
    udp?: UdpFigures | null;
    /** The TCP survival probe's (null where the probe host has no wanlab-probe). */
    tcp?: TcpFigures | null;
    /** The bytes on the WAN's interfaces by class, from the end of the run before to the end of this one (absent: not counted). */
    traffic?: TrafficSplit;
    libvirt: LibvirtJob;
    /** What the migrated guest did with its memory (the stack's workload), as the program knew it. */
    guest?: GuestWorkload;
    /** The settings the run migrated with, as the program gave them. */
    settings?: MigrationSettings;
    /** A local disk's copy (absent: the disk is shared). */
    diskCopy?: DiskCopyFigures;
    /** The VM's own echo probe to its target (seed 003's ping to the proxy; absent: none). */
    vmProbe?: VmProbeFigures;
    /** Seed 004's TCP watch (absent: not watched): the VM's bulk stream, request/response, and the migration connection from a capture on the source. */
    stream?: StreamFigures | null;
    rr?: RrFigures | null;
    capture?: CaptureFigures | null;
    /** Seed 001's PMIPv6 signalling around the run (modules/pmipv6/signalling.ts), absent without PMIPv6. */
    pmipv6?: Record<string, unknown>;
}

/** The bandwidth cap (null: none) and whether a local disk was copied along (null: the disk is shared). */
export interface MigrationSettings { bandwidthMiBps: number | null; copyStorage: "all" | "inc" | null }

export interface GuestWorkload { memoryMiB: number; fillMiB: number; dirtyMiBps: number }

/** The longest silences between consecutive replies, including the one from the last reply to the window's end. */
export function silences(arrivals: number[], windowEnd: number): { startedAt: number; ms: number }[] {
    const out: { startedAt: number; ms: number }[] = [];
    for (let i = 1; i < arrivals.length; i++) out.push({ startedAt: arrivals[i - 1], ms: arrivals[i] - arrivals[i - 1] });
    if (arrivals.length) out.push({ startedAt: arrivals[arrivals.length - 1], ms: windowEnd - arrivals[arrivals.length - 1] });
    // Longest first; of equal ones, the earliest (as a scan would keep the first).
    return out.sort((a, b) => b.ms - a.ms || a.startedAt - b.startedAt);
}

const UNITS: Record<string, number> = { B: 1, bytes: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };

/** domjobinfo's "Key: value unit" lines. */
export function jobFields(text: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const line of text.split("\n")) {
        const i = line.indexOf(":");
        if (i <= 0) continue;
        out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
    }
    return out;
}

function number(fields: Record<string, string>, key: string): number | null {
    const v = fields[key]?.split(/\s+/)[0];
    if (v === undefined || v === "" || !Number.isFinite(Number(v))) return null;
    return Number(v);
}

/** A size ("81.234 MiB") or a rate ("26.941 MiB/s") in bytes (per second). */
function bytes(fields: Record<string, string>, key: string): number | null {
    const [v, unit = "B"] = (fields[key] ?? "").split(/\s+/);
    const m = UNITS[unit.replace(/\/s$/, "")];
    if (v === undefined || v === "" || !Number.isFinite(Number(v)) || m === undefined) return null;
    return Math.round(Number(v) * m);
}

export function libvirtJob(text: string): LibvirtJob {
    const f = jobFields(text);
    return {
        jobType: f["Job type"] ?? null,
        downtimeMs: number(f, "Total downtime"),
        downtimeWithoutNetworkMs: number(f, "Downtime w/o network"),
        timeElapsedMs: number(f, "Time elapsed"),
        timeElapsedWithoutNetworkMs: number(f, "Time elapsed w/o network"),
        setupTimeMs: number(f, "Setup time"),
        dataProcessedBytes: bytes(f, "Data processed"),
        dataTotalBytes: bytes(f, "Data total"),
        memoryProcessedBytes: bytes(f, "Memory processed"),
        memoryRemainingBytes: bytes(f, "Memory remaining"),
        memoryTotalBytes: bytes(f, "Memory total"),
        memoryBandwidthBytesPerS: bytes(f, "Memory bandwidth"),
        memoryIterations: number(f, "Iteration"),
        dirtyRatePagesPerS: number(f, "Dirty rate"),
        pageSizeBytes: number(f, "Page size"),
        constantPages: number(f, "Constant pages"),
        normalPages: number(f, "Normal pages"),
        postcopyRequests: number(f, "Postcopy requests"),
        diskProcessedBytes: bytes(f, "File processed"),
        diskRemainingBytes: bytes(f, "File remaining"),
        diskTotalBytes: bytes(f, "File total"),
        diskBandwidthBytesPerS: bytes(f, "File bandwidth"),
    };
}

/** The UDP probe's figures (UdpFigures), or null where the probe host ran none. */
export function udpFigures(raw: RawMigration): UdpFigures | null {
    if (!raw.udp) return null;
    // The first answer to each probe: a flooding overlay delivers some twice, and a copy
    // answered again is not the VM coming back.
    const first = new Map<number, [number, number, number, number]>();
    for (const a of raw.udp.answers) if (!first.has(a[0]) || first.get(a[0])![2] > a[2]) first.set(a[0], a);
    const answers = [...first.values()].sort((a, b) => a[0] - b[0]);
    const round = (x: number) => Math.round(x * 10) / 10;
    const echo = silences(answers.map((a) => a[2]).sort((a, b) => a - b), raw.tEnd);
    // The longest run of sequence numbers missing between two that arrived.
    let best: { before: (typeof answers)[number]; after: (typeof answers)[number] } | undefined;
    for (let i = 1; i < answers.length; i++) {
        const gap = answers[i][0] - answers[i - 1][0];
        if (gap > 1 && (!best || gap > best.after[0] - best.before[0])) best = { before: answers[i - 1], after: answers[i] };
    }
    const firstAfterStart = answers.find((a) => a[1] >= raw.t0);
    return {
        intervalMs: raw.intervalMs, sent: raw.udp.sent, received: answers.length,
        // Between the first and the last answer; the window closes before the last answers are back.
        lost: answers.length ? answers[answers.length - 1][0] - answers[0][0] + 1 - answers.length : 0,
        unansweredAtEnd: raw.udp.sent - (answers.length ? answers[answers.length - 1][0] : 0),
        duplicates: raw.udp.answers.length - answers.length,
        echo: { downtimeMs: echo.length ? round(echo[0].ms) : null },
        oneWay: best ? {
            downtimeMs: round(best.after[1] - best.before[1]),
            lostInRun: best.after[0] - best.before[0] - 1,
            tmtMs: firstAfterStart ? round(best.after[1] - firstAfterStart[1]) : null,
            vmClockGapMs: round(best.after[3] - best.before[3]),
            // Nothing lost on the way to the VM: no gap (none at all without an answer).
        } : { downtimeMs: answers.length ? 0 : null, lostInRun: 0, tmtMs: null, vmClockGapMs: null },
    };
}

/** The TCP probe's figures (TcpFigures), or null where the probe host ran none. */
export function tcpFigures(raw: RawMigration): TcpFigures | null {
    const t = raw.tcp;
    if (!t) return null;
    const ms = (ns: number) => ns / 1e6;
    const longest = [...t.stalls].sort((a, b) => b[1] - b[0] - (a[1] - a[0]))[0];
    const connectedBefore = t.messages > 0 && ms(t.firstAt) < raw.t0;
    return {
        survived: connectedBefore && t.connections === 1 && t.breaks.length === 0,
        connectedBefore,
        connections: t.connections, breaks: t.breaks.length, breakReasons: [...new Set(t.breaks.map((b) => b.reason))],
        messages: t.messages,
        // No silence over the server's threshold (50 ms): the stall is below it, not unknown.
        longestStallMs: longest ? Math.round(ms(longest[1] - longest[0]) * 10) / 10 : t.messages > 1 ? 0 : null,
        stallFromStartMs: longest ? Math.round(ms(longest[0]) - raw.t0) : null,
        retransmissions: t.retransmissions,
    };
}

/** The disk copy's figures from the samples of the source's job (undefined without a copy). */
export function diskCopyFigures(raw: RawMigration): DiskCopyFigures | undefined {
    if (raw.diskProgress === undefined || raw.diskProgress === null) return undefined;
    const rows = raw.diskProgress.split("\n").filter((l) => l.includes("|")).map((l) => {
        const [t, ...rest] = l.split("|");
        return { ms: Number(t) - raw.t0, f: jobFields(rest.join("\n")) };
    }).filter((r) => Number.isFinite(r.ms) && r.f["File total"] !== undefined);
    const samples = rows.map((r) => [r.ms, bytes(r.f, "File processed") ?? 0, bytes(r.f, "Memory processed") ?? 0] as [number, number, number]);
    const last = rows[rows.length - 1];
    const total = last ? bytes(last.f, "File total") : null;
    // Through when a sample has it all, or once the memory has started: libvirt moves the
    // memory only after the mirror is ready, and the guest's writes keep the job's total a
    // little ahead of what a later sample shows as processed.
    const done = rows.find((r) => total !== null && total > 0 && ((bytes(r.f, "File processed") ?? 0) >= total || (bytes(r.f, "Memory processed") ?? 0) > 0));
    return { totalBytes: total, processedBytes: last ? bytes(last.f, "File processed") : null, doneFromStartMs: done ? done.ms : null, samples };
}

/** The record of one run. */
export function computeRecord(raw: RawMigration): MigrationRecord {
    const arrivals = raw.replies.map(([t]) => t);
    const gaps = silences(arrivals, raw.tEnd);
    const m = /(\d+) packets transmitted, (\d+) received/.exec(raw.summary);
    const [sent, received] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
    const rtt = /= [\d.]+\/([\d.]+)\//.exec(raw.rttBefore);
    const failed = raw.exitCode !== 0;
    return {
        run: raw.run, vm: raw.vm, from: raw.from, to: raw.to,
        startedAt: raw.t0, totalMs: raw.t1 - raw.t0,
        ok: !failed,
        ...(failed ? { error: `virsh migrate exited ${raw.exitCode}${raw.exitCode === 124 ? " (timed out)" : ""}: ${raw.migrate.trim() || "no message"}` } : {}),
        probe: {
            intervalMs: raw.intervalMs, sent, received, lost: sent - received,
            downtimeMs: gaps.length ? Math.round(gaps[0].ms * 10) / 10 : null,
            gapStartedAt: gaps.length ? Math.round(gaps[0].startedAt) : null,
            longestGaps: gaps.slice(0, 3).map((g) => ({ startedAt: Math.round(g.startedAt), ms: Math.round(g.ms * 10) / 10 })),
            answeredAfter: arrivals.some((t) => t > raw.t1),
            rttBeforeMs: rtt ? Number(rtt[1]) : null,
        },
        udp: udpFigures(raw),
        tcp: tcpFigures(raw),
        libvirt: libvirtJob(raw.job),
        ...(raw.diskProgress !== undefined && raw.diskProgress !== null ? { diskCopy: diskCopyFigures(raw) } : {}),
        ...(raw.echo ? { vmProbe: vmProbeFigures(raw.echo, { t0: raw.t0, t1: raw.t1, intervalMs: raw.intervalMs }) } : {}),
        ...(raw.stream ? { stream: streamFigures(raw.stream, raw.t0, raw.t1) } : {}),
        ...(raw.rr?.clock ? { rr: rrFigures(raw.rr, monotonicOffsetMs(raw.rr.clock), raw.t0, raw.t1) } : {}),
    };
}

/** The record from the migration command's output: migrate.sh's raw JSON (or, from a lab built before records were computed here, the record itself). */
export function recordFromOutput(stdout: string): MigrationRecord {
    const doc = JSON.parse(stdout);
    if (doc.format === "wanlab-migration-raw/1") return computeRecord(doc as RawMigration);
    if (typeof doc.totalMs === "number" && doc.probe && doc.libvirt) return { ok: true, ...doc };
    throw new Error(`the migration printed neither a raw record nor a record: ${stdout.slice(0, 200)}`);
}

// Pulumi stack names may hold dots; a name that starts with a letter or digit and has no slash stays one path component.
const SAFE_PART = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * Where a run's record goes: <results>/<stack>/migration-<run>-<from>-<to>.json. The parts
 * come back from a host (the record) or from the user (the stack's name): each must be a
 * plain name, and the file must land inside the results directory.
 */
export function recordFile(resultsDir: string, stack: string, r: { run: number; from: string; to: string }): string {
    const bad = ([["stack", stack], ["from", r.from], ["to", r.to]] as const).filter(([, v]) => typeof v !== "string" || !SAFE_PART.test(v));
    if (!Number.isSafeInteger(r.run) || r.run < 0) bad.push(["run", String(r.run)] as any);
    if (bad.length) {
        throw new Error(`refusing to write the migration record: ${bad.map(([k, v]) => `${k} ${JSON.stringify(v)}`).join(", ")} ` +
            "is not a plain name (a letter or digit, then letters, digits, '.', '_' and '-', up to 64)");
    }
    const root = path.resolve(resultsDir);
    const file = path.resolve(root, stack, `migration-${r.run}-${r.from}-${r.to}.json`);
    if (!file.startsWith(root + path.sep)) throw new Error(`refusing to write the migration record outside ${root}: ${file}`);
    return file;
}
