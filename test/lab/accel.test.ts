// The KVM probe for real, on this machine as it is: its verdict (where the CPU has no
// virtualisation flags it cannot be "works"), its cache, the success path of the probe
// itself (a guest that boots, under TCG so that any machine can show it), and accel: kvm
// refused in preflight where KVM did not run a guest, before anything is created.
import { after, before, describe, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import * as yaml from "js-yaml";
import { Engine, residue, ROOT } from "./harness";
import { LOCAL_PROBE_CACHE, probeScript, probeThisMachine, VM_CPU_MODEL } from "../../modules/libvirt/accel";
import { GUEST_IMAGE } from "../../modules/libvirt/vm";

const KERNEL = path.join(GUEST_IMAGE, "vmlinuz");
const INITRD = path.join(GUEST_IMAGE, "initrd.img");
const virtualisationFlags = /^flags\s*:.*\b(vmx|svm)\b/m.test(fs.readFileSync("/proc/cpuinfo", "utf8"));

function runProbe(env: Record<string, string>) {
    const t0 = Date.now();
    const r = spawnSync("sh", ["-c", probeScript()], {
        encoding: "utf8", timeout: 120_000,
        env: { ...process.env, GUEST_KERNEL: KERNEL, GUEST_INITRD: INITRD, CPU_MODEL: VM_CPU_MODEL, TIMEOUT_S: "15", ...env },
    });
    assert.equal(r.status, 0, r.stderr);
    return { verdict: JSON.parse(r.stdout.trim()), seconds: (Date.now() - t0) / 1000 };
}

describe("the KVM probe on this machine", () => {
    const kvm = probeThisMachine(KERNEL, INITRD);

    test(`the verdict (${kvm.ok ? "KVM runs a guest" : "KVM does not run a guest"}) fits the machine`, (t) => {
        t.diagnostic(`verdict: ${JSON.stringify(kvm)}; /dev/kvm ${fs.existsSync("/dev/kvm") ? "exists" : "does not exist"}; ` +
            `CPU flags ${virtualisationFlags ? "have" : "lack"} vmx/svm`);
        assert.equal(kvm.accel, "kvm");
        if (!virtualisationFlags) assert.equal(kvm.ok, false, "no vmx or svm: KVM cannot run a guest here");
        if (!fs.existsSync("/dev/kvm")) assert.equal(kvm.reason, "there is no /dev/kvm");
        if (kvm.ok) assert.match(kvm.reason, /booted to its init under kvm/);
        else assert.match(kvm.reason, /there is no \/dev\/kvm|cannot open it|printed nothing within|did not reach its init|exited before the guest booted/);
        assert.equal(kvm.cpu, VM_CPU_MODEL);
        assert.equal(kvm.boot, fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim());
    });

    test("the verdict is cached per boot: the next probe answers at once, from .cache/kvm-probe", () => {
        const again = runProbe({ CACHE_DIR: LOCAL_PROBE_CACHE });
        assert.equal(again.verdict.cached, true);
        assert.equal(again.verdict.ok, kvm.ok);
        assert.equal(again.verdict.reason, kvm.reason);
        assert.ok(again.seconds < 2, `a cached probe took ${again.seconds} s`);
        const files = fs.readdirSync(LOCAL_PROBE_CACHE);
        assert.ok(files.some((f) => /^kvm-[0-9a-f]{16}\.json$/.test(f)), files.join(", "));
    });

    test("another CPU model is another key: probed again, not taken from the cache", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wanlab-test-probe-"));
        try {
            runProbe({ CACHE_DIR: dir, CPU_MODEL: VM_CPU_MODEL, TIMEOUT_S: "2", ACCEL: "kvm" });
            const other = runProbe({ CACHE_DIR: dir, CPU_MODEL: "kvm64", TIMEOUT_S: "2", ACCEL: "kvm" });
            assert.equal(other.verdict.cached, false);
            assert.equal(fs.readdirSync(dir).length, 2);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    test("a guest that boots is recognised (shown under TCG, which any machine has), and no QEMU is left behind", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wanlab-test-probe-"));
        try {
            const before = spawnSync("pgrep", ["-c", "qemu-system"], { encoding: "utf8" }).stdout.trim();
            const tcg = runProbe({ CACHE_DIR: dir, ACCEL: "tcg", TIMEOUT_S: "60" });
            assert.equal(tcg.verdict.ok, true, tcg.verdict.reason);
            assert.match(tcg.verdict.reason, /^a guest booted to its init under tcg with -cpu qemu64 in \d+ s$/);
            assert.equal(spawnSync("pgrep", ["-c", "qemu-system"], { encoding: "utf8" }).stdout.trim(), before);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("accel: kvm on this machine", () => {
    const STACK = "t-accel";
    const engine = new Engine();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "wanlab-test-spec-"));
    const specFile = path.join(work, "local-kvm.yaml");
    const kvm = probeThisMachine(KERNEL, INITRD);

    before(() => {
        const doc: any = yaml.load(fs.readFileSync(path.join(ROOT, "stacks", "local.yaml"), "utf8"));
        // One host only: with two refused at once, the engine may stop on the first and
        // never print the other's message, so which host is named would be a race.
        doc.hosts.find((h: any) => h.name === "host1").accel = "kvm";
        fs.writeFileSync(specFile, yaml.dump(doc));
        engine.initStack(STACK, specFile);
        engine.ok(["config", "set", "--secret", "--stack", STACK, "chapPassword", "--", "accel-test-chap"]);
    });
    after(() => {
        engine.cleanup();
        fs.rmSync(work, { recursive: true, force: true });
    });

    test(kvm.ok ? "KVM runs guests here: nothing to refuse (the VM tests use it)" : "is refused in preflight, naming the host and what failed, and nothing is created", (t) => {
        if (kvm.ok) return t.skip("KVM runs a guest on this machine");
        const r = engine.pulumi(["up", "--yes", "--skip-preview", "--stack", STACK]);
        const out = r.stdout + r.stderr;
        assert.notEqual(r.code, 0);
        assert.match(out, /host 'host1' \(emulated on this machine\) is missing:/);
        assert.match(out, /a KVM that runs guests \(host 'host1' has accel: kvm\), but KVM did not run a guest there/);
        assert.match(out, /Use accel: tcg \(emulation\), or auto to take KVM only where it works/);
        assert.match(out, /Nothing was changed on any host/);
        assert.doesNotMatch(out, /host 'host2' \(emulated on this machine\) is missing/, "host2 has accel: tcg");
        assert.deepEqual(residue(STACK), []);
        const state = JSON.parse(engine.ok(["stack", "export", "--stack", STACK]).stdout);
        const made = (state.deployment.resources ?? []).filter((x: any) => x.type.startsWith("command:") && !x.urn.endsWith("-preflight"));
        assert.deepEqual(made.map((x: any) => x.urn), []);
    });
});
