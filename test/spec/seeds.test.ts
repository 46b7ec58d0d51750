// Seeds 003 and 004's stacks, and each mistake in them named before anything is created:
// an NFS export no hypervisor reaches (or lets in), a VM's probe without a target or
// aimed elsewhere, a copy option without a disk to copy, a disk size for storage that
// cannot take one, a tunnel that closes a loop, and the free space a local disk needs.
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { validateDocument } from "../../model/validate";
import { applySettings, settledErrors } from "../../model/config";
import { diskDemand, diskSpaceLines } from "../../modules/libvirt/limits";

const ROOT = path.resolve(__dirname, "..", "..");
const stack = (name: string): any => yaml.load(fs.readFileSync(path.join(ROOT, "stacks", `${name}.yaml`), "utf8"));
const errorsOf = (doc: unknown) => validateDocument(doc).errors.map((e) => `${e.pointer}: ${e.reason}`);

describe("seeds 003 and 004: the shipped stacks", () => {
    for (const name of ["seed003-intra", "seed003-nat", "seed003-bridged", "seed004-shared", "seed004-local"]) {
        it(`${name} is valid`, () => assert.deepEqual(errorsOf(stack(name)), []));
    }
    it("NAT: nothing outside reaches the VM, so the proxy does not ping it; the VM's TCP probe goes to its echo target", () => {
        const { spec } = validateDocument(stack("seed003-nat"));
        assert.equal(spec!.migration!.probe.toVm, false);
        assert.equal(spec!.migration!.probe.address, "172.31.100.14");
    });
});

describe("seeds 003 and 004: mistakes, in words", () => {
    it("an NFS export that lets in neither hypervisor's subnet", () => {
        const doc = stack("seed003-intra");
        doc.storage[0].clients = ["10.99.0.0/24"];
        const errs = errorsOf(doc);
        assert.ok(errs.some((e) => e.startsWith("/vms/0/disk/storage: host 'host-a', where VM 'vm1' may run, reaches storage 'home' from 172.31.132.62, " +
            "which none of its clients (10.99.0.0/24) lets in")), errs.join("\n"));
    });
    it("an NFS export that no hypervisor can reach, before any VM uses it", () => {
        const doc = stack("seed003-intra");
        doc.vms[0].disk = { local: { sizeMiB: 64 } };
        doc.hosts.find((h: any) => h.name === "storage").routes = [];
        assert.deepEqual(errorsOf(doc).filter((e) => e.startsWith("/storage/0/server")), [
            "/storage/0/server: no hypervisor can reach storage 'home' at 172.31.100.20 (host 'host-a': the reply cannot come back to 172.31.132.62: " +
            "host 'storage' has no route to 172.31.132.62; host 'host-b': the reply cannot come back to 172.31.132.63: host 'storage' has no route to 172.31.132.63)",
        ]);
    });
    it("an NFS server on an address that is not its host's", () => {
        const doc = stack("seed003-intra");
        doc.storage[0].server = "172.31.100.14";
        assert.ok(errorsOf(doc).includes("/storage/0/server: 172.31.100.14 is not an address of host 'storage'"));
    });
    it("a VM-side probe without a target", () => {
        const doc = stack("seed003-nat");
        doc.migration.probe.fromVm = {};
        assert.deepEqual(errorsOf(doc), ["/migration/probe/fromVm: missing required property 'target'"]);
    });
    it("a VM-side probe aimed at another host's address", () => {
        const doc = stack("seed003-nat");
        doc.migration.probe.fromVm.target = "172.31.100.20";
        assert.ok(errorsOf(doc).includes("/migration/probe/fromVm/target: 172.31.100.20 is host 'storage''s address, not one of host 'proxy' " +
            "(the probe host, which runs the migration and the target of the VM's probe)"), errorsOf(doc).join("\n"));
    });
    it("a VM behind a NAT with nothing to measure it, or request/response it cannot reach", () => {
        const doc = stack("seed003-nat");
        delete doc.migration.probe.fromVm;
        doc.migration.tcpWatch = { requestResponse: true };
        const errs = errorsOf(doc);
        assert.ok(errs.includes("/migration/probe/toVm: with toVm false nothing would see the VM through the migration: give the VM its own probe (fromVm: { target: an address of the probe host })"), errs.join("\n"));
        assert.ok(errs.includes("/migration/tcpWatch/requestResponse: request/response runs from the probe host to the VM, which it cannot reach (toVm is false): turn one of them off"), errs.join("\n"));
    });
    it("the NAT stack's VM reached from outside (toVm true): the proxy has no route to its private address", () => {
        const doc = stack("seed003-nat");
        doc.migration.probe.toVm = true;
        assert.ok(errorsOf(doc).some((e) => e.startsWith("/migration/probe/from: the probe from host 'proxy' cannot reach VM 'vm1' at 192.168.122.100 while it runs on host 'host-a': host 'proxy' has no route to 192.168.122.100")));
    });
    it("NAT on a host that is not a hypervisor", () => {
        const doc = stack("seed003-nat");
        doc.nat.push({ host: "gw-a", inside: "eth1", outside: "eth0" });
        assert.ok(errorsOf(doc).some((e) => e.startsWith("/nat/2/host: host 'gw-a' is not a hypervisor")), errorsOf(doc).join("\n"));
    });
    it("a copy option for a VM whose disk is shared", () => {
        const doc = stack("seed004-shared");
        doc.migration.copyStorage = "inc";
        assert.deepEqual(errorsOf(doc), ["/migration/copyStorage: VM 'vm1' has its disk on shared storage 'shared': there is no disk to copy (copyStorage is for a local disk)"]);
    });
    it("a run's disk size for an iSCSI LUN, which a run cannot resize", () => {
        const { spec } = validateDocument(yaml.load(fs.readFileSync(path.join(ROOT, "stacks", "local.yaml"), "utf8")));
        assert.deepEqual(settledErrors(applySettings(spec!, { vmDiskMiB: 1024 })), [
            "wanlab:vmDiskMiB sets the size of VM 'vm1''s disk, which is on iscsi storage 'shared', whose size a run cannot change: " +
            "give the storage its size in the stack file and unset it (pulumi config rm wanlab:vmDiskMiB)",
        ]);
        // A local disk takes it, and so does an NFS export's image.
        const local = applySettings(validateDocument(stack("seed004-local")).spec!, { vmDiskMiB: 4096 });
        assert.deepEqual([local.vms[0].disk, settledErrors(local)], [{ local: { sizeMiB: 4096 } }, []]);
        const shared = applySettings(validateDocument(stack("seed004-shared")).spec!, { vmDiskMiB: 4096 });
        assert.deepEqual([(shared.storage[0] as any).sizeMiB, settledErrors(shared)], [4096, []]);
    });
    it("a tunnel that joins two bridges a LAN joins already: the single-bridge loop (003.md §5)", () => {
        const doc = stack("seed003-bridged");
        // Both hosts' uplinks on one LAN, as if the two campus subnets were one L2 domain.
        doc.links[1].ends[0].host = "host-b";
        doc.links[0].ends.push({ host: "host-b", interface: "eth1", bridge: "br-phy" });
        doc.links[1].ends[0] = { host: "gw-b", interface: "eth3", address: "172.31.128.2/22" };
        const errs = errorsOf(doc);
        assert.ok(errs.some((e) => e.startsWith("/tunnels/0/endpoints/1/bridge: bridge 'br-phy' on host 'host-b' and bridge 'br-phy' on host 'host-a' are one L2 segment already")), errs.join("\n"));
    });
    it("a local disk needs free space on the machine for each copy a migration may leave", () => {
        const { spec } = validateDocument(stack("seed004-local"));
        assert.deepEqual(diskDemand(spec!).get("this machine"), { mib: 2048, parts: ["VM 'vm1' on 'host-a' 1024 MiB", "VM 'vm1' on 'host-b' 1024 MiB"] });
        const lines = diskSpaceLines(spec!, spec!.hosts[0]).join("\n");
        assert.match(lines, /\[ "\$free_mib" -ge 2048 \] \|\| add "disk space: this machine has \$free_mib MiB free at \$d, and its VMs' local disks need 2048 MiB/);
        // Said once per machine: by its first hypervisor.
        assert.deepEqual(diskSpaceLines(spec!, spec!.hosts[1]), []);
    });
});
