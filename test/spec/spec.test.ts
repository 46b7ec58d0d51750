// Stack-file validation: the shipped stacks load with their defaults, and every kind of
// mistake is reported as `file: /json/pointer: reason`, one line per error, all at once.
//
//   node --import tsx --test test/spec/spec.test.ts

import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { SpecValidationError } from "../../model/types";
import { loadSpec, validateDocument } from "../../model/validate";
import { isIscsi, type IscsiStorageSpec } from "../../modules/iscsi/model";

const ROOT = path.resolve(__dirname, "..", "..");
const FIXTURES = path.join(__dirname, "fixtures");
const fixture = (name: string) => path.join(FIXTURES, name);

/** The SpecValidationError that loading `file` throws (anything else fails the test). */
function specError(file: string): SpecValidationError {
    try {
        loadSpec(file);
    } catch (err) {
        if (err instanceof SpecValidationError) return err;
        throw err;
    }
    assert.fail(`${file} was expected to be invalid, but it loaded`);
}

/** Loading fixture `name` fails with exactly these `pointer: reason` lines, in this order. */
function assertErrors(name: string, lines: string[]) {
    const file = fixture(name);
    const err = specError(file);
    assert.equal(err.name, "SpecValidationError");
    assert.equal(err.file, file);
    assert.equal(err.message, lines.map((l) => `${file}: ${l}`).join("\n"));
    assert.equal(err.errors.length, lines.length);
}

describe("shipped stacks", () => {
    it("stacks/small.yaml loads, with its values and the defaults", () => {
        const spec = loadSpec(path.join(ROOT, "stacks", "small.yaml"));
        assert.equal(spec.name, "small");
        assert.deepEqual(spec.hosts.map((h) => [h.name, h.site, h.transport, h.roles]), [
            ["h1", "site1", "emulated", ["hypervisor"]],
            ["h2", "site2", "emulated", ["hypervisor"]],
        ]);
        assert.equal(spec.links.length, 1);
        assert.deepEqual(spec.links[0], {
            name: "wan",
            subnet: "10.10.0.0/30",
            mtu: 1500,
            ends: [
                { host: "h1", interface: "eth0", address: "10.10.0.1/30" },
                { host: "h2", interface: "eth0", address: "10.10.0.2/30" },
            ],
        });
        assert.deepEqual(spec.checks, [{ name: "h1-to-h2", from: "h1", to: "10.10.0.2", count: 3, waitS: 10 }]);
        // Sections the file leaves out are empty lists, not undefined.
        assert.deepEqual([spec.bridges, spec.tunnels, spec.storage, spec.vms], [[], [], [], []]);
        assert.equal(spec.migration, undefined);
    });

    it("stacks/local.yaml loads, and link mtu and check count take their defaults", () => {
        const spec = loadSpec(path.join(ROOT, "stacks", "local.yaml"));
        assert.equal(spec.name, "local");
        assert.deepEqual(spec.sites.map((s) => s.name), ["site1", "site2", "core"]);
        assert.deepEqual(spec.hosts.map((h) => h.name), ["host1", "host2", "router", "storage"]);
        assert.deepEqual(spec.hosts.map((h) => h.roles), [["hypervisor"], ["hypervisor"], ["router"], ["storage", "client"]]);
        assert.deepEqual(spec.hosts[0].routes, [
            { to: "192.168.2.0/24", via: "192.168.1.1" },
            { to: "192.168.5.0/24", via: "192.168.1.1" },
        ]);
        assert.equal(spec.hosts[2].routes, undefined);
        // No link gives an mtu, no check a count: the schema's defaults fill them in.
        assert.deepEqual(spec.links.map((l) => [l.name, l.subnet, l.mtu]), [
            ["site1-wan", "192.168.1.0/24", 1500],
            ["site2-wan", "192.168.2.0/24", 1500],
            ["storage-lan", "192.168.5.0/24", 1500],
        ]);
        assert.deepEqual(spec.checks, [
            { name: "host1-to-host2", from: "host1", to: "192.168.2.10", count: 3, waitS: 10 },
            { name: "client-to-host1", from: "storage", to: "192.168.1.10", count: 3, waitS: 10 },
            { name: "client-to-host2", from: "storage", to: "192.168.2.10", count: 3, waitS: 10 },
            { name: "client-to-vm", from: "storage", to: "10.0.0.100", count: 3, waitS: 120 },
        ]);
        // The overlay, the iSCSI target, the VM and its migration (seed 000 §1-2).
        assert.deepEqual(spec.bridges.map((b) => `${b.host}/${b.name}`), ["host1/br0", "host1/br1", "host2/br0", "host2/br1", "router/ovl"]);
        assert.deepEqual(spec.tunnels.map((t) => [t.name, t.endpoints.map((e) => e.host)]), [["overlay", ["host1", "host2", "router"]]]);
        assert.deepEqual(spec.storage.filter(isIscsi).map((st) => [st.name, st.host, st.portal]), [["shared", "storage", "192.168.5.5"]]);
        assert.deepEqual(spec.vms.map((v) => [v.name, v.host, v.disk.storage]), [["vm1", "host1", "shared"]]);
        assert.deepEqual(
            spec.migration && [spec.migration.vm, spec.migration.from, spec.migration.to, spec.migration.probe.from],
            ["vm1", "host1", "host2", "storage"],
        );
    });

    it("defaults: roles [], sections [], ssh port 22 and user root, bridge type ovs, tunnel port 4789, vcpus 1, probe 10 ms", () => {
        const { spec, errors } = validateDocument({
            name: "defaults",
            hosts: [
                { name: "h1", transport: "emulated", roles: ["hypervisor"] },
                { name: "h2", transport: "emulated", roles: ["hypervisor"] },
                { name: "r1", transport: "ssh", ssh: { address: "192.0.2.10", privateKey: { config: "key1" } } },
                { name: "r2", transport: "ssh", ssh: { address: "r2.example", privateKey: { config: "key1" } } },
            ],
            links: [{ name: "wan", subnet: "10.0.0.0/30", ends: [
                { host: "h1", interface: "eth0", address: "10.0.0.1/30" },
                { host: "h2", interface: "eth0", address: "10.0.0.2/30" },
            ] }],
            // h2's br0 is on the VM's subnet: the probe from h2 reaches the VM over the overlay.
            bridges: [{ name: "br0", host: "h1" }, { name: "br0", host: "h2", address: "10.99.0.2/24" }],
            tunnels: [{ name: "ov", type: "vxlan", vni: 7, endpoints: [
                { host: "h1", interface: "vx0", bridge: "br0", local: "10.0.0.1", remotes: ["10.0.0.2"] },
                { host: "h2", interface: "vx0", bridge: "br0", local: "10.0.0.2", remotes: ["10.0.0.1"] },
            ] }],
            storage: [{ name: "shared", host: "h2", type: "iscsi", portal: "10.0.0.2", iqn: "iqn.2015-02.com.example:shared", sizeMiB: 64 }],
            vms: [{ name: "vm1", host: "h1", memoryMiB: 128, disk: { storage: "shared" }, interfaces: [{ bridge: "br0", mac: "52:54:00:00:00:01", address: "10.99.0.10/24" }] }],
            migration: { vm: "vm1", from: "h1", to: "h2", probe: { from: "h2" } },
        });
        assert.deepEqual(errors, []);
        assert.ok(spec);
        assert.deepEqual(spec.hosts.map((h) => h.roles), [["hypervisor"], ["hypervisor"], [], []]);
        assert.deepEqual(spec.hosts[2].ssh, { address: "192.0.2.10", port: 22, user: "root", privateKey: { config: "key1" } });
        assert.equal(spec.links[0].mtu, 1500);
        assert.deepEqual(spec.bridges.map((b) => b.type), ["ovs", "ovs"]);
        assert.equal(spec.tunnels[0].port, 4789);
        assert.equal(spec.vms[0].vcpus, 1);
        assert.equal(spec.migration?.probe.intervalMs, 10);
        assert.deepEqual([spec.sites, spec.checks], [[], []]);
    });
});

describe("schema errors", () => {
    it("unknown property", () => {
        assertErrors("unknown-property.yaml", ["/hosts/0: unknown property 'colour' (allowed: name, site, description, transport, roles, ssh, platform, appliance, routes, forwarding, loopback, ipv6, rip, accel)"]);
    });

    it("missing required property", () => {
        assertErrors("missing-required.yaml", ["/links/0: missing required property 'subnet'"]);
    });

    it("shell-unsafe names (a space, `;rm -rf /`, `$(reboot)`) are rejected by the schema's patterns", () => {
        const file = fixture("bad-name.yaml");
        const err = specError(file);
        assert.deepEqual(err.errors.map((e) => e.pointer), ["/hosts/0/name", "/hosts/1/name", "/links/0/ends/0/interface"]);
        assert.equal(err.message.split("\n").length, 3);
    });

    // A pattern error shows the value and the schema's description, not the regular expression.
    it("a pattern error names the value and what the pattern wants", () => {
        assertErrors("bad-name.yaml", [
            `/hosts/0/name: "h 1" is not valid: lower-case letters, digits and '-', starting with a letter, at most 31 characters`,
            `/hosts/1/name: ";rm -rf /" is not valid: lower-case letters, digits and '-', starting with a letter, at most 31 characters`,
            `/links/0/ends/0/interface: "eth0$(reboot)" is not valid: a Linux interface name: at most 15 characters, starting with a letter`,
        ]);
    });

    it("bad enum (transport)", () => {
        assertErrors("bad-enum.yaml", [`/hosts/0/transport: "docker" is not allowed: must be one of "emulated", "ssh"`]);
    });

    it("ssh block on an emulated host", () => {
        assertErrors("ssh-on-emulated.yaml", ["/hosts/0: 'ssh' is only allowed with transport 'ssh'"]);
    });

    it("missing ssh block on an ssh host", () => {
        assertErrors("ssh-missing.yaml", ["/hosts/0: missing required property 'ssh'"]);
    });

    it("several schema errors come out at once, and semantic checks do not run", () => {
        // The check's unknown host h9 would be a semantic error: it must not appear.
        assertErrors("schema-mistakes.yaml", [
            "/: unknown property 'owner' (allowed: name, description, sites, hosts, links, bridges, tunnels, nat, radius, pmipv6, wan, storage, vms, checks, migration)",
            "/sites/0: missing required property 'name'",
            `/hosts/1/transport: "docker" is not allowed: must be one of "emulated", "ssh"`,
            "/links/0/mtu: 100 is too small: must be at least 576",
            "/links/0/ends: needs at least 2 items",
            `/checks/0/to: "not-an-ip" is not valid: an IPv4 address in dotted decimal, such as 192.168.1.10 (no prefix length)`,
            "/checks/0/count: 0 is too small: must be at least 1",
        ]);
    });

    it("a missing transport or tunnel type is reported as missing", () => {
        const err = specError(fixture("missing-discriminator.yaml"));
        assert.ok(err.errors.some((e) => e.pointer === "/hosts/0" && e.reason === "missing required property 'transport'"));
        assert.ok(err.errors.some((e) => e.pointer === "/tunnels/0" && e.reason === "missing required property 'type'"));
    });

    // A missing transport (or tunnel type) is one error, not also a missing 'ssh' (or 'vni').
    it("... without a misleading second error from the schema's if/then", () => {
        assertErrors("missing-discriminator.yaml", [
            "/hosts/0: missing required property 'transport'",
            "/tunnels/0: missing required property 'type'",
        ]);
    });
});

describe("the new fields' schema", () => {
    // Endpoint `address` and migration `probeIntervalMs` are gone; endpoint `bridge`,
    // VM `disk` and migration `probe` are required; remotes are addresses, not host names.
    it("fields of the old shape, missing new required fields and a bad accel are schema errors", () => {
        assertErrors("old-shape.yaml", [
            `/hosts/0/accel: "xen" is not allowed: must be one of "auto", "kvm", "tcg"`,
            "/tunnels/0/endpoints/0: missing required property 'bridge'",
            "/tunnels/0/endpoints/0: unknown property 'address' (allowed: host, interface, bridge, local, remotes)",
            `/tunnels/0/endpoints/0/remotes/0: "h2" is not valid: an IPv4 address in dotted decimal, such as 192.168.1.10 (no prefix length)`,
            "/vms/0: missing required property 'disk'",
            "/migration: missing required property 'probe'",
            "/migration: unknown property 'probeIntervalMs' (allowed: vm, from, to, probe, port, bandwidthMiBps, copyStorage, maxDowntimeMs, autoConverge, postCopy, timeoutS, tcpWatch)",
        ]);
    });

    it("defaults: accel auto, interface mtu 1450, storage implementation tgt, probe every 10 ms, no auto-converge, no post-copy, timeout 300 s", () => {
        const spec = loadSpec(fixture("new-defaults.yaml"));
        assert.deepEqual(spec.hosts.map((h) => h.accel), ["auto", "auto", "auto"]);
        assert.deepEqual(spec.vms[0].interfaces, [
            { bridge: "br1", mac: "52:54:00:00:00:01", address: "10.0.0.100/24", gateway: "10.0.0.1", mtu: 1450 },
        ]);
        assert.equal(spec.vms[0].image, undefined);
        assert.deepEqual(spec.vms[0].disk, { storage: "shared" });
        assert.deepEqual(spec.storage, [{
            name: "shared", host: "r1", type: "iscsi", implementation: "tgt", portal: "10.10.1.1",
            iqn: "iqn.2015-02.com.example:shared", sizeMiB: 64,
        }]);
        // local is optional: an end point may leave it to the kernel's routing.
        assert.deepEqual(spec.tunnels[0].endpoints.map((e) => [e.bridge, e.local, e.remotes]), [
            ["br1", undefined, ["10.10.1.1"]],
            ["br1", undefined, ["10.10.2.1"]],
            ["ovl", undefined, ["10.10.1.2", "10.10.2.2"]],
        ]);
        // Tuning without a default stays unset, so libvirt's own defaults apply.
        assert.deepEqual(spec.migration, {
            vm: "vm1", from: "h1", to: "h2",
            // The TCP probe's server: where r1's probes leave from towards the VM.
            probe: { from: "r1", intervalMs: 10, address: "10.0.0.1", toVm: true },
            autoConverge: false, postCopy: false, timeoutS: 300,
        });
    });

    it("values given for the new fields are kept", () => {
        const { spec, errors } = validateDocument({
            name: "explicit",
            hosts: [
                { name: "h1", transport: "emulated", roles: ["hypervisor"], accel: "tcg" },
                { name: "h2", transport: "emulated", roles: ["hypervisor"], accel: "tcg" },
                // Not an end of the migration: its accelerator may differ.
                { name: "h3", transport: "emulated", roles: ["hypervisor"], accel: "kvm" },
            ],
            links: [{ name: "wan", subnet: "10.0.0.0/30", ends: [
                { host: "h1", interface: "eth0", address: "10.0.0.1/30" },
                { host: "h2", interface: "eth0", address: "10.0.0.2/30" },
            ] }],
            bridges: [{ name: "br0", host: "h1" }, { name: "br0", host: "h2", address: "10.1.0.1/24" }],
            tunnels: [{ name: "ov", type: "vxlan", vni: 7, mtu: 1400, endpoints: [
                { host: "h1", interface: "vx0", bridge: "br0", remotes: ["10.0.0.2"] },
                { host: "h2", interface: "vx0", bridge: "br0", remotes: ["10.0.0.1"] },
            ] }],
            storage: [{
                name: "shared", host: "h2", type: "iscsi", implementation: "lio", portal: "10.0.0.2",
                iqn: "iqn.2015-02.com.example:shared", sizeMiB: 128, initiators: ["10.0.0.0/30"],
                chap: { user: "wanlab", password: { config: "chapPassword" } },
            }],
            vms: [{
                name: "vm1", host: "h1", memoryMiB: 128, disk: { storage: "shared" },
                image: { kernel: "/var/lib/wanlab/vmlinuz", initrd: "/var/lib/wanlab/initrd.img" },
                interfaces: [{ bridge: "br0", mac: "52:54:00:00:00:01", address: "10.1.0.100/24", gateway: "10.1.0.1", mtu: 1400 }],
            }],
            migration: {
                vm: "vm1", from: "h1", to: "h2", probe: { from: "h2", intervalMs: 20, address: "10.1.0.1" },
                port: 49152, bandwidthMiBps: 100, maxDowntimeMs: 300, autoConverge: true, postCopy: true, timeoutS: 60,
            },
        });
        assert.deepEqual(errors, []);
        assert.ok(spec);
        assert.deepEqual(spec.hosts.map((h) => h.accel), ["tcg", "tcg", "kvm"]);
        const st = spec.storage[0] as IscsiStorageSpec;
        assert.equal(st.implementation, "lio");
        assert.deepEqual(st.chap, { user: "wanlab", password: { config: "chapPassword" } });
        assert.equal(spec.vms[0].interfaces[0].mtu, 1400);
        assert.deepEqual(spec.vms[0].image, { kernel: "/var/lib/wanlab/vmlinuz", initrd: "/var/lib/wanlab/initrd.img" });
        assert.deepEqual(spec.migration, {
            vm: "vm1", from: "h1", to: "h2", probe: { from: "h2", intervalMs: 20, address: "10.1.0.1", toVm: true },
            port: 49152, bandwidthMiBps: 100, maxDowntimeMs: 300, autoConverge: true, postCopy: true, timeoutS: 60,
        });
    });
});

describe("semantic errors", () => {
    it("duplicate host name", () => {
        assertErrors("duplicate-host.yaml", ["/hosts/2/name: duplicate name 'h1' (first at /hosts/0)"]);
    });

    it("unknown host in a link end", () => {
        assertErrors("unknown-host-in-link.yaml", ["/links/0/ends/1/host: unknown host 'h3'"]);
    });

    it("unknown site", () => {
        assertErrors("unknown-site.yaml", ["/hosts/1/site: unknown site 'mars'"]);
    });

    it("address outside the link's subnet", () => {
        assertErrors("address-outside-subnet.yaml", ["/links/0/ends/1/address: 10.10.1.2/30 is outside the link's subnet 10.10.0.0/30"]);
    });

    it("network and broadcast address on an interface", () => {
        assertErrors("reserved-address.yaml", [
            "/links/0/ends/0/address: 10.10.0.0 is the network or broadcast address of 10.10.0.0/29",
            "/links/0/ends/1/address: 10.10.0.7 is the network or broadcast address of 10.10.0.0/29",
        ]);
    });

    it("prefix length that differs from the subnet's", () => {
        assertErrors("prefix-mismatch.yaml", ["/links/0/ends/1/address: prefix length of 10.10.0.2/24 differs from the subnet 10.10.0.0/30"]);
    });

    it("overlapping link subnets", () => {
        assertErrors("overlapping-subnets.yaml", ["/links/1/subnet: 10.10.0.128/25 overlaps 10.10.0.0/24 of link 'a'"]);
    });

    it("duplicate address", () => {
        assertErrors("duplicate-address.yaml", ["/links/0/ends/1/address: address 10.10.0.1 is already used (at /links/0/ends/0/address)"]);
    });

    it("duplicate MAC", () => {
        assertErrors("duplicate-mac.yaml", ["/vms/1/interfaces/0/mac: MAC 52:54:00:00:00:01 is already used (at /vms/0/interfaces/0/mac)"]);
    });

    it("duplicate VNI", () => {
        assertErrors("duplicate-vni.yaml", ["/tunnels/1/vni: VNI 100 is already used by tunnel 'ov1'"]);
    });

    it("migration from a host to itself", () => {
        assertErrors("migration-same-host.yaml", ["/migration/to: source and destination of a migration must be different hosts"]);
    });

    it("migration to a host that is not a hypervisor", () => {
        assertErrors("migration-non-hypervisor.yaml", ["/migration/to: host 'h2' does not have the role 'hypervisor'"]);
    });

    it("VM on a host that is not a hypervisor", () => {
        assertErrors("vm-non-hypervisor.yaml", ["/vms/0/host: host 'h1' does not have the role 'hypervisor'"]);
    });

    it("route whose next hop is on no attached subnet", () => {
        assertErrors("route-next-hop.yaml", ["/hosts/0/routes/0/via: next hop 10.99.0.1 is not on any subnet of host 'h1'"]);
    });

    it("tunnel local address that is not the host's", () => {
        assertErrors("tunnel-local.yaml", ["/tunnels/0/endpoints/0/local: 10.10.0.2 is not an address of host 'h1'"]);
    });

    it("tunnel remote that is not an address of another end point of the tunnel", () => {
        // 10.10.1.1 is the router's (on the path, but not an end point); 10.10.9.9 is no host's.
        assertErrors("tunnel-remote.yaml", [
            "/tunnels/0/endpoints/0/remotes/1: 10.10.1.1 is not an address of another end point of tunnel 'ov1'",
            "/tunnels/0/endpoints/1/remotes/0: 10.10.9.9 is not an address of another end point of tunnel 'ov1'",
        ]);
    });

    it("tunnel remote that is an address of the end point's own host", () => {
        assertErrors("tunnel-remote-self.yaml", ["/tunnels/0/endpoints/1/remotes/0: an end point cannot tunnel to its own host"]);
    });

    it("storage portal that is not an address of the storage host", () => {
        assertErrors("storage-portal.yaml", ["/storage/0/portal: 10.20.0.1 is not an address of host 'st'"]);
    });

    it("VM disk on an unknown storage", () => {
        assertErrors("unknown-storage.yaml", ["/vms/0/disk/storage: unknown storage 'nas'"]);
    });

    it("VM gateway outside the prefix of the interface's address", () => {
        assertErrors("vm-gateway.yaml", ["/vms/0/interfaces/0/gateway: gateway 10.0.1.1 is outside 10.0.0.100/24"]);
    });

    it("migration probe from an unknown host", () => {
        assertErrors("probe-unknown-host.yaml", ["/migration/probe/from: unknown host 'client'"]);
    });

    it("many mistakes in one file: all reported in one error, in a stable order", () => {
        const lines = [
            "/hosts/2/name: duplicate name 'h1' (first at /hosts/0)",
            "/hosts/1/site: unknown site 'mars'",
            "/links/0/ends/1/address: 10.10.1.2/30 is outside the link's subnet 10.10.0.0/30",
            "/links/1/ends/1/host: unknown host 'h9'",
            "/links/1/subnet: 10.10.0.0/24 overlaps 10.10.0.0/30 of link 'wan'",
            "/hosts/0/routes/0/via: next hop 10.99.0.1 is not on any subnet of host 'h1'",
            "/storage/0/portal: 10.10.0.1 is not an address of host 'h2'",
            "/vms/0/host: host 'h2' does not have the role 'hypervisor'",
            "/vms/0/disk/storage: unknown storage 'nas'",
            "/vms/0/interfaces/0/bridge: no bridge 'br0' on host 'h2'",
            "/checks/0/from: unknown host 'h7'",
        ];
        assertErrors("many-mistakes.yaml", lines);
        // Stable: a second load reports the same text.
        const file = fixture("many-mistakes.yaml");
        assert.equal(specError(file).message, specError(file).message);
    });
});

describe("IPv4 octets with a leading zero", () => {
    // stacks/schema.json's cidr/ifaddr patterns use `1?[0-9]?[0-9]`, which admits "09" and
    // "01"; lib/address.ts hands them to ipaddr.js, which reads a leading 0 as octal.
    it("an octet such as 09 is reported as an error, not thrown as a crash", () => {
        const err = specError(fixture("leading-zero.yaml"));
        assert.deepEqual(err.errors[0], { pointer: "/links/0/subnet", reason: `"09.0.0.0/8" is not valid: an IPv4 prefix such as 192.168.1.0/24` });
    });

    it("10.0.0.01 and 10.0.0.1 are not both accepted", () => {
        const err = specError(fixture("leading-zero-duplicate.yaml"));
        assert.ok(err.errors.length > 0);
    });
});

describe("bridge names", () => {
    // Bridges are named by `ifname` (upper case and '_' allowed), and every reference to
    // a bridge uses the same pattern.
    it("a link end can be plugged into any bridge the schema lets one define", () => {
        const { errors } = validateDocument({
            name: "bridges",
            hosts: [{ name: "h1", transport: "emulated" }, { name: "h2", transport: "emulated" }],
            bridges: [{ name: "br_lan", host: "h1" }],
            links: [{ name: "wan", subnet: "10.10.0.0/30", ends: [
                { host: "h1", interface: "eth0", bridge: "br_lan" },
                { host: "h2", interface: "eth0", address: "10.10.0.2/30" },
            ] }],
        });
        assert.deepEqual(errors, []);
    });
});

describe("file-level errors", () => {
    it("YAML syntax error, with its line and column", () => {
        assertErrors("yaml-syntax.yaml", ["/: YAML error at line 5, column 3: missed comma between flow collection entries"]);
    });

    it("missing file", () => {
        assertErrors("does-not-exist.yaml", ["/: cannot read file: ENOENT"]);
    });
});

describe("npm run validate", () => {
    const validate = (...files: string[]) => {
        const r = spawnSync("npm", ["run", "-s", "validate", "--", ...files], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
        // npm itself may warn about the user's configuration: that is not ours to check.
        const clean = (s: string) => s.split("\n").filter((l) => !/^npm (warn|WARN)/.test(l)).join("\n");
        return { status: r.status, stdout: clean(r.stdout), stderr: clean(r.stderr) };
    };

    it("exits 0 and says ok for a valid file", () => {
        const r = validate("stacks/small.yaml");
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, "stacks/small.yaml: ok (2 hosts, 1 links)\n");
        assert.equal(r.stderr, "");
    });

    it("exits 1 and prints every error of every bad file on stderr", () => {
        const bad = "test/spec/fixtures/many-mistakes.yaml";
        const r = validate("stacks/local.yaml", bad, "test/spec/fixtures/bad-enum.yaml");
        assert.equal(r.status, 1);
        assert.equal(r.stdout, "stacks/local.yaml: ok (4 hosts, 3 links)\n");
        assert.equal(r.stderr, [
            `${bad}: /hosts/2/name: duplicate name 'h1' (first at /hosts/0)`,
            `${bad}: /hosts/1/site: unknown site 'mars'`,
            `${bad}: /links/0/ends/1/address: 10.10.1.2/30 is outside the link's subnet 10.10.0.0/30`,
            `${bad}: /links/1/ends/1/host: unknown host 'h9'`,
            `${bad}: /links/1/subnet: 10.10.0.0/24 overlaps 10.10.0.0/30 of link 'wan'`,
            `${bad}: /hosts/0/routes/0/via: next hop 10.99.0.1 is not on any subnet of host 'h1'`,
            `${bad}: /storage/0/portal: 10.10.0.1 is not an address of host 'h2'`,
            `${bad}: /vms/0/host: host 'h2' does not have the role 'hypervisor'`,
            `${bad}: /vms/0/disk/storage: unknown storage 'nas'`,
            `${bad}: /vms/0/interfaces/0/bridge: no bridge 'br0' on host 'h2'`,
            `${bad}: /checks/0/from: unknown host 'h7'`,
            `test/spec/fixtures/bad-enum.yaml: /hosts/0/transport: "docker" is not allowed: must be one of "emulated", "ssh"`,
            "",
        ].join("\n"));
    });

    it("exits 2 with usage when no file is given", () => {
        const r = validate();
        assert.equal(r.status, 2);
        assert.equal(r.stderr, "usage: npm run validate -- stacks/<name>.yaml [...]\n");
    });
});

describe("VM checks that depend on the host and the migration", () => {
    const doc = () => yaml.load(fs.readFileSync(path.join(__dirname, "fixtures", "migration-same-host.yaml"), "utf8")) as any;

    it("a migrated VM needs an address for the probe", () => {
        const d = doc();
        d.migration.to = "h2";
        d.hosts.push({ name: "h2", transport: "emulated", roles: ["hypervisor"] });
        d.bridges.push({ name: "br0", host: "h2" });
        delete d.vms[0].interfaces[0].address;
        const { errors } = validateDocument(d);
        assert.deepEqual(errors, [{ pointer: "/migration/vm", reason: "VM 'vm1' needs an address on its first interface for the probe" }]);
    });

    it("a VM on an ssh host names its own image", () => {
        const d = doc();
        delete d.migration;
        Object.assign(d.hosts[0], { transport: "ssh", ssh: { address: "192.0.2.1", privateKey: { config: "k" } } });
        const { errors } = validateDocument(d);
        assert.ok(errors.some((e) => e.pointer === "/vms/0" && e.reason.startsWith("a VM on an ssh host must name its kernel and initrd")), JSON.stringify(errors));
    });
});

describe("migration direction", () => {
    it("a migration starts on the VM's own host", () => {
        const d = yaml.load(fs.readFileSync(path.join(__dirname, "fixtures", "migration-same-host.yaml"), "utf8")) as any;
        d.hosts.push({ name: "h2", transport: "emulated", roles: ["hypervisor"] });
        d.bridges.push({ name: "br0", host: "h2" });
        Object.assign(d.migration, { from: "h2", to: "h1" });
        const { errors } = validateDocument(d);
        assert.deepEqual(errors, [{ pointer: "/migration/from", reason: "VM 'vm1' starts on 'h1', so a migration starts there, not on 'h2'" }]);
    });
});

describe("appliance hosts", () => {
    const base = () => ({
        name: "appl",
        hosts: [
            { name: "a", transport: "emulated" },
            { name: "r", transport: "emulated", roles: ["router"], appliance: { key: { config: "applianceKey" } } },
        ],
        links: [{ name: "l", subnet: "10.0.9.0/24", ends: [
            { host: "a", interface: "eth0", address: "10.0.9.2/24" }, { host: "r", interface: "eth1", address: "10.0.9.1/24" }] }],
    });

    it("a router appliance takes the router image and 256 MiB by default", () => {
        const v = validateDocument(base());
        assert.deepEqual(v.errors, []);
        assert.deepEqual(v.spec!.hosts[1].appliance, { image: "router", memoryMiB: 256, key: { config: "applianceKey" } });
    });

    it("an appliance runs on this machine, and not as a hypervisor", () => {
        const d: any = base();
        d.hosts.push({ name: "h", transport: "ssh", roles: ["hypervisor"], ssh: { address: "192.0.2.1", privateKey: { config: "k" } },
            appliance: { key: { config: "applianceKey" } } });
        const { errors } = validateDocument(d);
        assert.deepEqual(errors, [
            { pointer: "/hosts/2/appliance", reason: "an appliance runs on this machine: give the host transport 'emulated'" },
            { pointer: "/hosts/2/appliance", reason: "a hypervisor cannot run as an appliance (a router or a service can)" },
        ]);
    });

    it("stacks/local-wan.yaml: the local lab with its router as an appliance and the intra-eu profile", () => {
        const spec = loadSpec(path.join(__dirname, "..", "..", "stacks", "local-wan.yaml"));
        assert.equal(spec.hosts.find((h) => h.name === "router")!.appliance?.image, "router");
        assert.deepEqual(spec.wan, { router: "router", interfaces: ["eth1", "eth2"], profile: "intra-eu", mode: "per-interface" });
    });
});

describe("LAN links (three or more ends)", () => {
    const lan = (ends: { host: string; interface: string; address?: string }[]) => ({
        name: "lan",
        hosts: ["a", "b", "c"].map((name) => ({ name, transport: "emulated" })),
        links: [{ name: "switch", subnet: "10.50.0.0/24", ends }],
    });

    it("a segment joins three hosts, each with its address in the subnet", () => {
        const { spec, errors } = validateDocument(lan([
            { host: "a", interface: "eth0", address: "10.50.0.1/24" },
            { host: "b", interface: "eth0", address: "10.50.0.2/24" },
            { host: "c", interface: "eth0", address: "10.50.0.3/24" },
        ]));
        assert.deepEqual(errors, []);
        assert.equal(spec!.links[0].ends.length, 3);
    });

    it("a host with two ends on one LAN, and an end outside the subnet, are errors", () => {
        const { errors } = validateDocument(lan([
            { host: "a", interface: "eth0", address: "10.50.0.1/24" },
            { host: "b", interface: "eth0", address: "10.50.0.2/24" },
            { host: "a", interface: "eth1", address: "10.51.0.3/24" },
        ]));
        assert.deepEqual(errors, [
            { pointer: "/links/0/ends/2/address", reason: "10.51.0.3/24 is outside the link's subnet 10.50.0.0/24" },
            { pointer: "/links/0/ends", reason: "host 'a' has two ends on this LAN: give each host one end" },
        ]);
    });
});
