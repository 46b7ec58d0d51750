// The workload module on the model: what the stack file and the settings may ask of a
// guest's memory, the words for what they may not, and what the guest is told to do.
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { validateDocument } from "../../model/validate";
import { applySettings, parseSettings, settledErrors } from "../../model/config";
import { validatePlan } from "../../model/plan";
import { fillMiB, guestReserveMiB, workloadArgs } from "./model";

const ROOT = path.resolve(__dirname, "..", "..");
const local = () => yaml.load(fs.readFileSync(path.join(ROOT, "stacks", "local.yaml"), "utf8")) as any;
const errorsOf = (workload: unknown, memoryMiB = 256) => {
    const d = local();
    d.vms[0].memoryMiB = memoryMiB;
    d.vms[0].workload = workload;
    return validateDocument(d).errors.map((e) => `${e.pointer}: ${e.reason}`);
};
/** The default lab with these wanlab:* settings applied: what no longer holds. */
const settled = (raw: Record<string, string>) => {
    const { spec } = validateDocument(local());
    const { settings, errors } = parseSettings((k) => raw[k]);
    assert.deepEqual(errors, []);
    return settledErrors(applySettings(spec!, settings));
};

describe("workload", () => {
    it("a fill in whole MiB, and the guest's kernel command line for it", () => {
        assert.equal(fillMiB(256, { fillPct: 50, dirtyMiBps: 0 }), 128);
        assert.equal(fillMiB(300, { fillPct: 33, dirtyMiBps: 0 }), 99);
        // "max": all but the reserve, so that data grows as memory does (142, 372 and 833 MiB).
        assert.deepEqual([256, 512, 1024].map((m) => fillMiB(m, { fillPct: "max", dirtyMiBps: 0 })), [142, 372, 833]);
        assert.deepEqual(workloadArgs(512, { fillPct: "max", dirtyMiBps: 0 }), ["wanlab.fill=372"]);
        assert.deepEqual(workloadArgs(256, undefined), []);
        assert.deepEqual(workloadArgs(256, { fillPct: 0, dirtyMiBps: 0 }), []);
        assert.deepEqual(workloadArgs(512, { fillPct: 50, dirtyMiBps: 0 }), ["wanlab.fill=256"]);
        assert.deepEqual(workloadArgs(512, { fillPct: 50, dirtyMiBps: 20 }), ["wanlab.fill=256", "wanlab.dirty=20", "wanlab.ws=256"]);
        assert.deepEqual(workloadArgs(512, { fillPct: 50, dirtyMiBps: 20, workingSetMiB: 64 }), ["wanlab.fill=256", "wanlab.dirty=20", "wanlab.ws=64"]);
    });

    it("the stack file: defaults, and what a guest's memory cannot hold, in words", () => {
        assert.deepEqual(errorsOf({ fillPct: 55 }), []);
        const d = local();
        d.vms[0].workload = { fillPct: 55 };
        assert.deepEqual(validateDocument(d).spec!.vms[0].workload, { fillPct: 55, dirtyMiBps: 0 });
        // The reserve as measured: what 256, 512 and 1024 MiB guests left free beside their fill.
        assert.deepEqual([256, 512, 1024].map(guestReserveMiB), [114, 140, 191]);
        assert.deepEqual(errorsOf({ fillPct: 80 }), [
            "/vms/0/workload/fillPct: 80 % of 256 MiB is 204 MiB, which leaves the guest less than the 114 MiB its kernel and programs need: at most 55 % here",
        ]);
        assert.deepEqual(errorsOf({ fillPct: 80 }, 1024), []);
        assert.deepEqual(errorsOf({ dirtyMiBps: 10 }), ["/vms/0/workload/dirtyMiBps: rewrites the filled memory, but fillPct fills none: give fillPct too"]);
        assert.deepEqual(errorsOf({ fillPct: 25, dirtyMiBps: 10, workingSetMiB: 100 }), [
            "/vms/0/workload/workingSetMiB: is 100 MiB, more than the 64 MiB filled (25 % of 256 MiB)",
        ]);
        assert.match(errorsOf({ fillPct: 95 }).join("\n"), /^\/vms\/0\/workload\/fillPct: 95 is too large: must be at most 90/);
        assert.deepEqual(errorsOf({ fillPct: "max" }), []);
        assert.deepEqual(errorsOf({ fillPct: "max", dirtyMiBps: 10, workingSetMiB: 200 }), [
            "/vms/0/workload/workingSetMiB: is 200 MiB, more than the 142 MiB filled (the most 256 MiB can hold)",
        ]);
        assert.match(errorsOf({ fillPct: "most" }).join("\n"), /^\/vms\/0\/workload\/fillPct: .*max/);
        assert.match(errorsOf({ fill: 10 }).join("\n"), /^\/vms\/0\/workload: .*'fill'/);
    });

    it("the settings: wanlab:vmFillPct on the migrated VM, checked with the memory the settings give it", () => {
        assert.deepEqual(settled({ vmFillPct: "50" }), []);
        // 80 % fits 1024 MiB, but not the 256 MiB the stack file gives the VM.
        assert.deepEqual(settled({ vmFillPct: "80", vmMemoryMiB: "1024" }), []);
        assert.deepEqual(settled({ vmFillPct: "80" }), [
            "VM 'vm1': workload fillPct 80 % of 256 MiB is 204 MiB, which leaves the guest less than the 114 MiB its kernel and programs need: at most 55 % here",
        ]);
        assert.deepEqual(settled({ vmDirtyMiBps: "5" }), ["VM 'vm1': workload dirtyMiBps rewrites the filled memory, but fillPct fills none: give fillPct too"]);
        assert.deepEqual(parseSettings((k) => (k === "vmFillPct" ? "91" : undefined)).errors, ["wanlab:vmFillPct must be 'max' or a whole number of % from 0 to 90, not '91'"]);
        assert.deepEqual(settled({ vmFillPct: "max", vmMemoryMiB: "512" }), []);
    });

    it("a plan may vary the fill and the rewrite rate", () => {
        const { plan, errors } = validatePlan({ name: "p", stack: "local", matrix: { vmMemoryMiB: [256, 512], vmFillPct: [0, 50], vmDirtyMiBps: [0, 8] }, repetitions: 2 });
        assert.deepEqual(errors, []);
        assert.deepEqual(Object.keys(plan!.matrix), ["vmMemoryMiB", "vmFillPct", "vmDirtyMiBps"]);
        assert.deepEqual(validatePlan({ name: "p", stack: "local", matrix: { vmFillPct: [50, "max"] }, repetitions: 2 }).errors, []);
        assert.match(validatePlan({ name: "p", stack: "local", matrix: { vmFillPct: [95] }, repetitions: 2 }).errors.map((e) => `${e.pointer}: ${e.reason}`).join(), /\/matrix\/vmFillPct\/0: 95 is too large/);
    });
});
