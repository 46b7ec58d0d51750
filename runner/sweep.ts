// The sweep: what tests left behind when they were killed before their cleanup() (Ctrl-C
// or SIGKILL of `npm test`). `npm test` runs it before the tests, `npm run lab:down` after
// its destroy; `node --import tsx runner/sweep.ts` runs it by hand.
//
// 1. Each throwaway backend (/tmp/wanlab-test-state-*) whose recorded owner is gone
//    (runner/owner.ts): for each of its stacks, with that backend and the tests'
//    passphrase, `pulumi cancel`, `pulumi refresh --clear-pending-creates` when the dead
//    engine left creates pending, `pulumi destroy`, `pulumi stack rm --force`; then the
//    stack's Pulumi.<stack>.yaml (test stacks only: t-*, bench-*) and the backend.
// 2. The last resort, for test stacks (t-*) no live test owns: what is still on the machine
//    (processes in their namespaces, mounts under /run/wanlab/<stack>/, the namespaces,
//    the directory), by runner/sweep-lab.sh; and their leftover Pulumi.t-*.yaml files.
//
// A backend whose owner still runs (a parallel test run), and every stack it owns, is left
// alone, as is every stack of the user's (any name not starting t- or bench-). A backend
// with no owner record (made before owners were recorded) counts as gone only once nothing
// in it has changed for OWNERLESS_HOURS.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { engineEnv, ROOT } from "./engine";
import { Owner, ownerAlive, readOwner } from "./owner";

export const BACKEND_PREFIX = "wanlab-test-state-";
export const PASSPHRASE = "wanlab-test";
const OWNERLESS_HOURS = 6;
/** Stacks made by tests and the benchmark: the only ones whose files the sweep removes. */
export const isTestStack = (stack: string) => /^(t|bench)-[A-Za-z0-9._-]+$/.test(stack);
/** Stacks whose lab the last resort may take apart. */
const isLabTestStack = (stack: string) => /^t-[A-Za-z0-9._-]+$/.test(stack);

interface StackRef { project: string; stack: string }

interface Backend {
    dir: string;
    owner: Owner | undefined | null;
    /** Alive: the owner runs (or may: no readable record, and recent). */
    alive: boolean;
    why: string;
    stacks: StackRef[];
}

/** The stacks a file backend holds, by project: .pulumi/stacks/<project>/<stack>.json. */
function backendStacks(dir: string): StackRef[] {
    const root = path.join(dir, ".pulumi", "stacks");
    const out: StackRef[] = [];
    for (const project of safeReaddir(root)) {
        for (const f of safeReaddir(path.join(root, project))) {
            const m = /^(.+)\.json$/.exec(f);
            if (m) out.push({ project, stack: m[1] });
        }
    }
    return out;
}

function safeReaddir(dir: string): string[] {
    try {
        return fs.readdirSync(dir);
    } catch {
        return [];
    }
}

/** The newest modification time of anything in the tree, in ms. */
function newestChange(dir: string): number {
    let newest = 0;
    const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            const p = path.join(d, e.name);
            try {
                newest = Math.max(newest, fs.lstatSync(p).mtimeMs);
                if (e.isDirectory()) walk(p);
            } catch { /* gone meanwhile */ }
        }
    };
    try {
        newest = fs.lstatSync(dir).mtimeMs;
        walk(dir);
    } catch { /* gone meanwhile */ }
    return newest;
}

/**
 * The engine processes (the CLI, its plugins) still working on a backend: a test killed on
 * its own leaves its `pulumi up` running, and the plugins of a killed engine take a second
 * to leave. The lab's daemons have the backend in their environment too, so only the CLI
 * and the project's engine plugins count.
 */
export function engineProcesses(backend: string): number[] {
    const needle = `PULUMI_BACKEND_URL=file://${backend}\0`;
    return safeReaddir("/proc").filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid).filter((p) => {
        try {
            if (!fs.readFileSync(`/proc/${p}/environ`, "latin1").includes(needle)) return false;
            const argv = fs.readFileSync(`/proc/${p}/cmdline`, "latin1").split("\0");
            return /^pulumi/.test(path.basename(argv[0])) || argv.some((a) => a.startsWith(path.join(ROOT, "tools", "engine") + path.sep));
        } catch {
            return false;
        }
    }).map(Number);
}

/** Every test backend in the temporary directory, with whether its owner is alive. */
export function testBackends(tmp = os.tmpdir()): Backend[] {
    return safeReaddir(tmp).filter((n) => n.startsWith(BACKEND_PREFIX)).map((n) => path.join(tmp, n))
        .filter((dir) => { try { return fs.lstatSync(dir).isDirectory(); } catch { return false; } })
        .map((dir) => {
            const owner = readOwner(dir);
            const stacks = backendStacks(dir);
            for (const s of owner?.stacks ?? []) {
                if (!stacks.some((r) => r.project === "wanlab" && r.stack === s)) stacks.push({ project: "wanlab", stack: s });
            }
            if (owner) {
                if (ownerAlive(owner)) return { dir, owner, stacks, alive: true, why: `owner pid ${owner.pid} still runs` };
                const engine = engineProcesses(dir);
                if (engine.length) return { dir, owner, stacks, alive: true, why: `owner pid ${owner.pid} is gone, its engine still runs (pid ${engine.join(", ")})` };
                return { dir, owner, stacks, alive: false, why: `owner pid ${owner.pid} is gone` };
            }
            const idleHours = (Date.now() - newestChange(dir)) / 3.6e6;
            const alive = idleHours < OWNERLESS_HOURS;
            const what = owner === null ? "an unreadable owner record" : "no owner recorded";
            return { dir, owner, stacks, alive, why: `${what}, last changed ${idleHours.toFixed(1)} h ago` };
        });
}

/** The environment of the tests' engine, for that backend. */
function backendEnv(dir: string): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
        ...process.env,
        ...engineEnv(),
        PULUMI_BACKEND_URL: `file://${dir}`,
        PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
        PULUMI_HOME: path.join(ROOT, ".tools", "pulumi-home"),
    };
    delete env.PULUMI_CONFIG_PASSPHRASE_FILE;
    return env;
}

/** The first error line of the engine's output, to say why a step failed. */
function reason(out: string): string {
    const lines = out.split("\n").map((l) => l.trim()).filter(Boolean);
    return (lines.find((l) => /^error:/.test(l)) ?? lines[lines.length - 1] ?? "no output").slice(0, 300);
}

/**
 * Destroy and remove one stack of a dead owner's backend. The CLI runs in a directory of
 * its own holding a copy of the project file and of the stack's configuration (or a
 * placeholder): `pulumi stack rm` deletes the configuration file of the directory it runs
 * in, and must never reach the checkout's own files.
 */
function destroyStack(b: Backend, ref: StackRef, root: string, say: (l: string) => void): boolean {
    const name = ref.stack;
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "wanlab-sweep-"));
    try {
        const project = path.join(root, "Pulumi.yaml");
        if (ref.project === "wanlab" && fs.existsSync(project)) fs.copyFileSync(project, path.join(work, "Pulumi.yaml"));
        else fs.writeFileSync(path.join(work, "Pulumi.yaml"), `name: ${ref.project}\nruntime: nodejs\n`);
        const config = path.join(root, `Pulumi.${name}.yaml`);
        if (ref.project === "wanlab" && isTestStack(name) && fs.existsSync(config)) fs.copyFileSync(config, path.join(work, `Pulumi.${name}.yaml`));
        // destroy runs no program, but the project's required settings must have a value.
        else if (ref.project === "wanlab") fs.writeFileSync(path.join(work, `Pulumi.${name}.yaml`), "config:\n  wanlab:spec: /dev/null\n");
        const env = backendEnv(b.dir);
        const stackArg = `organization/${ref.project}/${name}`;
        const pulumi = (...args: string[]) => {
            const r = spawnSync("pulumi", [...args, "--stack", stackArg], { cwd: work, env, encoding: "utf8", maxBuffer: 64 << 20 });
            return { code: r.status ?? -1, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
        };
        const exported = pulumi("stack", "export");
        let resources = 0;
        let pending = 0;
        if (exported.code === 0) {
            try {
                const d = JSON.parse(exported.out.slice(exported.out.indexOf("{"))).deployment ?? {};
                resources = (d.resources ?? []).filter((r: any) => !/^pulumi:(pulumi|providers):/.test(r.type)).length;
                pending = (d.pending_operations ?? []).length;
            } catch { /* read as empty */ }
        }
        // The dead engine's lock (cancel answers the same whether there was one or not).
        const locked = safeReaddir(path.join(b.dir, ".pulumi", "locks", "organization", ref.project, name)).length > 0;
        const cancel = pulumi("cancel", "--yes");
        if (locked) say(cancel.code === 0 ? `${name}: removed the lock of the killed engine` : `${name}: cancel failed: ${reason(cancel.out)}`);
        if (pending > 0) {
            const r = pulumi("refresh", "--yes", "--clear-pending-creates", "--skip-preview");
            say(r.code === 0 ? `${name}: cleared ${pending} operations the killed engine left pending`
                : `${name}: refresh failed: ${reason(r.out)}`);
        }
        let destroyed = true;
        if (resources > 0) {
            const r = pulumi("destroy", "--yes", "--skip-preview");
            destroyed = r.code === 0;
            say(destroyed ? `${name}: destroyed its ${resources} resources` : `${name}: destroy failed: ${reason(r.out)}`);
        }
        if (exported.code === 0 || fs.existsSync(path.join(b.dir, ".pulumi", "stacks", ref.project, `${name}.json`))) {
            const r = pulumi("stack", "rm", "--yes", "--force");
            say(r.code === 0 ? `${name}: removed the stack from ${b.dir}` : `${name}: stack rm failed: ${reason(r.out)}`);
        }
        return destroyed;
    } finally {
        fs.rmSync(work, { recursive: true, force: true });
    }
}

/** Remove the checkout's Pulumi.<stack>.yaml of a test stack, and the spec directory a test made for it. */
function removeStackFiles(stack: string, root: string, say: (l: string) => void) {
    if (!isTestStack(stack)) return;
    const config = path.join(root, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(config)) return;
    // The tests copy their experiment file into a directory of their own: remove it too.
    const spec = /^\s*wanlab:spec:\s*(\S+)\s*$/m.exec(fs.readFileSync(config, "utf8"))?.[1];
    fs.rmSync(config, { force: true });
    say(`${stack}: removed ${path.relative(process.cwd(), config) || config}`);
    const tmp = os.tmpdir();
    if (spec && path.dirname(path.dirname(spec)) === tmp && path.basename(path.dirname(spec)).startsWith("wanlab-test-spec-")) {
        if (fs.existsSync(path.dirname(spec))) {
            fs.rmSync(path.dirname(spec), { recursive: true, force: true });
            say(`${stack}: removed its experiment file's directory ${path.dirname(spec)}`);
        }
    }
}

/** The stacks of the user's own backend (.state), which the last resort never takes apart. */
function userStacks(root: string): Set<string> {
    return new Set(backendStacks(path.join(root, ".state")).map((r) => r.stack));
}

const netnsList = () => (spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout ?? "").split("\n").map((l) => l.split(" ")[0]).filter(Boolean);

/**
 * Clean up after tests that died. Returns (and passes to say) what it did, a line per thing.
 * root: the checkout whose test stacks' files are swept (each backend records its own).
 */
export function sweep(opts: { say?: (line: string) => void; tmp?: string; root?: string } = {}): string[] {
    const root = opts.root ?? ROOT;
    const lines: string[] = [];
    const say = (l: string) => { lines.push(l); opts.say?.(l); };

    // What may be left over, listed before the owners are read: an owner records a stack
    // before it makes anything of it, so whatever is listed here and owned is seen as owned.
    let namespaces = netnsList().filter((n) => n.startsWith("wl-t-"));
    let runDirs = safeReaddir("/run/wanlab").filter(isLabTestStack);
    let configs = safeReaddir(root).map((f) => /^Pulumi\.(t-.+)\.yaml$/.exec(f)?.[1]).filter((s): s is string => !!s);

    const backends = testBackends(opts.tmp);
    // Stacks a live (or possibly live) owner has: never touched.
    const owned = new Set<string>(userStacks(root));
    let unknownOwner = false;
    for (const b of backends.filter((b) => b.alive)) {
        say(`backend ${b.dir}: ${b.why}: left alone${b.stacks.length ? ` with stacks ${b.stacks.map((s) => s.stack).join(", ")}` : ""}`);
        for (const s of b.stacks) owned.add(s.stack);
        if (!b.owner) unknownOwner = true;
    }

    // 1. Dead owners' backends, through the engine.
    const undestroyed = new Set<string>();
    for (const b of backends.filter((b) => !b.alive)) {
        say(`backend ${b.dir}: ${b.why}; ${b.stacks.length ? `stacks ${b.stacks.map((s) => s.stack).join(", ")}` : "no stack"}`);
        const broot = b.owner?.root && fs.existsSync(b.owner.root) ? b.owner.root : root;
        let keep = false;
        for (const ref of b.stacks) {
            if (owned.has(ref.stack)) {
                // The same name is in use by a live test (or is the user's): its files are that one's.
                say(`${ref.stack}: also a stack of a live test or of the user: only this backend's state is removed`);
                continue;
            }
            if (!destroyStack(b, ref, broot, say)) {
                undestroyed.add(ref.stack);
                // Without a last resort for it, keep the state, to try again next time.
                if (!isLabTestStack(ref.stack)) keep = true;
            }
            if (ref.project === "wanlab") removeStackFiles(ref.stack, broot, say);
        }
        if (keep) {
            say(`backend ${b.dir}: kept, to try its destroy again`);
        } else {
            fs.rmSync(b.dir, { recursive: true, force: true });
            say(`backend ${b.dir}: removed`);
        }
    }

    // 2. The last resort: test stacks' labs and files that no live test owns, among those
    // listed at the start that are still here.
    const nowNamespaces = new Set(netnsList());
    namespaces = namespaces.filter((n) => nowNamespaces.has(n));
    runDirs = runDirs.filter((s) => fs.existsSync(path.join("/run/wanlab", s)));
    configs = configs.filter((s) => fs.existsSync(path.join(root, `Pulumi.${s}.yaml`)));
    const candidates = new Set<string>([...runDirs, ...configs]);
    const isOwned = (ns: string) => [...owned].some((s) => ns.startsWith(`wl-${s}-`));
    const stackOf = (ns: string) => {
        // The longest known stack name the namespace starts with; else all but its last part.
        const known = [...candidates].filter((s) => ns.startsWith(`wl-${s}-`)).sort((a, b) => b.length - a.length)[0];
        return known ?? ns.slice(3, ns.lastIndexOf("-"));
    };
    const byStack = new Map<string, string[]>();
    for (const ns of namespaces.filter((n) => !isOwned(n))) {
        const s = stackOf(ns);
        if (!isLabTestStack(s) || owned.has(s)) continue;
        byStack.set(s, [...(byStack.get(s) ?? []), ns]);
    }
    for (const s of runDirs) if (!owned.has(s) && !byStack.has(s)) byStack.set(s, []);
    for (const [stack, nss] of byStack) {
        say(`${stack}: no live test owns it, and its lab is still here${undestroyed.has(stack) ? " after a failed destroy" : ""}: taking it apart`);
        const r = spawnSync("sh", [path.join(__dirname, "sweep-lab.sh"), stack, ...nss], { encoding: "utf8" });
        for (const l of `${r.stdout ?? ""}${r.stderr ?? ""}`.split("\n").filter(Boolean)) say(l);
    }
    // Leftover configuration files, when every backend's owner is known.
    if (!unknownOwner) {
        for (const s of configs) if (!owned.has(s)) removeStackFiles(s, root, say);
    }
    return lines;
}

if (require.main === module) {
    const lines = sweep({ say: (l) => console.log(`sweep: ${l}`) });
    if (lines.length === 0) console.log("sweep: nothing left behind by earlier tests");
}
