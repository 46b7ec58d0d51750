// The runner's progress line: runs done of the plan's total, the cell and repetition under
// way, elapsed time and an ETA from this session's pace. Redrawn in place on a terminal;
// elsewhere (CI, a log file) printed as a line whenever it changes.

export function duration(s: number): string {
    if (!Number.isFinite(s)) return "?";
    s = Math.round(s);
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    return h ? `${h}h${String(m).padStart(2, "0")}m` : m ? `${m}m${String(sec).padStart(2, "0")}s` : `${sec}s`;
}

export class Progress {
    private readonly t0 = Date.now();
    private runsThisSession = 0;
    private line = "";

    constructor(private readonly out: NodeJS.WriteStream = process.stderr) {}

    /** A run finished in this session (the ETA's pace counts only these). */
    ran() {
        this.runsThisSession++;
    }

    /** Draw the bar: done of total runs (total may be a lower bound: "≥"), and what is under way. */
    show(done: number, total: number, atLeast: boolean, doing: string) {
        const width = 24;
        const filled = total ? Math.min(width, Math.round((width * done) / total)) : 0;
        const elapsed = (Date.now() - this.t0) / 1000;
        const eta = this.runsThisSession ? (elapsed / this.runsThisSession) * Math.max(0, total - done) : NaN;
        this.line = `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${atLeast ? "≥" : ""}${total} runs · ${doing} · ` +
            `${duration(elapsed)} elapsed · ETA ${atLeast && Number.isFinite(eta) ? "≥" : ""}${duration(eta)}`;
        if (this.out.isTTY) this.out.write(`\r\x1b[K${this.line}`);
        else this.out.write(`${this.line}\n`);
    }

    /** Print a line above the bar (a run's result, a warning). */
    say(text: string) {
        if (this.out.isTTY) this.out.write(`\r\x1b[K${text}\n${this.line}`);
        else this.out.write(`${text}\n`);
    }

    end() {
        if (this.out.isTTY && this.line) this.out.write("\n");
    }
}
