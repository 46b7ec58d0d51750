// OAI pmip6d, rendered only: seed 001's stack with `daemon: pmip6d` validates and renders the
// LMA's and the MAGs' pmip6d.conf (no secret in them), and each value pmip6d would refuse or
// misread is refused in words, at the stack file's value; the rendered files' own check
// (lintPmip6d) refuses what pmip6d's parser would.
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { validateDocument } from "../../model/validate";
import type { LabSpec } from "../../model/types";
import { lintPmip6d, pmip6dConfigs, pmip6dErrors } from "./pmip6d";

const ROOT = path.resolve(__dirname, "..", "..");
/** stacks/local-pmipv6.yaml with `daemon: pmip6d`; the migration section is left out (nothing here reads it). */
function doc(): any {
    const d = yaml.load(fs.readFileSync(path.join(ROOT, "stacks", "local-pmipv6.yaml"), "utf8")) as any;
    d.pmipv6.daemon = "pmip6d";
    delete d.migration;
    return d;
}
const errorsOf = (d: any) => validateDocument(d).errors.map((e) => `${e.pointer}: ${e.reason}`);
function spec(edit: (s: LabSpec) => void = () => {}): LabSpec {
    const { spec: s, errors } = validateDocument(doc());
    assert.deepEqual(errors, []);
    edit(s!);
    return s!;
}
const refusals = (s: LabSpec) => pmip6dErrors(s).map((e) => `${e.pointer}: ${e.reason}`);
const host = (s: any, name: string) => s.hosts.find((h: any) => h.name === name);

describe("pmipv6 with daemon pmip6d (rendered only)", () => {
    it("seed 001's stack validates and renders the LMA's and both MAGs' files, with placeholders for the secrets", () => {
        const files = pmip6dConfigs(spec());
        assert.deepEqual(files.map((f) => f.file), ["lma/pmip6d.conf", "mag1/pmip6d.conf", "mag1/radiusclient/servers", "mag2/pmip6d.conf", "mag2/radiusclient/servers"]);
        for (const f of files.filter((x) => x.file.endsWith("pmip6d.conf"))) assert.deepEqual(lintPmip6d(f.text), [], f.file);
        const mag2 = files.find((f) => f.file === "mag2/pmip6d.conf")!.text;
        assert.match(mag2, /^\s*LmaPmipNetworkAddress\s+2001:100:1::1;$/m);
        assert.match(mag2, /^\s*MagAddressEgress\s+2001:100:2::2;$/m);
        assert.match(mag2, /^\s*MagAddressIngress\s+fe80::211:22ff:fe33:4455;$/m);
        assert.match(mag2, /^\s*PBULifeTime\s+3600000;$/m);
        assert.match(mag2, /^\s*RadiusPassword\s+"REPLACE-WITH-radiusPassword";$/m);
        assert.match(files.find((f) => f.file === "mag2/radiusclient/servers")!.text, /^radius6server\tREPLACE-WITH-radiusSecretMag2$/m);
        const lma = files[0].text;
        assert.deepEqual([...lma.matchAll(/^\s*MagAddressEgress\s+(\S+);$/gm)].map((m) => m[1]), ["2001:100:1::2", "2001:100:2::2", "::"]);
        assert.match(lma, /^\s*LmaCoreNetworkAddress\s+2001:db8:5::1;$/m);
    });

    it("refuses a MAC pmip6d would misread or no interface can have", () => {
        assert.deepEqual(refusals(spec((s) => { s.pmipv6!.accessMac = "0:11:22:33:44:55"; })),
            ["/pmipv6/accessMac: 0:11:22:33:44:55 is not six groups of two hex digits: pmip6d reads a MAC's digits at fixed offsets and would misread it"]);
        const d = doc();
        d.pmipv6.accessMac = "01:11:22:33:44:55";
        assert.ok(errorsOf(d).includes("/pmipv6/accessMac: 01:11:22:33:44:55 is a multicast MAC (the low bit of its first byte is set): no interface can have it"));
    });

    it("refuses a PBU lifetime the PBU cannot carry", () => {
        const d = doc();
        d.pmipv6.timers = { pbuLifetimeS: 3601 };
        assert.deepEqual(errorsOf(d), ["/pmipv6/timers/pbuLifetimeS: 3601 s is not a multiple of 4: the PBU carries the lifetime in units of 4 s, and pmip6d would send 3600 s"]);
        assert.deepEqual(refusals(spec((s) => { s.pmipv6!.timers.pbuLifetimeS = 2; })),
            ["/pmipv6/timers/pbuLifetimeS: 2 s is outside 4-262140 s: the PBU carries the lifetime in 16 bits of 4 s units, and pmip6d would send 0, a de-registration"]);
        // The lab's own daemon is not held to it, but npm run configs renders pmip6d's files for any stack.
        const w = doc();
        w.pmipv6.daemon = "wanlab";
        w.pmipv6.timers = { pbuLifetimeS: 3601 };
        assert.deepEqual(errorsOf(w), []);
    });

    it("refuses times pmip6d does not read or cannot work with", () => {
        assert.deepEqual(refusals(spec((s) => { s.pmipv6!.timers.retransmitMs = 0; s.pmipv6!.timers.timestampValidityWindowMs = 0; })), [
            "/pmipv6/timers/retransmitMs: a RetransmissionTimeOut of 0 ms would resend each PBU at once",
            "/pmipv6/timers/timestampValidityWindowMs: an RFC5213TimestampValidityWindow of 0 ms would refuse every PBU",
        ]);
        assert.deepEqual(refusals(spec((s) => { s.pmipv6!.timers.minDelayBeforeBceDeleteMs = 2 ** 31; s.pmipv6!.timers.maxRetransmits = -1; })), [
            "/pmipv6/timers/minDelayBeforeBceDeleteMs: 2147483648 is not a number of milliseconds pmip6d reads for RFC5213MinDelayBeforeBCEDelete (an integer from 0 to 2147483647)",
            "/pmipv6/timers/maxRetransmits: -1 is not a count pmip6d reads for MaxMessageRetransmissions",
        ]);
    });

    it("refuses a MAG that cannot reach the LMA's one PMIPv6 address", () => {
        const d = doc();
        delete host(d, "mag2").ipv6.routes;
        assert.ok(errorsOf(d).includes("/pmipv6/mags/1/egress: MAG 'mag2' has no IPv6 route to 2001:100:1::1, the LMA's one PMIPv6 address " +
            "(its address on eth0, link mag1-wan to MAG mag1; the other MAGs reach it through the LMA): every MAG's PBUs go there (hosts[].ipv6.routes)"));
    });

    it("refuses two MAGs with one egress address, and an egress address that is the LMA's", () => {
        assert.deepEqual(refusals(spec((s) => {
            host(s, "lma").ipv6.addresses[1].address = "2001:100:1::11/64";
            host(s, "mag2").ipv6.addresses[0].address = "2001:100:1::2/64";
        })), ["/pmipv6/mags/1/egress: MAG 'mag2' has the egress address 2001:100:1::2 of MAG 'mag1' (/pmipv6/mags/0): pmip6d's LMA knows each MAG by it"]);
        assert.deepEqual(refusals(spec((s) => {
            host(s, "lma").ipv6.addresses[1].address = "2001:100:1::11/64";
            host(s, "mag2").ipv6.addresses[0].address = "2001:100:1::1/64";
        })), ["/pmipv6/mags/1/egress: MAG 'mag2''s egress address 2001:100:1::1 is the LMA's own"]);
    });

    it("refuses addresses pmip6d's scanner does not read as one", () => {
        assert.deepEqual(refusals(spec((s) => {
            host(s, "lma").ipv6.addresses[0].address = "::1/64";
            host(s, "mag1").ipv6.addresses[0].address = "::2/64";
        })), [
            "/pmipv6/mags/0/egress: the LMA's address on the link of MAG 'mag1' is pmip6d's LmaPmipNetworkAddress: ::1 starts with \"::\", which pmip6d's scanner does not read as one address (it wants a hex group first)",
            "/pmipv6/mags/0/egress: MAG 'mag1''s egress address (its Proxy-CoA): ::2 starts with \"::\", which pmip6d's scanner does not read as one address (it wants a hex group first)",
        ]);
    });

    it("refuses an LMA with no core side, and more MAGs than pmip6d's LMA keeps", () => {
        assert.deepEqual(refusals(spec((s) => { host(s, "lma").ipv6.addresses.splice(2); })),
            ["/pmipv6/lma/host: the LMA 'lma' has no IPv6 address besides its MAG links (hosts[].ipv6.addresses): pmip6d's LMA needs one for its core side (LmaCoreNetworkAddress)"]);
        const many = refusals(spec((s) => { s.pmipv6!.mags = Array.from({ length: 64 }, () => ({ ...s.pmipv6!.mags[0] })); }));
        assert.equal(many[0], "/pmipv6/mags: 64 MAGs: pmip6d's LMA keeps at most 63 (64 entries, the last the end of the list)");
    });
});

describe("lintPmip6d: the rendered files as pmip6d's parser reads them", () => {
    const [lma, mag] = ["lma/pmip6d.conf", "mag1/pmip6d.conf"].map((f) => pmip6dConfigs(spec()).find((x) => x.file === f)!.text);
    const lineOf = (text: string, re: RegExp) => text.split("\n").findIndex((l) => re.test(l)) + 1;

    it("refuses a key its block does not take, and a value of the wrong kind", () => {
        const bad = mag.replace(/^(\s*)RadiusPassword .*$/m, "$1LmaCoreNetworkDevice \"eth2\";").replace(/(TunnelingEnabled\s+)enabled;/, "$1yes;");
        assert.deepEqual(lintPmip6d(bad), [
            { line: lineOf(bad, /^\s*TunnelingEnabled/), reason: "TunnelingEnabled takes enabled or disabled, not yes" },
            { line: lineOf(bad, /LmaCoreNetworkDevice/), reason: "LmaCoreNetworkDevice is not a key of a ProxyMipMag block" },
        ]);
    });

    it("refuses a MAG's egress line before its ingress line on the LMA, an address the scanner does not read, and a block without its NodeConfig", () => {
        const swapped = lma.replace(/^( *MagAddressIngress .*\n)( *MagAddressEgress +2001:100:1::2;\n)/m, "$2$1").replace("2001:100:2::2;", "::2;");
        const defects = lintPmip6d(swapped.replace("NodeConfig HA;", "NodeConfig MAG;")).map((d) => d.reason);
        assert.deepEqual(defects, [
            "ProxyMipLma needs NodeConfig HA before it (found MAG)",
            "MagAddressEgress without its MagAddressIngress before it",
            "two MagAddressIngress lines without a MagAddressEgress between them",
            "MagAddressEgress takes an IPv6 address as pmip6d's scanner reads one, not ::2",
        ]);
        assert.deepEqual(lintPmip6d(lma.replace(/\}\s*$/, "")).map((d) => d.reason), ["the ProxyMipLma block is not closed"]);
    });
});
