// Secrets an experiment file refers to that a tool may make up for a lab of its own: CHAP
// passwords (random) and router-appliance SSH keys (ssh-keygen). Used by the experiment
// runner and the benchmark; `npm run lab` does the same in shell.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import type { LabSpec } from "../model/types";

/** Config keys of the secrets that can be generated, with a generator for each. */
export function generatableSecrets(spec: LabSpec): Record<string, () => string> {
    const out: Record<string, () => string> = {};
    for (const s of spec.storage) if (s.chap) out[s.chap.password.config] = () => crypto.randomBytes(12).toString("hex");
    for (const h of spec.hosts) if (h.appliance) out[h.appliance.key.config] = sshKey;
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
