// Which accelerator a hypervisor's VMs use. `auto` means KVM only where KVM has been seen
// to run a guest: kvm-probe.sh boots the guest's kernel under KVM with the VMs' CPU model
// and waits for it to reach its init (once per boot, cached). `/dev/kvm` alone proves
// nothing: on some machines it exists and a guest spins without printing a line.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { shellScript } from "../../lib/scripts";
import type { Accel } from "./model";
import { CACHE_DIR } from "../../lib/cache";

/** The domain XML sets no <cpu>, so QEMU's default model for the pc machine applies, under KVM as under TCG. */
export const VM_CPU_MODEL = "qemu64";
/** A guest that works reaches its init in a second or two under KVM; a broken one never does. */
export const PROBE_TIMEOUT_S = 15;
/** The machine cache of this machine's verdicts (kept by `destroy`, like the images). */
export const LOCAL_PROBE_CACHE = path.join(CACHE_DIR, "kvm-probe");

export interface ProbeResult {
    accel: string;
    ok: boolean;
    reason: string;
    cached: boolean;
    boot?: string; kernel?: string; qemu?: string; cpu?: string; probedAt?: string;
}

export type Decision = { accel: "kvm" | "tcg"; reason: string } | { error: string };

/** The probe's JSON line (the last line of its output that is one). */
export function parseProbe(output: string): ProbeResult {
    const line = output.split("\n").map((l) => l.replace(/^kvm-probe: /, "").trim()).reverse().find((l) => l.startsWith("{"));
    if (!line) throw new Error(`the KVM probe printed no verdict: ${output.trim().slice(-300) || "(nothing)"}`);
    const r = JSON.parse(line);
    if (typeof r.ok !== "boolean" || typeof r.reason !== "string") throw new Error(`the KVM probe's verdict is malformed: ${line}`);
    return r;
}

/** What a hypervisor that asks for `requested` gets, given the probe's verdict on its machine. */
export function decideAccel(host: string, requested: Accel, probe: ProbeResult | undefined): Decision {
    if (requested === "tcg") return { accel: "tcg", reason: "accel: tcg in the stack file" };
    if (!probe) return { error: `no KVM probe ran on host '${host}', so accel ${requested} cannot be decided` };
    // Not when it was probed, nor whether from the cache: the preflight that prints it would
    // change between the first `up` and the next, and a second `up` must change nothing.
    if (probe.ok) return { accel: "kvm", reason: `KVM ran a guest (${probe.reason})` };
    if (requested === "kvm") {
        return { error: `a KVM that runs guests (host '${host}' has accel: kvm), but KVM did not run a guest there: ${probe.reason}. Use accel: tcg (emulation), or auto to take KVM only where it works` };
    }
    return { accel: "tcg", reason: `KVM did not run a guest (${probe.reason})` };
}

export function probeScript(): string {
    return shellScript(__dirname, "kvm-probe.sh");
}

const local = new Map<string, ProbeResult>();

/** Whether this boot's verdict is in the cache already (the probe then answers at once). */
function cachedThisBoot(cacheDir: string, accel: string): boolean {
    try {
        const boot = fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
        return fs.readdirSync(cacheDir).some((f) => {
            if (!f.startsWith(`${accel}-`)) return false;
            const r = JSON.parse(fs.readFileSync(path.join(cacheDir, f), "utf8"));
            return r.boot === boot && r.kernel === os.release() && r.cpu === VM_CPU_MODEL;
        });
    } catch {
        return false;
    }
}

/**
 * Run the probe on this machine (for its emulated hosts), once per program and per boot.
 * onSlow: told before a probe that may take the whole timeout (no verdict this boot yet).
 */
export function probeThisMachine(kernel: string, initrd: string,
    opts: { cacheDir?: string; timeoutS?: number; accel?: string; onSlow?: (timeoutS: number) => void } = {}): ProbeResult {
    const key = [kernel, initrd, opts.cacheDir, opts.accel].join("|");
    const known = local.get(key);
    if (known) return known;
    const timeoutS = opts.timeoutS ?? PROBE_TIMEOUT_S;
    if (!cachedThisBoot(opts.cacheDir ?? LOCAL_PROBE_CACHE, opts.accel ?? "kvm")) opts.onSlow?.(timeoutS);
    const r = spawnSync("sh", ["-c", probeScript()], {
        encoding: "utf8",
        timeout: (timeoutS + 30) * 1000,
        env: {
            ...process.env, GUEST_KERNEL: kernel, GUEST_INITRD: initrd, CPU_MODEL: VM_CPU_MODEL,
            CACHE_DIR: opts.cacheDir ?? LOCAL_PROBE_CACHE, TIMEOUT_S: String(timeoutS), ACCEL: opts.accel ?? "kvm",
        },
    });
    if (r.status !== 0) throw new Error(`the KVM probe failed on this machine (exit ${r.status ?? r.signal}): ${r.stderr.trim()}`);
    const result = parseProbe(r.stdout);
    local.set(key, result);
    return result;
}
