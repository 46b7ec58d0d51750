// The Lab's resource graph, built against Pulumi's mocks: which commands it registers,
// with which scripts, environments, stdin and interpreters, which inputs arrive as secrets,
// and what each resource waits for. Nothing runs on the machine.
//
//   node --import tsx --test test/unit/lab.test.ts

import { before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { type LabSpec } from "../../model/types";
import { loadSpec, validateDocument } from "../../model/validate";
import { notBuilt } from "../../model/platforms";

const PROJECT = "wanlab";
const STACK = "unit";
const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nunit-test-key-4f1c\n-----END OPENSSH PRIVATE KEY-----";
const CHAP = "unit-chap-password-9b3e";
const ROOT = path.resolve(__dirname, "..", "..");

/** The KVM probe's verdict on a machine where KVM does not run a guest (this project's CI machines). */
const NO_KVM = { accel: "kvm", ok: false, reason: "a guest under kvm with -cpu qemu64 printed nothing within 15 s", cached: false };

interface Registered {
    type: string; name: string; inputs: any; custom: boolean;
    /** What the SDK sent the engine along with the inputs: this resource's URN, its parent's and its explicit dependencies'. */
    urn: string; parent: string; dependencies: string[];
}
const registered: Registered[] = [];
// The registration request being handed to newResource (see captureRegistrations).
let request: { urn: string; parent: string; dependencies: string[] } | undefined;

// What a migration run prints (migrate.sh's JSON record), made from the command's environment.
function migrationStdout(env: Record<string, string>): string {
    return JSON.stringify({
        run: Number(env.RUN), vm: env.VM, from: env.SRC_HOST, to: env.DST_HOST, startedAt: 1700000000000, totalMs: 2100,
        probe: { intervalMs: Number(env.INTERVAL_MS), sent: 300, received: 290, lost: 10, downtimeMs: 110.5, gapStartedAt: 1700000001000, answeredAfter: true, rttBeforeMs: 0.4 },
        libvirt: { downtimeMs: 40, timeElapsedMs: 2000, dataProcessedBytes: 1048576, memoryTotalBytes: 268435456 },
    });
}

/** `nft -j reset counters table netdev wanlab_traffic` on local.yaml's router: 1 MiB of migration stream each way on each interface. */
const TRAFFIC_READING = JSON.stringify({ nftables: [{ metainfo: { version: "1.0.6", json_schema_version: 1 } },
    ...["migration", "storage", "client", "tunnel", "other"].flatMap((c, k) => ["eth1", "eth2"].map((i) => ({
        counter: { family: "netdev", name: `${c}_${i}`, table: "wanlab_traffic", handle: 1, packets: 10 - k, bytes: c === "migration" ? 2 * 1048576 : 1000 * (5 - k) },
    })))] });

// Mocks, project, stack and config before any component module is loaded.
const mocksReady = pulumi.runtime.setMocks({
    newResource(args: pulumi.runtime.MockResourceArgs) {
        assert.ok(request && request.urn.endsWith(`::${args.name}`), `no registration request captured for ${args.name}`);
        registered.push({ type: args.type, name: args.name, inputs: args.inputs, custom: args.custom ?? false, ...request! });
        request = undefined;
        // Commands have a stdout output; the Migration parses its command's stdout as JSON.
        const state = args.type.startsWith("command:")
            ? { ...args.inputs, stdout: /-migrate-/.test(args.name) ? migrationStdout(args.inputs.environment)
                // The traffic counters' reading, as nft prints it.
                : /-traffic-vm1/.test(args.name) ? TRAFFIC_READING
                // A real machine's preflight says what its KVM probe found.
                : /-preflight$/.test(args.name) && args.type === "command:remote:Command" ? `kvm-probe: ${JSON.stringify(NO_KVM)}` : "" }
            : args.inputs;
        return { id: args.custom ? `${args.name}-id` : "", state };
    },
    call(args: pulumi.runtime.MockCallArgs) {
        return args.inputs;
    },
}, PROJECT, STACK, false);
// As `pulumi config set --secret` leaves them: both values are secrets in the stack's config.
const CONFIG = { [`${PROJECT}:key1`]: KEY, [`${PROJECT}:chapPassword`]: CHAP };
const SECRET_KEYS = [`${PROJECT}:key1`, `${PROJECT}:chapPassword`];
pulumi.runtime.setAllConfig(CONFIG, SECRET_KEYS);

type LabModule = typeof import("../../components/lab");
type SshModule = typeof import("../../components/host/ssh");
let labModule: LabModule;
let sshModule: SshModule;

/**
 * newResource does not see a resource's parent or dependsOn, which is where the Lab's ordering
 * lives. The mock monitor's registerResource receives them and calls newResource synchronously,
 * so wrap it to note them for newResource. newResource asserts that each call was noted.
 */
function captureRegistrations() {
    const monitor = pulumi.runtime.getMonitor() as any;
    assert.equal(typeof monitor?.registerResource, "function", "the SDK's mock monitor has no registerResource");
    assert.equal(typeof monitor?.newUrn, "function", "the SDK's mock monitor has no newUrn");
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: any) => {
        request = {
            urn: monitor.newUrn(req.getParent(), req.getType(), req.getName()),
            parent: req.getParent(),
            dependencies: req.getDependenciesList(),
        };
        return register(req, callback);
    };
}

before(async () => {
    await mocksReady;
    captureRegistrations();
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
/** What the tests look at in a built Lab: its hosts and the components its modules registered. */
function labView(l: InstanceType<LabModule["Lab"]>) {
    const c = l.context;
    return {
        hosts: c.hosts,
        checks: c.entries<any>("check"),
        hypervisors: c.entries<any>("hypervisor"),
        vms: c.entries<any>("vm"),
        migration: c.all<any>("migration")[0] as { runs: { run: number; from: string; to: string }[]; record: pulumi.Output<any> } | undefined,
    };
}

async function build(name: string, spec: LabSpec,
    settings: { migrationRun?: number; migrationDirection?: "forward" | "back"; migrationRuns?: number; wanProfile?: string } = {}) {
    const start = registered.length;
    const lab = labView(new labModule.Lab(name, { spec, stack: STACK, settings, probes: { kvm: () => NO_KVM } }));
    await settle();
    const resources = registered.slice(start);
    const commands = resources.filter((r) => r.type === "command:local:Command" || r.type === "command:remote:Command");
    const byName = (n: string) => {
        const found = commands.filter((c) => c.name === n);
        assert.equal(found.length, 1, `expected one command named ${n}, got ${found.length}`);
        return found[0];
    };
    // Within one build URNs are unique (see duplicates()): name each by its command name, or type::name for components.
    const label = new Map(resources.map((r) => [r.urn, r.custom ? r.name : `${r.type}::${r.name}`]));
    /** What a resource explicitly depends on, as labels; resources of other builds would show up as "?". */
    const depsOf = (r: Registered) => r.dependencies.map((u) => label.get(u) ?? `?${u}`).sort();
    const parentOf = (r: Registered) => label.get(r.parent);
    const component = (type: string, n: string) => {
        const found = resources.filter((r) => !r.custom && r.type === type && r.name === n);
        assert.equal(found.length, 1, `expected one ${type} named ${n}, got ${found.length}`);
        return found[0];
    };
    return { lab, resources, commands, byName, depsOf, parentOf, component };
}

/** `type::name` pairs registered more than once (the engine rejects a duplicate URN; the mocks do not). */
function duplicates(resources: Registered[]): string[] {
    const seen = new Map<string, number>();
    for (const r of resources) seen.set(`${r.type}::${r.name}`, (seen.get(`${r.type}::${r.name}`) ?? 0) + 1);
    return [...seen].filter(([, n]) => n > 1).map(([k]) => k);
}

// The directories every emulated host keeps to itself (components/host/emulated.ts).
const PRIVATE_DIRS = "/etc/libvirt /run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt "
    + "/etc/openvswitch /run/openvswitch /var/log/openvswitch /run/tgtd /var/lib/wanlab";

const nsenter = (host: string) => [
    "nsenter", `--net=/run/netns/wl-${STACK}-${host}`, `--mount=/run/wanlab/${STACK}/${host}/mnt`, "--", "/bin/sh", "-c",
];

/** Assertions every emulated host's preflight must satisfy. */
function assertPreflight(cmd: Registered, host: string, binaries: string[], kernel: string[]) {
    assert.equal(cmd.type, "command:local:Command");
    assert.equal(cmd.inputs.interpreter, undefined, "a preflight runs on this machine, outside the namespaces");
    const create: string = cmd.inputs.create;
    const probed = [...create.matchAll(/^command -v (\S+) /gm)].map((m) => m[1]);
    assert.deepEqual(probed, binaries, "checks exactly the binaries this host needs");
    const features = [...create.matchAll(/\|\| add 'kernel feature '\\''([^']+)'\\''/g)].map((m) => m[1]);
    assert.deepEqual(features, kernel, "probes exactly the kernel features this host needs");
    assert.deepEqual(cmd.inputs.triggers, [binaries.join(" "), kernel.join(" ")]);
}

describe("Lab for stacks/small.yaml", () => {
    let built: Awaited<ReturnType<typeof build>>;
    before(async () => {
        built = await build("small", loadSpec(path.join(ROOT, "stacks", "small.yaml")));
    });

    it("registers the components and exactly the expected commands (no libvirtd: hypervisors without VMs)", () => {
        const components = built.resources.filter((r) => !r.custom).map((r) => `${r.type}::${r.name}`).sort();
        assert.deepEqual(components, [
            "wanlab:Lab::small",
            "wanlab:checks:PingCheck::h1-to-h2",
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

    it("one preflight per host checks root, binaries (ethtool, nsenter, mount, ...) and kernel features (veth)", () => {
        // h1 and h2 have the hypervisor role but small.yaml has no VM: no virsh, libvirtd or qemu.
        assertPreflight(built.byName("h1-preflight"), "h1",
            ["ethtool", "ip", "mount", "mountpoint", "nsenter", "ping", "sh", "umount", "unshare"], ["mntns", "netns", "veth"]);
        assertPreflight(built.byName("h2-preflight"), "h2",
            ["ethtool", "ip", "mount", "mountpoint", "nsenter", "sh", "umount", "unshare"], ["mntns", "netns", "veth"]);
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
                PRIVATE_DIRS: PRIVATE_DIRS,
                // This checkout's stack: another lab's namespaces of the same name are refused.
                OWNER: `${ROOT} ${STACK}`,
            });
            assert.equal(ns.inputs.interpreter, undefined, "the namespace is made from outside it");
            // Each private directory is bind-mounted from the host's runtime directory, inside its mount namespace.
            // Every run mounts each private directory not mounted yet (outside the if: a host
            // created before a directory joined the list gets it too).
            // Mount points the lab created on this machine are removed again, after the namespace is unmounted.
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
    });

    it("the ping check runs inside h1's namespaces", () => {
        const check = built.byName("h1-check-h1-to-h2");
        assert.deepEqual(check.inputs.interpreter, nsenter("h1"));
        // waitS defaults to 10 s: the check retries until then.
        assert.deepEqual(check.inputs.environment, { TARGET: "10.10.0.2", COUNT: "3", FROM: "h1", WAIT: "10" });
    });

    it("no host forwards: small.yaml has no router", () => {
        assert.equal(built.commands.filter((c) => c.name.endsWith("-ip-forward")).length, 0);
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

/** The value of an Output, as the mocks resolve it. */
function valueOf<T>(o: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => o.apply((v) => { resolve(v); return v; }));
}

/** Undo the XML character references handlebars writes (`=` arrives as `&#x3D;`). */
function xmlText(s: string): string {
    return s.replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCharCode(parseInt(h, 16)))
        .replace(/&#([0-9]+);/g, (_, d) => String.fromCharCode(Number(d)))
        .replace(/&quot;/g, '"').replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

/** A libvirt URI for an emulated host's daemon, reached through its socket from any host. */
const libvirtUri = (host: string) => `qemu+unix:///system?socket=/run/wanlab/${STACK}/${host}/fs/run/libvirt/libvirt-sock`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const IQN = "iqn.2015-02.com.example:shared.lun1";

describe("Lab for stacks/local.yaml", () => {
    let built: Awaited<ReturnType<typeof build>>;
    const hosts = ["host1", "host2", "router", "storage"];
    const env = (n: string) => built.byName(n).inputs.environment;
    before(async () => {
        built = await build("local", loadSpec(path.join(ROOT, "stacks", "local.yaml")));
    });

    it("registers the components and exactly the expected commands", () => {
        const components = built.resources.filter((r) => !r.custom).map((r) => `${r.type}::${r.name}`).sort();
        assert.deepEqual(components, [
            "wanlab:Lab::local",
            "wanlab:bridge:Bridge::host1-br0",
            "wanlab:bridge:Bridge::host1-br1",
            "wanlab:bridge:Bridge::host2-br0",
            "wanlab:bridge:Bridge::host2-br1",
            "wanlab:bridge:Bridge::router-ovl",
            "wanlab:bridge:OpenVSwitch::host1",
            "wanlab:bridge:OpenVSwitch::host2",
            "wanlab:checks:PingCheck::client-to-host1",
            "wanlab:checks:PingCheck::client-to-host2",
            "wanlab:checks:PingCheck::client-to-vm",
            "wanlab:checks:PingCheck::host1-to-host2",
            "wanlab:host:EmulatedHost::host1",
            "wanlab:host:EmulatedHost::host2",
            "wanlab:host:EmulatedHost::router",
            "wanlab:host:EmulatedHost::storage",
            "wanlab:host:Link::site1-wan",
            "wanlab:host:Link::site2-wan",
            "wanlab:host:Link::storage-lan",
            "wanlab:iscsi:IscsiTarget::shared",
            "wanlab:libvirt:Hypervisor::host1",
            "wanlab:libvirt:Hypervisor::host2",
            "wanlab:libvirt:VirtualMachine::vm1",
            "wanlab:migration:Migration::vm1-migration",
            "wanlab:netem:Netem::router-wan",
            "wanlab:routes:HostRouting::host1",
            "wanlab:routes:HostRouting::host2",
            "wanlab:routes:HostRouting::router",
            "wanlab:routes:HostRouting::storage",
            "wanlab:vxlan:VxlanTunnel::overlay",
        ]);
        assert.deepEqual(built.commands.map((c) => c.name).sort(), [
            "host1-bridge-br0", "host1-bridge-br1", "host1-check-host1-to-host2",
            "host1-file-libvirtd-conf", "host1-file-qemu-conf", "host1-libvirtd", "host1-namespace", "host1-ovs",
            "host1-port-br0-eth0", "host1-preflight", "host1-route-192-168-2-0-24", "host1-route-192-168-5-0-24",
            "host1-secret-shared", "host1-vm-vm1", "host1-vxlan-vx1",
            "host2-bridge-br0", "host2-bridge-br1",
            "host2-file-libvirtd-conf", "host2-file-qemu-conf", "host2-libvirtd", "host2-namespace", "host2-ovs",
            "host2-port-br0-eth0", "host2-preflight", "host2-route-192-168-1-0-24", "host2-route-192-168-5-0-24",
            "host2-secret-shared", "host2-vxlan-vx1",
            "router-bridge-ovl", "router-ip-forward", "router-namespace", "router-netem-eth1", "router-netem-eth2",
            "router-preflight", "router-traffic-counters", "router-traffic-vm1", "router-traffic-zero-vm1", "router-vxlan-vx0",
            "site1-wan-veth", "site2-wan-veth",
            "storage-check-client-to-host1", "storage-check-client-to-host2", "storage-check-client-to-vm",
            "storage-iscsi-shared", "storage-lan-veth", "storage-migrate-vm1", "storage-namespace", "storage-preflight",
            "storage-route-10-0-0-0-24", "storage-route-192-168-1-0-24", "storage-route-192-168-2-0-24",
        ]);
        assert.ok(built.commands.every((c) => c.type === "command:local:Command"), "emulated hosts use local commands only");
        assert.equal(built.resources.length, components.length + built.commands.length);
        assert.deepEqual(duplicates(built.resources), []);
    });

    it("one preflight and one namespace per host, and one veth per link", () => {
        for (const h of hosts) {
            assert.equal(built.byName(`${h}-preflight`).type, "command:local:Command");
            assert.equal(env(`${h}-namespace`).NETNS, `wl-${STACK}-${h}`);
            assert.equal(env(`${h}-namespace`).PRIVATE_DIRS, PRIVATE_DIRS);
        }
        assert.deepEqual(built.commands.filter((c) => c.name.endsWith("-veth")).map((c) => c.name).sort(),
            ["site1-wan-veth", "site2-wan-veth", "storage-lan-veth"]);
    });

    it("preflights: hypervisors need libvirt, QEMU and OVS; the router vxlan and bridge; storage tgt and the probe's tools", () => {
        const emulated = ["ethtool", "ip", "mount", "mountpoint", "nsenter", "sh", "umount", "unshare"];
        const ovs = ["ovs-appctl", "ovs-vsctl", "ovs-vswitchd", "ovsdb-server", "ovsdb-tool"];
        const hypervisor = ["libvirtd", "mktemp", "qemu-system-x86_64", "sed", "tini", "virsh"];
        const sorted = (...xs: string[][]) => [...new Set(xs.flat())].sort();
        const hvKernel = ["libvirt-qemu-user", "mntns", "netns", "qemu-iscsi", "tun", "veth"];
        // host1 also sends the host1-to-host2 pings.
        assertPreflight(built.byName("host1-preflight"), "host1", sorted(emulated, ovs, hypervisor, ["ping"]), hvKernel);
        assertPreflight(built.byName("host2-preflight"), "host2", sorted(emulated, ovs, hypervisor), hvKernel);
        // The router counts the traffic split with nft (netdev family).
        assertPreflight(built.byName("router-preflight"), "router", sorted(emulated, ["bridge", "nft", "sysctl", "tc"]),
            ["bridge", "mntns", "netns", "nft-netdev", "veth", "vxlan"]);
        // storage: the tgt target, and as the migration's probe virsh, timeout and awk (and ping).
        assertPreflight(built.byName("storage-preflight"), "storage",
            sorted(emulated, ["tgtd", "tgtadm", "truncate"], ["virsh", "timeout", "awk", "ping"]), ["mntns", "netns", "veth"]);
    });

    it("the router's preflight asks for sysctl; the others' do not", () => {
        // What a preflight checks is in its triggers: the binaries, then the kernel features.
        const checked = (h: string) => built.byName(`${h}-preflight`).inputs.triggers[0].split(" ");
        assert.ok(checked("router").includes("sysctl"));
        assert.ok(!checked("host2").includes("sysctl"));
        // storage sends pings, host2 does not.
        assert.ok(checked("storage").includes("ping"));
        assert.ok(!checked("host2").includes("ping"));
    });

    it("veth environments: bridged ends (host1, host2 eth0) get no address", () => {
        assert.deepEqual(env("site1-wan-veth"), {
            NS_A: `wl-${STACK}-host1`, IF_A: "eth0", ADDR_A: "",
            NS_B: `wl-${STACK}-router`, IF_B: "eth1", ADDR_B: "192.168.1.1/24", MTU: "1500",
        });
        assert.deepEqual(env("site2-wan-veth"), {
            NS_A: `wl-${STACK}-host2`, IF_A: "eth0", ADDR_A: "",
            NS_B: `wl-${STACK}-router`, IF_B: "eth2", ADDR_B: "192.168.2.1/24", MTU: "1500",
        });
        assert.deepEqual(env("storage-lan-veth"), {
            NS_A: `wl-${STACK}-storage`, IF_A: "eth0", ADDR_A: "192.168.5.5/24",
            NS_B: `wl-${STACK}-router`, IF_B: "eth5", ADDR_B: "192.168.5.1/24", MTU: "1500",
        });
        // With no address, the veth script addresses neither bridged end.
    });

    it("IP forwarding on the router only, inside its namespace", () => {
        const fwd = built.commands.filter((c) => c.name.endsWith("-ip-forward"));
        assert.deepEqual(fwd.map((c) => c.name), ["router-ip-forward"]);
        assert.deepEqual(fwd[0].inputs.interpreter, nsenter("router"));
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
            ["storage-route-10-0-0-0-24", "10.0.0.0/24", "192.168.5.1", `--net=/run/netns/wl-${STACK}-storage`],
            ["storage-route-192-168-1-0-24", "192.168.1.0/24", "192.168.5.1", `--net=/run/netns/wl-${STACK}-storage`],
            ["storage-route-192-168-2-0-24", "192.168.2.0/24", "192.168.5.1", `--net=/run/netns/wl-${STACK}-storage`],
        ]);
        const r = built.byName("host1-route-192-168-2-0-24");
        assert.deepEqual(r.inputs.interpreter, nsenter("host1"));
    });

    it("ping checks from host1 and storage, each inside its sender's namespace; the VM check waits 120 s", () => {
        const checks = built.commands.filter((c) => c.name.includes("-check-"))
            .map((c) => [c.name, c.inputs.environment, c.inputs.interpreter])
            .sort((a, b) => (a[0] as string).localeCompare(b[0] as string));
        assert.deepEqual(checks, [
            ["host1-check-host1-to-host2", { TARGET: "192.168.2.10", COUNT: "3", FROM: "host1", WAIT: "10" }, nsenter("host1")],
            ["storage-check-client-to-host1", { TARGET: "192.168.1.10", COUNT: "3", FROM: "storage", WAIT: "10" }, nsenter("storage")],
            ["storage-check-client-to-host2", { TARGET: "192.168.2.10", COUNT: "3", FROM: "storage", WAIT: "10" }, nsenter("storage")],
            ["storage-check-client-to-vm", { TARGET: "10.0.0.100", COUNT: "3", FROM: "storage", WAIT: "120" }, nsenter("storage")],
        ]);
        assert.deepEqual(Object.keys(built.lab.checks).sort(), ["client-to-host1", "client-to-host2", "client-to-vm", "host1-to-host2"]);
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
            assert.equal(c.inputs.addPreviousOutputInEnv, true, c.name);
        }
    });

    it("one Open vSwitch (own ovsdb-server and ovs-vswitchd) per host with an OVS bridge", () => {
        assert.deepEqual(built.commands.filter((c) => c.name.endsWith("-ovs")).map((c) => c.name).sort(), ["host1-ovs", "host2-ovs"]);
        for (const h of ["host1", "host2"]) {
            const ovs = built.byName(`${h}-ovs`);
            assert.deepEqual(ovs.inputs.interpreter, nsenter(h), "the daemons run in the host's namespaces");
            // Started only when not already answering: create is safe to run twice.
        }
    });

    it("OVS bridges on host1/host2 with the userspace (netdev) datapath, a Linux bridge on the router", () => {
        const bridges = built.commands.filter((c) => c.name.includes("-bridge-")).map((c) => [c.name, c.inputs.environment])
            .sort((a, b) => (a[0] as string).localeCompare(b[0] as string));
        assert.deepEqual(bridges, [
            ["host1-bridge-br0", { BR: "br0", ADDR: "192.168.1.10/24", DATAPATH: "netdev" }],
            ["host1-bridge-br1", { BR: "br1", ADDR: "", DATAPATH: "netdev" }],
            ["host2-bridge-br0", { BR: "br0", ADDR: "192.168.2.10/24", DATAPATH: "netdev" }],
            ["host2-bridge-br1", { BR: "br1", ADDR: "", DATAPATH: "netdev" }],
            ["router-bridge-ovl", { BR: "ovl", ADDR: "10.0.0.1/24", DATAPATH: "" }],
        ]);
    });

    it("uplink ports: eth0 plugged into br0 on host1 and host2 (OVS), and no other port", () => {
        const ports = built.commands.filter((c) => c.name.includes("-port-"));
        assert.deepEqual(ports.map((c) => [c.name, c.inputs.environment]).sort(), [
            ["host1-port-br0-eth0", { BR: "br0", IF: "eth0" }],
            ["host2-port-br0-eth0", { BR: "br0", IF: "eth0" }],
        ]);
    });

    it("VXLAN: OVS vxlan ports on br1 of host1/host2 towards the router's address on their side, VNI 100", () => {
        assert.deepEqual(env("host1-vxlan-vx1"), {
            BR: "br1", PORT: "vx1", REMOTE: "192.168.1.1", VNI: "100", DSTPORT: "4789", LOCAL: "192.168.1.10",
        });
        assert.deepEqual(env("host2-vxlan-vx1"), {
            BR: "br1", PORT: "vx1", REMOTE: "192.168.2.1", VNI: "100", DSTPORT: "4789", LOCAL: "192.168.2.10",
        });
        // REMOTE is the router's own address on the link to that site.
        assert.equal(env("host1-vxlan-vx1").REMOTE, env("site1-wan-veth").ADDR_B.split("/")[0]);
        assert.equal(env("host2-vxlan-vx1").REMOTE, env("site2-wan-veth").ADDR_B.split("/")[0]);
    });

    it("VXLAN: a non-learning kernel vxlan device on the router's ovl, flooding to both hypervisors, MTU 1450", () => {
        assert.deepEqual(env("router-vxlan-vx0"), {
            DEV: "vx0", BR: "ovl", VNI: "100", DSTPORT: "4789", LOCAL: "", REMOTES: "192.168.1.10 192.168.2.10", MTU: "1450",
        });
        assert.equal(built.commands.filter((c) => c.name.includes("-vxlan-")).length, 3);
    });

    it("the iSCSI target runs tgt on storage, with its IQN, portal and CHAP user, and the password as a secret", () => {
        const target = built.byName("storage-iscsi-shared");
        assert.deepEqual(target.inputs.interpreter, nsenter("storage"));
        // The password makes the whole environment a secret on its way to the engine.
        assert.ok(pulumi.runtime.isRpcSecret(target.inputs.environment), "the target's environment is not a secret");
        assert.deepEqual(pulumi.runtime.unwrapRpcSecret(target.inputs.environment), {
            IMG: "/var/lib/wanlab/shared.img", SIZE_MIB: "64", PORTAL: "192.168.5.5", IQN,
            INITIATORS: "192.168.1.0/24 192.168.2.0/24", CHAP_USER: "wanlab", CHAP_PASSWORD: CHAP,
        });
        // The test can fail: a command without a secret keeps a plain environment.
        assert.ok(!pulumi.runtime.isRpcSecret(built.byName("storage-route-10-0-0-0-24").inputs.environment));
        const create: string = target.inputs.create;
        // The password is never spliced into a script.
        assert.doesNotMatch(create, new RegExp(CHAP));
    });

    it("the CHAP password appears nowhere in clear text among the registered inputs", () => {
        assert.ok(inClearText({ a: [{ b: `x${CHAP}y` }] }, CHAP));
        for (const r of built.resources) assert.ok(!inClearText(r.inputs, CHAP), `${r.type}::${r.name} shows the CHAP password`);
    });

    it("one libvirtd per hypervisor host, each with its own config file and a distinct host UUID", () => {
        assert.deepEqual(Object.keys(built.lab.hypervisors).sort(), ["host1", "host2"]);
        assert.deepEqual(built.commands.filter((c) => c.name.endsWith("-libvirtd")).map((c) => c.name).sort(), ["host1-libvirtd", "host2-libvirtd"]);
        const uuids: string[] = [];
        for (const h of ["host1", "host2"]) {
            assert.equal(built.lab.hypervisors[h].uri, libvirtUri(h));
            const conf = built.byName(`${h}-file-libvirtd-conf`);
            assert.deepEqual(conf.inputs.environment, { FILE: "/etc/libvirt/libvirtd.conf", MODE: "0600" });
            assert.deepEqual(conf.inputs.interpreter, nsenter(h), "written inside the host's mount namespace");
            assert.ok(conf.inputs.create.includes('cat > "$FILE.tmp"'), "host.file writes stdin");
            const text: string = conf.inputs.stdin;
            assert.ok(text.includes(`# libvirtd for host ${h} (wanlab).`), text);
            assert.ok(text.includes("listen_tcp = 0"), text);
            const m = /^host_uuid = "([^"]+)"$/m.exec(text);
            assert.ok(m, `no host_uuid in ${h}'s libvirtd.conf`);
            assert.match(m![1], UUID);
            uuids.push(m![1]);
            const qemu = built.byName(`${h}-file-qemu-conf`);
            assert.equal(qemu.inputs.environment.FILE, "/etc/libvirt/qemu.conf");
            assert.match(qemu.inputs.stdin, /^security_driver = "none"$/m);
            assert.match(qemu.inputs.stdin, /^stdio_handler = "file"$/m);
            const daemon = built.byName(`${h}-libvirtd`);
            assert.deepEqual(daemon.inputs.interpreter, nsenter(h));
            // Started under its supervisor (libvirtd-supervise.sh), which starts it again if it dies,
            // under tini, which reaps the QEMUs that daemonize.
            assert.ok(daemon.inputs.create.includes('setsid tini -s -- sh "$SUPERVISE"'), "started by its supervisor, under tini");
            assert.equal(path.basename(daemon.inputs.environment.SUPERVISE), "libvirtd-supervise.sh");
            // A new UUID (a new config) restarts the daemon.
            assert.deepEqual(daemon.inputs.triggers, [m![1]]);
        }
        assert.notEqual(uuids[0], uuids[1], "libvirt refuses to migrate between daemons with one host UUID");
    });

    it("one libvirt CHAP secret per hypervisor, for the target's IQN, with the password as a secret", () => {
        const secrets = built.commands.filter((c) => c.name.includes("-secret-"));
        assert.deepEqual(secrets.map((c) => c.name).sort(), ["host1-secret-shared", "host2-secret-shared"]);
        const uuids = new Set<string>();
        for (const h of ["host1", "host2"]) {
            const s = built.byName(`${h}-secret-shared`);
            assert.deepEqual(s.inputs.interpreter, nsenter(h));
            assert.ok(pulumi.runtime.isRpcSecret(s.inputs.environment), `${h}: the secret's environment is not a secret`);
            const e = pulumi.runtime.unwrapRpcSecret(s.inputs.environment);
            assert.deepEqual(Object.keys(e).sort(), ["CHAP_PASSWORD", "UUID"]);
            assert.equal(e.CHAP_PASSWORD, CHAP);
            assert.match(e.UUID, UUID);
            uuids.add(e.UUID);
            const xml: string = s.inputs.stdin;
            assert.ok(xml.includes(`<uuid>${e.UUID}</uuid>`), xml);
            assert.ok(xml.includes(`<usage type='iscsi'>\n    <target>${IQN}</target>`), xml);
        }
        assert.equal(uuids.size, 1, "the same secret UUID on every hypervisor, so the VM finds it after migrating");
    });

    it("the VM is defined on host1 from its domain XML on stdin, and knows both hypervisors", () => {
        const vm = built.byName("host1-vm-vm1");
        assert.deepEqual(vm.inputs.interpreter, nsenter("host1"), "defined on its first host");
        // accel auto, decided by the KVM probe (here: KVM did not run a guest, so TCG).
        assert.deepEqual(vm.inputs.environment, {
            VM: "vm1", ACCEL: "tcg", URIS: `${libvirtUri("host1")} ${libvirtUri("host2")}`,
        });
        const xml: string = vm.inputs.stdin;
        assert.ok(xml.includes("<domain type='@DOMAIN_TYPE@'>"), xml);
        assert.ok(xml.includes("<name>vm1</name>"), xml);
        assert.ok(xml.includes("<memory unit='MiB'>256</memory>"), xml);
        assert.ok(xml.includes("<mac address='52:54:00:00:01:01'/>"), xml);
        assert.ok(xml.includes("<source bridge='br1'/>\n      <virtualport type='openvswitch'/>"), xml);
        assert.ok(xml.includes(`<source protocol='iscsi' name='${IQN}/1'>\n        <host name='192.168.5.5' port='3260'/>`), xml);
        assert.ok(xml.includes("<auth username='wanlab'>"), xml);
        // The disk's secret is the one the hypervisors define (same usage).
        assert.ok(xml.includes(`<secret type='iscsi' usage='${IQN}'/>`), xml);
        assert.ok(xmlText(xml).includes("wanlab.ip=10.0.0.100/24 wanlab.gw=10.0.0.1 wanlab.mtu=1450 wanlab.tcp=192.168.5.5:9001</cmdline>"), xml);
        assert.ok(!xml.includes(CHAP));
        // A VM already running anywhere (it migrated) is left alone; delete looks on every hypervisor.
        assert.equal(built.lab.vms.vm1.address, "10.0.0.100");
        // A changed definition replaces the VM: its trigger is a digest of the domain XML.
        assert.match(vm.inputs.triggers[0], /^[0-9a-f]{16}$/);
    });

    it("a check of the VM's address runs again when the VM is started again; other checks do not", () => {
        const vmCheck = registered.find((r) => r.name.endsWith("-check-client-to-vm"))!;
        assert.deepEqual(vmCheck.inputs.triggers, [0], "the VM's start time (0 here: the mock VM printed nothing)");
        for (const r of registered.filter((r) => /-check-/.test(r.name) && !r.name.endsWith("-check-client-to-vm"))) {
            assert.equal(r.inputs.triggers, undefined, r.name);
        }
    });

    // Ordering. A component's dependsOn orders its children too: the SDK registers a child only
    // once its parent's URN is known, and the parent's registration first waits for its own
    // dependencies. So where a component carries the dependencies, the test checks the component.
    describe("ordering (explicit dependencies sent to the engine)", () => {
        const preflights = hosts.map((h) => `${h}-preflight`).sort();
        const network = () => built.commands.map((c) => c.name)
            .filter((n) => /-(veth|ip-forward)$|-(bridge|port|vxlan|route|netem)-/.test(n)).sort();
        const deps = (n: string) => built.depsOf(built.byName(n));
        const includesAll = (have: string[], want: string[], what: string) =>
            assert.deepEqual(want.filter((w) => !have.includes(w)), [], `${what} does not wait for these`);

        it("every namespace waits for every host's preflight, and every command in a host for its namespace", () => {
            assert.equal(network().length, 23, "the network this test expects: 3 veth, forwarding, 5 bridges, 2 ports, 3 vxlan, 7 routes, 2 netem");
            for (const h of hosts) assert.deepEqual(deps(`${h}-namespace`), preflights, h);
            for (const c of built.commands) {
                const h = hosts.find((x) => JSON.stringify(c.inputs.interpreter) === JSON.stringify(nsenter(x)));
                if (h) assert.ok(built.depsOf(c).includes(`${h}-namespace`), `${c.name} does not wait for ${h}-namespace`);
            }
        });

        it("Open vSwitch before its bridges, bridges before their ports and tunnels, the uplink before routes", () => {
            for (const h of ["host1", "host2"]) {
                for (const br of ["br0", "br1"]) assert.ok(deps(`${h}-bridge-${br}`).includes(`${h}-ovs`), `${h}-bridge-${br}`);
                includesAll(deps(`${h}-port-br0-eth0`), [`${h}-bridge-br0`, `site${h.slice(-1)}-wan-veth`], `${h}-port-br0-eth0`);
                assert.ok(deps(`${h}-vxlan-vx1`).includes(`${h}-bridge-br1`), `${h}-vxlan-vx1`);
                // host1's address sits on br0, reached through eth0 plugged into it.
                for (const r of built.commands.filter((c) => c.name.startsWith(`${h}-route-`)))
                    includesAll(built.depsOf(r), [`${h}-bridge-br0`, `${h}-port-br0-eth0`, `site${h.slice(-1)}-wan-veth`], r.name);
            }
            assert.ok(deps("router-vxlan-vx0").includes("router-bridge-ovl"));
        });

        it("libvirtd after its config files only (it starts while the network is built); the CHAP secret after libvirtd", () => {
            for (const h of ["host1", "host2"]) {
                includesAll(deps(`${h}-libvirtd`), [`${h}-file-libvirtd-conf`, `${h}-file-qemu-conf`], `${h}-libvirtd`);
                const hv = built.component("wanlab:libvirt:Hypervisor", h);
                assert.deepEqual(built.depsOf(hv), []);
                assert.equal(built.parentOf(built.byName(`${h}-libvirtd`)), `wanlab:libvirt:Hypervisor::${h}`);
                assert.ok(deps(`${h}-secret-shared`).includes(`${h}-libvirtd`), `${h}-secret-shared`);
            }
        });

        it("the iSCSI target once its host has its address (tgtd binds the portal), not after the rest of the network", () => {
            const target = built.component("wanlab:iscsi:IscsiTarget", "shared");
            assert.deepEqual(built.depsOf(target), ["storage-lan-veth"]);
            assert.equal(built.parentOf(built.byName("storage-iscsi-shared")), "wanlab:iscsi:IscsiTarget::shared");
        });

        it("the VM after the network, the iSCSI target, every libvirtd and every CHAP secret, but not the WAN's emulation", () => {
            includesAll(deps("host1-vm-vm1"), [
                ...network().filter((n) => !/-netem-/.test(n)), "storage-iscsi-shared",
                "host1-libvirtd", "host2-libvirtd", "host1-secret-shared", "host2-secret-shared",
            ], "host1-vm-vm1");
            assert.deepEqual(deps("host1-vm-vm1").filter((n) => /-netem-/.test(n)), []);
        });

        it("the checks after the VM; the migration after every check and the VM", () => {
            for (const c of ["host1-to-host2", "client-to-host1", "client-to-host2", "client-to-vm"]) {
                const check = built.component("wanlab:checks:PingCheck", c);
                includesAll(built.depsOf(check), [...network(), "host1-vm-vm1"], c);
            }
            includesAll(deps("storage-migrate-vm1"), [
                ...network(), "host1-vm-vm1",
                "host1-check-host1-to-host2", "storage-check-client-to-host1", "storage-check-client-to-host2", "storage-check-client-to-vm",
            ], "storage-migrate-vm1");
        });
    });

    it("the migration runs on the probe host (storage): host1 -> host2 over host2's underlay address, run 1 forward", async () => {
        const mig = built.byName("storage-migrate-vm1");
        assert.deepEqual(mig.inputs.interpreter, nsenter("storage"));
        assert.deepEqual(mig.inputs.environment, {
            VM: "vm1", VM_ADDR: "10.0.0.100", RUN: "1",
            SRC_HOST: "host1", DST_HOST: "host2", SRC_URI: libvirtUri("host1"), DST_URI: libvirtUri("host2"),
            MIGRATE_URI: "tcp://192.168.2.10",
            STREAM_PORT: "", RR_PORT: "", TO_VM: "1", ECHO_PORT: "", ECHO_RECOVER_S: "5",
            OPTIONS: "", COPY_STORAGE: "", MAX_DOWNTIME_MS: "", INTERVAL_MS: "10", INTERVAL_S: "0.010", TIMEOUT_S: "300", RECOVER_S: "15",
            RUN_DIR: `/var/lib/wanlab/${STACK}/migrate-vm1`,
            // The emulated probe host runs this machine's build of the probes.
            PROBE: path.join(ROOT, ".cache", "bin", "wanlab-probe"), UDP_PORT: "9000", TCP_PORT: "9001",
        });
        assert.deepEqual(mig.inputs.triggers, [1, "forward"]);
        const m = built.lab.migration!;
        assert.deepEqual(m.runs, [{ run: 1, from: "host1", to: "host2" }]);
        // The record is the command's stdout, parsed.
        const record = await valueOf(m.record);
        assert.deepEqual([record.run, record.vm, record.from, record.to, record.probe.downtimeMs], [1, "vm1", "host1", "host2", 110.5]);
    });
});

describe("Lab for stacks/local.yaml: migration run and direction", () => {
    const spec = () => loadSpec(path.join(ROOT, "stacks", "local.yaml"));

    it("run 2, back: host2 -> host1 over host1's underlay address, still from storage", async () => {
        const built = await build("local-back", spec(), { migrationRun: 2, migrationDirection: "back" });
        const mig = built.byName("storage-migrate-vm1");
        assert.deepEqual(mig.inputs.interpreter, nsenter("storage"));
        const e = mig.inputs.environment;
        assert.deepEqual([e.SRC_HOST, e.DST_HOST, e.SRC_URI, e.DST_URI, e.MIGRATE_URI, e.RUN],
            ["host2", "host1", libvirtUri("host2"), libvirtUri("host1"), "tcp://192.168.1.10", "2"]);
        assert.deepEqual(mig.inputs.triggers, [2, "back"]);
        assert.deepEqual(built.lab.migration!.runs, [{ run: 2, from: "host2", to: "host1" }]);
        // The VM is still defined on host1: the direction only changes the migration.
        assert.deepEqual(built.byName("host1-vm-vm1").inputs.interpreter, nsenter("host1"));
        assert.deepEqual(duplicates(built.resources), []);
    });

    it("wanlab:migrationRuns 3 from run 5 back: three commands, each after the one before, there and back", async () => {
        const built = await build("local-batch", spec(), { migrationRun: 5, migrationDirection: "back", migrationRuns: 3 });
        const names = ["storage-migrate-vm1", "storage-migrate-vm1-2", "storage-migrate-vm1-3"];
        const env = names.map((n) => built.byName(n).inputs.environment);
        assert.deepEqual(env.map((e) => [e.RUN, e.SRC_HOST, e.DST_HOST, e.MIGRATE_URI]), [
            ["5", "host2", "host1", "tcp://192.168.1.10"], ["6", "host1", "host2", "tcp://192.168.2.10"], ["7", "host2", "host1", "tcp://192.168.1.10"],
        ]);
        assert.deepEqual(names.map((n) => built.byName(n).inputs.triggers), [[5, "back"], [6, "forward"], [7, "back"]]);
        // Run 6 waits for run 5's traffic reading, which waits for run 5, and so on: never
        // two migrations of one VM at once. The counters are zeroed before run 5.
        const reads = ["router-traffic-vm1", "router-traffic-vm1-2", "router-traffic-vm1-3"];
        assert.ok(built.depsOf(built.byName(names[0])).includes("router-traffic-zero-vm1"));
        for (let i = 0; i < 3; i++) assert.ok(built.depsOf(built.byName(reads[i])).includes(names[i]), reads[i]);
        assert.ok(built.depsOf(built.byName(names[1])).includes(reads[0]));
        assert.ok(built.depsOf(built.byName(names[2])).includes(reads[1]));
        assert.ok(!built.depsOf(built.byName(names[2])).includes(names[0]));
        // Each run's record has its split.
        const records = (await valueOf(pulumi.all((built.lab.migration as any).records) as any)) as any[];
        assert.deepEqual(records.map((r: any) => r.traffic?.classes.migration.bytes), [4 * 1048576, 4 * 1048576, 4 * 1048576]);
        assert.deepEqual(built.lab.migration!.runs.map((r) => r.run), [5, 6, 7]);
        // No delete: it would get the run's whole stdout in its environment (E2BIG).
        assert.deepEqual(names.map((n) => typeof built.byName(n).inputs.delete), ["undefined", "undefined", "undefined"]);
        assert.equal(built.commands.filter((c) => c.name.includes("migrate")).length, 3);
    });

    it("wanlab:probeIntervalMs 1: ping and the UDP probe every millisecond", async () => {
        const built = await build("local-1ms", spec(), { probeIntervalMs: 1 } as any);
        const e = built.byName("storage-migrate-vm1").inputs.environment;
        assert.deepEqual([e.INTERVAL_MS, e.INTERVAL_S], ["1", "0.001"]);
    });

    it("wanlab:vmFillPct 50 and vmDirtyMiBps 4: the guest's command line tells it, and the migration's record carries it", async () => {
        const built = await build("local-fill", spec(), { vmFillPct: 50, vmDirtyMiBps: 4 } as any);
        // Handlebars writes "=" as the XML entity &#x3D;, which libvirt reads back as "=".
        const xml: string = built.byName("host1-vm-vm1").inputs.stdin.replace(/&#x3D;/g, "=");
        assert.match(xml, /<cmdline>[^<]* wanlab\.fill=128 wanlab\.dirty=4 wanlab\.ws=128<\/cmdline>/);
        const plain: string = (await build("local-nofill", spec())).byName("host1-vm-vm1").inputs.stdin;
        assert.doesNotMatch(plain, /wanlab\.fill/);
        const record = await valueOf(built.lab.migration!.record);
        assert.deepEqual(record.guest, { memoryMiB: 256, fillMiB: 128, dirtyMiBps: 4 });
    });

    it("the WAN profile: campus adds no NetEm; wanlab:wanProfile trans-pacific sets it on both site-facing interfaces", async () => {
        const campus = await build("local-campus", spec(), { migrationRun: 0 });
        assert.deepEqual(campus.byName("router-netem-eth1").inputs.environment, { IF: "eth1", NETEM: "", PROFILE: "campus" });
        const far = await build("local-far", spec(), { migrationRun: 0, wanProfile: "trans-pacific" });
        for (const ifname of ["eth1", "eth2"]) {
            assert.deepEqual(far.byName(`router-netem-${ifname}`).inputs.environment,
                { IF: ifname, NETEM: "delay 160ms 20ms distribution pareto", PROFILE: "trans-pacific" });
        }
        // The preflight's triggers hold the kernel features it probes: sch_netem only where a qdisc goes on.
        assert.ok(far.byName("router-preflight").inputs.triggers[1].split(" ").includes("sch_netem"));
        assert.ok(!campus.byName("router-preflight").inputs.triggers[1].split(" ").includes("sch_netem"));
    });

    it("run 0: no migration resource, the rest of the lab unchanged", async () => {
        const built = await build("local-norun", spec(), { migrationRun: 0 });
        assert.equal(built.lab.migration, undefined);
        assert.equal(built.resources.filter((r) => r.type === "wanlab:migration:Migration").length, 0);
        assert.deepEqual(built.commands.filter((c) => c.name.includes("migrate")).map((c) => c.name), []);
        assert.equal(built.commands.length, 48, "every other command of local.yaml is still there (the traffic counters too)");
        assert.equal(built.commands.filter((c) => c.name.includes("traffic-vm1") || c.name.includes("traffic-zero")).length, 0);
        assert.equal(built.byName("host1-vm-vm1").inputs.environment.VM, "vm1");
        assert.equal(built.byName("storage-check-client-to-vm").inputs.environment.TARGET, "10.0.0.100");
    });
});

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

describe("files on ssh hosts", () => {
    it("go over SFTP (CopyToRemote) to a private staging path, then a command moves them into place and removes them on delete", async () => {
        const start = registered.length;
        const host = new sshModule.SshHost("r9", { spec: {
            name: "r9", transport: "ssh", roles: [], accel: "auto",
            ssh: { address: "192.0.2.99", port: 22, user: "root", privateKey: { config: "key1" } },
        }, preflights: [] });
        host.file("motd", { path: "/etc/motd", content: pulumi.secret("hello"), mode: "0644" });
        await settle();
        const mine = registered.slice(start);
        const copy = mine.find((r) => r.type === "command:remote:CopyToRemote");
        assert.ok(copy, mine.map((r) => r.type).join(", "));
        assert.equal(copy.name, "r9-upload-motd");
        assert.equal(copy.inputs.remotePath, "/root/.wanlab-staging/motd");
        const place = mine.find((r) => r.name === "r9-file-motd")!;
        assert.deepEqual(place.inputs.environment, { FILE: "/etc/motd", MODE: "0644", STAGING: "/root/.wanlab-staging/motd" });
        assert.ok(place.dependencies.includes(copy.urn), "moves the file only after the upload");
    });
});

describe("Lab with ssh hypervisors and storage without CHAP", () => {
    const ssh = (address: string, extra: object = {}) => ({ address, privateKey: { config: "key1" }, ...extra });
    const doc = () => ({
        name: "remote-vm",
        hosts: [
            { name: "r1", transport: "ssh", roles: ["hypervisor"], ssh: ssh("192.0.2.21") },
            { name: "r2", transport: "ssh", roles: ["hypervisor"], ssh: ssh("192.0.2.22", { user: "lab" }) },
            { name: "st", transport: "ssh", roles: ["storage", "client"], ssh: ssh("192.0.2.23") },
        ],
        // One LAN: the VM keeps its address and its segment at either end.
        links: [
            { name: "l1", subnet: "10.30.1.0/24", ends: [{ host: "r1", interface: "ens4", bridge: "br0" }, { host: "r2", interface: "ens4", bridge: "br0" }, { host: "st", interface: "ens4", address: "10.30.1.5/24" }] },
        ],
        bridges: [{ name: "br0", host: "r1", address: "10.30.1.10/24" }, { name: "br0", host: "r2", address: "10.30.1.11/24" }],
        storage: [{ name: "disk", host: "st", type: "iscsi", portal: "10.30.1.5", iqn: "iqn.2015-02.com.example:disk", sizeMiB: 64 }],
        vms: [{
            name: "vm2", host: "r1", memoryMiB: 128, disk: { storage: "disk" },
            // On ssh hosts the guest's files are named: wanlab's own image exists only on this machine.
            image: { kernel: "/srv/wanlab/vmlinuz", initrd: "/srv/wanlab/initrd.img" },
            interfaces: [{ bridge: "br0", mac: "52:54:00:00:02:01", address: "10.30.1.100/24" }],
        }],
        migration: { vm: "vm2", from: "r1", to: "r2", probe: { from: "st", intervalMs: 20 }, port: 49200, bandwidthMiBps: 100, autoConverge: true, maxDowntimeMs: 50 },
    });
    let built: Awaited<ReturnType<typeof build>>;
    before(async () => {
        const v = validateDocument(doc());
        assert.deepEqual(v.errors, []);
        built = await build("remote-vm", v.spec!);
    });

    it("uses the system's Open vSwitch (kernel datapath) and libvirtd: checks, no daemons or config files", () => {
        for (const h of ["r1", "r2"]) {
            const ovs = built.byName(`${h}-ovs`);
            assert.equal(ovs.type, "command:remote:Command");
            assert.equal(built.byName(`${h}-bridge-br0`).inputs.environment.DATAPATH, "system");
            assert.match(built.byName(`${h}-libvirtd`).inputs.create, /^virsh -c qemu:\/\/\/system version >\/dev\/null \|\|/);
        }
        assert.deepEqual(built.commands.filter((c) => /-file-|-secret-/.test(c.name)).map((c) => c.name), []);
        assert.equal(built.lab.hypervisors.r1.uri, "qemu+ssh://root@192.0.2.21/system");
        assert.equal(built.lab.hypervisors.r2.uri, "qemu+ssh://lab@192.0.2.22/system");
        assert.ok(built.commands.every((c) => c.type === "command:remote:Command"), "ssh hosts use remote commands only");
    });

    it("without CHAP: a plain target environment and a disk without auth", () => {
        const target = built.byName("st-iscsi-disk");
        assert.ok(!pulumi.runtime.isRpcSecret(target.inputs.environment));
        assert.deepEqual([target.inputs.environment.CHAP_USER, target.inputs.environment.CHAP_PASSWORD], ["", ""]);
        assert.equal(target.inputs.environment.PORTAL, "10.30.1.5");
        const xml: string = built.byName("r1-vm-vm2").inputs.stdin;
        assert.ok(xml.includes("<source protocol='iscsi' name='iqn.2015-02.com.example:disk/1'>"), xml);
        assert.doesNotMatch(xml, /<auth /);
        assert.ok(xml.includes("<kernel>/srv/wanlab/vmlinuz</kernel>\n    <initrd>/srv/wanlab/initrd.img</initrd>"), xml);
        assert.equal(built.byName("r1-vm-vm2").inputs.environment.URIS, "qemu+ssh://root@192.0.2.21/system qemu+ssh://lab@192.0.2.22/system");
    });

    it("the migration's options, port and limits reach its environment", () => {
        const e = built.byName("st-migrate-vm2").inputs.environment;
        assert.deepEqual([e.SRC_URI, e.DST_URI, e.MIGRATE_URI], ["qemu+ssh://root@192.0.2.21/system", "qemu+ssh://lab@192.0.2.22/system", "tcp://10.30.1.11:49200"]);
        assert.deepEqual([e.OPTIONS, e.MAX_DOWNTIME_MS, e.INTERVAL_MS, e.INTERVAL_S], ["--bandwidth 100 --auto-converge", "50", "20", "0.020"]);
    });
});

describe("sections that validate but are not built yet", () => {
    // An LIO target: valid in the schema, no component for it yet.
    const doc = (implementation: "lio" | "tgt") => ({
        name: "unbuilt",
        hosts: [{ name: "h1", transport: "emulated", roles: ["storage"] }, { name: "h2", transport: "emulated" }],
        links: [{ name: "wan", subnet: "10.10.0.0/30", ends: [
            { host: "h1", interface: "eth0", address: "10.10.0.1/30" },
            { host: "h2", interface: "eth0", address: "10.10.0.2/30" },
        ] }],
        bridges: [{ name: "br1", host: "h1" }, { name: "br1", host: "h2" }],
        tunnels: [{ name: "t1", type: "vxlan", vni: 7, endpoints: [
            { host: "h1", interface: "t0", bridge: "br1", remotes: ["10.10.0.2"] },
            { host: "h2", interface: "t0", bridge: "br1", remotes: ["10.10.0.1"] },
        ] }],
        storage: [{ name: "disk", host: "h1", type: "iscsi", implementation, portal: "10.10.0.1", iqn: "iqn.2015-02.com.example:disk", sizeMiB: 16 }],
    });
    const spec = (implementation: "lio" | "tgt") => {
        const { spec, errors } = validateDocument(doc(implementation));
        assert.deepEqual(errors, []);
        return spec!;
    };

    it("unbuiltSections names non-tgt storage, nothing else", () => {
        assert.deepEqual(notBuilt(spec("lio")), ["/storage/0/implementation"]);
        assert.deepEqual(notBuilt(spec("tgt")), []);
        assert.deepEqual(notBuilt(loadSpec(path.join(ROOT, "stacks", "local.yaml"))), []);
    });

    it("such a spec makes the Lab throw a RunError naming those parts, before any command", async () => {
        const start = registered.length;
        assert.throws(() => new labModule.Lab("unbuilt", { spec: spec("lio"), stack: STACK }), (err: unknown) => {
            assert.ok(pulumi.RunError.isInstance(err), `not a RunError: ${err}`);
            assert.equal((err as Error).message, "these parts of the stack file are valid but not built by this version yet: /storage/0/implementation");
            return true;
        });
        // An IOS router is rendered, never pushed: the Lab refuses it the same way.
        const ios = loadSpec(path.join(ROOT, "test", "golden", "specs", "ios-pe.yaml"));
        assert.throws(() => new labModule.Lab("ios", { spec: ios, stack: STACK }), {
            message: "/hosts/0/platform: host 'pe1' is a Cisco IOS router: the lab renders its configuration (npm run configs -- ios-pe) and does not push it, as no IOS here could test a push; give it platform linux to build it\n" +
                "/hosts/1/platform: host 'pe2' is a Cisco IOS router: the lab renders its configuration (npm run configs -- ios-pe) and does not push it, as no IOS here could test a push; give it platform linux to build it",
        });
        await settle();
        const after = registered.slice(start);
        assert.deepEqual(after.map((r) => r.type), [], "nothing, not even the Lab, was registered");
    });

    it("the same spec with a vxlan tunnel and tgt storage builds both", async () => {
        const built = await build("built", spec("tgt"));
        assert.deepEqual(built.commands.filter((c) => /-vxlan-|-iscsi-/.test(c.name)).map((c) => c.name).sort(),
            ["h1-iscsi-disk", "h1-vxlan-t0", "h2-vxlan-t0"]);
        assert.deepEqual([built.byName("h1-vxlan-t0").inputs.environment.REMOTE, built.byName("h1-vxlan-t0").inputs.environment.VNI], ["10.10.0.2", "7"]);
        // No VMs: no hypervisor, whatever the roles.
        assert.deepEqual(Object.keys(built.lab.hypervisors), []);
    });
});

describe("the CHAP password from config", () => {
    it("a missing wanlab:chapPassword fails the lab before anything is registered, naming the key, where the file needs it, and how to set it", async () => {
        const start = registered.length;
        pulumi.runtime.setAllConfig({ [`${PROJECT}:key1`]: KEY }, [`${PROJECT}:key1`]);
        try {
            assert.throws(() => new labModule.Lab("nochap", { spec: loadSpec(path.join(ROOT, "stacks", "local.yaml")), stack: STACK, probes: { kvm: () => NO_KVM } }),
                (e: any) => e.message === "the stack's configuration lacks what the stack file needs:\n" +
                    "/storage/0/chap/password: the secret wanlab:chapPassword is not set in this stack: set it with " +
                    "`pulumi config set --secret wanlab:chapPassword` (the value on stdin), or let `npm run lab` make one up");
        } finally {
            pulumi.runtime.setAllConfig(CONFIG, SECRET_KEYS);
            await settle();
        }
        assert.deepEqual(registered.slice(start).map((r) => r.name), [], "nothing, not even the Lab, was registered");
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
