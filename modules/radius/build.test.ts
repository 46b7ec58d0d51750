// The RADIUS module's resources, built against Pulumi's mocks: the server's command on its
// host with the rendered files on stdin as a secret (no secret in clear text in any input),
// after the host's IPv6 addresses; the lab's check after it; the VMs after the server.
// Nothing runs on the machine.
//
//   node --import tsx --test modules/radius/build.test.ts
import { before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { validateDocument } from "../../model/validate";

const PROJECT = "wanlab";
const STACK = "unit";
const SECRETS = { radiusPassword: "unit-radius-pw-61d0", radiusSecretMag1: "unit-mag1-secret-7c2e", radiusSecretLma: "unit-lma-secret-a93f" };
const NO_KVM = { accel: "kvm", ok: false, reason: "no KVM in the unit test", cached: false };

interface Registered { type: string; name: string; inputs: any; custom: boolean; urn: string; dependencies: string[] }
const registered: Registered[] = [];
let request: { urn: string; dependencies: string[] } | undefined;

const mocksReady = pulumi.runtime.setMocks({
    newResource(args: pulumi.runtime.MockResourceArgs) {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs, custom: args.custom ?? false, urn: request?.urn ?? "", dependencies: request?.dependencies ?? [] });
        request = undefined;
        return { id: args.custom ? `${args.name}-id` : "", state: args.type.startsWith("command:") ? { ...args.inputs, stdout: "" } : args.inputs };
    },
    call: (args: pulumi.runtime.MockCallArgs) => args.inputs,
}, PROJECT, STACK, false);
pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(SECRETS).map(([k, v]) => [`${PROJECT}:${k}`, v])), Object.keys(SECRETS).map((k) => `${PROJECT}:${k}`));

function stack(): any {
    return {
        name: "radius",
        hosts: [
            { name: "aaa", transport: "emulated", roles: ["aaa"], ipv6: { addresses: [{ interface: "eth0", address: "2001:db8:a::10/64" }] } },
            { name: "lma", transport: "emulated", roles: ["router"], ipv6: { addresses: [{ interface: "eth0", address: "2001:db8:a::1/64" }] } },
            { name: "mag1", transport: "emulated", roles: ["router"], ipv6: { addresses: [{ interface: "eth0", address: "2001:db8:a::2/64" }] } },
            { name: "hv1", transport: "emulated", roles: ["hypervisor"] },
        ],
        links: [{ name: "core", subnet: "10.0.0.0/24", ends: [
            { host: "aaa", interface: "eth0", address: "10.0.0.10/24" },
            { host: "lma", interface: "eth0", address: "10.0.0.1/24" },
            { host: "mag1", interface: "eth0", address: "10.0.0.2/24" },
            { host: "hv1", interface: "eth0", address: "10.0.0.3/24" },
        ] }],
        bridges: [{ name: "br1", host: "hv1", type: "linux" }],
        vms: [{ name: "vm1", host: "hv1", memoryMiB: 128, disk: { local: { sizeMiB: 64 } }, interfaces: [{ bridge: "br1", mac: "00:16:3e:01:01:01" }] }],
        radius: {
            host: "aaa", address: "2001:db8:a::10", password: { config: "radiusPassword" },
            clients: [
                { host: "mag1", address: "2001:db8:a::2", secret: { config: "radiusSecretMag1" } },
                { host: "lma", address: "2001:db8:a::1", secret: { config: "radiusSecretLma" } },
            ],
            users: [{ vm: "vm1", prefix: "2001:db8:1:1::/64" }, { host: "mag1" }],
        },
    };
}

/** Whether a needle appears in clear text in a mock's inputs (secret-wrapped values skipped). */
function inClearText(value: unknown, needle: string): boolean {
    if (pulumi.runtime.isRpcSecret(value)) return false;
    if (typeof value === "string") return value.includes(needle);
    if (Array.isArray(value)) return value.some((v) => inClearText(v, needle));
    if (value && typeof value === "object") return Object.values(value).some((v) => inClearText(v, needle));
    return false;
}

describe("radius: the resources", () => {
    const byName = (n: string) => {
        const found = registered.filter((r) => r.custom && r.name === n);
        assert.equal(found.length, 1, `expected one resource named ${n}, got ${found.length}: ${registered.filter((r) => r.custom).map((r) => r.name).join(", ")}`);
        return found[0];
    };
    before(async () => {
        await mocksReady;
        const monitor = pulumi.runtime.getMonitor() as any;
        const register = monitor.registerResource.bind(monitor);
        monitor.registerResource = (req: any, callback: any) => {
            request = { urn: monitor.newUrn(req.getParent(), req.getType(), req.getName()), dependencies: req.getDependenciesList() };
            return register(req, callback);
        };
        const { spec, errors } = validateDocument(stack());
        assert.deepEqual(errors, []);
        const { Lab } = await import("../../components/lab");
        new Lab("radius", { spec: spec!, stack: STACK, settings: {}, probes: { kvm: () => NO_KVM } });
        await (pulumi.runtime as any).waitForRPCs();
    });

    it("the server: its create and delete scripts on its host, its directory, the socket it listens on; the files on stdin, a secret", () => {
        const server = byName("aaa-radius");
        assert.match(server.inputs.create, /freeradius -C -d "\$DIR\/raddb"/);
        assert.match(server.inputs.delete, /rm -rf "\$DIR"/);
        assert.ok(pulumi.runtime.isRpcSecret(server.inputs.stdin), "the server's stdin is not a secret");
        assert.ok(!pulumi.runtime.isRpcSecret(server.inputs.environment), "the server's environment holds no secret");
        assert.equal(server.inputs.environment.DIR, `/var/lib/wanlab/${STACK}/radius-aaa`);
        assert.equal(server.inputs.environment.LISTEN, "[2001:db8:a::10]:1812");
        assert.equal(server.inputs.environment.PORT, "1812");
    });

    it("the check: on the server's host, the VM, the MAG and an unknown MAC; the password on stdin, a secret", () => {
        const check = byName("aaa-radius-check");
        assert.ok(pulumi.runtime.isRpcSecret(check.inputs.stdin), "the check's stdin is not a secret");
        assert.equal(check.inputs.environment.VMS, "vm1 000000163e010101 2001:db8:1:1::/64 0216:3eff:fe01:0101");
        assert.equal(check.inputs.environment.MAGS, "mag1");
        assert.equal(check.inputs.environment.UNKNOWN, "000000deadbeef00");
        assert.deepEqual(check.inputs.triggers, ["aaa-radius-id"]);
    });

    it("no secret in clear text in any resource's inputs", () => {
        const leaks = registered.flatMap((r) => Object.entries(SECRETS).filter(([, v]) => inClearText(r.inputs, v)).map(([k]) => `${r.name} holds ${k}`));
        assert.deepEqual(leaks, []);
    });

    it("the server after its host's IPv6 addresses; the check after the server; the VM after the server", () => {
        const server = registered.find((r) => !r.custom && r.type === "wanlab:radius:RadiusServer")!;
        const deps = (r: Registered) => new Set(r.dependencies.map((u) => registered.find((x) => x.urn === u)?.name));
        assert.ok(deps(server).has("aaa-ipv6"), [...deps(server)].join(", "));
        assert.ok(deps(byName("aaa-radius-check")).has("aaa-radius"));
        const vm = byName("hv1-vm-vm1");
        assert.ok(deps(vm).has("aaa-radius"), [...deps(vm)].join(", "));
        assert.ok(!deps(vm).has("aaa-radius-check"), "the VM does not wait for the check (validation)");
    });
});
