// Helpers for the real-engine tests: shell commands, and what a lab left behind.
import { spawn, spawnSync, SpawnSyncOptions } from "node:child_process";
export { Engine, ROOT, stackConfigFile } from "../../runner/engine";
import type { MigrationRecord } from "../../modules/migration/record";
import { Engine, ROOT } from "../../runner/engine";
import { forwardPort } from "../../components/host/appliance";
import * as path from "node:path";
import * as fs from "node:fs";
import * as os from "node:os";

export function sh(cmd: string, opts: SpawnSyncOptions = {}): { code: number; out: string } {
    const r = spawnSync("/bin/sh", ["-c", cmd], { encoding: "utf8", ...opts });
    return { code: r.status ?? -1, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

/** Everything a stack's emulated lab could leave on this machine. Empty means clean. */
export function residue(stack: string): string[] {
    const left: string[] = [];
    const ns = sh("ip netns list").out.split("\n").map((l) => l.split(" ")[0]).filter((n) => n.startsWith(`wl-${stack}-`));
    left.push(...ns.map((n) => `namespace ${n}`));
    if (fs.existsSync(`/run/wanlab/${stack}`)) left.push(`directory /run/wanlab/${stack}`);
    const mounts = fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.includes(`/run/wanlab/${stack}/`));
    left.push(...mounts.map((m) => `mount ${m.split(" ")[4]}`));
    const procs = sh(`ps -eo pid=,args= | grep -F 'wl-${stack}-' | grep -v grep || true`).out.trim();
    if (procs) left.push(...procs.split("\n").map((p) => `process ${p.trim()}`));
    return left;
}

/** Files in the temporary directory, to compare before and after a lab. */
export function tmpEntries(): Set<string> {
    return new Set(fs.readdirSync(os.tmpdir()).filter((n) => !n.startsWith("tsx-") && !n.startsWith("wanlab-test-")));
}

const DAEMONS = /^(qemu-system|libvirtd|tgtd|ganesha.nfsd|rpcbind|ovs-vswitchd|ovsdb-server|sshd|socat|zebra|ripd|staticd|freeradius|pmipd)/;

/** PIDs of lab daemons now running (zombies excluded), to compare before and after a lab. */
export function daemonPids(): Set<string> {
    const out = sh("ps -eo pid=,stat=,comm=").out.trim().split("\n");
    return new Set(out.map((l) => l.trim().split(/\s+/)).filter(([, stat, comm]) => !stat.startsWith("Z") && DAEMONS.test(comm ?? ""))
        .map(([pid, , comm]) => `${pid} ${comm}`));
}

/**
 * Samples every process's arguments every 10 ms, in a process of its own (the tests'
 * engine calls block this one), for the lines of secretFile; stop() returns the
 * arguments of each process seen with one, once each. The secret itself is on no
 * command line of the sampler's: grep reads it from the file.
 */
export function sampleArguments(secretFile: string): { stop(): string[] } {
    const out = `${secretFile}.seen`;
    const loop = 'while :; do for f in $(grep -l -a -F -f "$0" /proc/[0-9]*/cmdline 2>/dev/null); do tr "\\0" " " < "$f" 2>/dev/null; echo; done; sleep 0.01; done';
    const child = spawn("/bin/sh", ["-c", loop, secretFile], { stdio: ["ignore", fs.openSync(out, "w"), "ignore"], detached: true });
    return {
        stop() {
            process.kill(-child.pid!, "SIGKILL");
            const seen = fs.readFileSync(out, "utf8").split("\n").map((l) => l.trim()).filter(Boolean);
            fs.rmSync(out, { force: true });
            return [...new Set(seen)];
        },
    };
}

/**
 * A shipped stack file's lab for a test: the file copied into work (the test may change
 * it), its stack, a CHAP password and a fresh appliance key (work/id) as secrets.
 */
export function initLabStack(engine: Engine, stack: string, stackFile: string, work: string, chap: string) {
    const spec = path.join(work, path.basename(stackFile));
    fs.copyFileSync(path.join(ROOT, stackFile), spec);
    engine.initStack(stack, spec);
    engine.ok(["config", "set", "--secret", "--stack", stack, "chapPassword", "--", chap]);
    if (sh(`ssh-keygen -q -t ed25519 -N '' -f ${work}/id`).code !== 0) throw new Error("ssh-keygen failed");
    engine.ok(["config", "set", "--secret", "--stack", stack, "applianceKey", "--", fs.readFileSync(`${work}/id`, "utf8")]);
}

/** A command on an appliance of the stack, over its forwarded SSH port, with the test's key. */
export function onAppliance(stack: string, host: string, keyFile: string, cmd: string): { code: number; out: string } {
    return sh(`ssh -q -i ${keyFile} -p ${forwardPort(stack, host)} -o BatchMode=yes -o StrictHostKeyChecking=no ` +
        `-o UserKnownHostsFile=/dev/null root@127.0.0.1 ${JSON.stringify(cmd)}`);
}

/** What an appliance's interface has sent, from the kernel's counters (NaN if it has no such interface). */
export function txCounters(stack: string, host: string, keyFile: string, ifname: string): { bytes: number; packets: number } {
    const r = onAppliance(stack, host, keyFile, `cat /sys/class/net/${ifname}/statistics/tx_bytes /sys/class/net/${ifname}/statistics/tx_packets`);
    const [bytes, packets] = r.code === 0 ? r.out.trim().split(/\s+/).map(Number) : [NaN, NaN];
    return { bytes, packets };
}

/** One migration: `pulumi up` with the migration's trigger set to run N, in a direction. */
export function upRun(engine: Engine, stack: string, run: number, direction = "forward") {
    engine.ok(["config", "set", "--stack", stack, "wanlab:migrationRun", String(run)]);
    engine.ok(["config", "set", "--stack", stack, "wanlab:migrationDirection", direction]);
    return engine.pulumi(["up", "--yes", "--skip-preview", "--stack", stack]);
}

/** The stack's last migration record (its `migration` output). */
export const lastRecord = (engine: Engine, stack: string): MigrationRecord =>
    JSON.parse(engine.ok(["stack", "output", "--json", "--stack", stack]).stdout).migration;
