// Seed 003's three modes for real, on one host pair and NFS shared storage (nfs-ganesha):
// intra-subnet (one campus LAN), NAT (each hypervisor's VM behind its own NAT, reached by
// nothing outside) and bridged (the study's br-phy with uplink and a host-to-host VXLAN
// port). In each, the VM pings the college proxy with its own probe through the
// migration, the guest keeps writing its NFS disk, and destroy leaves no ganesha,
// rpcbind, nftables table or disk image behind.
import { after, describe, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { daemonPids, Engine, residue, ROOT, sh, tmpEntries } from "./harness";
import type { MigrationRecord } from "../../modules/migration/record";

/** The counter the guest writes to its disk every 100 ms, read from the NFS export's image. */
const nfsCounter = (stack: string) =>
    Number(fs.readFileSync(`/run/wanlab/${stack}/storage/fs/var/lib/wanlab/nfs/home/home.img`).subarray(0, 32).toString().split("\n")[0]);
/** The counter once the guest has written it: its checks answer before its disk loop's first write (the image holds filler till then). */
function writtenCounter(stack: string): number {
    for (let i = 0; i < 100; i++) {
        const n = nfsCounter(stack);
        if (Number.isFinite(n)) return n;
        sh("sleep 0.1");
    }
    return nfsCounter(stack);
}
const domstate = (stack: string, host: string) =>
    sh(`virsh -c 'qemu+unix:///system?socket=/run/wanlab/${stack}/${host}/fs/run/libvirt/libvirt-sock' domstate vm1 2>&1`).out.trim();

describe("seed 003: intra-subnet, NAT and bridged migration with NFS storage, for real", () => {
    const engine = new Engine();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "wanlab-test-spec-"));
    const daemonsBefore = daemonPids();
    const tmpBefore = tmpEntries();
    after(() => {
        engine.cleanup();
        fs.rmSync(work, { recursive: true, force: true });
        for (const m of ["intra", "nat", "bridged"]) fs.rmSync(path.join(ROOT, "results", `t-s3-${m}`), { recursive: true, force: true });
    });

    /** Up with one migration from host-a to host-b; the record, with what the guest's disk counter did meanwhile. */
    const migrate = (mode: string): { m: MigrationRecord; counter: [number, number] } => {
        const stack = `t-s3-${mode}`;
        const spec = path.join(work, `seed003-${mode}.yaml`);
        fs.copyFileSync(path.join(ROOT, "stacks", `seed003-${mode}.yaml`), spec);
        engine.initStack(stack, spec);
        engine.ok(["config", "set", "--stack", stack, "wanlab:migrationRun", "0"]);
        let r = engine.pulumi(["up", "--yes", "--skip-preview", "--stack", stack]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        const before = writtenCounter(stack);
        engine.ok(["config", "set", "--stack", stack, "wanlab:migrationRun", "1"]);
        r = engine.pulumi(["up", "--yes", "--skip-preview", "--stack", stack]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        sh("sleep 0.5");
        const m = JSON.parse(engine.ok(["stack", "output", "--json", "--stack", stack]).stdout).migration as MigrationRecord;
        assert.equal(domstate(stack, "host-b"), "running");
        assert.match(domstate(stack, "host-a"), /failed to get domain|Domain not found/);
        return { m, counter: [before, nfsCounter(stack)] };
    };
    const destroy = (mode: string) => {
        const stack = `t-s3-${mode}`;
        engine.ok(["destroy", "--yes", "--skip-preview", "--stack", stack]);
        assert.deepEqual(residue(stack), []);
        assert.deepEqual([...daemonPids()].filter((p) => !daemonsBefore.has(p)), [], "no ganesha, rpcbind, libvirtd or QEMU left");
    };

    test("intra-subnet: the VM moves on its LAN, its NFS disk goes on, its probe sees the pause", (t) => {
        const { m, counter } = migrate("intra");
        const v = m.vmProbe!;
        t.diagnostic(`intra: ${m.totalMs} ms, libvirt downtime ${m.libvirt.downtimeMs} ms, ping ${m.probe.downtimeMs} ms; VM probe ${JSON.stringify({ ...v, lateRanges: undefined })}`);
        assert.ok(counter[1] > counter[0], `NFS disk counter ${counter[0]} -> ${counter[1]}`);
        assert.ok(m.libvirt.dataProcessedBytes! > 10 * 1048576);
        // The VM's requests stopped for the pause at least, from one source address (no NAT).
        assert.ok(v.forwardGap!.ms >= m.libvirt.downtimeMs! - 20, `forward gap ${v.forwardGap!.ms} ms, pause ${m.libvirt.downtimeMs} ms`);
        assert.equal(v.sources.length, 1);
        assert.ok(v.reported > 100 && v.repliesLost <= 5, JSON.stringify(v));
        destroy("intra");
    });

    test("NAT: nothing outside reaches the VM; its own probe shows the source change to host B's address, and the TCP probe's connection breaks", (t) => {
        const { m, counter } = migrate("nat");
        const v = m.vmProbe!;
        t.diagnostic(`NAT: ${m.totalMs} ms, libvirt downtime ${m.libvirt.downtimeMs} ms; VM probe ${JSON.stringify({ ...v, lateRanges: undefined })}; TCP ${JSON.stringify(m.tcp)}`);
        assert.ok(counter[1] > counter[0], `NFS disk counter ${counter[0]} -> ${counter[1]}`);
        assert.equal(m.probe.sent, 0, "the proxy does not ping a VM it cannot reach");
        assert.deepEqual(v.sources.map((s) => s.address.split(":")[0]), ["10.10.10.2", "10.10.10.10"]);
        assert.ok(v.forwardGap!.ms >= m.libvirt.downtimeMs! - 20, `forward gap ${v.forwardGap!.ms} ms, pause ${m.libvirt.downtimeMs} ms`);
        // The VM's TCP connection went through host A's NAT: host B's knows nothing of it.
        assert.equal(m.tcp!.survived, false);
        assert.ok(m.tcp!.connections >= 2, `${m.tcp!.connections} connections`);
        // The NAT table goes with the lab.
        destroy("nat");
    });

    test("bridged: the VM keeps its host-A address on host B, its traffic tunnelled back through host A, from one source", (t) => {
        const { m, counter } = migrate("bridged");
        const v = m.vmProbe!;
        t.diagnostic(`bridged: ${m.totalMs} ms, libvirt downtime ${m.libvirt.downtimeMs} ms, ping ${m.probe.downtimeMs} ms; VM probe ${JSON.stringify({ ...v, lateRanges: undefined })}; TCP ${JSON.stringify(m.tcp)}`);
        assert.ok(counter[1] > counter[0], `NFS disk counter ${counter[0]} -> ${counter[1]}`);
        assert.equal(v.sources.length, 1);
        assert.equal(m.probe.answeredAfter, true);
        assert.equal(m.tcp!.survived, true);
        assert.ok(v.forwardGap!.ms >= m.libvirt.downtimeMs! - 20, `forward gap ${v.forwardGap!.ms} ms, pause ${m.libvirt.downtimeMs} ms`);
        destroy("bridged");
        assert.deepEqual([...tmpEntries()].filter((e) => !tmpBefore.has(e)), []);
    });
});
