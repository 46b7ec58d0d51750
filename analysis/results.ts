// A plan's results: one row per completed migration, kept in results/<plan>/runs.jsonl
// (appended and flushed as each run completes: the record of truth) and runs.csv (the
// same rows for spreadsheets and R, rewritten whole from the JSON Lines each time, so the
// two never disagree). Failed runs go to failures.jsonl.
import * as fs from "node:fs";
import * as path from "node:path";
import { stringify } from "csv-stringify/sync";
import { parse } from "csv-parse/sync";
import type { MigrationRecord } from "../modules/migration/record";
import { type Cell, cellStack, type Parameter, type Plan } from "../model/plan";

export interface RunRow {
    plan: string; stack: string; cell: string;
    /** The repetition within the cell, from 1. */
    rep: number;
    /** The stack's migration run number (its trigger). */
    run: number;
    from: string; to: string;
    wanProfile?: string; vmMemoryMiB?: number;
    startedAt: string;
    probeDowntimeMs: number | null; libvirtDowntimeMs: number | null;
    totalMs: number; libvirtElapsedMs: number | null;
    dataMiB: number | null; guestMemoryMiB: number | null;
    probeSent: number; probeLost: number; rttBeforeMs: number | null;
    /** False when the VM never answered the probe after the migration: the downtime is then only a lower bound. */
    answeredAfter: boolean;
    /** Wall time of the `pulumi up` that ran the migration, shared among its runs. */
    upS: number;
    /** The guest's filled memory and rewrite rate (its workload; 0 without one), and libvirt's pre-copy iterations. */
    fillMiB?: number | null; dirtyMiBps?: number | null; iterations?: number | null;
    /** The UDP probe's downtimes (echo and one-way) and its one-way TMT; null without the probe. */
    udpEchoDowntimeMs?: number | null; udpOneWayDowntimeMs?: number | null; udpTmtMs?: number | null;
    /** The TCP survival probe: whether the connection survived, its longest stall and the guest's retransmissions; null without it. */
    tcpSurvived?: boolean | null; tcpStallMs?: number | null; tcpRetrans?: number | null;
    /** The traffic split (MiB on the WAN's interfaces, both ways, by class); null where the run did not count it. */
    trafficMiB?: number | null; trafficMigrationMiB?: number | null; trafficStorageMiB?: number | null;
    trafficClientMiB?: number | null; trafficTunnelMiB?: number | null; trafficOtherMiB?: number | null;
    /**
     * The VM's own echo probe (seed 003): the forward path's longest gap at the target, the
     * replies lost and late on the way back, and whether the VM's source address changed
     * (a NAT move); null without it.
     */
    vmForwardGapMs?: number | null; vmRepliesLost?: number | null; vmRepliesLate?: number | null; vmSourceChanged?: boolean | null;
    /** A local disk copied along (seed 004): its size, and when its copy was through (ms from the start); null with a shared disk. */
    vmDiskMiB?: number; diskCopiedMiB?: number | null; diskDoneMs?: number | null;
    /** The TCP watch (seed 004): the VM's stream (Mbit/s before, during, after; its dip, longest stall, retransmissions, survival), request/response per second, the migration connection in the capture. */
    streamBeforeMbps?: number | null; streamDuringMbps?: number | null; streamAfterMbps?: number | null; streamDipMbps?: number | null;
    streamStallMs?: number | null; streamRetrans?: number | null; streamSurvived?: boolean | null;
    rrBeforePerS?: number | null; rrDuringPerS?: number | null; rrAfterPerS?: number | null; rrGapMs?: number | null;
    captureMiB?: number | null; captureRetrans?: number | null; captureOutOfOrder?: number | null; captureDupAcks?: number | null;
    /** Seed 001's PMIPv6 signalling (null without PMIPv6): the new MAG's trigger, attach -> RA, the RADIUS and PBU/PBA round trips, the signalling bytes on the WAN. */
    pmipTrigger?: string | null; pmipMs?: number | null; pmipAuthMs?: number | null; pmipRegMs?: number | null; trafficMobilityBytes?: number | null; trafficRadiusBytes?: number | null;
    /** The plan that measured this run, when this plan reused it (npm run experiment -- --reuse DIR). */
    reusedFrom?: string;
}

/** The traffic classes with a column of their own (seed 000's). */
export const SPLIT_COLUMNS = { migration: "trafficMigrationMiB", storage: "trafficStorageMiB", client: "trafficClientMiB", tunnel: "trafficTunnelMiB", other: "trafficOtherMiB" } as const;

export const COLUMNS = [
    "plan", "stack", "cell", "rep", "run", "from", "to", "wanProfile", "vmMemoryMiB", "startedAt",
    "probeDowntimeMs", "libvirtDowntimeMs", "totalMs", "libvirtElapsedMs", "dataMiB", "guestMemoryMiB",
    "probeSent", "probeLost", "rttBeforeMs", "answeredAfter", "upS", "fillMiB", "dirtyMiBps", "iterations",
    "udpEchoDowntimeMs", "udpOneWayDowntimeMs", "udpTmtMs", "tcpSurvived", "tcpStallMs", "tcpRetrans",
    "trafficMiB", "trafficMigrationMiB", "trafficStorageMiB", "trafficClientMiB", "trafficTunnelMiB", "trafficOtherMiB",
    "vmForwardGapMs", "vmRepliesLost", "vmRepliesLate", "vmSourceChanged", "vmDiskMiB", "diskCopiedMiB", "diskDoneMs",
    "streamBeforeMbps", "streamDuringMbps", "streamAfterMbps", "streamDipMbps", "streamStallMs", "streamRetrans", "streamSurvived",
    "rrBeforePerS", "rrDuringPerS", "rrAfterPerS", "rrGapMs", "captureMiB", "captureRetrans", "captureOutOfOrder", "captureDupAcks",
    "pmipTrigger", "pmipMs", "pmipAuthMs", "pmipRegMs", "trafficMobilityBytes", "trafficRadiusBytes",
    "reusedFrom",
] as const;

const MiB = 1048576;
const round = (x: number | null, digits: number) => (x === null ? null : Number(x.toFixed(digits)));

export function rowFromRecord(plan: Plan, cell: Cell, rep: number, r: MigrationRecord, upS: number): RunRow {
    return {
        plan: plan.name, stack: cellStack(plan, cell), cell: cell.key, rep, run: r.run, from: r.from, to: r.to,
        ...(cell.params as Partial<Record<Parameter, any>>),
        startedAt: new Date(r.startedAt).toISOString(),
        probeDowntimeMs: r.probe.downtimeMs, libvirtDowntimeMs: r.libvirt.downtimeMs,
        totalMs: r.totalMs, libvirtElapsedMs: r.libvirt.timeElapsedMs,
        dataMiB: round(r.libvirt.dataProcessedBytes === null ? null : r.libvirt.dataProcessedBytes / MiB, 2),
        guestMemoryMiB: round(r.libvirt.memoryTotalBytes === null ? null : r.libvirt.memoryTotalBytes / MiB, 1),
        probeSent: r.probe.sent, probeLost: r.probe.lost, rttBeforeMs: r.probe.rttBeforeMs,
        answeredAfter: r.probe.answeredAfter, upS: round(upS, 2)!,
        fillMiB: r.guest?.fillMiB ?? null, dirtyMiBps: r.guest?.dirtyMiBps ?? null, iterations: r.libvirt.memoryIterations,
        udpEchoDowntimeMs: r.udp?.echo.downtimeMs ?? null, udpOneWayDowntimeMs: r.udp?.oneWay.downtimeMs ?? null, udpTmtMs: r.udp?.oneWay.tmtMs ?? null,
        tcpSurvived: r.tcp?.survived ?? null, tcpStallMs: r.tcp?.longestStallMs ?? null, tcpRetrans: r.tcp?.retransmissions ?? null,
        trafficMiB: r.traffic ? round(r.traffic.totalBytes / MiB, 4) : null,
        ...Object.fromEntries(Object.entries(SPLIT_COLUMNS).map(([cls, col]) => [col, r.traffic?.classes[cls] ? round(r.traffic.classes[cls].bytes / MiB, 4) : null])),
        // Without ping (a VM behind a NAT), the VM's own probe says whether it came back: its requests reached the target after the migration.
        ...(r.probe.sent === 0 && r.vmProbe ? { answeredAfter: r.vmProbe.requestsAfter > 0 } : {}),
        vmForwardGapMs: r.vmProbe?.forwardGap?.ms ?? null, vmRepliesLost: r.vmProbe?.repliesLost ?? null, vmRepliesLate: r.vmProbe?.repliesLate ?? null,
        vmSourceChanged: r.vmProbe ? r.vmProbe.sources.length > 1 : null,
        diskCopiedMiB: r.diskCopy?.processedBytes != null ? round(r.diskCopy.processedBytes / MiB, 1) : null, diskDoneMs: r.diskCopy?.doneFromStartMs ?? null,
        streamBeforeMbps: r.stream?.meanMbps.before ?? null, streamDuringMbps: r.stream?.meanMbps.during ?? null, streamAfterMbps: r.stream?.meanMbps.after ?? null,
        streamDipMbps: r.stream?.dip?.mbps ?? null, streamStallMs: r.stream?.longestStall?.ms ?? null, streamRetrans: r.stream?.retransmissions ?? null,
        streamSurvived: r.stream ? r.stream.survived : null,
        rrBeforePerS: r.rr?.perSecondIn.before ?? null, rrDuringPerS: r.rr?.perSecondIn.during ?? null, rrAfterPerS: r.rr?.perSecondIn.after ?? null, rrGapMs: r.rr?.longestGap?.ms ?? null,
        captureMiB: r.capture ? round(r.capture.bytes.total / MiB, 2) : null, captureRetrans: r.capture?.retransmissions ?? null,
        captureOutOfOrder: r.capture?.outOfOrder ?? null, captureDupAcks: r.capture?.dupAcks ?? null,
        ...pmipColumns(r),
    };
}

function pmipColumns(r: MigrationRecord): Partial<RunRow> {
    const p = r.pmipv6 as { trigger?: string | null; pmipMs?: number | null; parts?: { authorizationMs?: number | null; registrationMs?: number | null } } | undefined;
    if (!p) return {};
    return {
        pmipTrigger: p.trigger ?? null, pmipMs: p.pmipMs ?? null, pmipAuthMs: p.parts?.authorizationMs ?? null, pmipRegMs: p.parts?.registrationMs ?? null,
        trafficMobilityBytes: r.traffic?.classes.mobility?.bytes ?? null,
        // Runs before the split had a class of its own counted RADIUS in mobility.
        trafficRadiusBytes: r.traffic ? r.traffic.classes.radius?.bytes ?? null : null,
    };
}

/** The rows' measurements that statistics are taken of. */
export type MeasuredKey = "probeDowntimeMs" | "libvirtDowntimeMs" | "totalMs" | "dataMiB" | "rttBeforeMs" | "udpOneWayDowntimeMs" | "udpEchoDowntimeMs"
    | "vmForwardGapMs" | "vmRepliesLost" | "vmRepliesLate" | "diskDoneMs" | "diskCopiedMiB" | "streamDuringMbps" | "streamDipMbps" | "streamStallMs"
    | "rrBeforePerS" | "rrDuringPerS" | "rrAfterPerS" | "streamBeforeMbps" | "streamAfterMbps" | "captureMiB" | "captureRetrans"
    | "pmipMs" | "pmipAuthMs" | "pmipRegMs" | "trafficMobilityBytes";

/** A metric's values over the rows fit for statistics: a run whose VM never answered again has only a lower bound. */
export function measured(rows: RunRow[], key: MeasuredKey): number[] {
    return rows.filter((r) => r.answeredAfter).map((r) => r[key]).filter((x): x is number => x !== null && x !== undefined);
}

/**
 * A run's series over time, where it has them (seed 004's TCP watch): the stream's
 * throughput and the request/response rate per 100 ms, each [ms from the migrate
 * command's start, value], and the command's length, which places the switchover.
 */
export interface RunTrace {
    cell: string; rep: number; run: number; stack: string; totalMs: number;
    streamMbps?: [number, number][]; rrPerS?: [number, number][];
}

export function traceFromRecord(row: RunRow, r: MigrationRecord): RunTrace | undefined {
    if (!r.stream && !r.rr) return undefined;
    return {
        cell: row.cell, rep: row.rep, run: row.run, stack: row.stack, totalMs: r.totalMs,
        ...(r.stream ? { streamMbps: r.stream.series } : {}), ...(r.rr ? { rrPerS: r.rr.series } : {}),
    };
}

export class ResultStore {
    readonly jsonl: string;
    /** The runs' series over time (traces.jsonl), where they have them. */
    readonly traces: string;
    readonly csv: string;
    readonly failures: string;
    readonly log: string;

    // The directory is made by the first write: reading a store that is not there is no error.
    constructor(readonly dir: string) {
        this.jsonl = path.join(dir, "runs.jsonl");
        this.csv = path.join(dir, "runs.csv");
        this.failures = path.join(dir, "failures.jsonl");
        this.traces = path.join(dir, "traces.jsonl");
        this.log = path.join(dir, "engine.log");
    }

    /** Every stored row. A line cut short by a crash is not a run: it is skipped with a warning. */
    rows(): RunRow[] {
        return readJsonLines<RunRow>(this.jsonl);
    }

    append(row: RunRow) {
        appendLine(this.jsonl, JSON.stringify(row));
        const tmp = `${this.csv}.tmp`;
        fs.writeFileSync(tmp, stringify(this.rows(), { header: true, columns: [...COLUMNS], cast: { boolean: (b) => String(b) } }));
        fs.renameSync(tmp, this.csv);
    }

    trace(t: RunTrace | undefined) {
        if (t) appendLine(this.traces, JSON.stringify(t));
    }

    allTraces(): RunTrace[] {
        return readJsonLines<RunTrace>(this.traces);
    }

    fail(entry: { cell: string; rep: number; run: number; from: string; to: string; at: string; error: string }) {
        appendLine(this.failures, JSON.stringify(entry));
    }

    failed(): { run: number; cell: string; error: string }[] {
        return readJsonLines(this.failures);
    }
}

/** Read a runs.csv back into rows (numbers and booleans restored). */
export function readCsv(file: string): RunRow[] {
    const numeric = new Set(["rep", "run", "vmMemoryMiB", "probeDowntimeMs", "libvirtDowntimeMs", "totalMs", "libvirtElapsedMs",
        "dataMiB", "guestMemoryMiB", "probeSent", "probeLost", "rttBeforeMs", "upS", "fillMiB", "dirtyMiBps", "iterations",
        "udpEchoDowntimeMs", "udpOneWayDowntimeMs", "udpTmtMs", "tcpStallMs", "tcpRetrans", "trafficMiB", ...Object.values(SPLIT_COLUMNS),
        "vmForwardGapMs", "vmRepliesLost", "vmRepliesLate", "vmDiskMiB", "diskCopiedMiB", "diskDoneMs", "streamBeforeMbps", "streamDuringMbps",
        "streamAfterMbps", "streamDipMbps", "streamStallMs", "streamRetrans", "rrBeforePerS", "rrDuringPerS", "rrAfterPerS", "rrGapMs",
        "captureMiB", "captureRetrans", "captureOutOfOrder", "captureDupAcks"]);
    return parse(fs.readFileSync(file, "utf8"), {
        columns: true,
        cast: (value, ctx) => {
            if (ctx.header) return value;
            const col = String(ctx.column);
            if (col === "answeredAfter") return value === "true";
            if (col === "tcpSurvived" || col === "streamSurvived" || col === "vmSourceChanged") return value === "" ? null : value === "true";
            if (numeric.has(col)) return value === "" ? null : Number(value);
            return value === "" ? undefined : value;
        },
    }) as RunRow[];
}

function appendLine(file: string, line: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const fd = fs.openSync(file, "a");
    try {
        fs.writeSync(fd, line + "\n");
        fs.fsyncSync(fd);
    } finally {
        fs.closeSync(fd);
    }
}

function readJsonLines<T>(file: string): T[] {
    if (!fs.existsSync(file)) return [];
    const lines = fs.readFileSync(file, "utf8").split("\n").filter((l) => l.trim());
    const out: T[] = [];
    lines.forEach((l, i) => {
        try {
            out.push(JSON.parse(l));
        } catch {
            process.stderr.write(`warning: ${file}: line ${i + 1} is not JSON (a write cut short?) and is skipped\n`);
        }
    });
    return out;
}
