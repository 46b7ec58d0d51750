// Templates: the domain XML's NICs get an Open vSwitch virtualport only on OVS bridges,
// XML values are escaped, and plain configuration files take values as they are.
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { render } from "../../lib/render";

const domain = (ovs: boolean) => render("libvirt/domain.xml.hbs", {
    name: "vm1", uuid: "u", memoryMiB: 256, vcpus: 1, kernel: "/k", initrd: "/i", cmdline: "a=b",
    diskXml: render("libvirt/iscsi-disk.xml.hbs", { iqn: "iqn.2015-02.com.example:x", portal: "192.0.2.5", chapUser: "", secretUsage: "" }),
    diskNote: "disk on the shared iSCSI LUN",
    interfaces: [{ bridge: "br1", mac: "52:54:00:00:00:01", ovs }],
});

describe("templates", () => {
    it("an OVS bridge gets a virtualport, a Linux bridge does not", () => {
        assert.ok(domain(true).includes("<source bridge='br1'/>\n      <virtualport type='openvswitch'/>"));
        assert.ok(!domain(false).includes("virtualport"));
    });

    it("no CHAP user, no auth element", () => {
        assert.ok(!domain(true).includes("<auth"));
    });

    it("configuration files are not HTML-escaped", () => {
        assert.match(render("libvirt/libvirtd.conf.hbs", { host: "a&b", hostUuid: "x=y" }), /host_uuid = "x=y"/);
        assert.match(render("libvirt/libvirtd.conf.hbs", { host: "a&b", hostUuid: "x=y" }), /host a&b/);
    });

    it("a value the template needs but the caller forgot is an error", () => {
        assert.throws(() => render("libvirt/libvirtd.conf.hbs", { host: "h" }), /hostUuid/);
    });
});
