// The RIP module and the routers' configurations: RIP run over the model as the routers
// would run it, the words for neighbours that cannot hear each other, FRR's own dry run on
// every rendered FRR config, the IOS structural check on every rendered IOS config, and
// seed 000's Appendix C as printed failing that check with a reason for each defect.
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { validateDocument } from "../../model/validate";
import { converge } from "./model";
import { classfulNetwork, deviceConfigs, iosName } from "./configs";
import { lintIos } from "../../lib/ios-lint";

const ROOT = path.resolve(__dirname, "..", "..");
const load = (f: string) => yaml.load(fs.readFileSync(path.join(ROOT, f), "utf8")) as any;
const gre = () => load("stacks/local-gre.yaml");
const errorsOf = (d: any) => validateDocument(d).errors.map((e) => `${e.pointer}: ${e.reason}`);
const host = (d: any, name: string) => d.hosts.find((h: any) => h.name === name);
const SPECS = ["stacks/local-gre.yaml", "test/golden/specs/ios-pe.yaml"];

describe("rip", () => {
    it("converges on local-gre: each PE learns the far site over Tunnel1, one hop away", () => {
        const { spec } = validateDocument(gre());
        const tables = converge(spec!, (a, b) => a === b);
        assert.deepEqual(tables.get("pe1")!.get("192.168.2.0/24"), { prefix: "192.168.2.0/24", metric: 1, via: "10.1.1.2", from: "pe2" });
        assert.deepEqual(tables.get("pe2")!.get("192.168.1.0/24"), { prefix: "192.168.1.0/24", metric: 1, via: "10.1.1.1", from: "pe1" });
        // The tunnel's own subnet is connected on both: nothing learned.
        assert.equal(tables.get("pe1")!.get("10.1.1.0/24")!.metric, 0);
        // Redistributing static routes advertises them too.
        const d = gre();
        host(d, "pe2").rip.redistribute = ["static"];
        const t2 = converge(validateDocument(d).spec!, (a, b) => a === b);
        assert.deepEqual(t2.get("pe1")!.get("192.168.5.0/24"), { prefix: "192.168.5.0/24", metric: 2, via: "10.1.1.2", from: "pe2" });
    });

    it("in words: versions that differ, networks that cover nothing, passive interfaces that are not there", () => {
        const d = gre();
        host(d, "pe2").rip.version = 1;
        assert.deepEqual(errorsOf(d).filter((e) => e.includes("/rip")), [
            "/hosts/3/rip/version: host 'pe2' runs RIP version 1 and its neighbour 'pe1' (on Tunnel1) version 2: each ignores the other's updates; give both the same version",
        ]);
        const e = gre();
        host(e, "pe1").rip.networks.push("10.9.0.0/16", "10.1.1.1/24");
        host(e, "pe1").rip.passive.push("eth7", "eth2");
        assert.deepEqual(errorsOf(e), [
            "/hosts/2/rip/networks/2: 10.9.0.0/16 covers none of host 'pe1''s addresses (eth1 192.168.1.1/24, eth2 172.16.1.1/30, Tunnel1 10.1.1.1/24, lo 10.0.0.1/32): RIP would run on no interface",
            "/hosts/2/rip/networks/3: 10.1.1.1/24 is not a network address (host bits are set)",
            "/hosts/2/rip/passive/1: host 'pe1' has no addressed interface 'eth7'",
            "/hosts/2/rip/passive/2: eth2 (172.16.1.1/30) is on none of the RIP networks: it would not be advertised either",
        ]);
    });

    it("IOS names and classful networks", () => {
        assert.deepEqual(["eth1", "lo", "Tunnel1"].map(iosName), ["GigabitEthernet0/1", "Loopback0", "Tunnel1"]);
        assert.deepEqual(["10.1.1.0/24", "172.16.2.0/30", "192.168.1.0/24"].map(classfulNetwork), ["10.0.0.0/8", "172.16.0.0/16", "192.168.1.0/24"]);
    });

    it("FRR's own dry run (vtysh -C) accepts every rendered FRR config, and refuses a broken one", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wanlab-frr-"));
        try {
            const frr = SPECS.flatMap((f) => deviceConfigs(validateDocument(load(f)).spec!)).filter((c) => c.platform === "frr");
            assert.deepEqual(frr.map((c) => c.file), ["pe1/frr.conf", "pe2/frr.conf"]);
            for (const c of frr) {
                const file = path.join(dir, c.file.replace("/", "-"));
                fs.writeFileSync(file, c.text);
                const r = spawnSync("vtysh", ["-C", "-f", file], { encoding: "utf8" });
                assert.equal(r.status, 0, `${c.file}: ${r.stdout}${r.stderr}`);
            }
            const bad = path.join(dir, "bad.conf");
            fs.writeFileSync(bad, frr[0].text.replace(" network 10.1.1.0/24", " netwrk 10.1.1.0/24"));
            const r = spawnSync("vtysh", ["-C", "-f", bad], { encoding: "utf8" });
            assert.notEqual(r.status, 0);
            assert.match(r.stdout + r.stderr, /Unknown command.*netwrk/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("every rendered IOS config passes the structural check", () => {
        const ios = SPECS.flatMap((f) => deviceConfigs(validateDocument(load(f)).spec!)).filter((c) => c.platform === "ios");
        assert.equal(ios.length, 4);
        for (const c of ios) assert.deepEqual(lintIos(c.text), [], c.file);
    });

    it("seed 000's Appendix C as printed fails it, with a reason for each defect", () => {
        const printed = fs.readFileSync(path.join(ROOT, "test", "fixtures", "seed000", "appendix-c-pe1.txt"), "utf8");
        assert.deepEqual(lintIos(printed).map((d) => `${d.line}: ${d.reason}`), [
            "2: ip cef is a global command, not one of interface configuration",
            "3: Tunnel1's tunnel source 10.0.0.1 is no interface's address on this router (give a loopback that address, or name an interface)",
            "3: Tunnel1's tunnel destination 10.0.0.2 is on no connected subnet and no ip route covers it: the tunnel cannot come up",
            "3: RIP does not run over Tunnel1: no network statement covers 10.1.1.1 (add network 10.0.0.0)",
            "4: 2 commands on one line (\"Device(config-if)# ip address 10.1.1.1 255.255.255.0 Device(config-if)# tunnel source 10.0.0.1\"): each command needs a line of its own",
            "6: router rip has no version: IOS then sends version 1 only (and receives 1 and 2), and FRR sends 2; say version 2 (or 1) on both sides",
            "7: \"192.168.1.0\" is not a command: a RIP network is given with the keyword network (network 192.168.1.0)",
        ]);
        // And the structural rules one by one, on a config that is otherwise whole.
        const good = deviceConfigs(validateDocument(gre()).spec!).find((c) => c.file === "pe1/ios.cfg")!.text;
        const broken = (from: string, to: string) => { assert.ok(good.includes(from), from); return lintIos(good.replace(from, to)).map((d) => d.reason); };
        assert.deepEqual(broken(" tunnel source 10.0.0.1", " tunnel source Loopback7"), ["Tunnel1's tunnel source Loopback7 is not an interface of this router"]);
        assert.deepEqual(broken("ip route 10.0.0.2 255.255.255.255 172.16.1.2", "ip route 10.0.0.2 255.255.255.255 10.1.1.2"), ["the route to Tunnel1's tunnel destination 10.0.0.2 goes through Tunnel1 itself (recursive routing)"]);
        assert.deepEqual(broken(" network 10.0.0.0\n", ""), ["RIP does not run over Tunnel1: no network statement covers 10.1.1.1 (add network 10.0.0.0)"]);
        assert.deepEqual(broken(" network 192.168.1.0\n", " network 192.168.9.0\n"), ["network 192.168.9.0 covers none of this router's interfaces"]);
    });
});
