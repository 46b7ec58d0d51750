// The router appliance image (scripts/image.sh router), booted for real under QEMU in a
// namespace of the test's own: it must come up with an SSH server that takes the lab's
// key, and its kernel must have what this machine's lacks: NetEm, GRE, IPv6 tunnels,
// Open vSwitch. Its management NIC is QEMU's user network with `restrict=on`: the guest
// reaches nothing, and only 127.0.0.1 of the test's namespace reaches its sshd.
import { after, before, describe, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT, sh } from "./harness";

const NS = "wl-t-appliance";
const IMAGE = path.join(ROOT, ".cache", "images", "router");

describe("router appliance image", () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "wanlab-test-appliance-"));
    const key = path.join(work, "id");
    const ssh = (cmd: string) => sh(`ip netns exec ${NS} ssh -i ${key} -p 2222 -o BatchMode=yes -o StrictHostKeyChecking=no ` +
        `-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=5 root@127.0.0.1 '${cmd}'`);

    before(() => {
        assert.ok(fs.existsSync(path.join(IMAGE, "initrd.img")), "scripts/bootstrap.sh builds the image (scripts/image.sh router)");
        assert.equal(sh(`ssh-keygen -q -t ed25519 -N '' -f ${key}`).code, 0);
        assert.equal(sh(`ip netns add ${NS} && ip -n ${NS} link set lo up`).code, 0);
        const pub = Buffer.from(fs.readFileSync(`${key}.pub`, "utf8").trim()).toString("base64");
        const r = sh([
            `ip netns exec ${NS} qemu-system-x86_64 -machine accel=tcg -m 256 -display none -no-reboot`,
            `-kernel ${IMAGE}/vmlinuz -initrd ${IMAGE}/initrd.img`,
            `-append 'console=ttyS0 quiet panic=-1 wanlab.mgmt=10.0.2.15/24 wanlab.key=${pub} wanlab.name=r1'`,
            "-netdev user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:2222-:22 -device virtio-net-pci,netdev=mgmt",
            `-serial file:${work}/console.log -daemonize -pidfile ${work}/qemu.pid`,
        ].join(" "));
        assert.equal(r.code, 0, r.out);
    });

    after(() => {
        if (fs.existsSync(`${work}/qemu.pid`)) sh(`kill $(cat ${work}/qemu.pid)`);
        sh(`for i in $(seq 50); do [ -z "$(ip netns pids ${NS})" ] && break; sleep 0.1; done; ip netns del ${NS}`);
        fs.rmSync(work, { recursive: true, force: true });
    });

    test("boots and lets the lab in over SSH with its key", (t) => {
        const t0 = Date.now();
        let r = ssh("true");
        while (r.code !== 0 && Date.now() - t0 < 180_000) {
            sh("sleep 2");
            r = ssh("true");
        }
        assert.equal(r.code, 0, `no SSH after 180 s: ${r.out}\n${fs.readFileSync(`${work}/console.log`, "utf8")}`);
        t.diagnostic(`ssh answered ${((Date.now() - t0) / 1000).toFixed(1)} s after QEMU started`);
        assert.equal(ssh("hostname").out.trim(), "r1");
    });

    test("its kernel has NetEm, with the pareto distribution table", () => {
        const r = ssh("tc qdisc add dev lo root netem delay 30ms 6ms distribution pareto && tc qdisc show dev lo");
        assert.equal(r.code, 0, r.out);
        assert.match(r.out, /qdisc netem .* delay 30ms\s+6ms/);
    });

    test("and FRR: zebra and ripd start, and vtysh talks to them", () => {
        const r = ssh([
            "/usr/lib/frr/zebra -d -u frr -g frr",
            "/usr/lib/frr/ripd -d -u frr -g frr",
            "sleep 1",
            "vtysh -c \"show version\"",
            "vtysh -c \"configure terminal\" -c \"router rip\" -c \"network 10.9.0.0/16\" -c \"end\" -c \"show running-config\"",
        ].join(" && "));
        assert.equal(r.code, 0, r.out);
        assert.match(r.out, /FRRouting \d+\.\d+/);
        assert.match(r.out, /^router rip\n network 10\.9\.0\.0\/16$/m);
    });

    test("and GRE, IPv6 tunnels, VXLAN, bridges, Open vSwitch, and veth between namespaces", () => {
        const r = ssh([
            "ip link add gre1 type gre local 10.9.0.1 remote 10.9.0.2",
            // Several routers in one appliance, as namespaces (bench/one-appliance-gre.sh).
            "ip netns add r9", "ip link add v9 type veth peer name v9 netns r9", "ip -n r9 -br link show v9", "ip netns del r9",
            "ip link add ip6t1 type ip6tnl local fd00::1 remote fd00::2",
            "ip link add vx1 type vxlan id 7 dstport 4789",
            "ip link add br9 type bridge",
            "grep -q ^openvswitch /proc/modules",
            "ip -br link",
        ].join(" && "));
        assert.equal(r.code, 0, r.out);
        for (const dev of ["gre1", "ip6t1", "vx1", "br9"]) assert.match(r.out, new RegExp(`^${dev}[@ ]`, "m"));
    });
});
