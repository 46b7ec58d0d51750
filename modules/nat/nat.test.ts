// The NAT module on the model: seed 003's NAT mode (§1.3), two hypervisors on their own
// /29s behind a router, each with libvirt's default network (virbr0 192.168.122.1/24, one
// gateway MAC), the college proxy beyond the router. The words for each mistake, the
// paths a masqueraded VM has (out, and the replies back through its host's connection
// tracking) and has not (in, to its private address), and the ruleset.
//
//   node --import tsx --test modules/nat/nat.test.ts
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { validateDocument } from "../../model/validate";
import { CheckContext } from "../../model/context";
import { coreErrors } from "../../model/checks";
import { modules } from "../../model/modules";
import { hostNode, Network } from "../../model/network";
import { requirementsFor } from "../../model/platforms";
import { vmNode, withVmOn } from "../libvirt/model";
import { natRuleset } from "./build";

const MAC = "52:54:00:7a:00:01";

/** Seed 003's NAT scenario: node A and node B on their /29s, the router (also the storage) and the proxy. */
function lab(): any {
    return {
        name: "nat",
        hosts: [
            { name: "host1", transport: "emulated", roles: ["hypervisor"], routes: [{ to: "172.31.100.0/24", via: "10.10.10.1" }, { to: "10.10.10.8/29", via: "10.10.10.1" }] },
            { name: "host2", transport: "emulated", roles: ["hypervisor"], routes: [{ to: "172.31.100.0/24", via: "10.10.10.9" }, { to: "10.10.10.0/29", via: "10.10.10.9" }] },
            { name: "router", transport: "emulated", roles: ["router", "storage"] },
            { name: "proxy", transport: "emulated", roles: ["client"], routes: [{ to: "10.10.10.0/28", via: "172.31.100.1" }] },
        ],
        links: [
            { name: "net1", subnet: "10.10.10.0/29", ends: [{ host: "host1", interface: "eth0", address: "10.10.10.2/29" }, { host: "router", interface: "eth1", address: "10.10.10.1/29" }] },
            { name: "net2", subnet: "10.10.10.8/29", ends: [{ host: "host2", interface: "eth0", address: "10.10.10.10/29" }, { host: "router", interface: "eth2", address: "10.10.10.9/29" }] },
            { name: "campus", subnet: "172.31.100.0/24", ends: [{ host: "router", interface: "eth3", address: "172.31.100.1/24" }, { host: "proxy", interface: "eth0", address: "172.31.100.14/24" }] },
        ],
        // The same private subnet, gateway address and gateway MAC on both hypervisors.
        bridges: [
            { name: "virbr0", host: "host1", type: "linux", address: "192.168.122.1/24", mac: MAC },
            { name: "virbr0", host: "host2", type: "linux", address: "192.168.122.1/24", mac: MAC },
        ],
        nat: [
            { host: "host1", inside: "virbr0", outside: "eth0" },
            { host: "host2", inside: "virbr0", outside: "eth0" },
        ],
        storage: [{ name: "shared", host: "router", type: "iscsi", portal: "10.10.10.1", iqn: "iqn.2018-05.in.mnnit:shared", sizeMiB: 64 }],
        vms: [
            { name: "vm1", host: "host1", memoryMiB: 256, disk: { storage: "shared" }, interfaces: [{ bridge: "virbr0", mac: "52:54:00:00:01:01", address: "192.168.122.10/24", gateway: "192.168.122.1" }] },
            { name: "vm2", host: "host1", memoryMiB: 256, disk: { storage: "shared" }, interfaces: [{ bridge: "virbr0", mac: "52:54:00:00:01:02", address: "192.168.122.11/24", gateway: "192.168.122.1" }] },
            // VM3 on node B: another VM, the same private subnet.
            { name: "vm3", host: "host2", memoryMiB: 256, disk: { storage: "shared" }, interfaces: [{ bridge: "virbr0", mac: "52:54:00:00:02:01", address: "192.168.122.12/24", gateway: "192.168.122.1" }] },
        ],
        checks: [{ name: "host1-to-proxy", from: "host1", to: "172.31.100.14" }],
    };
}

const errorsOf = (d: any) => validateDocument(d).errors.map((e) => `${e.pointer}: ${e.reason}`);
const edited = (edit: (d: any) => void) => { const d = lab(); edit(d); return errorsOf(d); };

/** The network the checks build for a valid stack file, to ask it about paths. */
function network(d: any) {
    const { spec, errors } = validateDocument(d);
    assert.deepEqual(errors, []);
    const ctx = new CheckContext(spec!);
    coreErrors(spec!, ctx);
    for (const m of modules()) m.check?.(spec!, ctx);
    ctx.settle();
    assert.deepEqual(ctx.errors, []);
    return { spec: spec!, net: ctx.net };
}

describe("nat: seed 003's NAT mode on the model", () => {
    it("validates: two hypervisors with the same private subnet, gateway address and gateway MAC; a NAT host forwards", () => {
        const { spec, errors } = validateDocument(lab());
        assert.deepEqual(errors, []);
        assert.equal(spec!.hosts[0].forwarding, true);
        assert.deepEqual(requirementsFor(spec!, spec!.hosts[0]).binaries.filter((b) => ["nft", "sysctl"].includes(b)), ["nft", "sysctl"]);
        assert.ok(requirementsFor(spec!, spec!.hosts[0]).kernel.includes("nft-nat"));
    });

    it("a VM reaches the proxy with its host's address as its source, and the reply comes back through the host's NAT", () => {
        const { net } = network(lab());
        const out = net.roundTrip(vmNode("vm1", "host1"), "172.31.100.14");
        assert.ok(out.ok, !out.ok ? out.reason : "");
        assert.equal(out.source, "10.10.10.2");
        assert.deepEqual(out.hops, ["VM 'vm1' on host 'host1'", "host 'host1'", "host 'router'", "host 'proxy'"]);
        assert.deepEqual(out.nat, [{ node: "host 'host1'", from: "192.168.122.10", to: "10.10.10.2" }]);
        // Node B's VM leaves with node B's address.
        const b = net.roundTrip(vmNode("vm3", "host2"), "172.31.100.14");
        assert.ok(b.ok && b.source === "10.10.10.10");
        // The host itself is not translated (its own address), nor is traffic between its VMs.
        const own = net.path(hostNode("host1"), "172.31.100.14");
        assert.ok(own.ok && own.nat.length === 0 && own.source === "10.10.10.2");
        const peer = net.roundTrip(vmNode("vm1", "host1"), "192.168.122.11");
        assert.ok(peer.ok && peer.nat.length === 0 && peer.source === "192.168.122.10");
    });

    it("the proxy cannot reach a VM's private address (no route), nor can the other hypervisor", () => {
        const { net } = network(lab());
        const back = net.roundTrip(hostNode("proxy"), "192.168.122.10");
        assert.deepEqual(back, { ok: false, reason: "host 'proxy' has no route to 192.168.122.10" });
        // host2 has the subnet itself: 192.168.122.10 would be a VM of its own, and there is none.
        const h2 = net.roundTrip(hostNode("host2"), "192.168.122.10");
        assert.ok(!h2.ok && /nothing on the segment of 192\.168\.122\.1\/24 \(at host 'host2'\) has the address 192\.168\.122\.10/.test(h2.reason), !h2.ok ? h2.reason : "");
    });

    it("after a migration the VM keeps its address behind the other host's NAT: its packets leave with node B's address", () => {
        const { spec, net } = network(lab());
        const vm1 = spec.vms[0];
        const after = withVmOn(net, vm1, "host2", () => net.roundTrip(vmNode("vm1", "host2"), "172.31.100.14"));
        assert.ok(after.ok && after.source === "10.10.10.10", JSON.stringify(after));
        // ... and host1's address no longer leads to it: its reply ends at host1.
        const lost = withVmOn(net, vm1, "host2", () => net.roundTrip(hostNode("host1"), "192.168.122.10"));
        assert.ok(!lost.ok);
    });

    it("the Network alone: a NAT that masquerades a prefix it has no route back to loses the replies, and says where", () => {
        // x (192.168.50.5) -> r -> n (masquerades 192.168.50.0/24 out of segment c) -> t.
        const net = new Network();
        const [x, r, n, t] = ["x", "r", "n", "t"].map(hostNode);
        net.address(x, "192.168.50.5/24", "a"); net.route(x, "0.0.0.0/0", "192.168.50.1");
        net.address(r, "192.168.50.1/24", "a"); net.address(r, "10.0.0.2/24", "b"); net.route(r, "0.0.0.0/0", "10.0.0.1"); net.forwarding(r, true);
        net.address(n, "10.0.0.1/24", "b"); net.address(n, "172.16.0.1/24", "c"); net.forwarding(n, true);
        net.address(t, "172.16.0.2/24", "c");
        assert.deepEqual(net.roundTrip(x, "172.16.0.2"), { ok: false, reason: "the reply cannot come back to 192.168.50.5: host 't' has no route to 192.168.50.5" });
        net.masquerade(n, "192.168.50.0/24", "c");
        const there = net.path(x, "172.16.0.2");
        assert.ok(there.ok && there.source === "172.16.0.1");
        assert.deepEqual(net.roundTrip(x, "172.16.0.2"), {
            ok: false, reason: "the reply cannot come back to 192.168.50.5 from host 'n', which rewrote its source to 172.16.0.1: host 'n' has no route to 192.168.50.5",
        });
        net.route(n, "192.168.50.0/24", "10.0.0.2");
        const both = net.roundTrip(x, "172.16.0.2");
        assert.ok(both.ok && both.source === "172.16.0.1" && both.nat.length === 1, JSON.stringify(both));
    });

    it("a VM migrating between the NAT hosts: its address is claimed on both, so another VM on host2 cannot have it", () => {
        const migrating = (d: any) => { d.migration = { vm: "vm1", from: "host1", to: "host2", probe: { from: "proxy" } }; };
        // The migration's probe (from the proxy to the VM) cannot reach a NAT'd VM: that is the migration module's word,
        // and no address clashes (192.168.122.1 and .10 on both hosts are private).
        const ok = edited(migrating);
        assert.ok(ok.length > 0 && ok.every((e) => e.startsWith("/migration/probe/from: ")), ok.join("\n"));
        assert.deepEqual(edited((d) => { migrating(d); d.vms[2].interfaces[0].address = "192.168.122.10/24"; }), [
            "/vms/2/interfaces/0/address: address 192.168.122.10 is already used on host 'host2' (at /vms/0/interfaces/0/address)",
        ]);
        // Without a migration, VMs on different hosts may share a private address.
        assert.deepEqual(edited((d) => { d.vms[2].interfaces[0].address = "192.168.122.10/24"; }), []);
    });

    it("the gateways of a migrating VM must share one MAC", () => {
        const migrating = (d: any) => { d.migration = { vm: "vm1", from: "host1", to: "host2", probe: { from: "proxy" } }; };
        assert.deepEqual(edited((d) => { migrating(d); delete d.bridges[1].mac; }).filter((e) => e.startsWith("/bridges")), [
            "/bridges/1: VM 'vm1' moves from host 'host1' to host 'host2', whose NAT gateways on bridge 'virbr0' are both 192.168.122.1: " +
            "give both bridges one mac (52:54:00:7a:00:01, as on host 'host1'), so that the guest's ARP entry for its gateway stays valid after the move",
        ]);
        assert.deepEqual(edited((d) => { migrating(d); d.bridges[1].mac = "52:54:00:7a:00:02"; }).filter((e) => e.startsWith("/bridges")), [
            "/bridges/1/mac: VM 'vm1' moves from host 'host1' to host 'host2', whose NAT gateways on bridge 'virbr0' are both 192.168.122.1: " +
            "give both bridges one mac (52:54:00:7a:00:01, as on host 'host1'), so that the guest's ARP entry for its gateway stays valid after the move",
        ]);
    });
});

describe("nat: the words for each mistake", () => {
    it("NAT on a host that is not a hypervisor", () => {
        assert.deepEqual(edited((d) => { d.nat[0].host = "router"; d.bridges[0].host = "router"; d.vms = d.vms.slice(2); d.checks = []; }), [
            "/nat/0/host: host 'router' is not a hypervisor: NAT puts a hypervisor's VMs behind its address; give the host the role hypervisor, or route to the host instead",
            "/nat/0/outside: no interface or bridge 'eth0' on host 'router'",
        ]);
    });

    it("an unknown host", () => {
        // host1's virbr0 is then no NAT's inside: its gateway address is host2's too.
        assert.deepEqual(edited((d) => { d.nat[0].host = "host9"; }), [
            "/bridges/1/address: address 192.168.122.1 is already used (at /bridges/0/address)",
            "/nat/0/host: unknown host 'host9'",
        ]);
    });

    it("two NATs on one host", () => {
        assert.deepEqual(edited((d) => { d.nat.push({ host: "host1", inside: "virbr0", outside: "eth0" }); }), [
            "/nat/2/host: a second NAT on host 'host1' (the first is /nat/0): a host has one NAT, for the VMs on one inside bridge",
        ]);
    });

    it("an inside that is no bridge of the host's, or has no address (the gateway)", () => {
        assert.deepEqual(edited((d) => { d.nat[0].inside = "virbr1"; }), [
            "/bridges/1/address: address 192.168.122.1 is already used (at /bridges/0/address)",
            "/nat/0/inside: no bridge 'virbr1' on host 'host1': the inside is a bridge that holds the VMs and, as its address, their gateway",
        ]);
        const lines = edited((d) => { delete d.bridges[0].address; });
        assert.equal(lines[0], "/nat/0/inside: bridge 'virbr0' on host 'host1' has no address: give it the VMs' gateway, such as 192.168.122.1/24 (libvirt's default network)");
    });

    it("an outside that does not exist, has no address, or is a bridge's port; the inside as the outside", () => {
        assert.deepEqual(edited((d) => { d.nat[0].outside = "eth9"; }), ["/nat/0/outside: no interface or bridge 'eth9' on host 'host1'"]);
        assert.deepEqual(edited((d) => { d.bridges.push({ name: "br0", host: "host1", type: "linux" }); d.nat[0].outside = "br0"; }), [
            "/nat/0/outside: bridge 'br0' on host 'host1' has no address: the VMs' packets leave with the outside's address as their source",
        ]);
        assert.deepEqual(edited((d) => {
            d.links[0].ends[0] = { host: "host1", interface: "eth0", bridge: "br0" };
            d.bridges.push({ name: "br0", host: "host1", type: "linux", address: "10.10.10.2/29" });
        }), [
            "/nat/0/outside: interface 'eth0' on host 'host1' is a port of bridge 'br0': name the bridge as the outside (its address is the host's)",
        ]);
        assert.deepEqual(edited((d) => { d.nat[0].outside = "virbr0"; }), [
            "/nat/0/outside: the inside and the outside are one bridge 'virbr0': the VMs' packets leave by another interface of the host's",
        ]);
    });

    it("the outside may be the bridge that carries the host's address (br0 with eth0 in it)", () => {
        const { net } = network((() => {
            const d = lab();
            d.links[0].ends[0] = { host: "host1", interface: "eth0", bridge: "br0" };
            d.bridges.push({ name: "br0", host: "host1", type: "linux", address: "10.10.10.2/29" });
            d.nat[0].outside = "br0";
            return d;
        })());
        const out = net.roundTrip(vmNode("vm1", "host1"), "172.31.100.14");
        assert.ok(out.ok && out.source === "10.10.10.2", JSON.stringify(out));
    });

    it("a NAT host with forwarding: false", () => {
        assert.deepEqual(edited((d) => { d.hosts[0].forwarding = false; }), [
            "/hosts/0/forwarding: host 'host1' does NAT (/nat/0): it forwards its VMs' packets, so it cannot have forwarding: false (a NAT host forwards by default)",
        ]);
    });

    it("without NAT the same gateway address on two hosts is a clash, as before", () => {
        assert.deepEqual(edited((d) => { d.nat = []; d.checks = []; }), [
            "/bridges/1/address: address 192.168.122.1 is already used (at /bridges/0/address)",
        ]);
        // Only the host that does NAT has a private bridge.
        assert.deepEqual(edited((d) => { d.nat = d.nat.slice(0, 1); d.checks = []; }), [
            "/bridges/1/address: address 192.168.122.1 is already used (at /bridges/0/address)",
        ]);
        // On one host, a private address is still given once.
        assert.deepEqual(edited((d) => { d.bridges.push({ name: "virbr1", host: "host1", type: "linux", address: "192.168.122.1/24" }); }), [
            "/bridges/2/address: address 192.168.122.1 is already used (at /bridges/0/address)",
        ]);
        // And a lab-wide address is lab-wide: a link may not take a private one.
        assert.deepEqual(edited((d) => { d.links[2].ends[1].address = "172.31.100.14/24"; d.bridges[1].address = "172.31.100.14/24"; d.nat = d.nat.slice(0, 1); }), [
            "/bridges/1/address: address 172.31.100.14 is already used (at /links/2/ends/1/address)",
        ]);
    });

    it("a clash that waits for the NATs' word keeps its place among the other errors", () => {
        const lines = edited((d) => { d.nat = []; d.hosts[0].site = "nowhere"; d.vms[0].interfaces[0].mac = "01:00:5e:00:00:01"; });
        assert.deepEqual(lines.slice(0, 3), [
            "/hosts/0/site: unknown site 'nowhere'",
            "/bridges/1/address: address 192.168.122.1 is already used (at /bridges/0/address)",
            "/vms/0/interfaces/0/mac: MAC 01:00:5e:00:00:01 is a multicast address (the lowest bit of its first byte is set): give the VM a unicast MAC, such as 52:54:00:xx:xx:xx",
        ]);
    });

    it("a private inside joined to another host's segment", () => {
        assert.deepEqual(edited((d) => {
            d.links.push({ name: "leak", subnet: "192.168.122.0/24", ends: [{ host: "host1", interface: "eth5", bridge: "virbr0" }, { host: "proxy", interface: "eth5", address: "192.168.122.5/24" }] });
        }), [
            "/nat/0/inside: bridge 'virbr0' on host 'host1' is one segment with host 'proxy''s 192.168.122.5/24 (a link or a tunnel joins them): " +
            "a NAT's inside holds its host and its VMs only, so that every hypervisor can have the same private subnet",
        ]);
    });
});

describe("the bridge's mac", () => {
    it("must be unicast, on a Linux bridge, and not a VM's", () => {
        assert.deepEqual(edited((d) => { d.bridges[0].mac = "01:00:5e:00:00:01"; d.bridges[1].mac = "00:00:00:00:00:00"; }).filter((e) => e.startsWith("/bridges")), [
            "/bridges/0/mac: MAC 01:00:5e:00:00:01 is a multicast address (the lowest bit of its first byte is set): give the bridge a unicast MAC, such as 52:54:00:xx:xx:xx",
            "/bridges/1/mac: MAC 00:00:00:00:00:00 is all zeros: give the bridge a unicast MAC, such as 52:54:00:xx:xx:xx",
        ]);
        assert.deepEqual(edited((d) => { d.bridges[1].type = "ovs"; }).filter((e) => e.startsWith("/bridges")), [
            "/bridges/1/mac: bridge 'virbr0' is an Open vSwitch bridge: a mac is set on Linux bridges only (type: linux)",
        ]);
        assert.deepEqual(edited((d) => { d.vms[1].interfaces[0].mac = MAC; }), [
            "/vms/1/interfaces/0/mac: MAC 52:54:00:7a:00:01 is a bridge's (at /bridges/0/mac): give the VM a MAC of its own",
        ]);
    });
});

describe("the NAT host's ruleset", () => {
    it("masquerades the inside's subnet out of the outside, in one table replaced whole, with the ruleset's digest", () => {
        const { spec } = validateDocument(lab());
        const { text, digest } = natRuleset(spec!, spec!.nat[0]);
        assert.match(digest, /^wanlab [0-9a-f]{16}$/);
        const rules = text.split("\n").filter((l) => !l.startsWith("#")).join("\n");
        assert.equal(rules, [
            "table ip wanlab_nat",
            "delete table ip wanlab_nat",
            "table ip wanlab_nat {",
            `  comment "${digest}"`,
            "  chain postrouting {",
            "    type nat hook postrouting priority srcnat; policy accept;",
            '    ip saddr 192.168.122.0/24 ip daddr != 192.168.122.0/24 oifname "eth0" counter masquerade',
            "  }",
            "}",
            "",
        ].join("\n"));
        // Node B's rules are node A's (one subnet, one outside name); another outside is another ruleset, with another digest.
        const b = natRuleset(spec!, spec!.nat[1]);
        assert.equal(b.text.split("\n").filter((l) => !l.startsWith("#")).join("\n"), rules.replace(digest, b.digest));
        const other = natRuleset(spec!, { ...spec!.nat[0], outside: "br0" });
        assert.notEqual(other.digest, digest);
        assert.match(other.text, /oifname "br0" counter masquerade/);
    });
});
