// Secrets an experiment file refers to that a tool may make up for a lab of its own: CHAP
// passwords (random) and router-appliance SSH keys (ssh-keygen). One place for all three
// tools that make them: `npm run lab` (scripts/secrets.ts), the experiment runner and the
// benchmark. A secret reaches the engine on stdin, never on a command line.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync, spawnSync } from "node:child_process";
import type { LabSpec } from "../model/types";
import { configKey } from "../model/config";

/** Config keys of the secrets that can be generated, with a generator for each. */
export function generatableSecrets(spec: LabSpec): Record<string, () => string> {
    const out: Record<string, () => string> = {};
    for (const s of spec.storage) if ("chap" in s && s.chap) out[s.chap.password.config] = () => crypto.randomBytes(12).toString("hex");
    for (const h of spec.hosts) if (h.appliance) out[h.appliance.key.config] = sshKey;
    // Seed 001's AAA server: the users' password and each client's shared secret (modules/radius).
    const radius = (spec as { radius?: { password: { config: string }; clients: { secret?: { config: string } }[] } }).radius;
    if (radius) {
        out[radius.password.config] = () => crypto.randomBytes(12).toString("hex");
        for (const c of radius.clients) if (c.secret) out[c.secret.config] = () => crypto.randomBytes(16).toString("hex");
    }
    return out;
}

function sshKey(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wanlab-key-"));
    try {
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "wanlab", "-f", path.join(dir, "id")]);
        return fs.readFileSync(path.join(dir, "id"), "utf8");
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

export interface PulumiCli {
    /** The engine's environment (runner/engine.ts engineEnv, or a test engine's). */
    env: NodeJS.ProcessEnv;
    cwd: string;
    /** The pulumi binary (default: the one on the environment's PATH). */
    bin?: string;
}

/** Set a stack's secret, the value on stdin (`pulumi config set --secret KEY` reads it there). */
export function setSecret(cli: PulumiCli, stack: string, key: string, value: string) {
    const r = spawnSync(cli.bin ?? "pulumi", ["config", "set", "--secret", "--stack", stack, configKey(key)], {
        cwd: cli.cwd, env: cli.env, input: value, encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(`pulumi config set --secret ${configKey(key)} failed: ${r.stderr.trim()}`);
}

function hasConfig(cli: PulumiCli, stack: string, key: string): boolean {
    return spawnSync(cli.bin ?? "pulumi", ["config", "get", "--stack", stack, configKey(key)], { cwd: cli.cwd, env: cli.env }).status === 0;
}

/**
 * Generate the secrets the stack's file needs and the stack does not have yet (a lab
 * keeps the ones it was built with). Returns the keys it set.
 */
export function ensureSecrets(cli: PulumiCli, stack: string, spec: LabSpec): string[] {
    const made: string[] = [];
    for (const [key, make] of Object.entries(generatableSecrets(spec))) {
        if (hasConfig(cli, stack, key)) continue;
        setSecret(cli, stack, key, make());
        made.push(key);
    }
    return made;
}
