// The pmipv6 module on the model: stacks/local-pmipv6.yaml as shipped is valid, and each
// mistake the issue names is refused in words before anything is created: a VM without a
// MAC, two VMs with one prefix, a prefix that is not a /64, a MAG with no path to the LMA,
// a RADIUS client without a secret, an L2 path between two access links.
//
//   node --import tsx --test modules/pmipv6/pmipv6.test.ts
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { validateDocument } from "../../model/validate";
import { accessLinkLocal, magPath, mobileNodes } from "./model";
import { lmaConfig, magConfig } from "./config";

const stack = () => yaml.load(fs.readFileSync(path.join(__dirname, "..", "..", "stacks", "local-pmipv6.yaml"), "utf8")) as any;
const errorsOf = (d: any) => validateDocument(d).errors.map((e) => `${e.pointer}: ${e.reason}`);

describe("pmipv6 on the model", () => {
    it("accepts local-pmipv6 and derives the VM's SLAAC address, the MAGs' paths and the fixed link-local", () => {
        const { spec, errors } = validateDocument(stack());
        assert.deepEqual(errors, []);
        assert.equal(spec!.vms[0].interfaces[0].address6, "2001:db8:1:1:216:3eff:fe01:101");
        assert.equal(spec!.migration!.probe.address, "2001:db8:5::5");
        assert.deepEqual(mobileNodes(spec!).map((m) => m.userName), ["000000163e010101"]);
        assert.deepEqual(spec!.pmipv6!.mags.map((m) => magPath(spec!, m)).map((p) => [p.egress, p.lma]), [["2001:100:1::2", "2001:100:1::1"], ["2001:100:2::2", "2001:100:2::1"]]);
        assert.equal(accessLinkLocal(spec!.pmipv6!), "fe80::211:22ff:fe33:4455");
        // The daemons' configurations: no secret in them, only the files' paths.
        const radius = { host: "aaa", address: "2001:db8:a::10", port: 1812 };
        const lma = lmaConfig(spec!, "s", radius);
        assert.deepEqual(lma.mags.map((m) => [m.name, m.address, m.local, m.tunnel]), [["mag1", "2001:100:1::2", "2001:100:1::1", "pmip-mag1"], ["mag2", "2001:100:2::2", "2001:100:2::1", "pmip-mag2"]]);
        const mag = magConfig(spec!, "s", spec!.pmipv6!.mags[1], radius);
        assert.equal(mag.lmaAddress, "2001:100:2::1");
        assert.equal(mag.radius.server, "[2001:db8:a::10]:1812");
        assert.equal(mag.radius.secretFile, "/var/lib/wanlab/s/pmipd/radius-secret");
    });

    it("refuses a VM without a MAC", () => {
        const d = stack();
        delete d.vms[0].interfaces[0].mac;
        assert.deepEqual(errorsOf(d), ["/vms/0/interfaces/0: missing required property 'mac'"]);
    });

    it("refuses two VMs with one prefix, and a prefix that is not a /64", () => {
        const d = stack();
        d.vms.push({ ...d.vms[0], name: "vm2", interfaces: [{ bridge: "br-access", mac: "00:16:3e:01:01:02" }] });
        d.radius.users.push({ vm: "vm2", prefix: "2001:db8:1:1::/64" });
        assert.ok(errorsOf(d).some((e) => e.startsWith("/radius/users/3/prefix:") && /vm1/.test(e)), errorsOf(d).join("\n"));
        const e = stack();
        e.radius.users[0].prefix = "2001:db8:1::/48";
        assert.ok(errorsOf(e).some((x) => x.startsWith("/radius/users/0/prefix:") && /\/64/.test(x)), errorsOf(e).join("\n"));
    });

    it("refuses a MAG with no path to the LMA", () => {
        const d = stack();
        // mag2's egress segment without the LMA's end.
        d.links[1].ends = d.links[1].ends.filter((x: any) => x.host !== "lma");
        d.wan.interfaces = ["eth0", "eth2"];
        d.hosts.find((h: any) => h.name === "lma").ipv6.addresses.splice(1, 1);
        assert.ok(errorsOf(d).includes("/pmipv6/mags/1/egress: MAG 'mag2' has no path to the LMA 'lma': its egress link 'mag2-wan' has no end on the LMA 'lma' (the MAG registers with the LMA directly, as in seed 001)"), errorsOf(d).join("\n"));
        const e = stack();
        e.hosts.find((h: any) => h.name === "mag1").ipv6.addresses = [];
        e.hosts.find((h: any) => h.name === "mag1").ipv6.routes = [];
        assert.ok(errorsOf(e).includes("/pmipv6/mags/0/egress: MAG 'mag1' has no path to the LMA 'lma': its egress 'eth0' has no IPv6 address (hosts[].ipv6.addresses)"), errorsOf(e).join("\n"));
    });

    it("refuses a RADIUS client without a secret", () => {
        const d = stack();
        delete d.radius.clients[1].secret;
        assert.ok(errorsOf(d).some((e) => e.startsWith("/radius/clients/1") && /secret/.test(e)), errorsOf(d).join("\n"));
    });

    it("refuses an L2 path between two access links, which carry one MAC", () => {
        // A VXLAN between the two hypervisors' VM bridges joins the access links.
        const d = stack();
        d.tunnels = [{ name: "l2", type: "vxlan", vni: 9, endpoints: [
            { host: "host1", interface: "vx9", bridge: "br-access", local: "172.16.1.10", remotes: ["172.16.2.10"] },
            { host: "host2", interface: "vx9", bridge: "br-access", local: "172.16.2.10", remotes: ["172.16.1.10"] },
        ] }];
        assert.ok(errorsOf(d).includes("/pmipv6/mags/1/access: an L2 path joins the access links of MAG 'mag1' ('access-1') and MAG 'mag2' ('access-2') " +
            "(through bridges or VXLAN): both carry the MAC 00:11:22:33:44:55, so they must stay separate L2 domains"), errorsOf(d).join("\n"));
    });

    it("refuses a MAG or the LMA the RADIUS server does not know, and a probe host without a route to the prefix through the LMA", () => {
        const d = stack();
        d.radius.clients = d.radius.clients.filter((c: any) => c.host !== "lma");
        d.radius.users = d.radius.users.filter((u: any) => u.host !== "mag2");
        d.hosts.find((h: any) => h.name === "storage").ipv6.routes = [];
        const errs = errorsOf(d);
        for (const want of [
            "/pmipv6/lma/host: host 'lma' asks the RADIUS server but is not among radius.clients",
            "/pmipv6/mags/1/host: MAG 'mag2' is not among radius.users: the LMA accepts Proxy Binding Updates only from MAGs the AAA server knows",
            "/migration/probe/from: the probe host 'storage' has no IPv6 route to VM 'vm1''s prefix 2001:db8:1:1::/64 (hosts[].ipv6.routes)",
        ]) assert.ok(errs.includes(want), `${want}\nnot in:\n${errs.join("\n")}`);
    });
});
