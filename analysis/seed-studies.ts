// Seeds 001 (its signalling), 003 and 004 beside the measured runs. Their results are not tables per WAN profile
// (seeds 000 and 001, studies.ts) but per networking mode and image size (seed 003 §4: one
// run each) and per storage mode (seed 004 §4.1: a min-max range, and one ratio), so they
// get sections of their own. Studies' figures are data, as printed.
import type { Cell, Plan } from "../model/plan";
import { cellStack } from "../model/plan";
import type { RunRow, RunTrace } from "./results";
import { measured } from "./results";
import { describe, welchDifference } from "./stats";

export type Seed003Mode = "intra" | "nat" | "bridged";

/** Seed 003 §4.1-4.2: migration and FTP times (s) of the 500 and 720 MB "images", one run each. */
export const SEED003 = {
    migrationS: { intra: { 500: 9, 720: 12 }, nat: { 500: 73, 720: 96 }, bridged: { 500: 124, 720: 168 } } as Record<Seed003Mode, Record<number, number>>,
    ftpS: { intra: { 500: 6.3, 720: 8.5 }, inter: { 500: 42.8, 720: 61.6 } } as Record<"intra" | "inter", Record<number, number>>,
};

/** Seed 004 §4.1: total migration time's range over repeated runs (s), and TCP stream throughput shared / non-shared. */
export const SEED004 = { migrationS: { shared: [78, 135], local: [141, 198] }, streamRatio: 1.125 };

/** The mode a seed 003 stack runs (by its name: seed003-intra, seed003-nat, seed003-bridged). */
export const seed003Mode = (stack: string): Seed003Mode | undefined => (["intra", "nat", "bridged"] as const).find((m) => stack.endsWith(`-${m}`));
/** The storage a seed 004 stack has (seed004-shared, seed004-local). */
export const seed004Storage = (stack: string): "shared" | "local" | undefined => (["shared", "local"] as const).find((m) => stack.endsWith(`-${m}`));

/** The FTP baseline measured on the lab (bench/ftp-baseline.sh): seconds per path and size. */
export interface Baseline { path: "intra" | "inter"; stack: string; mib: number; seconds: number[] }

interface Table { caption: string; head: string[]; rows: string[][] }
const num = (x: number | null | undefined, d: number) => (x === null || x === undefined || !Number.isFinite(x) ? "-" : x.toFixed(d));
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const rowsOf = (rows: RunRow[], cell: string) => rows.filter((r) => r.cell === cell);

/** Seed 003's table (migration time per mode and size, the FTP baseline, their ratio) and the replies lost per mode. */
export function seed003Section(plan: Plan, all: Cell[], rows: RunRow[], baselines: Baseline[]): { tables: Table[]; notes: string[] } {
    if (!plan.compare.includes("seed003")) return { tables: [], notes: [] };
    const body: string[][] = [];
    const lost: string[][] = [];
    for (const c of all) {
        const mode = seed003Mode(cellStack(plan, c));
        const mib = Number(c.params.vmMemoryMiB);
        if (!mode) continue;
        const tmt = measured(rowsOf(rows, c.key), "totalMs").map((x) => x / 1000);
        const s = tmt.length ? describe(tmt) : undefined;
        const study = SEED003.migrationS[mode][mib];
        const path = mode === "intra" ? "intra" : "inter";
        // The path's baseline, from whichever stack it was measured on (NAT and bridged share their links).
        const ftp = baselines.filter((b) => b.path === path && b.mib === mib).flatMap((b) => b.seconds);
        const studyFtp = SEED003.ftpS[path][mib];
        body.push([c.key, s ? `${num(s.mean, 2)} ± ${num(s.halfWidth, 2)} (n ${s.n})` : "-", num(study, 0),
            ftp.length ? num(mean(ftp), 2) : "-", num(studyFtp, 1),
            s && ftp.length ? num(s.mean / mean(ftp), 2) : "-", study && studyFtp ? num(study / studyFtp, 2) : "-"]);
        const r = rowsOf(rows, c.key);
        const l = r.map((x) => x.vmRepliesLost).filter((x): x is number => x !== null && x !== undefined);
        const late = r.map((x) => x.vmRepliesLate).filter((x): x is number => x !== null && x !== undefined);
        const gap = r.map((x) => x.vmForwardGapMs).filter((x): x is number => x !== null && x !== undefined);
        if (l.length) {
            lost.push([c.key, String(l.length), num(mean(l), 2), String(Math.max(...l)), String(l.filter((x) => x > 0).length),
                num(mean(late), 2), num(mean(gap), 1), String(r.filter((x) => x.vmSourceChanged).length)]);
        }
    }
    const tables: Table[] = [];
    if (body.length) {
        tables.push({
            caption: "Seed 003 §4 beside the lab: total migration time (s, mean ± 95 % CI half-width) per mode and size, the FTP baseline (s) over the same path, and migration / FTP",
            head: ["cell", "migration (lab)", "migration (seed 003)", "FTP (lab)", "FTP (seed 003)", "migration / FTP (lab)", "migration / FTP (seed 003)"], rows: body,
        });
    }
    if (lost.length) {
        tables.push({
            caption: "Seed 003 §4.3 (a graph with no numbers in the text): the VM's probe to the proxy every 10 ms through each migration: replies lost on the way back, late, the forward gap, and the runs whose source address changed (a NAT move)",
            head: ["cell", "runs", "lost (mean)", "lost (max)", "runs with a loss", "late (mean)", "forward gap (ms, mean)", "source changed"], rows: lost,
        });
    }
    const notes = body.length ? ["Seed 003's figures are single runs; its 500 and 720 MB were probably disk images (003.md §5), migrated here as memory of that size (the disk is on NFS: a migration copies memory only)."] : [];
    return { tables, notes };
}

/** Seed 004's section: local against shared per cell (total time, disk copy, stream, request/response), and the stream ratio beside 1.125. */
export function seed004Section(plan: Plan, all: Cell[], rows: RunRow[]): { tables: Table[]; notes: string[] } {
    if (!plan.compare.includes("seed004")) return { tables: [], notes: [] };
    const rest = (c: Cell) => Object.entries(c.params).filter(([k]) => k !== "stack").map(([k, v]) => `${k}=${v}`).join(" ");
    const body: string[][] = [];
    const ratios: number[] = [];
    for (const g of [...new Set(all.map(rest))]) {
        const at = (storage: "shared" | "local") => all.find((c) => rest(c) === g && seed004Storage(cellStack(plan, c)) === storage);
        const [sh, lo] = [at("shared"), at("local")];
        if (!sh || !lo) continue;
        const v = (c: Cell, k: Parameters<typeof measured>[1]) => measured(rowsOf(rows, c.key), k);
        const t = [v(sh, "totalMs"), v(lo, "totalMs")].map((xs) => xs.map((x) => x / 1000));
        if (t[0].length < 2 || t[1].length < 2) continue;
        // welchDifference(a, b) is b − a: local − shared.
        const d = welchDifference(t[0], t[1]);
        const stream = [mean(v(sh, "streamDuringMbps")), mean(v(lo, "streamDuringMbps"))];
        const rr = [mean(v(sh, "rrDuringPerS")), mean(v(lo, "rrDuringPerS"))];
        if (Number.isFinite(stream[0] / stream[1])) ratios.push(stream[0] / stream[1]);
        body.push([g, `${num(mean(t[0]), 1)} [${num(Math.min(...t[0]), 1)}, ${num(Math.max(...t[0]), 1)}]`,
            `${num(mean(t[1]), 1)} [${num(Math.min(...t[1]), 1)}, ${num(Math.max(...t[1]), 1)}]`,
            `${num(d.diff, 1)} [${num(d.diff - d.halfWidth, 1)}, ${num(d.diff + d.halfWidth, 1)}]`,
            num(mean(v(lo, "diskDoneMs")) / 1000, 1), `${num(stream[0], 2)} / ${num(stream[1], 2)}`, num(stream[0] / stream[1], 3),
            `${num(rr[0], 0)} / ${num(rr[1], 0)}`]);
    }
    if (!body.length) return { tables: [], notes: [] };
    return {
        tables: [{
            caption: `Seed 004 §4.1 beside the lab: total migration time (s, mean [min, max]), shared disk against local (copied along), their difference with Welch's 95 % CI, ` +
                `when the disk's copy was through, and TCP during the migration (stream Mbit/s and request/response per s, shared / local). Seed 004: shared ${SEED004.migrationS.shared.join("-")} s, ` +
                `non-shared ${SEED004.migrationS.local.join("-")} s (+63 s at both ends), stream shared / non-shared ${SEED004.streamRatio}`,
            head: ["cell", "shared (s)", "local (s)", "local − shared [95 % CI]", "disk copied at (s)", "stream during (Mbit/s)", "stream ratio", "request/response during (/s)"],
            rows: body,
        }],
        notes: [`The stream's throughput during the migration, shared over local: ${ratios.map((r) => r.toFixed(3)).join(", ")} per cell (seed 004: ${SEED004.streamRatio}, its Tables 1-2 missing from the text).`],
    };
}

/** Seed 001 §3.6 and Fig. 11: PMIPv6's signalling per migration (about 660.8 B of RADIUS, PBU and PBA on the LMA's links). */
export const SEED001 = { signallingBytes: 660.8, tcpBreaks: 0 };

/** Seed 001: the downtime PMIPv6 adds, in its parts (§3.6), the trigger that detected the VM, the signalling bytes, TCP breaks. */
export function seed001Section(plan: Plan, all: Cell[], rows: RunRow[]): { tables: Table[]; notes: string[] } {
    if (!plan.compare.includes("seed001-pmipv6")) return { tables: [], notes: [] };
    const body: string[][] = [];
    const triggers = new Map<string, number>();
    for (const c of all) {
        const rs = rowsOf(rows, c.key);
        if (!rs.some((r) => r.pmipMs !== undefined && r.pmipMs !== null)) continue;
        for (const r of rs) if (r.pmipTrigger) triggers.set(r.pmipTrigger, (triggers.get(r.pmipTrigger) ?? 0) + 1);
        const v = (k: Parameters<typeof measured>[1]) => measured(rs, k);
        const tcp = rs.filter((r) => r.tcpSurvived !== null && r.tcpSurvived !== undefined);
        body.push([c.key, String(rs.length), num(mean(v("probeDowntimeMs")), 0), num(mean(v("pmipMs")), 1), num(mean(v("pmipAuthMs")), 1), num(mean(v("pmipRegMs")), 1),
            num(mean(rs.filter((r) => r.trafficMobilityBytes != null).map((r) => r.trafficMobilityBytes! + (r.trafficRadiusBytes ?? 0))), 0),
            `${tcp.filter((r) => !r.tcpSurvived).length} of ${tcp.length}`]);
    }
    if (!body.length) return { tables: [], notes: [] };
    return {
        tables: [{
            caption: "Seed 001 §3.6 in the lab: the probe's downtime, and the part PMIPv6 adds after the VM is back, attach detected to RA sent on the new MAG (D_mov.det + D_auth + D_reg + the MAG's own steps), " +
                "with its RADIUS (authorization) and PBU/PBA (registration) round trips (ms, means); the signalling on the LMA's WAN links per run, Mobility Header and RADIUS " +
                `(bytes, the runs with the traffic split; seed 001 Fig. 11: ${SEED001.signallingBytes} B), and the TCP connections broken (seed 001: none in 70 runs a delay)`,
            head: ["cell", "runs", "downtime (ms)", "attach → RA (ms)", "RADIUS (ms)", "PBU → PBA (ms)", "signalling (B)", "TCP broken"],
            rows: body,
        }],
        notes: [`What told the new MAG the VM had arrived: ${[...triggers].map(([k, n]) => `${k === "rarp" ? "QEMU's RARP announce" : k === "na" ? "the VM's unsolicited NA" : k} in ${n} runs`).join(", ")}. ` +
            "Seed 001's Xen guests announced themselves with an unsolicited NA, which the study patched pmip6d to take (its hasNA hunk); here QEMU's RARP reaches the MAG first, and the lab's MAG takes either."],
    };
}

/** The median of the traces' series per stack, aligned on the switchover (the migrate command's end): [ms from it, value]. */
export function alignedMedians(traces: RunTrace[], key: "streamMbps" | "rrPerS", binMs = 100): Map<string, [number, number][]> {
    const out = new Map<string, [number, number][]>();
    for (const stack of [...new Set(traces.map((t) => t.stack))]) {
        const bins = new Map<number, number[]>();
        for (const t of traces.filter((x) => x.stack === stack)) {
            for (const [ms, v] of t[key] ?? []) {
                const k = Math.round((ms - t.totalMs) / binMs);
                const xs = bins.get(k) ?? [];
                xs.push(v);
                bins.set(k, xs);
            }
        }
        const med = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const h = s.length >> 1; return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2; };
        out.set(stack, [...bins.entries()].sort((a, b) => a[0] - b[0]).map(([k, xs]) => [k * binMs, med(xs)]));
    }
    return out;
}
