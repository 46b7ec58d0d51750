// Seed 001 for real (stacks/local-pmipv6.yaml): FreeRADIUS accepts the VM and refuses an
// unknown one; the VM forms its address by SLAAC from the prefix its MAG advertises; the
// LMA's binding names the MAG, its tunnel is up; a migration moves the binding and the
// tunnel, the VM answers on the same address and its TCP connection survives; tshark
// decodes the PBU and PBA the daemons exchanged; a late de-registration from the old MAG
// leaves the new binding; a second up changes nothing and destroy leaves nothing.
import { after, before, describe, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { daemonPids, Engine, initLabStack, lastRecord, onAppliance, residue, ROOT, sh, upRun } from "./harness";
import { setSecret } from "../../runner/secrets";

const STACK = "t-pmipv6";
const VM_ADDR = "2001:db8:1:1:216:3eff:fe01:101";
const MN = "000000163e010101";
const DIR = `/var/lib/wanlab/${STACK}/pmipd`;

describe("seed 001: PMIPv6 with FreeRADIUS, a VM that keeps its address across a migration, for real", () => {
    const engine = new Engine();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "wanlab-test-pmipv6-"));
    const daemonsBefore = daemonPids();
    const on = (host: string, cmd: string) => onAppliance(STACK, host, `${work}/id`, cmd);
    const inNs = (host: string, cmd: string) => sh(`ip netns exec wl-${STACK}-${host} ${cmd}`);
    /** The LMA's binding of the VM, from its daemon's state. */
    const binding = () => {
        const r = on("lma", `pmipd show -state ${DIR}/state.json`);
        assert.equal(r.code, 0, r.out);
        return (JSON.parse(r.out).bindingCache as { mn: string; mag: string; state: string; prefix: string }[]).find((b) => b.mn === MN);
    };
    const events = (host: string) => on(host, `cat ${DIR}/events.jsonl`).out.trim().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));

    before(() => {
        initLabStack(engine, STACK, "stacks/local-pmipv6.yaml", work, "pmipv6-chap-secret");
        const cli = { env: engine.env, cwd: ROOT };
        for (const key of ["radiusPassword", "radiusSecretMag1", "radiusSecretMag2", "radiusSecretLma"]) setSecret(cli, STACK, key, `t-${key}-${Math.random().toString(16).slice(2)}`);
    });
    after(() => {
        engine.cleanup();
        fs.rmSync(work, { recursive: true, force: true });
        fs.rmSync(path.join(ROOT, "results", STACK), { recursive: true, force: true });
    });

    test("up builds the lab: FreeRADIUS answers, the VM registers through mag1 and forms its address by SLAAC", (t) => {
        const r = upRun(engine, STACK, 0);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        t.diagnostic(`up from nothing: ${r.seconds.toFixed(1)} s`);
        const b = binding();
        assert.ok(b, "the LMA has a binding for the VM");
        assert.equal(b!.mag, "mag1");
        assert.equal(b!.state, "registered");
        assert.equal(b!.prefix, "2001:db8:1:1::/64");
        assert.match(on("lma", "ip -d link show pmip-mag1").out, /ip6tnl ip6ip6 remote 2001:100:1::2 local 2001:100:1::1/);
        // Registered at boot, on its Router Solicitation; authorized by FreeRADIUS first.
        const mag1 = events("mag1");
        const attach = mag1.find((e) => e.event === "attach" && e.mn === MN);
        assert.equal(attach?.trigger, "rs");
        const accept = mag1.find((e) => e.event === "access-accept" && e.user === MN);
        assert.equal(accept?.prefix, "2001:db8:1:1::/64");
        assert.ok(mag1.findIndex((e) => e.event === "access-accept") < mag1.findIndex((e) => e.event === "pbu-sent"), "Access-Accept before the PBU");
        // The client reaches the VM's SLAAC address (prefix + EUI-64 of 00:16:3e:01:01:01).
        const ping = inNs("storage", `ping -6 -c 3 -W 2 ${VM_ADDR}`);
        assert.equal(ping.code, 0, ping.out);
    });

    test("FreeRADIUS accepts the VM with its prefix and interface id, and rejects an unknown one", () => {
        // The lab's own check did it during up (modules/radius: radclient from the server's host).
        const out = JSON.parse(engine.ok(["stack", "output", "--json", "--show-secrets", "--stack", STACK]).stdout);
        assert.match(out.radius.check, new RegExp(`^vm vm1 ${MN}: Access-Accept, Framed-IPv6-Prefix 2001:db8:1:1::/64, Framed-Interface-Id 216:3eff:fe01:101$`, "m"));
        assert.match(out.radius.check, /^unknown 000000deadbeef00: Access-Reject$/m);
        // And the MAG's own requests: the VM accepted, any other MAC on the access link (the
        // hypervisor's bridge port soliciting a router) rejected.
        const mag1 = events("mag1");
        assert.ok(mag1.some((e) => e.event === "access-accept" && e.user === MN && e.prefix === "2001:db8:1:1::/64" && e.interfaceId === "02163efffe010101"));
        const others = mag1.filter((e) => e.event === "access-request" && e.user !== MN).map((e) => e.user);
        for (const u of others) assert.ok(mag1.some((e) => e.event === "access-reject" && e.user === u), `no reject for ${u}`);
    });

    test("migration run 1: the binding and the tunnel move to mag2, the VM answers on the same address, TCP survives; tshark decodes PBU and PBA", (t) => {
        // The PBUs and PBAs on the LMA's MAG-facing links, captured in its appliance's shell (the taps).
        const pcap = path.join(work, "mh.pcap");
        const cap = spawn("ip", ["netns", "exec", `wl-${STACK}-lma`, "tcpdump", "-i", "any", "-U", "-w", pcap, "ip6 proto 135"], { stdio: "ignore" });
        sh("sleep 1");
        const r = upRun(engine, STACK, 1);
        cap.kill("SIGINT");
        sh("sleep 1");
        assert.equal(r.code, 0, r.stdout + r.stderr);
        const m = lastRecord(engine, STACK);
        t.diagnostic(`run 1: total ${m.totalMs} ms, probe downtime ${m.probe.downtimeMs} ms, udp ${JSON.stringify(m.udp?.oneWay)}`);
        t.diagnostic(`pmipv6: ${JSON.stringify(m.pmipv6)}`);
        const b = binding();
        assert.equal(b?.mag, "mag2");
        assert.equal(b?.state, "registered");
        assert.match(on("lma", "ip -d link show pmip-mag2").out, /remote 2001:100:2::2/);
        assert.notEqual(on("lma", "ip link show pmip-mag1").code, 0, "the old tunnel is gone");
        // The same address answers, and the TCP survival probe's connection lasted.
        assert.equal(inNs("storage", `ping -6 -c 3 -W 2 ${VM_ADDR}`).code, 0);
        assert.ok(m.udp && m.udp.received > 0);
        assert.equal(m.tcp?.survived, true, JSON.stringify(m.tcp));
        // What told mag2 the VM had arrived, and the downtime in parts.
        const s = m.pmipv6 as { trigger: string; attachAt: number; announcements: string[]; pmipMs: number; parts: Record<string, number | null>; lmaBindingMag: string;
            oldMag: { detachAt: number | null; deregistrationIgnored: boolean | null } };
        // QEMU's self-announce (RARP from the destination's tap, at once on resume) comes
        // before the guest's own unsolicited NA (virtio-net's guest announce, once it runs).
        assert.equal(s.trigger, "rarp", JSON.stringify(s));
        // Then the guest's own unsolicited NA (seed 001's trigger): both reach mag2, RARP first.
        assert.deepEqual(s.announcements, ["rarp", "na"]);
        // mag1 noticed the VM had gone (NUD), and its de-registration came after mag2's registration: ignored.
        assert.ok(s.oldMag.detachAt, JSON.stringify(s.oldMag));
        assert.equal(s.oldMag.deregistrationIgnored, true);
        assert.ok(s.parts.authorizationMs! >= 0 && s.parts.registrationMs! >= 0 && s.pmipMs! >= s.parts.registrationMs!, JSON.stringify(s));
        assert.equal(s.lmaBindingMag, "mag2");
        // tshark's own decode of the capture (its mip6 dissector).
        const dec = sh(`${path.join(ROOT, ".cache/bin/pmipd")} tshark-check -pcap ${pcap}`);
        assert.equal(dec.code, 0, dec.out);
        const msgs = dec.out.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
        // Each frame twice: on the tap and on the shell's bridge.
        const pbu = msgs.find((x) => x.type === "pbu" && x.lifetime > 0 && x.src === "2001:100:2::2");
        const pba = msgs.find((x) => x.type === "pba" && x.dst === "2001:100:2::2");
        assert.ok(pbu, dec.out);
        assert.ok(pba, dec.out);
        // Lifetime in 4 s units (RFC 6275 §6.1.7): 3600 s is 900.
        assert.deepEqual([pbu.flags, pbu.lifetime, pbu.hnp, pbu.mnId, pbu.hi, pbu.att, pbu.mnLlId], [{ A: true, P: true }, 900, "2001:db8:1:1::/64", MN, 4, 3, "00163e010101"]);
        assert.ok(Math.abs(Date.parse(pbu.timestamp) - s.attachAt) < 5000, `PBU timestamp ${pbu.timestamp}`);
        assert.deepEqual([pba.flags, pba.status, pba.lifetime, pba.hnp, pba.mnId, pba.timestamp], [{ P: true }, 0, 900, "2001:db8:1:1::/64", MN, pbu.timestamp]);
        // mag1's de-registration (lifetime 0) after it, answered too.
        assert.ok(msgs.some((x) => x.type === "pbu" && x.lifetime === 0 && x.src === "2001:100:1::2"), dec.out);
        assert.equal(pba.seq, pbu.seq);
    });

    test("a late de-registration from the old MAG leaves the new binding in place", () => {
        const r = on("mag1", `pmipd pbu -config ${DIR}/config.json -mn ${MN} -lifetime 0`);
        assert.equal(r.code, 0, r.out);
        const b = binding();
        assert.equal(b?.mag, "mag2");
        assert.equal(b?.state, "registered");
        assert.ok(events("lma").some((e) => e.event === "dereg-ignored" && e.mn === MN), "the LMA logged the ignored de-registration");
        assert.equal(inNs("storage", `ping -6 -c 2 -W 2 ${VM_ADDR}`).code, 0);
    });

    test("a second up changes nothing", () => {
        const r = engine.pulumi(["preview", "--expect-no-changes", "--stack", STACK]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
    });

    test("destroy leaves nothing: no daemon, tunnel, qdisc, namespace or file", () => {
        const r = engine.pulumi(["destroy", "--yes", "--skip-preview", "--stack", STACK]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.deepEqual(residue(STACK), []);
        const now = daemonPids();
        assert.deepEqual([...now].filter((p) => !daemonsBefore.has(p)), []);
        assert.equal(sh("pgrep -a freeradius || true").out.trim(), "");
    });
});
