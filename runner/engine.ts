// Runs the Pulumi CLI for the tests and the benchmark against a throwaway file backend
// of their own, so that a user's stacks are never touched. Each stack gets its own
// Pulumi.<stack>.yaml naming its experiment file; cleanup() destroys and removes them.
// The backend records its owner (this process) and its stacks, so that when the process is
// killed before cleanup() the next `npm test` or `npm run lab:down` cleans up instead
// (runner/sweep.ts).
import { spawnSync, SpawnSyncOptions } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { recordOwner } from "./owner";

export const ROOT = path.resolve(__dirname, "..");
const TOOLS_BIN = path.join(ROOT, ".tools", "bin");

/**
 * The environment `.tools/env.sh` gives the CLI: the project's engine first on PATH, no
 * update checks or plugin downloads, and (unless set already) the project's state,
 * plugins and passphrase.
 */
export function engineEnv(): Record<string, string> {
    const env: Record<string, string> = {
        PULUMI_BACKEND_URL: process.env.PULUMI_BACKEND_URL ?? `file://${path.join(ROOT, ".state")}`,
        PULUMI_SKIP_UPDATE_CHECK: "1",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_HOME: process.env.PULUMI_HOME ?? path.join(ROOT, ".tools", "pulumi-home"),
        PATH: `${TOOLS_BIN}:${process.env.PATH}`,
    };
    if (process.env.PULUMI_CONFIG_PASSPHRASE === undefined && !process.env.PULUMI_CONFIG_PASSPHRASE_FILE) {
        env.PULUMI_CONFIG_PASSPHRASE = "wanlab-local";
    }
    return env;
}

export interface Run { code: number; stdout: string; stderr: string; seconds: number }

/** A file backend and passphrase of the test's own: user stacks are never touched. */
export class Engine {
    readonly backend = fs.mkdtempSync(path.join(os.tmpdir(), "wanlab-test-state-"));
    readonly stacks = new Set<string>();
    readonly env: NodeJS.ProcessEnv = {
        ...process.env,
        ...engineEnv(),
        PULUMI_BACKEND_URL: `file://${this.backend}`,
        PULUMI_CONFIG_PASSPHRASE: "wanlab-test",
        PULUMI_HOME: path.join(ROOT, ".tools", "pulumi-home"),
    };

    constructor() {
        recordOwner(this.backend, ROOT, this.stacks);
    }

    /** Run `pulumi ARGS`; with netns, inside that network namespace. */
    pulumi(args: string[], opts: { netns?: string; input?: string } = {}): Run {
        const argv = opts.netns
            ? ["nsenter", `--net=/run/netns/${opts.netns}`, "--", "pulumi", ...args]
            : ["pulumi", ...args];
        const t0 = process.hrtime.bigint();
        const r = spawnSync(argv[0], argv.slice(1), {
            cwd: ROOT, env: this.env, encoding: "utf8", input: opts.input ?? "", maxBuffer: 64 << 20,
        } as SpawnSyncOptions);
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
        return { code: r.status ?? -1, stdout: String(r.stdout), stderr: String(r.stderr), seconds };
    }

    /** Run and fail with the engine's whole output when the exit code is not the expected one. */
    ok(args: string[], opts: { netns?: string; input?: string } = {}): Run {
        const r = this.pulumi(args, opts);
        if (r.code !== 0) throw new Error(`pulumi ${args.join(" ")} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
        return r;
    }

    /** Create a stack that builds the given experiment file. */
    initStack(stack: string, specFile: string) {
        // Recorded before anything of the stack's exists, so that a sweep knows it is owned.
        this.stacks.add(stack);
        recordOwner(this.backend, ROOT, this.stacks);
        fs.writeFileSync(stackConfigFile(stack), `config:\n  wanlab:spec: ${specFile}\n`);
        this.ok(["stack", "init", stack]);
    }

    /** Destroy and remove every stack this engine created, then its backend. */
    cleanup() {
        for (const stack of this.stacks) {
            // A test that killed an engine may have left the stack locked.
            this.pulumi(["cancel", "--yes", "--stack", stack]);
            this.pulumi(["destroy", "--yes", "--stack", stack]);
            this.pulumi(["stack", "rm", "--yes", "--force", stack]);
            fs.rmSync(stackConfigFile(stack), { force: true });
        }
        fs.rmSync(this.backend, { recursive: true, force: true });
    }

    /** The stack's checkpoint, as the state file stores it (secrets must be ciphertext here). */
    stateText(stack: string): string {
        const files: string[] = [];
        const walk = (d: string) => fs.readdirSync(d, { withFileTypes: true }).forEach((e) =>
            e.isDirectory() ? walk(path.join(d, e.name)) : files.push(path.join(d, e.name)));
        walk(this.backend);
        return files.filter((f) => f.includes(`${path.sep}${stack}`)).map((f) => fs.readFileSync(f, "utf8")).join("\n");
    }
}

export function stackConfigFile(stack: string) {
    return path.join(ROOT, `Pulumi.${stack}.yaml`);
}

