// The studies' statistics (seed 001 §4.5, after Law & Kelton): per cell n, mean, sample
// standard deviation, min, max, the 95 % confidence-interval half-width and the relative
// half-width; paired differences between two approaches or settings; and seed 001's
// rule for how many runs reach a relative half-width target. The t quantile comes from
// jStat.
import { jStat } from "jstat";

export type Interval = "t" | "normal";

export interface CellStats {
    n: number; mean: number; sd: number; min: number; max: number;
    /** Half-width of the confidence interval of the mean. */
    halfWidth: number;
    /** halfWidth / |mean|, in percent (seed 001's "relative half-length"). */
    relHalfWidthPct: number;
}

/**
 * Half-width of the confidence interval of a mean from its SD and n: Student's t with
 * n - 1 degrees of freedom (seed 001), or the normal 1.96 (what seed 000's tables used).
 */
export function halfWidth(sd: number, n: number, confidence = 0.95, interval: Interval = "t"): number {
    if (n < 2) return NaN;
    const p = 1 - (1 - confidence) / 2;
    const q = interval === "t" ? jStat.studentt.inv(p, n - 1) : jStat.normal.inv(p, 0, 1);
    return (q * sd) / Math.sqrt(n);
}

export function describe(xs: number[], confidence = 0.95, interval: Interval = "t"): CellStats {
    const n = xs.length;
    if (n === 0) throw new Error("no samples");
    const mean = xs.reduce((a, b) => a + b, 0) / n;
    const sd = n > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1)) : NaN;
    const hw = halfWidth(sd, n, confidence, interval);
    return { n, mean, sd, min: Math.min(...xs), max: Math.max(...xs), halfWidth: hw, relHalfWidthPct: (100 * hw) / Math.abs(mean) };
}

/** Paired differences a[i] - b[i] (the same repetition under two approaches or settings). */
export function pairedDifference(a: number[], b: number[], confidence = 0.95): CellStats {
    if (a.length !== b.length) throw new Error(`paired samples differ in length: ${a.length} and ${b.length}`);
    return describe(a.map((x, i) => x - b[i]), confidence);
}

/**
 * Seed 001's equation (3): the fewest runs i >= n whose relative half-width, with the
 * first n runs' mean and variance, reaches gamma (0.05 for 5 %), using gamma' = gamma/(1+gamma).
 */
export function runsNeeded(mean: number, sd: number, n: number, gamma: number, confidence = 0.95, maxRuns = 100000): number {
    const target = gamma / (1 + gamma);
    const p = 1 - (1 - confidence) / 2;
    for (let i = Math.max(n, 2); i <= maxRuns; i++) {
        if ((jStat.studentt.inv(p, i - 1) * Math.sqrt((sd * sd) / i)) / Math.abs(mean) <= target) return i;
    }
    return Infinity;
}

/**
 * Two independent samples (approaches run in blocks, not paired): the difference of their
 * means b − a and its Welch interval (unequal variances, Welch–Satterthwaite degrees of freedom).
 */
export function welchDifference(a: number[], b: number[], confidence = 0.95): { diff: number; halfWidth: number; df: number } {
    return welchFromSummaries(describe(a), describe(b), confidence);
}

/** The same from each sample's n, mean and SD (a study's printed table). */
export function welchFromSummaries(sa: { n: number; mean: number; sd: number }, sb: { n: number; mean: number; sd: number }, confidence = 0.95) {
    const va = (sa.sd * sa.sd) / sa.n, vb = (sb.sd * sb.sd) / sb.n;
    const df = (va + vb) ** 2 / ((va * va) / (sa.n - 1) + (vb * vb) / (sb.n - 1));
    const q = jStat.studentt.inv(1 - (1 - confidence) / 2, df);
    return { diff: sb.mean - sa.mean, halfWidth: q * Math.sqrt(va + vb), df };
}
