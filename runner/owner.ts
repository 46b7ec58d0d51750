// Who owns a test backend (/tmp/wanlab-test-state-*): the process that made the Engine,
// by pid and start time (a pid the kernel gives again to another process has another start
// time), the checkout it runs in and the stacks it made. The sweep (runner/sweep.ts) cleans
// up after an owner that is gone, and leaves alone a backend whose owner still runs.
import * as fs from "node:fs";
import * as path from "node:path";

export const OWNER_FILE = "wanlab-owner.json";

export interface Owner {
    pid: number;
    /** Field 22 of /proc/<pid>/stat: the process's start, in clock ticks since boot. */
    start: string;
    /** The checkout whose Pulumi.<stack>.yaml files the stacks use. */
    root: string;
    /** Every stack the owner made or was about to make (recorded before `stack init`). */
    stacks: string[];
}

/** A process's state letter and start time from /proc/<pid>/stat; undefined when there is no such process. */
function processStat(pid: number): { state: string; start: string } | undefined {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        // The command name, in parentheses, may hold spaces and parentheses: count from the last ')'.
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        return { state: fields[0], start: fields[19] }; // fields 3 and 22 overall
    } catch {
        return undefined;
    }
}

/** A process's start time (clock ticks since boot), or undefined when there is no such process. */
export function processStart(pid: number): string | undefined {
    return processStat(pid)?.start;
}

/** Whether the owner still runs: the same pid with the same start time, and not a zombie. */
export function ownerAlive(owner: Owner): boolean {
    const stat = processStat(owner.pid);
    return stat !== undefined && stat.start === owner.start && stat.state !== "Z" && stat.state !== "X";
}

/** Write this process as the backend's owner, with its stacks (atomically: a reader sees all or nothing). */
export function recordOwner(backend: string, root: string, stacks: Iterable<string>) {
    const owner: Owner = { pid: process.pid, start: processStart(process.pid) ?? "", root, stacks: [...stacks] };
    const file = path.join(backend, OWNER_FILE);
    fs.writeFileSync(`${file}.new`, JSON.stringify(owner) + "\n");
    fs.renameSync(`${file}.new`, file);
}

/** The backend's recorded owner; undefined when none is recorded, null when the record is unreadable. */
export function readOwner(backend: string): Owner | undefined | null {
    let text: string;
    try {
        text = fs.readFileSync(path.join(backend, OWNER_FILE), "utf8");
    } catch {
        return undefined;
    }
    try {
        const o = JSON.parse(text);
        if (typeof o.pid !== "number" || typeof o.start !== "string" || !Array.isArray(o.stacks)) return null;
        return { pid: o.pid, start: o.start, root: typeof o.root === "string" ? o.root : "", stacks: o.stacks.map(String) };
    } catch {
        return null;
    }
}
