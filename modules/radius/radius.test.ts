// The RADIUS module on the model: seed 001's AAA server on a host of its own, the MAG and
// the LMA its clients, a VM and the MAG its users. The User-Name and interface id as OAI
// pmip6d and SLAAC make them, the files the server gets, and each mistake in words,
// through the real validator.
//
//   node --import tsx --test modules/radius/radius.test.ts
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { validateDocument } from "../../model/validate";
import { requirementsFor } from "../../model/platforms";
import { interfaceId, radiusUserName, radiusUsers } from "./model";
import { checkCases, fileBundle, listenSocket, radiusFiles, secretProblem, unknownUserName } from "./config";

const MAC = "00:16:3e:01:01:01";

/** aaa, mag1 and lma on one IPv6 LAN (and an IPv4 one), hv1 a hypervisor with vm1. */
export function lab(): any {
    return {
        name: "radius",
        hosts: [
            { name: "aaa", transport: "emulated", roles: ["aaa"], ipv6: { addresses: [{ interface: "eth0", address: "2001:db8:a::10/64" }] } },
            { name: "lma", transport: "emulated", roles: ["router"], ipv6: { addresses: [{ interface: "eth0", address: "2001:db8:a::1/64" }] } },
            { name: "mag1", transport: "emulated", roles: ["router"], ipv6: { addresses: [{ interface: "eth0", address: "2001:100:1::2/64" }] } },
            { name: "hv1", transport: "emulated", roles: ["hypervisor"] },
        ],
        links: [
            { name: "core", subnet: "10.0.0.0/24", ends: [
                { host: "aaa", interface: "eth0", address: "10.0.0.10/24" },
                { host: "lma", interface: "eth0", address: "10.0.0.1/24" },
                { host: "mag1", interface: "eth0", address: "10.0.0.2/24" },
            ] },
            { name: "access", subnet: "10.0.1.0/24", ends: [
                { host: "mag1", interface: "eth1", address: "10.0.1.1/24" },
                { host: "hv1", interface: "eth0", address: "10.0.1.10/24" },
            ] },
        ],
        bridges: [{ name: "br1", host: "hv1", type: "linux" }],
        vms: [{ name: "vm1", host: "hv1", memoryMiB: 128, disk: { local: { sizeMiB: 64 } }, interfaces: [{ bridge: "br1", mac: MAC }] }],
        radius: {
            host: "aaa",
            address: "2001:db8:a::10",
            password: { config: "radiusPassword" },
            clients: [
                { host: "mag1", address: "2001:100:1::2", secret: { config: "radiusSecretMag1" } },
                { host: "lma", address: "2001:db8:a::1", secret: { config: "radiusSecretLma" } },
            ],
            users: [{ vm: "vm1", prefix: "2001:db8:1:1::/64" }, { host: "mag1" }],
        },
    };
}

const errorsOf = (d: any) => validateDocument(d).errors.map((e) => `${e.pointer}: ${e.reason}`);
const edited = (edit: (d: any) => void) => { const d = lab(); edit(d); return errorsOf(d); };
/** The errors of an edited stack include one that starts with this. */
function refused(edit: (d: any) => void, start: string) {
    const errs = edited(edit);
    assert.ok(errs.some((e) => e.startsWith(start)), `no error starting with ${JSON.stringify(start)} in:\n${errs.join("\n")}`);
}

describe("radius: the names OAI pmip6d asks with", () => {
    it("a VM's User-Name is its MAC's 12 hex digits after four zeros (mnid_hnp_map: %04x x4 of EUI64_to_EUI48)", () => {
        assert.equal(radiusUserName("00:16:3e:01:01:01"), "000000163e010101");
        assert.equal(radiusUserName("52:54:00:AB:cd:0f"), "0000525400abcd0f");
    });
    it("its interface id is the modified EUI-64 of the MAC, four groups of four digits", () => {
        assert.equal(interfaceId("00:16:3e:01:01:01"), "0216:3eff:fe01:0101");
        assert.equal(interfaceId("02:00:00:00:00:01"), "0000:00ff:fe00:0001");
    });
    it("the users: a VM with its MAC, prefix and interface id; a MAG by its host name", () => {
        const { spec, errors } = validateDocument(lab());
        assert.deepEqual(errors, []);
        assert.equal(spec!.radius!.port, 1812);
        assert.deepEqual(radiusUsers(spec!), [
            { userName: "000000163e010101", kind: "vm", vm: "vm1", mac: MAC, prefix: "2001:db8:1:1::/64", interfaceId: "0216:3eff:fe01:0101" },
            { userName: "mag1", kind: "mag", host: "mag1" },
        ]);
    });
    it("the server host needs FreeRADIUS and radclient", () => {
        const { spec } = validateDocument(lab());
        const req = requirementsFor(spec!, spec!.hosts[0]).binaries;
        for (const b of ["freeradius", "radclient"]) assert.ok(req.includes(b), req.join(", "));
        assert.ok(!requirementsFor(spec!, spec!.hosts[1]).binaries.includes("freeradius"));
    });
});

describe("radius: the server's files", () => {
    const { spec } = validateDocument(lab());
    const files = radiusFiles(spec!, "st", "/var/lib/wanlab/st/radius-aaa", { password: "pw-1", secrets: ["sec-mag1", "sec-lma"] });
    it("radiusd.conf: files and pap only, one virtual server listening on the address for authentication, and the check's loopback", () => {
        const conf = files["radiusd.conf"];
        assert.match(conf, /ipv6addr = 2001:db8:a::10\n\t\tport = 1812\n\t\tclients = lab/);
        assert.match(conf, /ipaddr = 127\.0\.0\.1\n\t\tport = 1812\n\t\tclients = check/);
        assert.match(conf, /raddbdir = \/var\/lib\/wanlab\/st\/radius-aaa\/raddb/);
        for (const absent of [/\beap\b/, /\bsql\b/, /\bldap\b/, /sites-enabled/, /mods-enabled/, /type = acct/]) assert.doesNotMatch(conf, absent);
        const mods = conf.slice(conf.indexOf("\nmodules {"), conf.indexOf("\nserver wanlab {"));
        assert.deepEqual([...mods.matchAll(/^\t(\w+) \{$/gm)].map((m) => m[1]), ["files", "pap"]);
        assert.deepEqual([...conf.matchAll(/^server (\w+) \{$/gm)].map((m) => m[1]), ["wanlab"]);
    });
    it("clients.conf: one client per entry with its secret, Message-Authenticator required", () => {
        assert.equal(files["clients.conf"].split("\n").filter((l) => !l.startsWith("#")).join("\n"),
            "clients lab {\n" +
            "\tclient mag1 {\n\t\tipv6addr = 2001:100:1::2\n\t\tsecret = 'sec-mag1'\n\t\trequire_message_authenticator = yes\n\t}\n" +
            "\tclient lma {\n\t\tipv6addr = 2001:db8:a::1\n\t\tsecret = 'sec-lma'\n\t\trequire_message_authenticator = yes\n\t}\n" +
            "}\n");
    });
    it("users: the VM with its prefix and interface id, the MAG plain, both with the password", () => {
        assert.equal(files.users.split("\n").filter((l) => !l.startsWith("#")).join("\n"),
            "000000163e010101\tCleartext-Password := 'pw-1'\n\tFramed-IPv6-Prefix = 2001:db8:1:1::/64,\n\tFramed-Interface-Id = 0216:3eff:fe01:0101\n\n" +
            "mag1\tCleartext-Password := 'pw-1'\n\n");
    });
    it("one stdin: each file after its marker line", () => {
        const b = fileBundle({ a: "x\n", b: "y" });
        assert.equal(b, "#### wanlab-file a\nx\n#### wanlab-file b\ny\n");
    });
    it("an IPv4 address listens with ipaddr; ss's spelling of the socket", () => {
        assert.equal(listenSocket({ address: "2001:DB8:a:0::10", port: 1812 }), "[2001:db8:a::10]:1812");
        assert.equal(listenSocket({ address: "10.0.0.10", port: 1645 }), "10.0.0.10:1645");
        const d = lab();
        d.radius.address = "10.0.0.10";
        const v4 = validateDocument(d);
        assert.deepEqual(v4.errors, []);
        assert.match(radiusFiles(v4.spec!, "st", "/d", { password: "p", secrets: ["a", "b"] })["radiusd.conf"], /\tipaddr = 10\.0\.0\.10\n/);
    });
    it("a secret FreeRADIUS's files cannot quote is refused by its key's name, never its value", () => {
        assert.equal(secretProblem("3f2a9c"), undefined);
        assert.match(secretProblem("it's")!, /' or \\/);
        assert.match(secretProblem("a\\b")!, /' or \\/);
        assert.match(secretProblem("a\nb")!, /printable ASCII/);
        assert.match(secretProblem("")!, /empty/);
        assert.match(secretProblem("x".repeat(129))!, /at most 128/);
        assert.throws(() => radiusFiles(spec!, "st", "/d", { password: "bad'pw", secrets: ["a", "b"] }),
            (e: Error) => e.message.includes("wanlab:radiusPassword") && !e.message.includes("bad'pw"));
        assert.throws(() => radiusFiles(spec!, "st", "/d", { password: "p", secrets: ["a", "x\ny"] }), /wanlab:radiusSecretLma/);
    });
    it("the check asks for the VM, the MAG and a User-Name no user has", () => {
        assert.deepEqual(checkCases(spec!), { VMS: "vm1 000000163e010101 2001:db8:1:1::/64 0216:3eff:fe01:0101", MAGS: "mag1", UNKNOWN: "000000deadbeef00" });
        const d = lab();
        d.vms[0].interfaces[0].mac = "00:de:ad:be:ef:00";
        assert.equal(unknownUserName(validateDocument(d).spec!), "000000deadbeef01");
    });
});

describe("radius: mistakes, in words", () => {
    it("the stack is valid as it is", () => assert.deepEqual(errorsOf(lab()), []));

    it("an unknown server host", () => refused((d) => { d.radius.host = "nobody"; }, "/radius/host: unknown host 'nobody'"));
    it("a server host without the role aaa", () => refused((d) => { d.hosts[0].roles = ["router"]; }, "/radius/host: host 'aaa' runs the RADIUS server: give it the role 'aaa'"));
    it("the role aaa is one of the core's roles", () => {
        assert.deepEqual(edited((d) => { d.hosts[0].roles = ["aaa", "router"]; }), []);
    });
    it("an address that is not the server host's", () =>
        refused((d) => { d.radius.address = "2001:db8:a::1"; }, "/radius/address: 2001:db8:a::1 is not an address of host 'aaa' (it is host 'lma''s)"));
    it("an address no host has", () => refused((d) => { d.radius.address = "2001:db8:a::99"; }, "/radius/address: 2001:db8:a::99 is not an address of host 'aaa':"));
    it("an IPv4 address that is another host's", () =>
        refused((d) => { d.radius.address = "10.0.0.1"; }, "/radius/address: 10.0.0.1 is not an address of host 'aaa' (it is host 'lma''s)"));
    it("an address that is not an address", () =>
        refused((d) => { d.radius.address = "2001:db8:a::10/64"; }, "/radius/address: \"2001:db8:a::10/64\" is not an IPv4 or IPv6 address"));
    it("a port out of range", () => {
        refused((d) => { d.radius.port = 0; }, "/radius/port: 0 is too small: must be at least 1");
        refused((d) => { d.radius.port = 65536; }, "/radius/port: 65536 is too large: must be at most 65535");
    });
    it("no password", () => refused((d) => { delete d.radius.password; }, "/radius: missing required property 'password'"));

    it("a client without a secret", () =>
        refused((d) => { delete d.radius.clients[1].secret; }, "/radius/clients/1: a RADIUS client without a secret: give client 'lma' its shared secret"));
    it("an unknown client host", () => refused((d) => { d.radius.clients[0].host = "mag9"; }, "/radius/clients/0/host: unknown host 'mag9'"));
    it("a client address that is not its host's", () =>
        refused((d) => { d.radius.clients[0].address = "2001:db8:a::1"; }, "/radius/clients/0/address: 2001:db8:a::1 is not an address of host 'mag1' (it is host 'lma''s)"));
    it("two clients with the same address, however spelled", () =>
        refused((d) => { d.radius.clients.push({ host: "lma", address: "2001:DB8:A:0::1", secret: { config: "x" } }); },
            "/radius/clients/2/address: two RADIUS clients with the address 2001:DB8:A:0::1 (the first at /radius/clients/1)"));

    it("an unknown VM", () => refused((d) => { d.radius.users[0].vm = "vm9"; }, "/radius/users/0/vm: unknown VM 'vm9'"));
    it("a VM without a MAC: the schema refuses it first", () =>
        refused((d) => { delete d.vms[0].interfaces[0].mac; }, "/vms/0/interfaces/0: missing required property 'mac'"));
    it("a VM listed twice", () =>
        refused((d) => { d.radius.users.push({ vm: "vm1", prefix: "2001:db8:1:2::/64" }); }, "/radius/users/2/vm: VM 'vm1' is a RADIUS user twice (first at /radius/users/0)"));
    it("two users with the same prefix", () => refused((d) => {
        d.vms.push({ name: "vm2", host: "hv1", memoryMiB: 128, disk: { local: { sizeMiB: 64 } }, interfaces: [{ bridge: "br1", mac: "00:16:3e:01:01:02" }] });
        d.radius.users.push({ vm: "vm2", prefix: "2001:db8:1:1:0::/64" });
    }, "/radius/users/2/prefix: the prefix 2001:db8:1:1:0::/64 is already VM 'vm1''s (at /radius/users/0)"));
    it("a prefix that is not a /64", () =>
        refused((d) => { d.radius.users[0].prefix = "2001:db8:1::/48"; },
            "/radius/users/0/prefix: 2001:db8:1::/48: the home network prefix must be a /64: SLAAC forms the address from it and the MAC's EUI-64"));
    it("a prefix with host bits", () =>
        refused((d) => { d.radius.users[0].prefix = "2001:db8:1:1::5/64"; }, "/radius/users/0/prefix: 2001:db8:1:1::5/64 has host bits set: give the network, 2001:db8:1:1::/64"));
    it("a prefix that is not IPv6", () =>
        refused((d) => { d.radius.users[0].prefix = "10.1.0.0/24"; }, "/radius/users/0/prefix: \"10.1.0.0/24\" is not an IPv6 prefix"));
    it("a VM user without a prefix", () =>
        refused((d) => { delete d.radius.users[0].prefix; }, "/radius/users/0: VM user 'vm1' needs its home network prefix"));
    it("a user that is both or neither", () => {
        refused((d) => { d.radius.users[1].vm = "vm1"; }, "/radius/users/1: a RADIUS user is a VM (`vm` and its home network `prefix`) or a MAG (`host`), one of the two");
        refused((d) => { d.radius.users[1] = {}; }, "/radius/users/1: a RADIUS user is a VM");
    });
    it("a MAG user with a prefix, an unknown one, one twice", () => {
        refused((d) => { d.radius.users[1].prefix = "2001:db8:9:9::/64"; }, "/radius/users/1/prefix: a MAG user gets a plain Access-Accept");
        refused((d) => { d.radius.users[1].host = "mag9"; }, "/radius/users/1/host: unknown host 'mag9'");
        refused((d) => { d.radius.users.push({ host: "mag1" }); }, "/radius/users/2/host: host 'mag1' is a RADIUS user twice (first at /radius/users/1)");
    });
    it("an unknown property", () => refused((d) => { d.radius.secret = "x"; }, "/radius: unknown property 'secret'"));
    it("a server on a router appliance cannot be built: no FreeRADIUS in its image", () =>
        refused((d) => { d.hosts[0].appliance = { key: { config: "applianceKey" } }; }, "/radius/host: host 'aaa' is"));
});
