// The real engine on the small emulated lab: preview, up, a second preview with no
// changes, a one-field change that shows as exactly that change, destroy, and nothing
// left behind. Also: a stack file with several mistakes creates nothing.
import { after, before, describe, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Engine, residue, ROOT, sh, tmpEntries } from "./harness";

const STACK = "t-small";

function changes(previewJson: string): Record<string, number> {
    return JSON.parse(previewJson).changeSummary;
}

/** Each resource's inputs by URN, from the stack's state: what the lab was built from. */
function inputsByUrn(engine: Engine, stack: string): Record<string, unknown> {
    const state = JSON.parse(engine.ok(["stack", "export", "--stack", stack]).stdout);
    return Object.fromEntries((state.deployment.resources ?? []).map((r: any) => [r.urn, r.inputs ?? {}]));
}

describe("real engine, small emulated lab", () => {
    const engine = new Engine();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "wanlab-test-spec-"));
    const specFile = path.join(work, "small.yaml");
    let tmpBefore: Set<string>;
    let firstBuild: Record<string, unknown>;

    before(() => {
        assert.ok(fs.existsSync(path.join(ROOT, ".tools", "bin", "pulumi")), "run scripts/bootstrap.sh first (npm test does)");
        tmpBefore = tmpEntries();
        fs.copyFileSync(path.join(ROOT, "stacks", "small.yaml"), specFile);
        engine.initStack(STACK, specFile);
    });
    after(() => {
        engine.cleanup();
        fs.rmSync(work, { recursive: true, force: true });
    });

    test("preview plans the whole lab and changes nothing", () => {
        const r = engine.ok(["preview", "--stack", STACK, "--json"]);
        assert.deepEqual(changes(r.stdout), { create: 12 });
        assert.deepEqual(residue(STACK), []);
    });

    test("up builds two namespaces joined by a veth link that carries pings", (t) => {
        const r = engine.ok(["up", "--yes", "--stack", STACK, "--skip-preview"]);
        t.diagnostic(`up: ${r.seconds.toFixed(1)} s`);
        firstBuild = inputsByUrn(engine, STACK);
        const out = JSON.parse(engine.ok(["stack", "output", "--json", "--stack", STACK]).stdout);
        assert.match(out.checks["h1-to-h2"], /3 packets transmitted, 3 received, 0% packet loss/);
        assert.equal(out.hosts.h1.netns, `wl-${STACK}-h1`);
        // Independently of the stack's own check: the address is there and answers.
        assert.match(sh(`ip -n wl-${STACK}-h2 -4 addr show dev eth0`).out, /inet 10\.10\.0\.2\/30/);
        assert.equal(sh(`ip netns exec wl-${STACK}-h1 ping -c 1 -W 2 10.10.0.2`).code, 0);
    });

    test("a second preview, and a second up, find nothing to change", () => {
        const r = engine.ok(["preview", "--stack", STACK, "--json"]);
        assert.deepEqual(changes(r.stdout), { same: 12 });
        const up = engine.ok(["up", "--yes", "--stack", STACK, "--skip-preview"]);
        assert.match(up.stdout, /12 unchanged/);
        assert.doesNotMatch(up.stdout, /created|updated|deleted|replaced/);
    });

    test("preview --diff after a one-field change shows exactly that change", () => {
        const original = fs.readFileSync(specFile, "utf8");
        fs.writeFileSync(specFile, original.replace("mtu: 1500", "mtu: 1400"));
        try {
            const json = JSON.parse(engine.ok(["preview", "--stack", STACK, "--json", "--diff"]).stdout);
            assert.deepEqual(json.changeSummary, { same: 11, update: 1 });
            const step = json.steps.find((s: any) => s.op === "update");
            assert.match(step.urn, /wanlab:host:Link\$command:local:Command::wan-veth$/);
            // The reviewable diff: one resource, one property, one value.
            const text = engine.ok(["preview", "--stack", STACK, "--diff"]).stdout;
            const changed = text.split("\n").filter((l) => /^\s*[~+-] /.test(l)).map((l) => l.trim().replace(/\s+/g, " "));
            assert.deepEqual(changed, [
                "~ command:local:Command: (update)",
                "~ environment : {",
                '~ MTU : "1500" => "1400"',
                "~ 1 to update",
            ]);
        } finally {
            fs.writeFileSync(specFile, original);
        }
    });

    test("destroy then up gives back the same lab", () => {
        engine.ok(["destroy", "--yes", "--stack", STACK, "--skip-preview"]);
        assert.deepEqual(residue(STACK), []);
        engine.ok(["up", "--yes", "--stack", STACK, "--skip-preview"]);
        assert.deepEqual(inputsByUrn(engine, STACK), firstBuild);
        assert.equal(sh(`ip netns exec wl-${STACK}-h2 ping -c 1 -W 2 10.10.0.1`).code, 0);
    });

    test("destroy leaves no namespace, mount, process or file behind", (t) => {
        const r = engine.ok(["destroy", "--yes", "--stack", STACK, "--skip-preview"]);
        t.diagnostic(`destroy: ${r.seconds.toFixed(1)} s`);
        assert.deepEqual(residue(STACK), []);
        assert.deepEqual([...tmpEntries()].filter((e) => !tmpBefore.has(e)), []);
        const state = JSON.parse(engine.ok(["stack", "export", "--stack", STACK]).stdout);
        assert.deepEqual(state.deployment.resources ?? [], []);
    });
});

describe("real engine, a stack file with several mistakes", () => {
    const engine = new Engine();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "wanlab-test-spec-"));
    const specFile = path.join(work, "bad.yaml");
    after(() => {
        engine.cleanup();
        fs.rmSync(work, { recursive: true, force: true });
    });

    test("reports every mistake in one run and creates nothing", () => {
        fs.writeFileSync(specFile, fs.readFileSync(path.join(ROOT, "stacks", "small.yaml"), "utf8")
            .replace("address: 10.10.0.2/30", "address: 10.10.1.2/30") // outside the subnet
            .replace("site: site2", "site: site9")                     // unknown site
            .replace("from: h1", "from: h3"));                          // unknown host
        engine.initStack("t-bad", specFile);
        const r = engine.pulumi(["up", "--yes", "--stack", "t-bad", "--skip-preview"]);
        assert.notEqual(r.code, 0);
        const out = r.stdout + r.stderr;
        assert.ok(out.includes(`${specFile}: /hosts/1/site: unknown site 'site9'`), out);
        assert.ok(out.includes(`${specFile}: /links/0/ends/1/address: 10.10.1.2/30 is outside the link's subnet 10.10.0.0/30`), out);
        assert.ok(out.includes(`${specFile}: /checks/0/from: unknown host 'h3'`), out);
        const state = JSON.parse(engine.ok(["stack", "export", "--stack", "t-bad"]).stdout);
        const created = (state.deployment.resources ?? []).filter((r: any) => r.type !== "pulumi:pulumi:Stack");
        assert.deepEqual(created, []);
        assert.deepEqual(residue("t-bad"), []);
    });
});

describe("real engine, what would fail later is refused first", () => {
    const engine = new Engine();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "wanlab-test-spec-"));
    after(() => {
        engine.cleanup();
        fs.rmSync(work, { recursive: true, force: true });
    });
    /** What the stack's state holds besides the stack itself and the Lab's components. */
    const created = (stack: string) => (JSON.parse(engine.ok(["stack", "export", "--stack", stack]).stdout).deployment.resources ?? [])
        .filter((r: any) => r.type !== "pulumi:pulumi:Stack" && !r.type.startsWith("pulumi:providers:"));

    test("a plain `pulumi up` of the default lab on a new stack without its CHAP secret registers nothing and says how to set it", () => {
        engine.initStack("t-nochap", path.join(ROOT, "stacks", "local.yaml"));
        const r = engine.pulumi(["up", "--yes", "--stack", "t-nochap", "--skip-preview"]);
        assert.notEqual(r.code, 0);
        const out = r.stdout + r.stderr;
        assert.ok(out.includes("/storage/0/chap/password: the secret wanlab:chapPassword is not set in this stack: " +
            "set it with `pulumi config set --secret wanlab:chapPassword`"), out);
        assert.deepEqual(created("t-nochap"), []);
        assert.deepEqual(residue("t-nochap"), []);
    });

    test("another checkout's lab of the same stack name on this machine: refused at preflight, and its namespaces are left alone", () => {
        const stack = "t-owner";
        const theirs = `/run/wanlab/${stack}/h1`;
        fs.mkdirSync(theirs, { recursive: true });
        fs.writeFileSync(`${theirs}/owner`, `/srv/other-checkout ${stack}\n`);
        try {
            engine.initStack(stack, path.join(ROOT, "stacks", "small.yaml"));
            const r = engine.pulumi(["up", "--yes", "--stack", stack, "--skip-preview"]);
            assert.notEqual(r.code, 0);
            assert.ok((r.stdout + r.stderr).includes(`its namespaces on this machine: another lab has them (the stack '${stack}' of /srv/other-checkout). ` +
                "Destroy that one, or give this stack another name"), r.stdout + r.stderr);
            assert.equal(fs.readFileSync(`${theirs}/owner`, "utf8"), `/srv/other-checkout ${stack}\n`, "theirs untouched");
            assert.deepEqual(created(stack).filter((x: any) => x.custom && !/-preflight$/.test(x.urn)), []);
        } finally {
            fs.rmSync(`/run/wanlab/${stack}`, { recursive: true, force: true });
        }
        assert.deepEqual(residue(stack), []);
    });

    test("a VM bigger than this machine's memory and a guest kernel that is not there stop the preflight: no host is built", () => {
        const file = path.join(work, "local-missing.yaml");
        fs.writeFileSync(file, fs.readFileSync(path.join(ROOT, "stacks", "local.yaml"), "utf8")
            .replace("    disk: { storage: shared }\n", "    disk: { storage: shared }\n    image: { kernel: /nonexistent/vmlinuz, initrd: /nonexistent/initrd.img }\n"));
        engine.initStack("t-limits", file);
        engine.ok(["config", "set", "--stack", "t-limits", "--secret", "wanlab:chapPassword"], { input: "limits-test-secret" });
        engine.ok(["config", "set", "--stack", "t-limits", "wanlab:vmMemoryMiB", "65536"]);
        const r = engine.pulumi(["up", "--yes", "--stack", "t-limits", "--skip-preview"]);
        assert.notEqual(r.code, 0);
        const out = r.stdout + r.stderr;
        assert.match(out, /memory: this machine has \d+ MiB in all, and its guests need 131200 MiB \(VM 'vm1' on 'host1' 65536 MiB, VM 'vm1' on 'host2' 65536 MiB/);
        assert.ok(out.includes("the kernel /nonexistent/vmlinuz of VM 'vm1' is not there: put it there or change /vms/0/image/kernel"), out);
        assert.match(out, /Nothing was changed on any host/);
        // Only checks ran: no host, link, daemon or VM.
        const kinds = created("t-limits").filter((x: any) => x.custom).map((x: any) => x.urn.split("::").pop());
        assert.ok(kinds.every((n: string) => /-preflight$/.test(n)), kinds.join(", "));
        assert.deepEqual(residue("t-limits"), []);
    });
});
