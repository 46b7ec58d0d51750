// Validation that derives from the model what the built lab would need: a path there and
// back for every ping, probe, migration stream, disk and tunnel; frames that fit the MTU
// along the way; unicast MACs. Each case breaks the default lab (stacks/local.yaml) the
// way a user might and expects every line it gives, in words.
//
//   node --import tsx --test test/spec/reach.test.ts

import { after, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { loadSpec, validateDocument } from "../../model/validate";
import { composedSchema } from "../../model/schema";
import { SpecValidationError } from "../../model/types";

const ROOT = path.resolve(__dirname, "..", "..");
const local = () => yaml.load(fs.readFileSync(path.join(ROOT, "stacks", "local.yaml"), "utf8")) as any;

/** The default lab changed by edit: its errors as `pointer: reason` lines. */
function errorsOf(edit: (d: any) => void): string[] {
    const d = local();
    edit(d);
    return validateDocument(d).errors.map((e) => `${e.pointer}: ${e.reason}`);
}

describe("paths the lab needs, derived from the model", () => {
    it("the shipped default lab has every path, so it validates", () => {
        assert.deepEqual(errorsOf(() => {}), []);
    });

    it("the client without a route to the VM's subnet: the ping check and the probe at both ends", () => {
        assert.deepEqual(errorsOf((d) => { d.hosts[3].routes = d.hosts[3].routes.slice(0, 2); }), [
            "/checks/3/to: check 'client-to-vm': host 'storage' cannot reach 10.0.0.100: host 'storage' has no route to 10.0.0.100",
            "/migration/probe/from: the probe from host 'storage' cannot reach VM 'vm1' at 10.0.0.100 while it runs on host 'host1': host 'storage' has no route to 10.0.0.100",
            "/migration/probe/from: the probe from host 'storage' cannot reach VM 'vm1' at 10.0.0.100 while it runs on host 'host2': host 'storage' has no route to 10.0.0.100",
        ]);
    });

    it("the TCP probe's server at an address of the probe host that the VM cannot reach, or at another host's", () => {
        // storage's address on the host1 site's segment (it has none there) is not its own;
        // the router's address is the router's.
        assert.deepEqual(errorsOf((d) => { d.migration.probe.address = "192.168.5.1"; }), [
            "/migration/probe/address: 192.168.5.1 is host 'router''s address, not one of host 'storage' (the probe host, where the TCP probe's server listens)",
        ]);
        // A second address of storage's, on a segment the router does not route to.
        assert.deepEqual(errorsOf((d) => {
            d.bridges.push({ name: "br9", host: "storage", type: "linux", address: "172.16.9.5/24" });
            d.migration.probe.address = "172.16.9.5";
        }), [
            "/migration/probe/from: VM 'vm1' cannot reach its TCP probe's server on host 'storage' at 172.16.9.5 while it runs on host 'host1': host 'router' has no route to 172.16.9.5",
            "/migration/probe/from: VM 'vm1' cannot reach its TCP probe's server on host 'storage' at 172.16.9.5 while it runs on host 'host2': host 'router' has no route to 172.16.9.5",
        ]);
    });

    it("a destination hypervisor without a route back: the migration both ways, named by direction", () => {
        assert.deepEqual(errorsOf((d) => { d.hosts[1].routes = d.hosts[1].routes.slice(1); }), [
            "/checks/0/to: check 'host1-to-host2': host 'host1' cannot reach 192.168.2.10: the reply cannot come back to 192.168.1.10: host 'host2' has no route to 192.168.1.10",
            "/migration/to: the migration forward cannot go from host 'host1' to host 'host2' at 192.168.2.10: the reply cannot come back to 192.168.1.10: host 'host2' has no route to 192.168.1.10",
            "/migration/from: the migration back cannot go from host 'host2' to host 'host1' at 192.168.1.10: host 'host2' has no route to 192.168.1.10",
        ]);
    });

    it("a destination hypervisor that cannot reach the VM's storage", () => {
        assert.deepEqual(errorsOf((d) => { d.hosts[1].routes = [{ to: "192.168.1.0/24", via: "192.168.2.1" }]; }), [
            "/vms/0/disk/storage: host 'host2', where VM 'vm1' may run, cannot reach storage 'shared' at 192.168.5.5: host 'host2' has no route to 192.168.5.5",
            "/checks/2/to: check 'client-to-host2': host 'storage' cannot reach 192.168.2.10: the reply cannot come back to 192.168.5.5: host 'host2' has no route to 192.168.5.5",
        ]);
    });

    it("a destination hypervisor whose address the iSCSI target does not let in", () => {
        assert.deepEqual(errorsOf((d) => { d.storage[0].initiators = ["192.168.1.0/24"]; }), [
            "/vms/0/disk/storage: host 'host2', where VM 'vm1' may run, reaches storage 'shared' from 192.168.2.10, which none of its initiators (192.168.1.0/24) lets in: add a prefix that holds 192.168.2.10",
        ]);
    });

    it("a router that does not forward: every path through it says so", () => {
        const lines = errorsOf((d) => { d.hosts[2].forwarding = false; delete d.wan; });
        assert.equal(lines.length, 10, lines.join("\n"));
        assert.ok(lines.includes("/checks/0/to: check 'host1-to-host2': host 'host1' cannot reach 192.168.2.10: " +
            "host 'router' would have to forward it and does not forward IPv4 (give it the role router, or forwarding: true)"), lines.join("\n"));
        assert.ok(lines.every((l) => l.endsWith("host 'router' would have to forward it and does not forward IPv4 (give it the role router, or forwarding: true)")), lines.join("\n"));
    });

    it("a VM gateway that no host on its segment has", () => {
        assert.deepEqual(errorsOf((d) => { d.vms[0].interfaces[0].gateway = "10.0.0.2"; }), [
            "/checks/3/to: check 'client-to-vm': host 'storage' cannot reach 10.0.0.100: the reply cannot come back to 192.168.5.5: nothing on the segment of 10.0.0.100/24 (at VM 'vm1' on host 'host1') has the next hop 10.0.0.2",
            "/migration/probe/from: the probe from host 'storage' cannot reach VM 'vm1' at 10.0.0.100 while it runs on host 'host1': the reply cannot come back to 192.168.5.5: nothing on the segment of 10.0.0.100/24 (at VM 'vm1' on host 'host1') has the next hop 10.0.0.2",
            "/migration/probe/from: the probe from host 'storage' cannot reach VM 'vm1' at 10.0.0.100 while it runs on host 'host2': the reply cannot come back to 192.168.5.5: nothing on the segment of 10.0.0.100/24 (at VM 'vm1' on host 'host2') has the next hop 10.0.0.2",
        ]);
    });

    it("routes that loop", () => {
        assert.deepEqual(errorsOf((d) => {
            d.hosts[3].routes.push({ to: "10.9.0.0/24", via: "192.168.5.1" });
            d.hosts[2].routes = [{ to: "10.9.0.0/24", via: "192.168.1.10" }];
            d.hosts[0].forwarding = true;
            d.hosts[0].routes.push({ to: "10.9.0.0/24", via: "192.168.1.1" });
            d.checks.push({ name: "nowhere", from: "storage", to: "10.9.0.1" });
        }), [
            "/checks/4/to: check 'nowhere': host 'storage' cannot reach 10.9.0.1: the routes loop: host 'storage' -> host 'router' -> host 'host1' -> host 'router'",
        ]);
    });
});

describe("MTU along each path, from its encapsulations", () => {
    it("an underlay link too small for VXLAN's 50 bytes on the tunnel's frames", () => {
        assert.deepEqual(errorsOf((d) => { d.links[0].mtu = 1400; }), [
            "/tunnels/0/endpoints/0/remotes/0: the underlay from host 'host1' to 192.168.1.1 carries packets of at most 1400 bytes, and VXLAN adds 50 to each frame of the tunnel's mtu 1450: give the tunnel an mtu of at most 1350, or the links on the way an mtu of at least 1500",
            "/tunnels/0/endpoints/2/remotes/0: the underlay from host 'router' to 192.168.1.10 carries packets of at most 1400 bytes, and VXLAN adds 50 to each frame of the tunnel's mtu 1450: give the tunnel an mtu of at most 1350, or the links on the way an mtu of at least 1500",
        ]);
    });

    it("... and a tunnel mtu lowered to fit is accepted", () => {
        assert.deepEqual(errorsOf((d) => { d.links[0].mtu = 1400; d.tunnels[0].mtu = 1350; d.vms[0].interfaces[0].mtu = 1350; }), []);
    });

    it("a VM interface larger than the overlay carries, on each host it may run on", () => {
        assert.deepEqual(errorsOf((d) => { d.vms[0].interfaces[0].mtu = 1500; }), [
            "/vms/0/interfaces/0/mtu: mtu 1500 does not fit bridge 'br1' on host 'host1', whose segment carries at most 1450 bytes (the smallest mtu of its links and tunnels): give the interface an mtu of at most 1450",
            "/vms/0/interfaces/0/mtu: mtu 1500 does not fit bridge 'br1' on host 'host2', whose segment carries at most 1450 bytes (the smallest mtu of its links and tunnels): give the interface an mtu of at most 1450",
        ]);
    });
});

describe("MACs", () => {
    it("a multicast MAC and an all-zero MAC are refused", () => {
        assert.deepEqual(errorsOf((d) => { d.vms[0].interfaces[0].mac = "01:00:5e:00:00:01"; }), [
            "/vms/0/interfaces/0/mac: MAC 01:00:5e:00:00:01 is a multicast address (the lowest bit of its first byte is set): give the VM a unicast MAC, such as 52:54:00:xx:xx:xx",
        ]);
        assert.deepEqual(errorsOf((d) => { d.vms[0].interfaces[0].mac = "00:00:00:00:00:00"; }), [
            "/vms/0/interfaces/0/mac: MAC 00:00:00:00:00:00 is all zeros: give the VM a unicast MAC, such as 52:54:00:xx:xx:xx",
        ]);
    });
});

describe("messages in words", () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "wanlab-spec-"));
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));
    const fileErrors = (text: string) => {
        const file = path.join(tmp, "stack.yaml");
        fs.writeFileSync(file, text);
        try {
            loadSpec(file);
        } catch (e) {
            if (e instanceof SpecValidationError) return e.message.split("\n").map((l) => l.slice(file.length + 2));
            throw e;
        }
        return [];
    };

    it("an empty file, a list and a single value say what a stack file is", () => {
        const want = "a stack file is a YAML mapping of sections, with at least 'name', 'hosts'";
        assert.deepEqual(fileErrors(""), [`/: the file is empty: ${want}`]);
        assert.deepEqual(fileErrors("# nothing yet\n"), [`/: the file is empty: ${want}`]);
        assert.deepEqual(fileErrors("- a\n"), [`/: the file holds a list: ${want}`]);
        assert.deepEqual(fileErrors("42\n"), [`/: the file holds a single number (42): ${want}`]);
    });

    it("a bad NetEm parameter is one line at the parameter, not three", () => {
        assert.deepEqual(errorsOf((d) => { d.wan.profile = { delayMs: -5 }; }), ["/wan/profile/delayMs: -5 is too small: must be at least 0"]);
        assert.deepEqual(errorsOf((d) => { d.wan.profile = { delayMs: 5, jitter: 1 }; }).length, 1);
        assert.deepEqual(errorsOf((d) => { d.wan.profile = "lunar"; }), [
            '/wan/profile: "lunar" is not valid: must be one of "campus", "intra-eu", "trans-atlantic", "trans-pacific", ' +
            "or NetEm parameters (tc-netem): delay, jitter, distribution, correlation, loss, duplication, corruption, reordering, rate",
        ]);
    });

    it("types and limits in words", () => {
        assert.deepEqual(errorsOf((d) => { d.vms[0].memoryMiB = "lots"; d.links[0].ends = [d.links[0].ends[0]]; }), [
            "/links/0/ends: needs at least 2 items",
            '/vms/0/memoryMiB: must be a whole number, not string "lots"',
        ]);
    });

    it("every pattern and format in the composed schema has a description to say it in words", () => {
        const bare: string[] = [];
        const walk = (o: any, p: string) => {
            if (!o || typeof o !== "object") return;
            if ((typeof o.pattern === "string" || typeof o.format === "string") && !o.description) bare.push(p);
            for (const [k, v] of Object.entries(o)) walk(v, `${p}/${k}`);
        };
        walk(composedSchema(), "");
        assert.deepEqual(bare, []);
    });
});

describe("size", () => {
    it("a stack file of 4,000 well-formed links on 4,001 routers validates (every check is a map lookup or a sort)", () => {
        const hosts = Array.from({ length: 4001 }, (_, i) => ({ name: `h${i}`, transport: "emulated", roles: ["router"] }));
        const links = Array.from({ length: 4000 }, (_, i) => {
            const net = `10.${i >> 14}.${(i >> 6) & 255}.${(i & 63) * 4}`;
            const [a, b, c, d] = net.split(".").map(Number);
            return { name: `l${i}`, subnet: `${net}/30`, ends: [
                { host: `h${i}`, interface: `e${i % 2}a`, address: `${a}.${b}.${c}.${d + 1}/30` },
                { host: `h${i + 1}`, interface: `e${i % 2}b`, address: `${a}.${b}.${c}.${d + 2}/30` },
            ] };
        });
        const { errors, spec } = validateDocument({ name: "big", hosts, links, checks: [{ from: "h0", to: "10.0.0.2" }] });
        assert.deepEqual(errors, []);
        assert.equal(spec!.links.length, 4000);
    });
});
