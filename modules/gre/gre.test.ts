// The GRE module on the model: seed 000 scenario 2's Tunnel1 between two PEs, and the words
// for each way a tunnel cannot work (ends that do not match, a source the router lacks,
// recursive routing, no room for GRE's 24 bytes), before anything is built.
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { validateDocument } from "../../model/validate";
import { CheckContext } from "../../model/context";
import { coreErrors } from "../../model/checks";
import { modules } from "../../model/modules";
import { hostNode } from "../../model/network";
import { greOverhead } from "./model";

const ROOT = path.resolve(__dirname, "..", "..");
const gre = () => yaml.load(fs.readFileSync(path.join(ROOT, "stacks", "local-gre.yaml"), "utf8")) as any;
const errorsOf = (d: any) => validateDocument(d).errors.map((e) => `${e.pointer}: ${e.reason}`);
const host = (d: any, name: string) => d.hosts.find((h: any) => h.name === name);

/** The network the checks build for a valid stack file, to ask it about paths. */
function network(d: any) {
    const { spec, errors } = validateDocument(d);
    assert.deepEqual(errors, []);
    const ctx = new CheckContext(spec!);
    coreErrors(spec!, ctx);
    for (const m of modules()) m.check?.(spec!, ctx);
    return ctx.net;
}

describe("gre", () => {
    it("local-gre: host-to-host traffic crosses Tunnel1 (RIP's routes), storage does not, and the tunnel's end points ride the WAN", () => {
        const net = network(gre());
        const h2h = net.path(hostNode("host1"), "192.168.2.10");
        assert.ok(h2h.ok);
        assert.deepEqual(h2h.hops, ["host 'host1'", "host 'pe1'", "host 'pe2'", "host 'host2'"]);
        assert.ok(h2h.segments.includes("gre:tunnel1"));
        // GRE's 24 bytes come off the hosts' 1500.
        assert.equal(h2h.mtu, 1476);
        const iscsi = net.path(hostNode("host1"), "192.168.5.5");
        assert.ok(iscsi.ok && !iscsi.segments.includes("gre:tunnel1"), "storage goes pe1 - router, not through the tunnel");
        const underlay = net.path(hostNode("pe1"), "10.0.0.2");
        assert.ok(underlay.ok);
        assert.deepEqual(underlay.hops, ["host 'pe1'", "host 'router'", "host 'pe2'"]);
        assert.equal(greOverhead({}), 24);
        assert.equal(greOverhead({ key: 7 }), 28);
    });

    it("without RIP on pe2 the far site is unknown to pe1, and the check says where the path stops", () => {
        const d = gre();
        delete host(d, "pe2").rip;
        assert.deepEqual(errorsOf(d).filter((e) => e.startsWith("/checks/0")), [
            "/checks/0/to: check 'host1-to-host2': host 'host1' cannot reach 192.168.2.10: host 'pe1' has no route to 192.168.2.10",
        ]);
    });

    it("ends that do not match, a source the router lacks, an address off the tunnel's subnet", () => {
        const d = gre();
        const [a, b] = d.tunnels[0].endpoints;
        b.destination = "10.0.0.9";
        b.address = "10.1.2.2/24";
        assert.deepEqual(errorsOf(d).filter((x) => x.startsWith("/tunnels")), [
            "/tunnels/0/endpoints/1/address: 10.1.2.2/24 is not on the tunnel's subnet 10.1.1.0/24 (the other end has 10.1.1.1/24)",
            "/tunnels/0/endpoints/1/destination: 10.0.0.9 is not the other end's source 10.0.0.1 (host 'pe1'): the two ends would not match each other's packets",
        ]);
        const e = gre();
        delete host(e, "pe1").loopback;
        assert.deepEqual(errorsOf(e).filter((x) => x.startsWith("/tunnels")), [
            "/tunnels/0/endpoints/0/source: 10.0.0.1 is not an address of host 'pe1': give it a loopback (loopback: 10.0.0.1/32) or an interface with it",
            // The router still sends 10.0.0.1 to pe1, which no longer has it.
            "/tunnels/0/endpoints/1/destination: host 'pe2' cannot reach the tunnel's destination 10.0.0.1 over the underlay: host 'pe1' has no route to 10.0.0.1",
        ]);
        void a;
    });

    it("recursive routing (000.md A5): without the static /32, RIP would carry the far end point over the tunnel itself", () => {
        const d = gre();
        // pe1 loses its route to 10.0.0.2 over the WAN; pe2 puts its loopback into RIP.
        host(d, "pe1").routes = host(d, "pe1").routes.filter((r: any) => r.to !== "10.0.0.2/32");
        host(d, "pe2").rip.networks.push("10.0.0.2/32");
        assert.deepEqual(errorsOf(d).filter((x) => x.startsWith("/tunnels")), [
            "/tunnels/0/endpoints/0/destination: host 'pe1' would reach 10.0.0.2 through tunnel 'tunnel1' itself (recursive routing): give it a static route to 10.0.0.2/32 over the underlay",
        ]);
    });

    it("the underlay must carry the tunnel's packets with GRE's header", () => {
        const d = gre();
        d.tunnels[0].mtu = 1480;
        d.tunnels[0].key = 5;
        assert.deepEqual(errorsOf(d).filter((x) => x.startsWith("/tunnels")), [
            "/tunnels/0/mtu: the underlay between host 'pe1' and 10.0.0.2 carries packets of at most 1500 bytes, and GRE adds 28 to each packet of the tunnel's mtu 1480: give the tunnel an mtu of at most 1472",
            "/tunnels/0/mtu: the underlay between host 'pe2' and 10.0.0.1 carries packets of at most 1500 bytes, and GRE adds 28 to each packet of the tunnel's mtu 1480: give the tunnel an mtu of at most 1472",
        ]);
    });

    it("an emulated router needs the kernel's GRE, which preflight probes; an appliance has it", () => {
        const d = gre();
        delete host(d, "pe1").appliance;
        const { spec } = validateDocument(d);
        const { requirementsFor } = require("../../model/platforms");
        assert.ok(requirementsFor(spec!, spec!.hosts.find((h) => h.name === "pe1")).kernel.includes("gre"));
        assert.ok(!requirementsFor(spec!, spec!.hosts.find((h) => h.name === "pe2")).kernel.includes("gre"));
    });

    it("an IOS router: rendered only, a router only, not an appliance", () => {
        const d = gre();
        Object.assign(host(d, "pe1"), { platform: "ios", roles: ["router", "storage"] });
        assert.deepEqual(errorsOf(d), [
            "/hosts/2/appliance: an IOS router is not an appliance: the lab renders its configuration and does not boot it",
            "/hosts/2/roles: an IOS router can only be a router, not storage",
        ]);
    });
});
