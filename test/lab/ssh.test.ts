// The ssh transport for real: OpenSSH servers run inside two emulated hosts, with keys
// generated for this test, and a second stack drives them over SSH from a third host,
// exactly as it would drive real lab machines. The private key is a Pulumi secret.
import { after, before, describe, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { Engine, residue, ROOT, sh, stackConfigFile } from "./harness";
import { probeThisMachine } from "../../modules/libvirt/accel";
import { GUEST_IMAGE } from "../../modules/libvirt/vm";
import { fingerprint } from "../../model/known-hosts";
import { execFileSync } from "node:child_process";

const BASE = "t-sshbase";
const REMOTE = "t-sshremote";
const KVM_STACK = "t-sshkvm";
const MGMT = `wl-${BASE}-mgmt`;
const SSHD = "/usr/sbin/sshd";

describe("ssh transport against OpenSSH servers in emulated hosts", () => {
    const engine = new Engine();
    const keys = fs.mkdtempSync(path.join(os.tmpdir(), "wanlab-test-ssh-"));
    const clientKey = path.join(keys, "client");
    let keyText = "";
    let hostPub = "";
    /** ssh-remote.yaml with these ssh settings added per host, as a file of its own. */
    const pinned = (extra: Record<string, object>, name = "ssh-remote.yaml") => {
        const doc = yaml.load(fs.readFileSync(path.join(ROOT, "test/lab/fixtures/ssh-remote.yaml"), "utf8")) as any;
        for (const h of doc.hosts) Object.assign(h.ssh, extra[h.name] ?? {});
        const file = path.join(keys, name);
        fs.writeFileSync(file, yaml.dump(doc));
        return file;
    };

    const startSshd = (host: string, address: string) => {
        const r = sh([
            `nsenter --net=/run/netns/wl-${BASE}-${host} ${SSHD} -f ${keys}/sshd_config`,
            `-o ListenAddress=${address} -o PidFile=${keys}/${host}.pid`,
        ].join(" "));
        assert.equal(r.code, 0, `sshd in ${host}: ${r.out}`);
    };
    const stopSshd = (host: string) => {
        const pidFile = `${keys}/${host}.pid`;
        if (fs.existsSync(pidFile)) sh(`kill $(cat ${pidFile})`);
    };

    before(() => {
        assert.ok(fs.existsSync(SSHD), `${SSHD} is missing: scripts/bootstrap.sh installs openssh-server`);
        engine.initStack(BASE, path.join(ROOT, "test/lab/fixtures/ssh-base.yaml"));
        engine.ok(["up", "--yes", "--stack", BASE, "--skip-preview"]);

        assert.equal(sh(`ssh-keygen -q -t ed25519 -N '' -f ${keys}/host_key && ssh-keygen -q -t ed25519 -N '' -C wanlab-test -f ${clientKey}`).code, 0);
        fs.copyFileSync(`${clientKey}.pub`, `${keys}/authorized_keys`);
        fs.writeFileSync(`${keys}/sshd_config`, [
            `HostKey ${keys}/host_key`,
            `AuthorizedKeysFile ${keys}/authorized_keys`,
            "PermitRootLogin prohibit-password",
            "PasswordAuthentication no",
            "StrictModes no",
            "UsePAM no",
            "UseDNS no",
            "",
        ].join("\n"));
        fs.mkdirSync("/run/sshd", { recursive: true });
        startSshd("a", "10.20.1.2");
        startSshd("b", "10.20.2.2");

        keyText = fs.readFileSync(clientKey, "utf8");
        // Both hosts pinned: a by its key in the stack file, b by a known_hosts file.
        hostPub = fs.readFileSync(`${keys}/host_key.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ");
        fs.writeFileSync(`${keys}/known_hosts`, `10.20.2.2 ${hostPub}\n`);
        engine.initStack(REMOTE, pinned({ a: { hostKey: hostPub }, b: { knownHosts: `${keys}/known_hosts` } }));
        engine.ok(["config", "set", "--secret", "--stack", REMOTE, "labKey", "--", keyText]);
    });

    after(() => {
        // The remote stack first (its engine needs the mgmt namespace), then the servers.
        engine.pulumi(["destroy", "--yes", "--stack", REMOTE, "--skip-preview"], { netns: MGMT });
        stopSshd("a");
        stopSshd("b");
        engine.cleanup();
        fs.rmSync(keys, { recursive: true, force: true });
    });

    test("up over ssh addresses the NICs, passes preflight and the ping check", () => {
        const r = engine.ok(["up", "--yes", "--stack", REMOTE, "--skip-preview"], { netns: MGMT });
        assert.match(r.stdout, /\+ 11 created/);
        const out = JSON.parse(engine.ok(["stack", "output", "--json", "--stack", REMOTE]).stdout);
        assert.match(out.checks["a-to-b"], /3 packets transmitted, 3 received, 0% packet loss/);
        assert.match(sh(`ip -n wl-${BASE}-a -4 addr show dev eth1`).out, /inet 10\.40\.0\.1\/30/);
        assert.match(sh(`ip -n wl-${BASE}-b -4 addr show dev eth1`).out, /inet 10\.40\.0\.2\/30/);
    });

    test("the private key never appears in plain text in state, config or outputs", () => {
        const body = keyText.split("\n")[1];
        assert.ok(body.length > 20);
        assert.ok(!engine.stateText(REMOTE).includes(body), "key in state");
        assert.ok(engine.stateText(REMOTE).includes("ciphertext"), "secrets are stored encrypted");
        assert.ok(!fs.readFileSync(stackConfigFile(REMOTE), "utf8").includes(body), "key in stack config");
        const outputs = engine.ok(["stack", "output", "--json", "--stack", REMOTE]).stdout;
        assert.ok(!outputs.includes(body), "key in outputs");
    });

    test("a second preview over ssh finds nothing to change", () => {
        const r = engine.ok(["preview", "--stack", REMOTE, "--json"], { netns: MGMT });
        assert.deepEqual(JSON.parse(r.stdout).changeSummary, { same: 11 });
    });

    test("an ssh hypervisor runs the same KVM probe in its preflight: accel kvm is refused there, before anything is created", (t) => {
        const kvm = probeThisMachine(path.join(GUEST_IMAGE, "vmlinuz"), path.join(GUEST_IMAGE, "initrd.img"));
        if (kvm.ok) return t.skip("KVM runs a guest on this machine: the ssh hosts' preflight passes, and they have no libvirtd");
        // The ssh hosts are namespaces of this machine: the guest image is at the same path there.
        const doc = {
            name: "ssh-kvm",
            hosts: ["a", "b"].map((h, i) => ({
                name: h, transport: "ssh", roles: ["hypervisor"], accel: "kvm",
                ssh: { address: `10.20.${i + 1}.2`, privateKey: { config: "labKey" } },
            })),
            links: [{ name: "lab", subnet: "10.40.0.0/30", ends: [
                { host: "a", interface: "eth1", bridge: "br0" }, { host: "b", interface: "eth1", bridge: "br0" }] }],
            bridges: [{ name: "br0", host: "a", type: "linux", address: "10.40.0.1/30" }, { name: "br0", host: "b", type: "linux", address: "10.40.0.2/30" }],
            storage: [{ name: "disk", host: "b", type: "iscsi", portal: "10.40.0.2", iqn: "iqn.2015-02.com.example:disk", sizeMiB: 16 }],
            vms: [{
                name: "vm1", host: "a", memoryMiB: 128, disk: { storage: "disk" },
                image: { kernel: path.join(GUEST_IMAGE, "vmlinuz"), initrd: path.join(GUEST_IMAGE, "initrd.img") },
                interfaces: [{ bridge: "br0", mac: "52:54:00:00:09:01", address: "10.40.0.100/30" }],
            }],
        };
        const file = path.join(keys, "ssh-kvm.yaml");
        fs.writeFileSync(file, JSON.stringify(doc));
        const cache = "/root/.cache/wanlab/kvm-probe";
        const cachedBefore = new Set(fs.existsSync(cache) ? fs.readdirSync(cache) : []);
        const madeCacheDir = !fs.existsSync("/root/.cache/wanlab");
        engine.initStack(KVM_STACK, file);
        engine.ok(["config", "set", "--secret", "--stack", KVM_STACK, "labKey", "--", keyText]);
        try {
            const r = engine.pulumi(["up", "--yes", "--stack", KVM_STACK, "--skip-preview"], { netns: MGMT });
            const out = r.stdout + r.stderr;
            assert.notEqual(r.code, 0);
            assert.match(out, /host 'a' \(ssh 10\.20\.1\.2\) is missing:/);
            assert.match(out, /a KVM that runs guests \(accel: kvm\), but KVM did not run a guest here: a guest under kvm with -cpu qemu64 /);
            assert.match(out, /Use accel: tcg \(emulation\), or auto/);
            const state = JSON.parse(engine.ok(["stack", "export", "--stack", KVM_STACK]).stdout);
            const made = (state.deployment.resources ?? []).filter((x: any) => x.type.startsWith("command:") && !/-preflight$/.test(x.urn));
            assert.deepEqual(made.map((x: any) => x.urn), [], "nothing but preflights");
            assert.doesNotMatch(sh(`ip -n wl-${BASE}-a link show br0 2>&1`).out, /br0:/);
        } finally {
            // The ssh hosts' machine cache is this machine's home: remove what this test made there.
            for (const f of fs.existsSync(cache) ? fs.readdirSync(cache) : []) if (!cachedBefore.has(f)) fs.rmSync(path.join(cache, f));
            if (madeCacheDir) fs.rmSync("/root/.cache/wanlab", { recursive: true, force: true });
        }
    });

    test("host keys: one the known_hosts file does not have is unknown, one that differs from the pin is refused, and nothing is created", () => {
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", `${keys}/other`]);
        const other = fs.readFileSync(`${keys}/other.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ");
        fs.writeFileSync(`${keys}/known_hosts_a_only`, `10.20.1.2 ${hostPub}\n`);
        const stack = "t-sshpin";
        engine.initStack(stack, pinned({ a: { hostKey: hostPub }, b: { knownHosts: `${keys}/known_hosts_a_only` } }, "unknown.yaml"));
        engine.ok(["config", "set", "--secret", "--stack", stack, "labKey", "--", keyText]);
        const unknown = engine.pulumi(["up", "--yes", "--stack", stack, "--skip-preview"], { netns: MGMT });
        assert.notEqual(unknown.code, 0);
        assert.ok((unknown.stdout + unknown.stderr).includes(`/hosts/1/ssh/knownHosts: host 'b': ${keys}/known_hosts_a_only has no key for 10.20.2.2, so its key is unknown`),
            unknown.stdout + unknown.stderr);
        const made = () => (JSON.parse(engine.ok(["stack", "export", "--stack", stack]).stdout).deployment.resources ?? []).filter((x: any) => x.type.startsWith("command:"));
        assert.deepEqual(made(), []);

        engine.ok(["config", "set", "--stack", stack, "wanlab:spec", pinned({ a: { hostKey: other }, b: { knownHosts: `${keys}/known_hosts` } }, "changed.yaml")]);
        const changed = engine.pulumi(["up", "--yes", "--stack", stack, "--skip-preview"], { netns: MGMT });
        assert.notEqual(changed.code, 0);
        const out = changed.stdout + changed.stderr;
        assert.ok(out.includes(`refused: the host key of 10.20.1.2:22 is not the pinned one (it offered ${fingerprint(hostPub)}, and the stack pins ${fingerprint(other)})`), out);
        // b's preflight passed, a's was refused: no link, address or check on either.
        assert.deepEqual(made().filter((x: any) => !/-preflight$/.test(x.urn)).map((x: any) => x.urn), []);
    });

    test("destroy over ssh removes the addresses it added, and the base lab leaves nothing", () => {
        engine.ok(["destroy", "--yes", "--stack", REMOTE, "--skip-preview"], { netns: MGMT });
        assert.doesNotMatch(sh(`ip -n wl-${BASE}-a -4 addr show dev eth1`).out, /10\.40\.0\.1/);
        assert.doesNotMatch(sh(`ip -n wl-${BASE}-b -4 addr show dev eth1`).out, /10\.40\.0\.2/);
        stopSshd("a");
        stopSshd("b");
        engine.ok(["destroy", "--yes", "--stack", BASE, "--skip-preview"]);
        assert.deepEqual(residue(BASE), []);
    });
});
