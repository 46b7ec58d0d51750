// The layout's rules, as tests: the Lab, the core's checks and the root schema name no
// module (each module is found in modules/); the module moved first (netem) lives in its
// folder alone; the layers import only downwards (the model has no Pulumi import).
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");
const MODULES = fs.readdirSync(path.join(ROOT, "modules")).filter((d) => fs.existsSync(path.join(ROOT, "modules", d, "model.ts")));
const read = (f: string) => fs.readFileSync(path.join(ROOT, f), "utf8");
const word = (name: string) => new RegExp(`(^|[^a-z0-9_])${name.replace(/-/g, "\\-")}([^a-z0-9_]|$)`, "i");

/** Every file under dir (relative to ROOT), recursively. */
function files(dir: string): string[] {
    const abs = path.join(ROOT, dir);
    if (!fs.existsSync(abs)) return [];
    if (fs.statSync(abs).isFile()) return [dir];
    return fs.readdirSync(abs).flatMap((e) => files(path.join(dir, e)));
}

describe("the module layout", () => {
    it("finds the modules", () => {
        for (const m of ["bridge", "vxlan", "netem", "iscsi", "libvirt", "checks", "migration"]) assert.ok(MODULES.includes(m), m);
    });

    it("the Lab, the core's checks and the root schema name no module", () => {
        const named = ["components/lab.ts", "model/checks.ts", "stacks/schema.json"].flatMap((f) => {
            const text = read(f);
            return MODULES.filter((m) => word(m).test(text)).map((m) => `${f} names module '${m}'`);
        });
        assert.deepEqual(named, []);
    });

    // Product code and schemas; not the tests, documents, experiment files or image contents
    // (a kernel module list names sch_netem as the kernel does).
    const PRODUCT = ["index.ts", "components", "model", "modules", "lib", "runner", "analysis", "scripts", "templates", "tools", "stacks/schema.json", "plans/schema.json", "Pulumi.yaml", "package.json"];

    it("netem lives in modules/netem alone: no other product file names it, but the platforms' capability files", () => {
        // The kernel's sch_netem is a kernel feature's name, which capability files use.
        const names = (f: string) => word("netem").test(read(f).replace(/\bsch_netem\b/gi, ""));
        const outside = PRODUCT.flatMap(files)
            .filter((f) => !f.startsWith(`modules${path.sep}netem${path.sep}`) && /\.(ts|sh|json|hbs|yaml)$/.test(f) && !f.endsWith(".test.ts"));
        assert.ok(outside.length > 50, `only ${outside.length} product files`);
        assert.deepEqual(outside.filter(names), []);
        assert.deepEqual(files("platforms").filter((f) => word("netem").test(read(f))).sort(),
            ["platforms/appliance/capabilities.yaml", "platforms/emulated/capabilities.yaml", "platforms/ssh/capabilities.yaml"]);
    });

    it("the layers import only downwards", () => {
        const imports = (f: string) => [...read(f).matchAll(/^\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"|^\s*import\s+"([^"]+)"/gm)].map((m) => m[1] ?? m[2])
            .concat([...read(f).matchAll(/(?:require|import)\("([^"]+)"\)/g)].map((m) => m[1]));
        const resolve = (from: string, spec: string) => (spec.startsWith(".") ? path.normalize(path.join(path.dirname(from), spec)) : spec);
        const ts = (dir: string) => files(dir).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"));
        // The model: model/ and each module's model.ts, with what they import from a module,
        // and what that imports in turn (a Set iterates over what is added while it runs).
        const modelFiles = new Set([...ts("model"), ...MODULES.map((m) => `modules/${m}/model.ts`)]);
        for (const f of modelFiles) {
            for (const dep of imports(f).map((s) => resolve(f, s))) if (dep.startsWith("modules/")) modelFiles.add(`${dep}.ts`);
        }
        const bad: string[] = [];
        const rule = (f: string, test: (dep: string) => boolean, why: string) => {
            for (const dep of imports(f).map((s) => resolve(f, s))) if (test(dep)) bad.push(`${f} imports ${dep}: ${why}`);
        };
        const pulumi = (d: string) => d.startsWith("@pulumi/");
        for (const f of modelFiles) rule(f, (d) => pulumi(d) || /^(components|runner|analysis)\//.test(d) || /^modules\/[^/]+\/(build|[a-z-]+)$/.test(d) && !modelFiles.has(`${d}.ts`), "the model has no Pulumi and no component");
        for (const f of [...ts("components"), ...ts("modules")]) rule(f, (d) => /^(runner|analysis)\//.test(d), "components do not use the runner or the analysis");
        for (const f of ts("analysis")) rule(f, (d) => pulumi(d) || /^(components|runner)\//.test(d) || (d.startsWith("modules/") && !modelFiles.has(`${d}.ts`)), "the analysis works on the model's data alone");
        for (const f of ts("runner")) rule(f, (d) => /^components\//.test(d) || (d.startsWith("modules/") && !modelFiles.has(`${d}.ts`)) || (pulumi(d) && d !== "@pulumi/pulumi/automation"), "the runner drives stacks through the Automation API");
        for (const f of ts("lib")) rule(f, (d) => pulumi(d) || /^(model|components|modules|runner|analysis)\//.test(d), "lib holds helpers for every layer");
        assert.deepEqual(bad, []);
        assert.ok(modelFiles.size > 15, [...modelFiles].join(", "));
    });

    it("the shipped stack configurations hold no secret, and no encryption salt (a lab's own go into the working copy only)", () => {
        const git = (...args: string[]) => execFileSync("git", args, { cwd: ROOT, encoding: "utf8" });
        const tracked = git("ls-files", "Pulumi.*.yaml").split("\n").filter(Boolean);
        assert.ok(tracked.includes("Pulumi.local.yaml"), tracked.join(", "));
        const leaks = tracked.filter((f) => /secure:|encryptionsalt:/.test(git("show", `HEAD:${f}`)));
        assert.deepEqual(leaks, []);
    });

    it("configuration keys are spelled in one place (model/config.ts)", () => {
        const spelled = ["index.ts", "components", "model", "modules", "runner", "analysis", "scripts"].flatMap(files)
            .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && f !== path.join("model", "config.ts"))
            .filter((f) => /["'`]wanlab:[a-z][A-Za-z]*["'`]/.test(read(f)) && !/["'`]wanlab:[a-z]+:[A-Z]/.test(read(f).match(/["'`]wanlab:[a-z][A-Za-z]*["'`]/)![0]))
            .map((f) => `${f}: ${read(f).match(/["'`]wanlab:[a-z][A-Za-z]*["'`]/)![0]}`);
        assert.deepEqual(spelled, []);
    });
});
