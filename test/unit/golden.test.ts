// Golden files of every command each shipped stack registers (against Pulumi's mocks):
// its interpreter, environment, stdin, triggers and create/update/delete scripts, as
// the command provider would receive them. Literal shell text is checked here, in
// test/golden/<stack>.txt, rather than in assertions. After a deliberate change:
//
//   UPDATE_GOLDEN=1 node --import tsx --test test/unit/golden.test.ts
//
// and review the diff of test/golden/.
import { before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { loadSpec } from "../../model/validate";

const ROOT = path.resolve(__dirname, "..", "..");
const GOLDEN = path.join(ROOT, "test", "golden");
const SECRETS: Record<string, string> = {
    "wanlab:chapPassword": "golden-chap-password",
    "wanlab:applianceKey": "-----BEGIN OPENSSH PRIVATE KEY-----\ngolden-appliance-key\n-----END OPENSSH PRIVATE KEY-----",
    "wanlab:key1": "-----BEGIN OPENSSH PRIVATE KEY-----\ngolden-ssh-key\n-----END OPENSSH PRIVATE KEY-----",
};

const RECORD = {
    run: 1, vm: "vm", from: "a", to: "b", startedAt: 1700000000000, totalMs: 2100,
    probe: { intervalMs: 10, sent: 300, received: 290, lost: 10, downtimeMs: 110.5, gapStartedAt: 1700000001000, answeredAfter: true, rttBeforeMs: 0.4 },
    libvirt: { downtimeMs: 40, timeElapsedMs: 2000, dataProcessedBytes: 1048576, memoryTotalBytes: 268435456 },
};

/** A machine where KVM does not run a guest (as this project's CI machines). */
const NO_KVM = { accel: "kvm", ok: false, reason: "a guest under kvm with -cpu qemu64 printed nothing within 15 s", cached: false };

interface Registered { type: string; name: string; inputs: any }
const registered: Registered[] = [];

const mocksReady = pulumi.runtime.setMocks({
    newResource(args: pulumi.runtime.MockResourceArgs) {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        // The Migration parses its command's stdout, and a real machine's preflight says what its KVM probe found.
        const stdout = /-migrate-/.test(args.name) ? JSON.stringify(RECORD)
            : /-preflight$/.test(args.name) && args.type === "command:remote:Command" ? `kvm-probe: ${JSON.stringify(NO_KVM)}` : "";
        return { id: args.custom ? `${args.name}-id` : "", state: { ...args.inputs, stdout } };
    },
    call: (args: pulumi.runtime.MockCallArgs) => args.inputs,
}, "wanlab", "golden", false);
pulumi.runtime.setAllConfig(SECRETS, Object.keys(SECRETS));

/** A value as text; secret values are named, never printed, and the project's path is <root>. */
function show(v: unknown): string {
    let s = typeof v === "string" ? v : JSON.stringify(v);
    for (const [key, secret] of Object.entries(SECRETS)) s = s.split(secret).join(`<secret ${key}>`);
    // The clone's own path (the images live under it) is not part of the golden.
    return s.split(ROOT).join("<root>");
}

function describeCommand(r: Registered): string {
    const out = [`### ${r.name} (${r.type})`];
    const field = (k: string) => {
        const raw = r.inputs[k];
        if (raw === undefined) return undefined;
        const secret = pulumi.runtime.isRpcSecret(raw);
        return { value: secret ? pulumi.runtime.unwrapRpcSecret(raw) : raw, secret };
    };
    const interpreter = field("interpreter");
    if (interpreter) out.push(`interpreter: ${(interpreter.value as string[]).join(" ")}`);
    const connection = field("connection");
    if (connection) {
        const c = connection.value as Record<string, unknown>;
        out.push(`connection${connection.secret ? " (secret)" : ""}: ${show(Object.keys(c).sort().map((k) => `${k}=${show(c[k])}`).join(" "))}`);
    }
    const env = field("environment");
    if (env) {
        out.push(`environment${env.secret ? " (secret)" : ""}:`);
        const e = env.value as Record<string, unknown>;
        for (const k of Object.keys(e).sort()) out.push(`  ${k}=${show(e[k])}`);
    }
    const triggers = field("triggers");
    if (triggers) {
        // A digest of the stdin (the VM's domain XML) depends on the clone's path: name it.
        const stdin = field("stdin")?.value;
        const digest = typeof stdin === "string" ? crypto.createHash("sha256").update(stdin).digest("hex").slice(0, 16) : undefined;
        out.push(`triggers: ${show((triggers.value as unknown[]).map((t) => (t === digest ? "<digest of stdin>" : t)))}`);
    }
    for (const k of ["remotePath", "source"]) {
        const f = field(k);
        if (f) out.push(`${k}: ${show(f.value)}`);
    }
    for (const k of ["stdin", "create", "update", "delete"]) {
        const f = field(k);
        if (f !== undefined) out.push(`--- ${k}${f.secret ? " (secret)" : ""}`, show(f.value));
    }
    return out.join("\n");
}

type LabModule = typeof import("../../components/lab");
let labModule: LabModule;

before(async () => {
    await mocksReady;
    labModule = await import("../../components/lab");
});

async function commandsOf(name: string, file: string): Promise<string> {
    const start = registered.length;
    const spec = loadSpec(file);
    new labModule.Lab(name, { spec, stack: "golden", probes: { kvm: () => NO_KVM } });
    await (pulumi.runtime as any).waitForRPCs();
    const commands = registered.slice(start).filter((r) => r.type.startsWith("command:"));
    commands.sort((a, b) => a.name.localeCompare(b.name));
    return `# ${path.relative(ROOT, file)}: ${commands.length} commands\n\n` + commands.map(describeCommand).join("\n\n") + "\n";
}

const STACKS: Record<string, string> = {
    small: "stacks/small.yaml",
    local: "stacks/local.yaml",
    "local-wan": "stacks/local-wan.yaml",
    "local-gre": "stacks/local-gre.yaml",
    "ssh-lan": "test/golden/specs/ssh-lan.yaml",
    "ssh-vm": "test/golden/specs/ssh-vm.yaml",
};

describe("golden files: the commands each stack registers", () => {
    for (const [name, file] of Object.entries(STACKS)) {
        it(`${file} matches test/golden/${name}.txt`, async () => {
            const got = await commandsOf(name, path.join(ROOT, file));
            const golden = path.join(GOLDEN, `${name}.txt`);
            if (process.env.UPDATE_GOLDEN) fs.writeFileSync(golden, got);
            assert.ok(fs.existsSync(golden), `no ${golden}: run with UPDATE_GOLDEN=1 and review it`);
            assert.equal(got, fs.readFileSync(golden, "utf8"), `${name}: the registered commands differ from ${golden}`);
        });
    }
});

// Each routing device's rendered configuration (npm run configs), one file each under
// test/golden/configs/<stack>/<host>/, and OAI pmip6d's of a stack with PMIPv6 (rendered only).
const CONFIG_STACKS: Record<string, string> = {
    "local-gre": "stacks/local-gre.yaml", "ios-pe": "test/golden/specs/ios-pe.yaml", "local-pmipv6": "stacks/local-pmipv6.yaml",
};

describe("golden files: the routers' configurations", () => {
    for (const [name, file] of Object.entries(CONFIG_STACKS)) {
        it(`${file} renders test/golden/configs/${name}/`, async () => {
            const { deviceConfigs } = await import("../../modules/rip/configs");
            const { pmip6dConfigs } = await import("../../modules/pmipv6/pmip6d");
            const spec = loadSpec(path.join(ROOT, file));
            const configs = [...deviceConfigs(spec), ...pmip6dConfigs(spec)];
            assert.ok(configs.length, `${file} renders no configuration`);
            for (const c of configs) {
                const golden = path.join(GOLDEN, "configs", name, c.file);
                if (process.env.UPDATE_GOLDEN) { fs.mkdirSync(path.dirname(golden), { recursive: true }); fs.writeFileSync(golden, c.text); }
                assert.ok(fs.existsSync(golden), `no ${golden}: run with UPDATE_GOLDEN=1 and review it`);
                assert.equal(c.text, fs.readFileSync(golden, "utf8"), `${name}: ${c.file} differs from ${golden}`);
            }
        });
    }
});
