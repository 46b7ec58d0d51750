// The accelerator decision, on the probe's verdicts (pure), and what the Lab does with it
// (against Pulumi's mocks): preflight lines, the VM's domain type, refusals before
// anything is registered.
import { before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { decideAccel, parseProbe, type ProbeResult } from "./accel";
import { tcgQemuLines } from "./build";
import { loadSpec, validateDocument } from "../../model/validate";

const ROOT = path.resolve(__dirname, "..", "..");
const WORKS: ProbeResult = { accel: "kvm", ok: true, reason: "a guest booted to its init under kvm with -cpu qemu64 in 1 s", cached: false };
const SPINS: ProbeResult = { accel: "kvm", ok: false, reason: "a guest under kvm with -cpu qemu64 printed nothing within 15 s", cached: false };
const ABORTS: ProbeResult = {
    accel: "kvm", ok: false, cached: true, probedAt: "2026-12-01T08:00:00Z",
    reason: "QEMU under kvm with -cpu qemu64 exited before the guest booted: qemu-system-x86_64: failed to set MSR 0x10a to 0x69",
};

describe("the accelerator decision", () => {
    it("tcg is tcg, whatever the probe says (and needs none)", () => {
        assert.deepEqual(decideAccel("h", "tcg", undefined), { accel: "tcg", reason: "accel: tcg in the stack file" });
        assert.deepEqual(decideAccel("h", "tcg", WORKS), { accel: "tcg", reason: "accel: tcg in the stack file" });
    });

    it("auto takes KVM where a guest ran, and TCG where KVM is present but broken, saying why", () => {
        assert.deepEqual(decideAccel("h", "auto", WORKS), { accel: "kvm", reason: `KVM ran a guest (${WORKS.reason})` });
        assert.deepEqual(decideAccel("h", "auto", SPINS), { accel: "tcg", reason: `KVM did not run a guest (${SPINS.reason})` });
        const aborted = decideAccel("h", "auto", ABORTS);
        assert.ok("accel" in aborted && aborted.accel === "tcg");
        assert.match((aborted as any).reason, /failed to set MSR 0x10a/);
    });

    it("the same verdict, fresh or from the cache, is the same reason (a preflight that says it does not change between ups)", () => {
        for (const requested of ["auto", "kvm"] as const) {
            for (const p of [WORKS, SPINS]) {
                const cached = { ...p, cached: true, probedAt: "2026-12-01T08:00:00Z" };
                assert.deepEqual(decideAccel("h", requested, cached), decideAccel("h", requested, { ...p, cached: false }));
            }
        }
    });

    it("kvm where the probe failed is an error that names the host and what failed, and suggests tcg or auto", () => {
        const d = decideAccel("host1", "kvm", SPINS);
        assert.ok("error" in d);
        assert.match(d.error, /host 'host1' has accel: kvm/);
        assert.match(d.error, /printed nothing within 15 s/);
        assert.match(d.error, /Use accel: tcg .*or auto/);
        assert.deepEqual(decideAccel("host1", "kvm", WORKS), { accel: "kvm", reason: `KVM ran a guest (${WORKS.reason})` });
    });

    it("without a verdict, auto and kvm cannot be decided", () => {
        assert.ok("error" in decideAccel("h", "auto", undefined));
    });

    it("the probe's verdict is read from its output, even behind a prefix or among other lines", () => {
        const line = JSON.stringify(SPINS);
        assert.deepEqual(parseProbe(line), SPINS);
        assert.deepEqual(parseProbe(`host 'r1': preflight\nkvm-probe: ${line}\nhost 'r1' (ssh 192.0.2.1): preflight ok\n`), SPINS);
        assert.throws(() => parseProbe("host 'r1': preflight ok"), /printed no verdict/);
        assert.throws(() => parseProbe('{"accel":"kvm"}'), /malformed/);
    });
});

// The Lab with injected probe verdicts, against the mocks.
interface Registered { type: string; name: string; inputs: any }
const registered: Registered[] = [];
const ready = pulumi.runtime.setMocks({
    newResource(args) {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        const stdout = /-migrate-/.test(args.name)
            ? JSON.stringify({ run: 1, vm: "vm1", from: "a", to: "b", startedAt: 1, totalMs: 1, probe: {}, libvirt: {} }) : "";
        return { id: args.custom ? `${args.name}-id` : "", state: { ...args.inputs, stdout } };
    },
    call: (a) => a.inputs,
}, "wanlab", "accel", false);
pulumi.runtime.setAllConfig({ "wanlab:chapPassword": "c" }, ["wanlab:chapPassword"]);

type LabModule = typeof import("../../components/lab");
let labModule: LabModule;
before(async () => {
    await ready;
    labModule = await import("../../components/lab");
});
const settle = () => (pulumi.runtime as any).waitForRPCs() as Promise<void>;

const local = () => loadSpec(path.join(ROOT, "stacks", "local.yaml"));
const withAccel = (accel: Record<string, string>) => {
    const doc: any = structuredClone(local());
    for (const h of doc.hosts) if (accel[h.name]) h.accel = accel[h.name];
    const v = validateDocument(doc);
    assert.deepEqual(v.errors, []);
    return v.spec!;
};

async function build(name: string, spec: ReturnType<typeof local>, verdict: ProbeResult) {
    const start = registered.length;
    new labModule.Lab(name, { spec, stack: name, probes: { kvm: () => verdict } });
    await settle();
    return registered.slice(start);
}

describe("the Lab and the accelerator", () => {
    it("where KVM works, auto gives the VM KVM, and each hypervisor's preflight says so", async () => {
        const rs = await build("kvm-works", local(), WORKS);
        assert.equal(rs.find((r) => r.name === "host1-vm-vm1")!.inputs.environment.ACCEL, "kvm");
        assert.match(rs.find((r) => r.name === "host2-preflight")!.inputs.create, /accelerator kvm: KVM ran a guest/);
    });

    it("where KVM is broken, auto gives TCG, and the preflight says KVM did not run a guest", async () => {
        const rs = await build("kvm-broken", local(), SPINS);
        assert.equal(rs.find((r) => r.name === "host1-vm-vm1")!.inputs.environment.ACCEL, "tcg");
        assert.match(rs.find((r) => r.name === "host1-preflight")!.inputs.create, /accelerator tcg: KVM did not run a guest \(a guest under kvm/);
        // Only hypervisors say it.
        assert.doesNotMatch(rs.find((r) => r.name === "router-preflight")!.inputs.create, /accelerator/);
    });

    it("accel kvm on a machine where KVM is broken: the preflight reports it (nothing else runs before it)", async () => {
        const rs = await build("kvm-asked", withAccel({ host1: "kvm", host2: "kvm" }), SPINS);
        const pf: string = rs.find((r) => r.name === "host1-preflight")!.inputs.create;
        assert.match(pf, /^add 'a KVM that runs guests \(host '\\''host1'\\'' has accel: kvm\), but KVM did not run a guest there: a guest under kvm .*Use accel: tcg/m);
        // Every host waits for every preflight (test/unit/lab.test.ts): the failing one stops them all.
    });

    it("a migration whose ends would get different accelerators is refused before anything is registered", async () => {
        const start = registered.length;
        assert.throws(() => new labModule.Lab("mixed", { spec: withAccel({ host1: "tcg" }), stack: "mixed", probes: { kvm: () => WORKS } }),
            (err: unknown) => {
                assert.ok(pulumi.RunError.isInstance(err), String(err));
                assert.match((err as Error).message, /the migration of vm1 needs the same accelerator on both hypervisors, but host1 would use tcg .* and host2 kvm/);
                return true;
            });
        await settle();
        assert.deepEqual(registered.slice(start).map((r) => r.type), ["wanlab:Lab"]);
        // Where KVM is broken, both ends get TCG: the same stack is fine.
        const rs = await build("mixed-broken", withAccel({ host1: "tcg" }), SPINS);
        assert.deepEqual(["host1", "host2"].map((h) => rs.find((r) => r.name === `${h}-preflight`)!.inputs.create.includes("accelerator tcg")), [true, true]);
    });

    it("explicit kvm against tcg at the two ends is a validation error", () => {
        const doc: any = structuredClone(local());
        doc.hosts[0].accel = "kvm";
        doc.hosts[1].accel = "tcg";
        assert.deepEqual(validateDocument(doc).errors, [{
            pointer: "/migration/to",
            reason: "host 'host1' has accel kvm and host 'host2' accel tcg: a VM migrates only between hypervisors with the same accelerator; give both the same accel (or auto)",
        }]);
    });
});

describe("a TCG hypervisor's QEMU must keep a migrating guest's memory whole", () => {
    // The preflight's own lines, run by sh against a stand-in qemu-system-x86_64 that prints a version.
    const run = (version: string) => {
        const { spawnSync } = require("node:child_process");
        const fs = require("node:fs");
        const os = require("node:os");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wanlab-qemu-"));
        try {
            fs.writeFileSync(path.join(dir, "qemu-system-x86_64"), `#!/bin/sh\necho "QEMU emulator version ${version} (Debian)"\n`, { mode: 0o755 });
            const spec = loadSpec(path.join(ROOT, "stacks", "local.yaml"));
            const script = ["missing=", 'add() { missing="$missing|$1"; }', ...tcgQemuLines(spec), 'printf %s "$missing"'].join("\n");
            const r = spawnSync("sh", ["-c", script], { encoding: "utf8", env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } });
            assert.equal(r.status, 0, r.stderr);
            return r.stdout;
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    };

    it("QEMU 7.2 is refused, saying why and what to install", () => {
        assert.equal(run("7.2.19"), "|QEMU 7.2.19: before 9.0, QEMU loses guest memory writes in a live migration under TCG and the guest " +
            "crashes after it: install QEMU 9.0 or newer (on Debian 12, bash scripts/bootstrap.sh takes it from bookworm-backports)");
    });

    it("QEMU 9.0 and 10.0 pass", () => {
        assert.equal(run("9.0.0"), "");
        assert.equal(run("10.0.2"), "");
    });

    it("a lab without a migration does not ask", () => {
        const spec = loadSpec(path.join(ROOT, "stacks", "local.yaml"));
        assert.deepEqual(tcgQemuLines({ ...spec, migration: undefined } as any), []);
    });
});
