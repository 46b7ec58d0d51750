// A plan's report: per-cell statistics of each measurement, the studies' tables beside
// the measured ones with the difference in percent, paired differences between two
// settings, and figures like the studies' own (downtime and total migration time vs WAN
// delay, one line per memory size, with 95 % confidence intervals) drawn by vega-lite
// as SVG without a browser. Written as report.md and a self-contained report.html.
import * as fs from "node:fs";
import * as path from "node:path";
import type { Cell, Plan, Parameter } from "../model/plan";
import { cells, cellStudies } from "../model/plan";
import { type MeasuredKey, measured, type RunRow, type RunTrace, SPLIT_COLUMNS } from "./results";
import { alignedMedians, type Baseline, seed001Section, seed003Section, seed004Section } from "./seed-studies";
import { CellStats, describe, pairedDifference, welchDifference, welchFromSummaries } from "./stats";
import { PROFILE_ORDER, STUDY_SPLITS, STUDY_TABLES, StudyTable } from "./studies";
import { loadSpec } from "../model/validate";
import { labGraph, toSvg } from "../model/graph";

const ROOT = path.join(__dirname, "..");

interface Metric {
    key: MeasuredKey;
    title: string; unit: string; scale: number; digits: number;
    /** The studies' table of the same measurement, and the figure's file name (without -vs-<x>.svg). */
    study?: StudyTable["metric"]; figure?: string;
}

export const METRICS: Metric[] = [
    { key: "probeDowntimeMs", title: "Downtime (probe)", unit: "ms", scale: 1, digits: 1, study: "downtimeMs", figure: "downtime" },
    // libvirt's pause, beside the probe's: where the two differ, the network took longer than the VM to come back.
    { key: "libvirtDowntimeMs", title: "Downtime (libvirt)", unit: "ms", scale: 1, digits: 1, figure: "libvirt-downtime" },
    // The studies' own UDP forms: seed 000's one-way, seed 001's echo (tools/probe).
    { key: "udpOneWayDowntimeMs", title: "Downtime (UDP one-way)", unit: "ms", scale: 1, digits: 1 },
    { key: "udpEchoDowntimeMs", title: "Downtime (UDP echo)", unit: "ms", scale: 1, digits: 1 },
    { key: "totalMs", title: "Total migration time", unit: "s", scale: 1 / 1000, digits: 2, study: "totalS", figure: "total-time" },
    { key: "dataMiB", title: "Data moved: memory (libvirt)", unit: "MiB", scale: 1, digits: 1 },
    { key: "rttBeforeMs", title: "RTT client-VM before migrating", unit: "ms", scale: 1, digits: 2 },
    // Seed 003: the VM's own probe to the proxy (the forward path's gap, the replies lost and late on the way back).
    { key: "vmForwardGapMs", title: "Downtime (the VM's probe: forward gap at the target)", unit: "ms", scale: 1, digits: 1, figure: "vm-probe-gap" },
    { key: "vmRepliesLost", title: "Replies lost on the way back to the VM", unit: "replies", scale: 1, digits: 2, figure: "replies-lost" },
    { key: "vmRepliesLate", title: "Replies late (round trip over 3 × before, 50 ms at least)", unit: "replies", scale: 1, digits: 2 },
    // Seed 004: a local disk's copy, and TCP during the migration.
    { key: "diskCopiedMiB", title: "Data moved: the disk (libvirt's copy, blocks rewritten meanwhile included)", unit: "MiB", scale: 1, digits: 1 },
    { key: "diskDoneMs", title: "Disk copied (from the migration's start)", unit: "s", scale: 1 / 1000, digits: 2 },
    { key: "streamBeforeMbps", title: "VM's TCP stream before the migration", unit: "Mbit/s", scale: 1, digits: 2 },
    { key: "streamDuringMbps", title: "VM's TCP stream during the migration", unit: "Mbit/s", scale: 1, digits: 2 },
    { key: "streamAfterMbps", title: "VM's TCP stream after the migration", unit: "Mbit/s", scale: 1, digits: 2 },
    { key: "streamDipMbps", title: "VM's TCP stream: lowest 1 s mean", unit: "Mbit/s", scale: 1, digits: 2 },
    { key: "streamStallMs", title: "VM's TCP stream: longest stall", unit: "ms", scale: 1, digits: 1 },
    { key: "rrBeforePerS", title: "TCP request/response before", unit: "transactions/s", scale: 1, digits: 1 },
    { key: "rrDuringPerS", title: "TCP request/response during", unit: "transactions/s", scale: 1, digits: 1 },
    { key: "rrAfterPerS", title: "TCP request/response after", unit: "transactions/s", scale: 1, digits: 1 },
    { key: "captureMiB", title: "Migration connection's bytes (capture on the source)", unit: "MiB", scale: 1, digits: 1 },
    { key: "captureRetrans", title: "Migration connection's retransmitted segments", unit: "segments", scale: 1, digits: 0 },
];

/** A table both renderers share. */
interface Table { caption: string; head: string[]; rows: string[][] }

export interface Figure { file: string; title: string; svg: string }
/** topology: the lab the plan ran on, drawn from its stack file (model/graph.ts). */
export interface Report { tables: Table[]; figures: Figure[]; notes: string[]; topology?: Figure }

const AXIS_TITLES: Record<Parameter | "stack", string> = {
    stack: "approach (stack)", wanProfile: "WAN delay profile", wanRateMbit: "WAN rate (Mbit/s)", vmMemoryMiB: "VM memory (MiB)", vmFillPct: "guest memory filled (%)", vmDirtyMiBps: "guest rewrite rate (MiB/s)", probeIntervalMs: "probe interval (ms)", vmDiskMiB: "VM disk (MiB)",
};

const STUDY_NAMES: Record<string, string> = {
    "seed000-vxlan": "seed 000 VXLAN", "seed000-gre": "seed 000 GRE", "seed001-pmipv6": "seed 001 PMIPv6", seed003: "seed 003", seed004: "seed 004",
};

/** A cell's values of a metric, in the metric's unit, over the runs fit for statistics. */
function values(rows: RunRow[], cell: string, m: Metric): number[] {
    return measured(rows.filter((r) => r.cell === cell), m.key).map((x) => x * m.scale);
}

const num = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : "-");
const pct = (x: number) => (Number.isFinite(x) ? `${x >= 0 ? "+" : ""}${x.toFixed(1)} %` : "-");

/** The matrix parameter drawn along the x axis (the WAN profile when it varies) and the one drawn as series. */
/** The matrix parameters with more than one value: a plan's fixed settings (its fill, say) say nothing about a cell. */
const variedParams = (plan: Plan) => (Object.keys(plan.matrix) as Parameter[]).filter((p) => plan.matrix[p]!.length > 1);

function axes(plan: Plan): { x: Parameter; series?: Parameter } {
    const all = Object.keys(plan.matrix) as Parameter[];
    // A parameter with one value is neither axis nor series.
    const varied = variedParams(plan);
    const params = varied.length ? varied : all;
    const x = params.includes("wanProfile") ? "wanProfile" : params[params.length - 1];
    return { x, series: params.find((p) => p !== x) };
}

/** Runs another plan measured (npm run experiment -- --reuse): which, of which stack, and when. */
export function reuseNotes(rows: RunRow[]): string[] {
    const groups = new Map<string, RunRow[]>();
    for (const r of rows.filter((x) => x.reusedFrom)) groups.set(`${r.reusedFrom} ${r.stack}`, [...(groups.get(`${r.reusedFrom} ${r.stack}`) ?? []), r]);
    return [...groups.values()].map((g) => {
        const times = g.map((r) => r.startedAt).sort();
        const own = rows.filter((r) => !r.reusedFrom).map((r) => r.startedAt).sort();
        return `${g.length} runs of stack ${g[0].stack} were measured by plan ${g[0].reusedFrom} (${times[0].slice(0, 16)} to ${times[times.length - 1].slice(0, 16)} UTC) ` +
            `and reused here` + (own.length ? `; this plan's own runs are from ${own[0].slice(0, 16)} to ${own[own.length - 1].slice(0, 16)} UTC` : "") + ".";
    });
}

/**
 * Data moved against filled memory, per run with a workload: a migration moves at least
 * what the guest filled (its pages are neither zero nor compressible), and a rewriting
 * guest more. A run that moved less did not migrate the memory its cell says.
 */
export function fillNotes(rows: RunRow[]): string[] {
    const filled = rows.filter((r) => r.fillMiB && r.dataMiB !== null);
    if (!filled.length) return [];
    const short = filled.filter((r) => r.dataMiB! < r.fillMiB!);
    const extra = filled.map((r) => r.dataMiB! - r.fillMiB!).sort((a, b) => a - b);
    const notes = [`Data moved against filled memory (${filled.length} runs with a workload): data moved less filled memory is ` +
        `${extra[0].toFixed(0)} to ${extra[extra.length - 1].toFixed(0)} MiB, median ${extra[Math.floor(extra.length / 2)].toFixed(0)} MiB ` +
        "(the guest's kernel and programs, and what it rewrote during the migration)."];
    if (short.length) {
        notes.push(`CHECK FAILED: ${short.length} run(s) moved less than their guest had filled, so they did not migrate the memory their cell says: ` +
            short.map((r) => `run ${r.run} moved ${r.dataMiB} MiB of ${r.fillMiB} MiB filled`).join("; ") + ".");
    }
    return notes;
}

/** The rate the plan's WAN had (the studies' tables depend on it: seed 000's implies ~100 Mbit/s on the host links). */
export function rateNote(plan: Plan): string {
    const varied = plan.matrix.wanRateMbit;
    if (varied) return `WAN rate: ${varied.map((r) => (Number(r) ? `${r} Mbit/s` : "none")).join(", ")} on the router's WAN interfaces, by cell (wanRateMbit).`;
    const stacks = plan.stacks ?? [plan.stack];
    const said: string[] = [];
    for (const stack of stacks) {
        const file = stacks.length > 1 ? `stacks/${stack}.yaml` : plan.spec;
        let spec;
        try {
            spec = loadSpec(path.resolve(ROOT, file));
        } catch {
            said.push(`unknown (${file} could not be read)`);
            continue;
        }
        // A WAN's rate on its router, or the links' own (tbf on each end).
        const links = spec.links.filter((l) => l.rateMbit).map((l) => `${l.name} ${l.rateMbit}`);
        if (spec.wan?.rateMbit) said.push(`${spec.wan.rateMbit} Mbit/s on the router's WAN interfaces (${file})`);
        else if (links.length) said.push(`links ${links.join(", ")} Mbit/s (${file})`);
        else said.push(`none set (${file}): the rate is what the lab achieves (seed 000's host links ran at about 100 Mbit/s, seed 001's WAN links at 1 Gbit/s)`);
    }
    return `WAN rate: ${said.join("; ")}.`;
}

/** The studies' precision: a relative 95 % half-width of at most 5 % (seed 001 §4.5; seed 000's were 1-4 %). */
export const STUDY_PRECISION_PCT = 5;

/** Every cell whose relative half-width missed the plan's target (its rule's, else the studies'), with its n. */
export function precisionNotes(plan: Plan, all: Cell[], stats: Map<string, Map<string, CellStats | undefined>>): string[] {
    const rule = "fixed" in plan.repetitions ? undefined : plan.repetitions;
    const target = rule?.untilRelHalfWidthPct ?? STUDY_PRECISION_PCT;
    const metric = rule?.metric ?? "probeDowntimeMs";
    const title = METRICS.find((m) => m.key === metric)!.title.toLowerCase();
    const missed = all.flatMap((c) => {
        const s = stats.get(metric)?.get(c.key);
        if (!s) return [`${c.key} (no runs)`];
        return s.relHalfWidthPct > target ? [`${c.key} (n ${s.n}, ${s.relHalfWidthPct.toFixed(1)} %)`] : [];
    });
    const whose = rule ? `the plan's target of ${target} %` : `the studies' ${target} % (this plan runs a fixed ${(plan.repetitions as { fixed: number }).fixed} a cell)`;
    if (!missed.length) return [`Precision: every cell's ${title} has a relative 95 % half-width within ${whose}.`];
    return [`PRECISION MISSED: ${missed.length} of ${all.length} cells have a ${title} relative 95 % half-width over ${whose}: ${missed.join("; ")}.`];
}

/**
 * The trends the studies report, checked on the means: downtime and total migration time
 * rise with delay (along the profiles in order, at each memory size), and total migration
 * time rises with memory (at each profile). A trend holds when the last mean is above the
 * first and no step falls by more than the two steps' 95 % half-widths together.
 */
export function trendNotes(plan: Plan, all: Cell[], stats: Map<string, Map<string, CellStats | undefined>>): string[] {
    const checks: { metric: Metric["key"]; along: Parameter; what: string }[] = [
        { metric: "probeDowntimeMs", along: "wanProfile", what: "Downtime rises with delay" },
        { metric: "totalMs", along: "wanProfile", what: "Total migration time rises with delay" },
        { metric: "totalMs", along: "vmMemoryMiB", what: "Total migration time rises with memory" },
    ];
    const out: string[] = [];
    for (const check of checks) {
        const settings = plan.matrix[check.along];
        if (!settings || settings.length < 2) continue;
        const order = check.along === "wanProfile" ? [...settings].sort((a, b) => PROFILE_ORDER.indexOf(a as any) - PROFILE_ORDER.indexOf(b as any))
            : [...settings].sort((a, b) => Number(a) - Number(b));
        const m = METRICS.find((x) => x.key === check.metric)!;
        // One series per combination of the other parameters.
        const series = new Map<string, Cell[]>();
        for (const c of all) {
            const rest = Object.entries(c.params).filter(([k]) => k !== check.along).map(([k, v]) => `${k}=${v}`).join(" ") || "all";
            series.set(rest, [...(series.get(rest) ?? []), c]);
        }
        for (const [rest, cs] of series) {
            const points = order.map((v) => stats.get(check.metric)?.get(cs.find((c) => c.params[check.along] === v)!.key));
            if (points.some((p) => !p)) continue;
            const ps = points as CellStats[];
            const falls = ps.slice(1).flatMap((p, i) => (p.mean < ps[i].mean - p.halfWidth - ps[i].halfWidth ? [`${order[i + 1]} below ${order[i]}`] : []));
            const holds = ps[ps.length - 1].mean > ps[0].mean && !falls.length;
            // The stats are in the metric's unit already (values() scales).
            const shown = ps.map((p, i) => `${order[i]} ${num(p.mean, m.digits)}`).join(" → ");
            out.push(`${holds ? "Trend holds" : "TREND DOES NOT HOLD"}: ${check.what} (${rest}): ${shown} ${m.unit}` +
                (holds ? "." : `${falls.length ? ` (${falls.join(", ")})` : " (the last is not above the first)"}.`));
        }
    }
    return out;
}

/** The TCP survival probe per cell (seed 000 §4.5: "no interruption" in any of its runs). */
export function tcpTable(all: Cell[], rows: RunRow[]): Table | undefined {
    const body = all.map((c) => {
        const rs = rows.filter((r) => r.cell === c.key && r.tcpSurvived !== null && r.tcpSurvived !== undefined);
        const stalls = rs.map((r) => r.tcpStallMs).filter((x): x is number => x !== null && x !== undefined);
        const stall = stalls.length ? describe(stalls) : undefined;
        const retrans = rs.length ? describe(rs.map((r) => r.tcpRetrans ?? 0)).mean : NaN;
        return [c.key, String(rs.length), String(rs.filter((r) => r.tcpSurvived).length), num(stall?.mean ?? NaN, 1), num(stall?.max ?? NaN, 1), num(retrans, 1)];
    });
    if (body.every((r) => r[1] === "0")) return undefined;
    return {
        caption: "TCP survival probe per cell: runs, runs whose connection survived (no recv() of 0 or -1, one connection from before the migration), the longest stall and the guest's retransmitted segments",
        head: ["cell", "runs", "survived", "stall mean (ms)", "stall max (ms)", "retransmissions mean"], rows: body,
    };
}

/** Per cell: the runs that counted their traffic, their mean total and each class's mean MiB and share; beside the studies' splits. */
export function splitTables(plan: Plan, all: Cell[], rows: RunRow[]): { tables: Table[]; points: { cell: string; cls: string; mib: number }[] } {
    const classes = Object.keys(SPLIT_COLUMNS) as (keyof typeof SPLIT_COLUMNS)[];
    const points: { cell: string; cls: string; mib: number }[] = [];
    const body: string[][] = [];
    const measuredShare = new Map<string, { total: number; share: Record<string, number>; n: number }>();
    for (const c of all) {
        const rs = rows.filter((r) => r.cell === c.key && typeof r.trafficMiB === "number");
        if (!rs.length) continue;
        const total = rs.reduce((a, r) => a + r.trafficMiB!, 0) / rs.length;
        const mib = Object.fromEntries(classes.map((k) => [k, rs.reduce((a, r) => a + ((r[SPLIT_COLUMNS[k]] as number | null) ?? 0), 0) / rs.length]));
        const share = Object.fromEntries(classes.map((k) => [k, (100 * mib[k]) / total]));
        measuredShare.set(c.key, { total, share, n: rs.length });
        // Labelled by what varies: a plan's fixed settings would only crowd the axis.
        const label = variedParams(plan).map((p) => String(c.params[p])).join(", ") || c.key;
        for (const k of classes) points.push({ cell: label, cls: k, mib: mib[k] });
        body.push([c.key, String(rs.length), num(total, 1), ...classes.map((k) => `${num(mib[k], 3)} (${num(share[k], 4)} %)`)]);
    }
    if (!body.length) return { tables: [], points };
    const tables: Table[] = [{
        caption: "Traffic split per migration on the router's WAN interfaces (both interfaces, both ways, as seed 000 captured it): mean MiB per run and share of the total",
        head: ["cell", "runs", "total (MiB)", ...classes], rows: body,
    }];
    // Beside the studies' splits, where a cell's memory size has one.
    for (const study of plan.compare) {
        const beside: string[][] = [];
        for (const c of all.filter((x) => cellStudies(plan, x).includes(study))) {
            const ours = measuredShare.get(c.key);
            const ref = STUDY_SPLITS.find((t) => t.study === study && t.memoryMiB === Number(c.params.vmMemoryMiB ?? 256));
            if (!ours || !ref) continue;
            const theirs = (k: string) => (ref.sharePct as Record<string, number>)[k];
            const ourMB = (ours.total * 1048576) / 1e6;
            beside.push([c.key, `${num(ourMB, 1)} MB`, `${num(ref.totalMB, 2)} MB`,
                ...(["migration", "storage", "client", "tunnel"] as const).map((k) => `${num(ours.share[k], 4)} % / ${theirs(k) === undefined ? (k === "storage" || k === "client" ? `${theirs("storage+client")} (storage + client)` : "-") : theirs(k)} %`)]);
        }
        if (beside.length) {
            tables.push({
                caption: `Traffic split measured beside ${STUDY_NAMES[study]} (${STUDY_SPLITS.find((t) => t.study === study)!.source}): total on both interfaces, and each class's share, measured / study`,
                head: ["cell", "total measured", "total study", "migration", "storage", "client", "tunnel"], rows: beside,
            });
        }
    }
    return { tables, points };
}

/** What a report draws on besides the rows: the runs' series over time, and the FTP baseline measured on the lab. */
export interface ReportExtras { traces?: RunTrace[]; baselines?: Baseline[] }

export async function buildReport(plan: Plan, rows: RunRow[], extras: ReportExtras = {}): Promise<Report> {
    const all = cells(plan);
    const tables: Table[] = [];
    const notes: string[] = [];
    const stats = new Map<string, Map<string, CellStats | undefined>>();
    notes.push("Per-cell tables: n, mean, sample standard deviation, min, max, the half-width of the 95 % confidence interval " +
        "of the mean (Student's t, n − 1 degrees of freedom) and that half-width relative to the mean.");
    const flagged = rows.filter((r) => !r.answeredAfter);
    if (flagged.length) {
        notes.push(`${flagged.length} run(s) are left out of the statistics because the VM did not answer the probe after the migration ` +
            `(runs ${flagged.map((r) => r.run).join(", ")}); they remain in runs.csv with answeredAfter = false.`);
    }

    notes.push(rateNote(plan), ...fillNotes(rows), ...reuseNotes(rows));

    for (const m of METRICS) {
        const per = new Map<string, CellStats | undefined>();
        const body: string[][] = [];
        for (const c of all) {
            const xs = values(rows, c.key, m);
            const s = xs.length ? describe(xs) : undefined;
            per.set(c.key, s);
            body.push([c.key, String(s?.n ?? 0), ...(s ? [s.mean, s.sd, s.min, s.max, s.halfWidth].map((v) => num(v, m.digits)) : ["-", "-", "-", "-", "-"]),
                s ? num(s.relHalfWidthPct, 2) : "-"]);
        }
        stats.set(m.key, per);
        // A measurement no run has (the UDP probe's, before it existed) makes no table.
        if (body.every((r) => r[1] === "0")) continue;
        tables.push({
            caption: `${m.title} (${m.unit}) per cell`,
            head: ["cell", "n", "mean", "SD", "min", "max", "95 % CI ±", "rel. %"], rows: body,
        });
    }

    notes.push(...precisionNotes(plan, all, stats), ...trendNotes(plan, all, stats));
    const tcp = tcpTable(all, rows);
    if (tcp) tables.push(tcp);
    const split = splitTables(plan, all, rows);
    tables.push(...split.tables);

    // The studies' tables beside the measured ones, where a cell matches a study's column.
    // (Seeds 003 and 004 have sections of their own, below.)
    for (const study of plan.compare.filter((x) => STUDY_TABLES.some((t) => t.study === x))) {
        for (const m of METRICS.filter((x) => x.study)) {
            const body: string[][] = [];
            for (const c of all.filter((x) => cellStudies(plan, x).includes(study))) {
                const profile = c.params.wanProfile as string | undefined;
                const memory = Number(c.params.vmMemoryMiB ?? 256);
                const table = STUDY_TABLES.find((t) => t.study === study && t.metric === m.study && t.memoryMiB === memory);
                const s = stats.get(m.key)!.get(c.key);
                if (!table || !profile || !s) continue;
                const ref = table.cells[profile as (typeof PROFILE_ORDER)[number]];
                body.push([c.key, `${num(s.mean, m.digits)} ± ${num(s.halfWidth, m.digits)} (n ${s.n})`,
                    `${num(ref.mean, m.digits)} ± ${num(ref.halfWidth, m.digits)} (n ${ref.n})`, table.source,
                    pct((100 * (s.mean - ref.mean)) / ref.mean)]);
            }
            if (body.length) {
                tables.push({
                    caption: `${m.title} (${m.unit}): measured beside ${STUDY_NAMES[study]} (mean ± 95 % CI half-width), difference = (measured − study) / study`,
                    head: ["cell", "measured", STUDY_NAMES[study], "study table", "difference"], rows: body,
                });
            } else {
                notes.push(`${STUDY_NAMES[study]} has no ${m.title.toLowerCase()} table matching this plan's cells (its memory sizes or profiles differ).`);
            }
        }
    }

    const approaches = approachTables(plan, all, rows);
    tables.push(...approaches.tables);
    notes.push(...approaches.notes);
    // Seeds 003 and 004, whose results are per mode and storage, not per WAN profile.
    for (const sec of [seed001Section(plan, all, rows), seed003Section(plan, all, rows, extras.baselines ?? []), seed004Section(plan, all, rows)]) {
        tables.push(...sec.tables);
        notes.push(...sec.notes);
    }

    // Paired differences, repetition i against repetition i: between the series
    // parameter's first value and each other value at each x value, or, with one
    // parameter, between its first value and each other value.
    const { x, series } = axes(plan);
    const compared = series ?? x;
    const values0 = plan.matrix[compared]!;
    const groups: Cell["params"][] = series ? plan.matrix[x]!.map((xv) => ({ [x]: xv })) : [{}];
    // Approaches run in blocks are not paired: their differences are Welch's (above).
    for (const m of METRICS.filter((k) => k.study && compared !== ("stack" as Parameter))) {
        const body: string[][] = [];
        for (const g of groups) {
            const at = (v: string | number) => all.find((c) => c.params[compared] === v && Object.entries(g).every(([k, gv]) => c.params[k as Parameter] === gv))!;
            const b = values(rows, at(values0[0]).key, m);
            for (const other of values0.slice(1)) {
                const a = values(rows, at(other).key, m);
                const n = Math.min(a.length, b.length);
                if (n < 2) continue;
                const d = pairedDifference(a.slice(0, n), b.slice(0, n));
                body.push([Object.entries(g).map(([k, v]) => `${k}=${v}`).join(" ") || "all", `${compared}=${other} − ${compared}=${values0[0]}`,
                    String(n), num(d.mean, m.digits), `[${num(d.mean - d.halfWidth, m.digits)}, ${num(d.mean + d.halfWidth, m.digits)}]`]);
            }
        }
        if (body.length) {
            tables.push({
                caption: `${m.title} (${m.unit}): paired differences (repetition i of one setting against repetition i of the other) with their 95 % CI`,
                head: [series ? x : "at", "difference", "pairs", "mean", "95 % CI"], rows: body,
            });
        }
    }

    const figures = [];
    for (const m of METRICS.filter((k) => k.figure)) {
        // No run measured it (the VM's probe in a plan without one): no figure.
        if ([...stats.get(m.key)!.values()].every((x) => !x)) continue;
        const file = `${m.figure}-vs-${x === "wanProfile" ? "delay" : x}.svg`;
        const title = `${m.title} vs ${AXIS_TITLES[x].replace(/ \(.*/, "")}`;
        figures.push({ file, title, svg: await chart(plan, rows, m, stats.get(m.key)!, title) });
    }
    if (split.points.length) figures.push({ file: "traffic-split.svg", title: "Traffic split per migration", svg: await splitChart(split.points) });
    for (const [key, file, what, unit] of [["streamMbps", "stream-over-time.svg", "The VM's TCP stream", "Mbit/s"], ["rrPerS", "request-response-over-time.svg", "TCP request/response", "transactions/s"]] as const) {
        const lines = alignedMedians(extras.traces ?? [], key);
        if (lines.size) figures.push({ file, title: `${what} around the switchover (median per 100 ms over the runs, per approach)`, svg: await overTimeChart(lines, `${what} (${unit})`) });
    }
    return { tables, figures, notes };
}

/**
 * A plan with a stack axis runs each approach as a block, so the approaches' runs are not
 * paired: per combination of the other settings, each approach's mean against the first's,
 * and the difference with Welch's 95 % interval (seed 000 showed GRE − VXLAN this way).
 */
export function approachTables(plan: Plan, all: Cell[], rows: RunRow[]): { tables: Table[]; notes: string[] } {
    // A plan written before stack axes existed has no stacks: one stack.
    const stacks = plan.stacks ?? [plan.stack];
    if (stacks.length < 2) return { tables: [], notes: [] };
    const [base, ...others] = stacks;
    const rest = (c: Cell) => Object.entries(c.params).filter(([k]) => k !== "stack").map(([k, v]) => `${k}=${v}`).join(" ");
    const groups = [...new Set(all.map(rest))];
    const out: Table[] = [];
    const notes: string[] = [];
    // Where an interval lies: above zero, below it, or across it.
    const side = (d: { diff: number; halfWidth: number }) => (d.diff - d.halfWidth > 0 ? "above" : d.diff + d.halfWidth < 0 ? "below" : "within");
    for (const m of METRICS.filter((k) => k.study)) {
        const body: string[][] = [];
        const sides = new Map<string, { ours: string[]; study: string[] }>();
        for (const g of groups) {
            const at = (stack: string) => all.find((c) => rest(c) === g && c.params.stack === stack)!;
            const a = values(rows, at(base).key, m);
            for (const other of others) {
                const b = values(rows, at(other).key, m);
                if (a.length < 2 || b.length < 2) continue;
                const d = welchDifference(a, b);
                const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
                const sd = studyDifference(plan, at(base), at(other), m);
                const tally = sides.get(other) ?? { ours: [], study: [] };
                tally.ours.push(side(d));
                if (sd) tally.study.push(side(sd));
                sides.set(other, tally);
                body.push([g || "all", `${other} − ${base}`, `${a.length} / ${b.length}`, num(mean(a), m.digits), num(mean(b), m.digits),
                    num(d.diff, m.digits), `[${num(d.diff - d.halfWidth, m.digits)}, ${num(d.diff + d.halfWidth, m.digits)}]`,
                    sd ? `${num(sd.diff, m.digits)} [${num(sd.diff - sd.halfWidth, m.digits)}, ${num(sd.diff + sd.halfWidth, m.digits)}]` : "-"]);
            }
        }
        if (body.length) {
            out.push({
                caption: `${m.title} (${m.unit}): approaches compared, run in blocks (unpaired): difference of the means with Welch's 95 % CI`,
                head: ["cell", "approaches", "n", `mean ${base}`, "mean other", "difference", "95 % CI", "study's difference [95 % CI]"], rows: body,
            });
        }
        for (const [other, t] of sides) {
            const count = (xs: string[], s: string) => xs.filter((x) => x === s).length;
            const say = (xs: string[]) => `above in ${count(xs, "above")}, below in ${count(xs, "below")} and within noise in ${count(xs, "within")} of ${xs.length} cells`;
            notes.push(`${m.title}, ${other} against ${base} (Welch's 95 % interval of the difference): ${say(t.ours)}` +
                (t.study.length ? `; in the studies compared, ${say(t.study)}.` : "."));
        }
    }
    return { tables: out, notes };
}

/**
 * The same difference in the studies each approach is compared with (plan.compareByStack),
 * from their printed n, mean and SD: seed 000's GRE − VXLAN per memory size and profile.
 */
function studyDifference(plan: Plan, a: Cell, b: Cell, m: Metric) {
    const profile = a.params.wanProfile as (typeof PROFILE_ORDER)[number] | undefined;
    if (!plan.compareByStack || !profile || !m.study) return undefined;
    const ref = (c: Cell) => {
        const memory = Number(c.params.vmMemoryMiB ?? 256);
        const t = STUDY_TABLES.find((x) => cellStudies(plan, c).includes(x.study) && x.metric === m.study && x.memoryMiB === memory);
        return t?.cells[profile];
    };
    const ra = ref(a), rb = ref(b);
    return ra && rb ? welchFromSummaries(ra, rb) : undefined;
}

/** Mean MiB per class per cell, on a log scale (the migration stream is 99 % of it). */
async function splitChart(points: { cell: string; cls: string; mib: number }[]): Promise<string> {
    const spec = {
        $schema: "https://vega.github.io/schema/vega-lite/v6.json",
        title: "Traffic per migration on the router's WAN interfaces, by class", background: "white",
        data: { values: points.filter((p) => p.mib > 0) },
        mark: "bar",
        encoding: {
            x: { field: "cell", type: "nominal", title: "cell (its varied settings)", axis: { labelAngle: -30, labelLimit: 400 } },
            xOffset: { field: "cls" },
            y: { field: "mib", type: "quantitative", title: "MiB per run (mean, log scale)", scale: { type: "log" } },
            color: { field: "cls", type: "nominal", title: "class", legend: { orient: "bottom" } },
        },
        width: { step: 60 }, height: 300,
    };
    return vegaSvg(spec);
}

/** One line per stack over time, 0 at the switchover (the migrate command's end). */
async function overTimeChart(lines: Map<string, [number, number][]>, yTitle: string): Promise<string> {
    const values = [...lines.entries()].flatMap(([stack, pts]) => pts.map(([ms, v]) => ({ s: ms / 1000, v, stack })));
    return vegaSvg({
        $schema: "https://vega.github.io/schema/vega-lite/v6.json",
        width: 460, height: 260, background: "white", data: { values },
        mark: { type: "line", interpolate: "step-after", strokeWidth: 1.2 },
        encoding: {
            x: { field: "s", type: "quantitative", title: "time from the end of the migration (s)" },
            y: { field: "v", type: "quantitative", title: yTitle, scale: { domainMin: 0 } },
            color: { field: "stack", type: "nominal", title: null, legend: { orient: "bottom" } },
        },
    });
}

/** A vega-lite spec drawn as SVG, without a browser. */
async function vegaSvg(spec: object): Promise<string> {
    const vega = await import("vega");
    const vl = await import("vega-lite");
    const view = new vega.View(vega.parse(vl.compile(spec as any).spec), { renderer: "none" });
    const svg = await view.toSVG();
    view.finalize();
    return svg;
}

/** A line's label: every varied setting but the x axis (the stack and the memory size, say). */
function seriesLabel(plan: Plan, c: Cell, x: Parameter): string {
    return variedParams(plan).filter((p) => p !== x).map((p) => `${p} ${c.params[p]}`).join(", ");
}

/** Mean with 95 % CI error bars per x value, one line per series; the compared studies' means dashed. */
async function chart(plan: Plan, rows: RunRow[], m: Metric, per: Map<string, CellStats | undefined>, title: string): Promise<string> {
    const { x, series } = axes(plan);
    const points: any[] = [];
    for (const c of cells(plan)) {
        const s = per.get(c.key);
        if (!s) continue;
        const hw = Number.isFinite(s.halfWidth) ? s.halfWidth : 0;
        points.push({
            x: String(c.params[x]), mean: s.mean, lo: s.mean - hw, hi: s.mean + hw,
            series: series ? `measured, ${seriesLabel(plan, c, x)}` : "measured", kind: "measured",
        });
    }
    for (const study of plan.compare) {
        for (const t of STUDY_TABLES.filter((k) => k.study === study && k.metric === m.study)) {
            const memories = plan.matrix.vmMemoryMiB ?? [256];
            if (x !== "wanProfile" || !memories.includes(t.memoryMiB)) continue;
            for (const p of plan.matrix.wanProfile!) {
                const ref = t.cells[p as (typeof PROFILE_ORDER)[number]];
                points.push({ x: p, mean: ref.mean, lo: ref.mean - ref.halfWidth, hi: ref.mean + ref.halfWidth,
                    series: `${STUDY_NAMES[study]}, ${t.memoryMiB} MB (${t.source.replace(/^seed \d+ /, "")})`, kind: "study" });
            }
        }
    }
    const order = x === "wanProfile" ? PROFILE_ORDER.filter((p) => plan.matrix.wanProfile!.includes(p)) : plan.matrix[x]!.map(String);
    const xEnc = { field: "x", type: "ordinal", sort: order, title: AXIS_TITLES[x], axis: { labelAngle: 0 }, scale: { type: "point", padding: 0.4 } };
    const yTitle = `${m.title} (${m.unit}), mean and 95 % CI`;
    const spec = {
        $schema: "https://vega.github.io/schema/vega-lite/v6.json",
        title, width: 460, height: 300, background: "white",
        data: { values: points },
        encoding: { x: xEnc, color: { field: "series", type: "nominal", title: null, legend: { orient: "bottom", columns: 1, labelLimit: 480 } } },
        layer: [
            { mark: { type: "line", point: true }, encoding: {
                y: { field: "mean", type: "quantitative", title: yTitle, scale: { domainMin: 0 } },
                strokeDash: { field: "kind", type: "nominal", scale: { domain: ["measured", "study"], range: [[1, 0], [6, 4]] }, legend: null },
            } },
            { mark: { type: "errorbar", ticks: { size: 10 }, clip: true }, encoding: { y: { field: "lo", type: "quantitative", title: yTitle }, y2: { field: "hi" } } },
        ],
    };
    return vegaSvg(spec);
}

const mdCell = (s: string) => s.replace(/\|/g, "\\|");
const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function markdown(plan: Plan, rows: RunRow[], r: Report, header: string[]): string {
    const out = [`# ${plan.name}`, "", ...(plan.description ? [plan.description, ""] : []), ...header.map((h) => `- ${h}`), ""];
    for (const n of r.notes) out.push(`> ${n}`, "");
    for (const f of [...(r.topology ? [r.topology] : []), ...r.figures]) out.push(`![${f.title}](${f.file})`, "");
    for (const t of r.tables) {
        out.push(`**${t.caption}**`, "", `| ${t.head.map(mdCell).join(" | ")} |`, `|${t.head.map(() => "---").join("|")}|`);
        for (const row of t.rows) out.push(`| ${row.map(mdCell).join(" | ")} |`);
        out.push("");
    }
    return out.join("\n");
}

export function html(plan: Plan, rows: RunRow[], r: Report, header: string[]): string {
    const parts = [
        "<!doctype html>", `<html lang="en"><head><meta charset="utf-8"><title>${esc(plan.name)}</title>`,
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse;margin:1em 0}" +
        "td,th{border:1px solid #bbb;padding:.2em .5em;text-align:right}td:first-child{text-align:left}caption{font-weight:bold;text-align:left}</style>",
        "</head><body>", `<h1>${esc(plan.name)}</h1>`, ...(plan.description ? [`<p>${esc(plan.description)}</p>`] : []),
        `<ul>${header.map((h) => `<li>${esc(h)}</li>`).join("")}</ul>`,
        ...r.notes.map((n) => `<blockquote>${esc(n)}</blockquote>`),
        ...[...(r.topology ? [r.topology] : []), ...r.figures].map((f) => `<figure>${f.svg}<figcaption>${esc(f.title)}</figcaption></figure>`),
    ];
    for (const t of r.tables) {
        parts.push(`<table><caption>${esc(t.caption)}</caption><tr>${t.head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr>`);
        for (const row of t.rows) parts.push(`<tr>${row.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`);
        parts.push("</table>");
    }
    parts.push("</body></html>", "");
    return parts.join("\n");
}

/** The plan's lab, drawn from its stack file; a note instead if the file is gone or no longer valid. */
export async function topology(plan: Plan, notes: string[]): Promise<Figure | undefined> {
    const file = path.resolve(ROOT, plan.spec);
    try {
        const svg = await toSvg(labGraph(loadSpec(file)));
        return { file: "topology.svg", title: `The lab: stack ${plan.stack}, from ${plan.spec}`, svg };
    } catch (err: any) {
        notes.push(`No drawing of the lab: ${plan.spec} could not be read (${String(err?.message ?? err).split("\n")[0]}).`);
        return undefined;
    }
}

/** Write report.md, report.html, the figures and the lab's drawing into dir. Returns the files written. */
export async function writeReport(dir: string, plan: Plan, rows: RunRow[], header: string[], extras: ReportExtras = {}): Promise<string[]> {
    const r = await buildReport(plan, rows, extras);
    r.topology = await topology(plan, r.notes);
    const files: string[] = [];
    for (const f of [...(r.topology ? [r.topology] : []), ...r.figures]) {
        fs.writeFileSync(path.join(dir, f.file), f.svg);
        files.push(path.join(dir, f.file));
    }
    fs.writeFileSync(path.join(dir, "report.md"), markdown(plan, rows, r, header));
    fs.writeFileSync(path.join(dir, "report.html"), html(plan, rows, r, header));
    files.push(path.join(dir, "report.md"), path.join(dir, "report.html"));
    return files;
}
