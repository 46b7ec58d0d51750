// The Lab's resource graph, built against Pulumi's mocks: which commands it registers,
// with which scripts, environments and interpreters. Nothing runs on the machine.
//
//   node --import tsx --test test/unit/lab.test.ts

import { before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { loadSpec, validateDocument, type LabSpec } from "../../lib/spec";

const PROJECT = "wanlab";
const STACK = "unit";
const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nunit-test-key-4f1c\n-----END OPENSSH PRIVATE KEY-----";
const ROOT = path.resolve(__dirname, "..", "..");

interface Registered { type: string; name: string; inputs: any; custom: boolean }
const registered: Registered[] = [];

// Mocks, project, stack and config before any component module is loaded.
const mocksReady = pulumi.runtime.setMocks({
    newResource(args: pulumi.runtime.MockResourceArgs) {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs, custom: args.custom ?? false });
        return { id: args.custom ? `${args.name}-id` : "", state: args.inputs };
    },
    call(args: pulumi.runtime.MockCallArgs) {
        return args.inputs;
    },
}, PROJECT, STACK, false);
pulumi.runtime.setConfig(`${PROJECT}:key1`, KEY);

type LabModule = typeof import("../../components/lab");
type SshModule = typeof import("../../components/host/ssh");
let labModule: LabModule;
let sshModule: SshModule;

before(async () => {
    await mocksReady;
    labModule = await import("../../components/lab");
    sshModule = await import("../../components/host/ssh");
});

/** Wait until every registration the SDK has started has reached the mocks. */
async function settle() {
    const wait = (pulumi.runtime as any).waitForRPCs as (() => Promise<void>) | undefined;
    assert.equal(typeof wait, "function", "this SDK no longer exports runtime.waitForRPCs");
    await wait!();
}

/** Build a Lab and return what it registered. */
async function build(name: string, spec: LabSpec) {
    const start = registered.length;
    const lab = new labModule.Lab(name, { spec, stack: STACK });
    await settle();
    const resources = registered.slice(start);
    const commands = resources.filter((r) => r.type === "command:local:Command" || r.type === "command:remote:Command");
    const byName = (n: string) => {
        const found = commands.filter((c) => c.name === n);
        assert.equal(found.length, 1, `expected one command named ${n}, got ${found.length}`);
        return found[0];
    };
    return { lab, resources, commands, byName };
}

/** `type::name` pairs registered more than once (the engine rejects a duplicate URN; the mocks do not). */
function duplicates(resources: Registered[]): string[] {
    const seen = new Map<string, number>();
    for (const r of resources) seen.set(`${r.type}::${r.name}`, (seen.get(`${r.type}::${r.name}`) ?? 0) + 1);
    return [...seen].filter(([, n]) => n > 1).map(([k]) => k);
}

const nsenter = (host: string) => [
    "nsenter", `--net=/run/netns/wl-${STACK}-${host}`, `--mount=/run/wanlab/${STACK}/${host}/mnt`, "--", "/bin/sh", "-c",
];

/** Assertions every emulated host's preflight must satisfy. */
function assertPreflight(cmd: Registered, host: string, binaries: string[], kernel: string[]) {
    assert.equal(cmd.type, "command:local:Command");
    assert.equal(cmd.inputs.interpreter, undefined, "a preflight runs on this machine, outside the namespaces");
    const create: string = cmd.inputs.create;
    assert.ok(create.startsWith("set -eu\n"));
    assert.ok(create.includes(`HOST='host '\\''${host}'\\'' (emulated on this machine)'`), create);
    assert.ok(create.includes('[ "$(id -u)" = 0 ] || add "root privileges'), "checks root");
    for (const b of binaries) assert.ok(create.includes(`command -v ${b} >/dev/null 2>&1 || add `), `checks binary ${b}`);
    const probed = [...create.matchAll(/^command -v (\S+) /gm)].map((m) => m[1]);
    assert.deepEqual(probed, binaries, "checks exactly the binaries this host needs");
    const probes: Record<string, string> = {
        netns: "(unshare --net true) >/dev/null 2>&1 || add 'kernel feature '\\''netns'\\''",
        mntns: "(unshare --mount true) >/dev/null 2>&1 || add 'kernel feature '\\''mntns'\\''",
        veth: "(unshare --net ip link add wlp0 type veth peer name wlp1) >/dev/null 2>&1 || add 'kernel feature '\\''veth'\\''",
    };
    for (const k of kernel) assert.ok(create.includes(probes[k]), `probes kernel feature ${k}`);
    assert.ok(create.includes('printf "%s is missing:%s\\nNothing was changed on any host.\\n" "$HOST" "$missing" >&2'));
    assert.deepEqual(cmd.inputs.triggers, [binaries.join(" "), kernel.join(" ")]);
}

describe("Lab for stacks/small.yaml", () => {
    let built: Awaited<ReturnType<typeof build>>;
    before(async () => {
        built = await build("small", loadSpec(path.join(ROOT, "stacks", "small.yaml")));
    });

    it("registers the components and exactly the expected commands", () => {
        const components = built.resources.filter((r) => !r.custom).map((r) => `${r.type}::${r.name}`).sort();
        assert.deepEqual(components, [
            "wanlab:Lab::small",
            "wanlab:experiment:PingCheck::h1-to-h2",
            "wanlab:host:EmulatedHost::h1",
            "wanlab:host:EmulatedHost::h2",
            "wanlab:host:Link::wan",
        ]);
        assert.deepEqual(built.commands.map((c) => `${c.type}::${c.name}`).sort(), [
            "command:local:Command::h1-check-h1-to-h2",
            "command:local:Command::h1-namespace",
            "command:local:Command::h1-preflight",
            "command:local:Command::h2-namespace",
            "command:local:Command::h2-preflight",
            "command:local:Command::wan-veth",
        ]);
        // Every resource is a component or a command: nothing else slips in.
        assert.equal(built.resources.length, components.length + built.commands.length);
        assert.deepEqual(duplicates(built.resources), []);
    });

    it("one preflight per host checks root, binaries (ethtool, nsenter, ...) and kernel features (veth)", () => {
        assertPreflight(built.byName("h1-preflight"), "h1",
            ["ethtool", "ip", "mountpoint", "nsenter", "ping", "sh", "umount", "unshare"], ["mntns", "netns", "veth"]);
        assertPreflight(built.byName("h2-preflight"), "h2",
            ["ethtool", "ip", "mountpoint", "nsenter", "sh", "umount", "unshare"], ["mntns", "netns", "veth"]);
    });

    it("one namespace command per emulated host, named per stack", () => {
        for (const h of ["h1", "h2"]) {
            const ns = built.byName(`${h}-namespace`);
            assert.equal(ns.type, "command:local:Command");
            assert.deepEqual(ns.inputs.environment, {
                NETNS: `wl-${STACK}-${h}`,
                RUN: `/run/wanlab/${STACK}/${h}`,
                RUN_ROOT: "/run/wanlab",
                STACK_DIR: `/run/wanlab/${STACK}`,
            });
            assert.equal(ns.inputs.interpreter, undefined, "the namespace is made from outside it");
            assert.match(ns.inputs.create, /ip netns add "\$NETNS"/);
            assert.match(ns.inputs.create, /unshare --mount="\$RUN\/mnt" --propagation private true/);
            assert.match(ns.inputs.delete, /ip netns del "\$NETNS"/);
            assert.equal(ns.inputs.addPreviousOutputInEnv, true);
        }
        const hosts = built.lab.hosts as Record<string, any>;
        assert.equal(hosts.h1.netns, `wl-${STACK}-h1`);
    });

    it("one veth command for the link, with both ends in its environment", () => {
        const veth = built.byName("wan-veth");
        assert.deepEqual(veth.inputs.environment, {
            NS_A: `wl-${STACK}-h1`, IF_A: "eth0", ADDR_A: "10.10.0.1/30",
            NS_B: `wl-${STACK}-h2`, IF_B: "eth0", ADDR_B: "10.10.0.2/30",
            MTU: "1500",
        });
        assert.equal(veth.inputs.interpreter, undefined);
        const create: string = veth.inputs.create;
        assert.ok(create.includes('ip link add "$IF_A" netns "$NS_A" type veth peer name "$IF_B" netns "$NS_B"'));
        assert.ok(create.includes('ip -n "$NS_A" addr replace "$ADDR_A" dev "$IF_A"'));
        assert.ok(create.includes('ip -n "$NS_B" addr replace "$ADDR_B" dev "$IF_B"'));
        assert.ok(create.includes('nsenter --net="/run/netns/$NS_A" ethtool -K "$IF_A" tx off'));
        assert.ok(create.includes('ip -n "$NS_B" link set "$IF_B" mtu "$MTU" up'));
        assert.equal(veth.inputs.delete, 'ip -n "$NS_A" link del "$IF_A" 2>/dev/null || true');
    });

    it("the ping check runs inside h1's namespaces", () => {
        const check = built.byName("h1-check-h1-to-h2");
        assert.deepEqual(check.inputs.interpreter, nsenter("h1"));
        assert.deepEqual(check.inputs.environment, { TARGET: "10.10.0.2", COUNT: "3", FROM: "h1" });
        assert.match(check.inputs.create, /ping -n -q -c "\$COUNT" -i 0\.2 -W 2 "\$TARGET"/);
    });

    it("no host forwards: small.yaml has no router", () => {
        assert.equal(built.commands.filter((c) => c.name.endsWith("-ip-forward")).length, 0);
    });
});

describe("Lab for stacks/local.yaml", () => {
    let built: Awaited<ReturnType<typeof build>>;
    const hosts = ["host1", "host2", "router", "storage"];
    before(async () => {
        built = await build("local", loadSpec(path.join(ROOT, "stacks", "local.yaml")));
    });

    it("one preflight and one namespace per host, and one veth per link", () => {
        for (const h of hosts) {
            assert.equal(built.byName(`${h}-preflight`).type, "command:local:Command");
            assert.equal(built.byName(`${h}-namespace`).inputs.environment.NETNS, `wl-${STACK}-${h}`);
        }
        assert.deepEqual(built.commands.filter((c) => c.name.endsWith("-veth")).map((c) => c.name).sort(),
            ["site1-wan-veth", "site2-wan-veth", "storage-lan-veth"]);
        assert.equal(built.commands.length, 4 + 4 + 3 + 1 + 6 + 3);
        assert.deepEqual(duplicates(built.resources), []);
    });

    it("the router's preflight asks for sysctl; the others' do not", () => {
        assert.match(built.byName("router-preflight").inputs.create, /^command -v sysctl /m);
        assert.doesNotMatch(built.byName("host2-preflight").inputs.create, /sysctl/);
        // storage sends pings, host2 does not.
        assert.match(built.byName("storage-preflight").inputs.create, /^command -v ping /m);
        assert.doesNotMatch(built.byName("host2-preflight").inputs.create, /command -v ping/);
    });

    it("veth environments", () => {
        const env = (n: string) => built.byName(n).inputs.environment;
        assert.deepEqual(env("site1-wan-veth"), {
            NS_A: `wl-${STACK}-host1`, IF_A: "eth0", ADDR_A: "192.168.1.10/24",
            NS_B: `wl-${STACK}-router`, IF_B: "eth1", ADDR_B: "192.168.1.1/24", MTU: "1500",
        });
        assert.deepEqual(env("site2-wan-veth"), {
            NS_A: `wl-${STACK}-host2`, IF_A: "eth0", ADDR_A: "192.168.2.10/24",
            NS_B: `wl-${STACK}-router`, IF_B: "eth2", ADDR_B: "192.168.2.1/24", MTU: "1500",
        });
        assert.deepEqual(env("storage-lan-veth"), {
            NS_A: `wl-${STACK}-storage`, IF_A: "eth0", ADDR_A: "192.168.5.5/24",
            NS_B: `wl-${STACK}-router`, IF_B: "eth5", ADDR_B: "192.168.5.1/24", MTU: "1500",
        });
    });

    it("IP forwarding on the router only, inside its namespace", () => {
        const fwd = built.commands.filter((c) => c.name.endsWith("-ip-forward"));
        assert.deepEqual(fwd.map((c) => c.name), ["router-ip-forward"]);
        assert.deepEqual(fwd[0].inputs.interpreter, nsenter("router"));
        assert.match(fwd[0].inputs.create, /sysctl -qw net\.ipv4\.ip_forward=1/);
        assert.match(fwd[0].inputs.delete, /PULUMI_COMMAND_STDOUT/);
    });

    it("route commands with TO/VIA on host1, host2 and storage, inside their namespaces", () => {
        const routes = built.commands.filter((c) => c.name.includes("-route-"))
            .map((c) => [c.name, c.inputs.environment.TO, c.inputs.environment.VIA, c.inputs.interpreter[1]])
            .sort((a, b) => a[0].localeCompare(b[0]));
        assert.deepEqual(routes, [
            ["host1-route-192-168-2-0-24", "192.168.2.0/24", "192.168.1.1", `--net=/run/netns/wl-${STACK}-host1`],
            ["host1-route-192-168-5-0-24", "192.168.5.0/24", "192.168.1.1", `--net=/run/netns/wl-${STACK}-host1`],
            ["host2-route-192-168-1-0-24", "192.168.1.0/24", "192.168.2.1", `--net=/run/netns/wl-${STACK}-host2`],
            ["host2-route-192-168-5-0-24", "192.168.5.0/24", "192.168.2.1", `--net=/run/netns/wl-${STACK}-host2`],
            ["storage-route-192-168-1-0-24", "192.168.1.0/24", "192.168.5.1", `--net=/run/netns/wl-${STACK}-storage`],
            ["storage-route-192-168-2-0-24", "192.168.2.0/24", "192.168.5.1", `--net=/run/netns/wl-${STACK}-storage`],
        ]);
        const r = built.byName("host1-route-192-168-2-0-24");
        assert.deepEqual(r.inputs.interpreter, nsenter("host1"));
        assert.equal(r.inputs.create, 'ip route replace "$TO" via "$VIA"');
    });

    it("ping checks from host1 and storage, each inside its sender's namespace", () => {
        const checks = built.commands.filter((c) => c.name.includes("-check-"))
            .map((c) => [c.name, c.inputs.environment, c.inputs.interpreter])
            .sort((a, b) => (a[0] as string).localeCompare(b[0] as string));
        assert.deepEqual(checks, [
            ["host1-check-host1-to-host2", { TARGET: "192.168.2.10", COUNT: "3", FROM: "host1" }, nsenter("host1")],
            ["storage-check-client-to-host1", { TARGET: "192.168.1.10", COUNT: "3", FROM: "storage" }, nsenter("storage")],
            ["storage-check-client-to-host2", { TARGET: "192.168.2.10", COUNT: "3", FROM: "storage" }, nsenter("storage")],
        ]);
        assert.deepEqual(Object.keys(built.lab.checks).sort(), ["client-to-host1", "client-to-host2", "host1-to-host2"]);
    });

    it("every command on an emulated host runs through nsenter into that host", () => {
        // Commands made from outside (preflight, namespace, veth) have no interpreter.
        const outside = /-(preflight|namespace|veth)$/;
        for (const c of built.commands) {
            if (outside.test(c.name)) {
                assert.equal(c.inputs.interpreter, undefined, c.name);
                continue;
            }
            const host = hosts.find((h) => c.name.startsWith(`${h}-`));
            assert.ok(host, `command ${c.name} belongs to no host`);
            assert.deepEqual(c.inputs.interpreter, nsenter(host!), c.name);
        }
    });
});

/** Walk a mock's inputs, skipping secret-wrapped values; true if `needle` appears in clear text. */
function inClearText(value: unknown, needle: string): boolean {
    if (pulumi.runtime.isRpcSecret(value)) return false;
    if (typeof value === "string") return value.includes(needle);
    if (Array.isArray(value)) return value.some((v) => inClearText(v, needle));
    if (value && typeof value === "object") return Object.values(value).some((v) => inClearText(v, needle));
    return false;
}

describe("Lab with ssh hosts", () => {
    const doc = () => ({
        name: "remote",
        hosts: [
            { name: "r1", transport: "ssh", roles: ["hypervisor"], ssh: { address: "192.0.2.10", port: 2222, user: "lab", privateKey: { config: "key1" } } },
            { name: "r2", transport: "ssh", ssh: { address: "192.0.2.11", privateKey: { config: "key1" } } },
        ],
        links: [{ name: "lan", subnet: "10.20.0.0/24", mtu: 9000, ends: [
            { host: "r1", interface: "ens4", address: "10.20.0.1/24" },
            { host: "r2", interface: "ens4", address: "10.20.0.2/24" },
        ] }],
        checks: [{ name: "r1-to-r2", from: "r1", to: "10.20.0.2", count: 2 }],
    });
    let spec: LabSpec;
    let built: Awaited<ReturnType<typeof build>>;
    before(async () => {
        const v = validateDocument(doc());
        assert.deepEqual(v.errors, []);
        spec = v.spec!;
        built = await build("remote", spec);
    });

    it("registers only remote commands: preflights, link NICs and the check", () => {
        assert.deepEqual(built.commands.map((c) => `${c.type}::${c.name}`).sort(), [
            "command:remote:Command::r1-check-r1-to-r2",
            "command:remote:Command::r1-link-lan",
            "command:remote:Command::r1-preflight",
            "command:remote:Command::r2-link-lan",
            "command:remote:Command::r2-preflight",
        ]);
        assert.deepEqual(built.byName("r1-link-lan").inputs.environment, { IF: "ens4", ADDR: "10.20.0.1/24", MTU: "9000" });
        assert.deepEqual(built.byName("r2-link-lan").inputs.environment, { IF: "ens4", ADDR: "10.20.0.2/24", MTU: "9000" });
        assert.equal(built.byName("r1-link-lan").inputs.interpreter, undefined);
        const pre: string = built.byName("r1-preflight").inputs.create;
        assert.ok(pre.includes("HOST='host '\\''r1'\\'' (ssh 192.0.2.10)'"), pre);
        // Neither namespaces nor veth on a real machine.
        assert.doesNotMatch(pre, /nsenter|veth|ethtool/);
        assert.match(pre, /^command -v ping /m);
    });

    it("every remote command's connection arrives as a secret, with the key from config", () => {
        for (const c of built.commands) {
            const conn = c.inputs.connection;
            assert.ok(pulumi.runtime.isRpcSecret(conn), `${c.name}: connection is not a secret`);
            const plain = pulumi.runtime.unwrapRpcSecret(conn);
            assert.equal(plain.privateKey, KEY, c.name);
            assert.equal(plain.dialErrorLimit, 5);
            assert.equal(plain.perDialTimeout, 10);
        }
        const r1 = pulumi.runtime.unwrapRpcSecret(built.byName("r1-preflight").inputs.connection);
        assert.deepEqual([r1.host, r1.port, r1.user], ["192.0.2.10", 2222, "lab"]);
        const r2 = pulumi.runtime.unwrapRpcSecret(built.byName("r2-link-lan").inputs.connection);
        assert.deepEqual([r2.host, r2.port, r2.user], ["192.0.2.11", 22, "root"]); // schema defaults
    });

    it("the key appears nowhere in clear text among the registered inputs", () => {
        // A sanity check that the walk finds the key when it is not hidden.
        assert.ok(inClearText({ a: [{ b: `x${KEY}y` }] }, KEY));
        for (const r of built.resources) assert.ok(!inClearText(r.inputs, KEY), `${r.type}::${r.name} shows the key`);
    });

    it("the private key itself is a secret Output, not only the connection around it", async () => {
        // remote.Command wraps the whole connection in pulumi.secret(), so the mock inputs
        // alone cannot tell whether privateKey was secret; ask the connection ssh.ts builds.
        const conn = sshModule.sshConnection(spec.hosts[0]);
        assert.ok(pulumi.Output.isInstance(conn.privateKey));
        assert.equal(await pulumi.isSecret(conn.privateKey as pulumi.Output<string>), true);
        const host = built.lab.hosts.r1 as any;
        assert.equal(await pulumi.isSecret(host.connection.privateKey), true);
        // The test can fail: a plain Output is not reported as a secret.
        assert.equal(await pulumi.isSecret(pulumi.output(KEY)), false);
    });

    it("a key missing from config fails the lab at construction", () => {
        const noKey = validateDocument({ ...doc(), hosts: [
            { name: "r1", transport: "ssh", ssh: { address: "192.0.2.10", privateKey: { config: "missingKey" } } },
            { name: "r2", transport: "ssh", ssh: { address: "192.0.2.11", privateKey: { config: "missingKey" } } },
        ] });
        assert.deepEqual(noKey.errors, []);
        assert.throws(() => new labModule.Lab("nokey", { spec: noKey.spec!, stack: STACK }), /wanlab:missingKey/);
    });
});

describe("sections that validate but are not built yet", () => {
    const withVms = () => {
        const { spec, errors } = validateDocument({
            name: "vms",
            hosts: [{ name: "h1", transport: "emulated", roles: ["hypervisor"] }],
            bridges: [{ name: "br0", host: "h1" }],
            vms: [{ name: "vm1", host: "h1", memoryMiB: 256, interfaces: [{ bridge: "br0", mac: "52:54:00:00:00:01" }] }],
        });
        assert.deepEqual(errors, []);
        return spec!;
    };

    it("unbuiltSections names each such part", () => {
        assert.deepEqual(labModule.unbuiltSections(withVms()), ["/bridges", "/vms"]);
        assert.deepEqual(labModule.unbuiltSections(loadSpec(path.join(ROOT, "stacks", "local.yaml"))), []);
    });

    it("a spec with a vms section makes the Lab throw a RunError naming /vms, before any command", async () => {
        const start = registered.length;
        assert.throws(() => new labModule.Lab("vms", { spec: withVms(), stack: STACK }), (err: unknown) => {
            assert.ok(pulumi.RunError.isInstance(err), `not a RunError: ${err}`);
            assert.equal((err as Error).message,
                "these parts of the stack file are valid but not built by this version yet: /bridges, /vms");
            return true;
        });
        // Only /vms, even without a bridge (the Lab does not validate, it only refuses).
        const vmsOnly: LabSpec = { ...withVms(), bridges: [] };
        assert.throws(() => new labModule.Lab("vms-only", { spec: vmsOnly, stack: STACK }),
            { message: "these parts of the stack file are valid but not built by this version yet: /vms" });
        await settle();
        const after = registered.slice(start);
        assert.ok(after.every((r) => r.type === "wanlab:Lab"), `registered: ${after.map((r) => r.type).join(", ")}`);
    });
});

describe("resource names a valid spec can make collide", () => {
    // Two resources with one URN would be refused by the engine after validation said ok:
    // validation rejects such specs instead.
    const base = () => ({
        name: "dups",
        hosts: [{ name: "h1", transport: "emulated" }, { name: "h2", transport: "emulated" }] as any[],
        links: [{ name: "wan", subnet: "10.10.0.0/30", ends: [
            { host: "h1", interface: "eth0", address: "10.10.0.1/30" },
            { host: "h2", interface: "eth0", address: "10.10.0.2/30" },
        ] }],
        checks: [] as any[],
    });

    it("an unnamed check whose default name (check-<i>) equals another check's name", async () => {
        const v = validateDocument({ ...base(), checks: [
            { name: "check-1", from: "h1", to: "10.10.0.2" },
            { from: "h2", to: "10.10.0.1" },
        ] });
        assert.deepEqual(v.errors, [{ pointer: "/checks/1/name", reason: "duplicate name 'check-1' (first at /checks/0)" }]);
    });

    it("two routes to one prefix on one host", async () => {
        const doc = base();
        doc.hosts[0] = { name: "h1", transport: "emulated", routes: [
            { to: "10.9.0.0/16", via: "10.10.0.2" },
            { to: "10.9.0.0/16", via: "10.10.0.2" },
        ] };
        const v = validateDocument(doc);
        assert.deepEqual(v.errors, [{ pointer: "/hosts/0/routes/1/to", reason: "a second route to 10.9.0.0/16 on host 'h1'" }]);
    });
});
