// The RADIUS server for real, without the lab: the files rendered for a small stack, the
// module's own create, check and delete scripts run in a fresh network namespace (its
// loopback, and the server's address on a veth whose peer is in it too), and real Access-Requests from
// radclient with the secret in a file. The VM gets an Access-Accept with its prefix and
// interface id, an unknown VM and a wrong password an Access-Reject, the MAG a plain
// Access-Accept; a wrong secret, or no Message-Authenticator, no answer at all. A second
// create with the same files leaves the server alone, new files restart it, files that
// FreeRADIUS refuses fail the create with its words, and the delete leaves nothing.
//
//   node --import tsx --test modules/radius/server.test.ts      (as root; skipped otherwise)
import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { validateDocument } from "../../model/validate";
import { shellScript } from "../../lib/scripts";
import { checkCases, fileBundle, listenSocket, radiusFiles } from "./config";
import { interfaceId } from "./model";

const root = process.getuid?.() === 0;
const NS = `wl-test-radius-${process.pid}`;
const ADDR = "2001:db8:a::10";
const PORT = 1812;
const PASSWORD = "pw-Lab 1%{x}${y}\"z";
const SECRETS = ["sec-aaa-0123456789", "sec-mag1-0123456789"];

function stack(users: object[]): any {
    return {
        name: "radtest",
        hosts: [
            // The LMA's host is the AAA server's, as in seed 001: its requests come from the server's own address.
            { name: "aaa", transport: "emulated", roles: ["aaa", "router"], ipv6: { addresses: [{ interface: "eth0", address: `${ADDR}/64` }] } },
            { name: "mag1", transport: "emulated", roles: ["router"], ipv6: { addresses: [{ interface: "eth0", address: "2001:db8:a::2/64" }] } },
            { name: "hv1", transport: "emulated", roles: ["hypervisor"] },
        ],
        links: [{ name: "core", subnet: "10.0.0.0/24", ends: [
            { host: "aaa", interface: "eth0", address: "10.0.0.10/24" },
            { host: "mag1", interface: "eth0", address: "10.0.0.2/24" },
            { host: "hv1", interface: "eth0", address: "10.0.0.3/24" },
        ] }],
        bridges: [{ name: "br1", host: "hv1", type: "linux" }],
        vms: [
            { name: "vm1", host: "hv1", memoryMiB: 128, disk: { local: { sizeMiB: 64 } }, interfaces: [{ bridge: "br1", mac: "00:16:3e:01:01:01" }] },
            { name: "vm2", host: "hv1", memoryMiB: 128, disk: { local: { sizeMiB: 64 } }, interfaces: [{ bridge: "br1", mac: "00:16:3e:01:01:02" }] },
        ],
        radius: {
            host: "aaa", address: ADDR, port: PORT, password: { config: "radiusPassword" },
            clients: [
                { host: "aaa", address: ADDR, secret: { config: "radiusSecretLma" } },
                { host: "mag1", address: "2001:db8:a::2", secret: { config: "radiusSecretMag1" } },
            ],
            users,
        },
    };
}

function specOf(users: object[]) {
    const { spec, errors } = validateDocument(stack(users));
    assert.deepEqual(errors, []);
    return spec!;
}

const run = (cmd: string[], opts: { input?: string; env?: Record<string, string> } = {}) =>
    spawnSync(cmd[0], cmd.slice(1), { input: opts.input ?? "", env: { ...process.env, ...opts.env }, encoding: "utf8", timeout: 60_000 });
const inNs = (script: string, opts: { input?: string; env?: Record<string, string> } = {}) => run(["ip", "netns", "exec", NS, "/bin/sh", "-c", script], opts);

describe("radius: FreeRADIUS for real, in a namespace of its own", { skip: !root && "needs root (a network namespace)" }, () => {
    let tmp = "";
    let dir = "";
    let secretFile = "";
    const env = () => ({ DIR: dir, PORT: String(PORT), LISTEN: listenSocket({ address: ADDR, port: PORT }), STOP_SCRIPT: shellScript(__dirname, "server-stop.sh") });
    const bundle = (users: object[]) => fileBundle(radiusFiles(specOf(users), "radtest", dir, { password: PASSWORD, secrets: SECRETS }));
    const create = (users: object[]) => inNs(shellScript(__dirname, "server-create.sh"), { input: bundle(users), env: env() });
    const pid = () => Number(fs.readFileSync(path.join(dir, "run", "radiusd.pid"), "utf8"));
    const USERS = [{ vm: "vm1", prefix: "2001:db8:1:1::/64" }, { host: "mag1" }];

    /** An Access-Request as a MAG sends it; radclient's answer (-x prints what it sent and got). */
    // An Access-Reject comes after the server's reject_delay (1 s): wait 3 s for an answer,
    // 1 s where none is to come.
    function ask(user: string, o: { password?: string; secret?: string; authenticator?: boolean; timeoutS?: number } = {}) {
        let file = secretFile;
        if (o.secret !== undefined) {
            file = path.join(tmp, "other.secret");
            fs.writeFileSync(file, o.secret, { mode: 0o600 });
        }
        const req = `User-Name = '${user}'\nUser-Password = '${o.password ?? PASSWORD}'\nService-Type = Authenticate-Only\n` +
            (o.authenticator === false ? "" : "Message-Authenticator = 0x00\n");
        const r = inNs(`radclient -x -r 1 -t ${o.timeoutS ?? 3} -S "$SECRET_FILE" "[${ADDR}]:${PORT}" auth`, { input: req, env: { SECRET_FILE: file } });
        const out = r.stdout + r.stderr;
        const received = out.slice(out.indexOf("Received "));
        const code = /^Received (\S+)/m.exec(out)?.[1];
        const attr = (name: string) => new RegExp(`^\\s+${name} = (.*)$`, "m").exec(code ? received : "")?.[1];
        return { code, prefix: attr("Framed-IPv6-Prefix"), ifid: attr("Framed-Interface-Id"), out };
    }
    /** An interface id as four numbers, whichever way FreeRADIUS spells the groups. */
    const groups = (ifid?: string) => ifid?.split(":").map((g) => parseInt(g, 16));

    before(() => {
        assert.equal(run(["sh", "-c", "command -v freeradius radclient"]).status, 0, "freeradius and radclient are not installed (scripts/bootstrap.sh installs them)");
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "wanlab-test-radius-"));
        dir = path.join(tmp, "stack", "radius-aaa");
        secretFile = path.join(tmp, "lma.secret");
        fs.writeFileSync(secretFile, SECRETS[0], { mode: 0o600 });
        for (const cmd of [
            ["ip", "netns", "add", NS],
            ["ip", "-n", NS, "link", "set", "lo", "up"],
            ["ip", "-n", NS, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0-peer"],
            ["ip", "-n", NS, "link", "set", "eth0", "up"],
            ["ip", "-n", NS, "link", "set", "eth0-peer", "up"],
            ["ip", "-n", NS, "-6", "addr", "add", `${ADDR}/64`, "dev", "eth0", "nodad"],
        ]) assert.equal(run(cmd).status, 0, cmd.join(" "));
    });

    after(() => {
        // Whatever a failed test left: the server, the namespace, the files.
        if (dir) inNs(shellScript(__dirname, "server-delete.sh"), { env: env() });
        run(["ip", "netns", "del", NS]);
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("the create checks the files with freeradius -C, starts the server and waits until it answers", () => {
        const r = create(USERS);
        assert.equal(r.status, 0, r.stderr);
        assert.ok(fs.existsSync(`/proc/${pid()}`));
        assert.equal(fs.readFileSync(`/proc/${pid()}/comm`, "utf8").trim(), "freeradius");
        const ss = inNs("ss -Hlun").stdout;
        assert.ok(ss.includes(` [${ADDR}]:${PORT} `), ss);
        assert.ok(ss.includes(` 127.0.0.1:${PORT} `), ss);
        assert.equal(ss.trim().split("\n").length, 2, `only the address and the check's loopback:\n${ss}`);
    });

    it("its files are private: the directory 0700, the files 0600, none world-writable", () => {
        assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
        for (const f of ["radiusd.conf", "clients.conf", "users", "check.conf"]) assert.equal(fs.statSync(path.join(dir, "raddb", f)).mode & 0o777, 0o600, f);
        assert.equal(fs.statSync(path.join(dir, "check.secret")).mode & 0o777, 0o600);
        assert.match(fs.readFileSync(path.join(dir, "check.secret"), "utf8"), /^[0-9a-f]{48}$/);
    });

    it("no process holds a secret on its command line", () => {
        const secrets = [PASSWORD, ...SECRETS, fs.readFileSync(path.join(dir, "check.secret"), "utf8")];
        const leaks = fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p)).filter((p) => {
            try { const cmd = fs.readFileSync(`/proc/${p}/cmdline`, "utf8"); return secrets.some((s) => cmd.includes(s)); } catch { return false; }
        });
        assert.deepEqual(leaks, []);
    });

    it("the VM: an Access-Accept with its Framed-IPv6-Prefix and Framed-Interface-Id", () => {
        const a = ask("000000163e010101");
        assert.equal(a.code, "Access-Accept", a.out);
        assert.equal(a.prefix, "2001:db8:1:1::/64");
        assert.deepEqual(groups(a.ifid), groups(interfaceId("00:16:3e:01:01:01")));
        assert.deepEqual(groups(a.ifid), [0x0216, 0x3eff, 0xfe01, 0x0101]);
    });

    it("the MAG: a plain Access-Accept", () => {
        const a = ask("mag1");
        assert.equal(a.code, "Access-Accept", a.out);
        assert.equal(a.prefix, undefined);
        assert.equal(a.ifid, undefined);
    });

    it("an unknown VM, and a wrong password: an Access-Reject", () => {
        assert.equal(ask("000000deadbeef00").code, "Access-Reject");
        assert.equal(ask("000000163e010102").code, "Access-Reject");
        assert.equal(ask("000000163e010101", { password: "not-it" }).code, "Access-Reject");
    });

    it("a wrong secret, or no Message-Authenticator (BlastRADIUS): no answer", () => {
        const wrong = ask("000000163e010101", { secret: "not-the-secret", timeoutS: 1 });
        assert.equal(wrong.code, undefined, wrong.out);
        assert.match(wrong.out, /No reply from server/);
        const bare = ask("000000163e010101", { authenticator: false, timeoutS: 1 });
        assert.equal(bare.code, undefined, bare.out);
        assert.match(fs.readFileSync(path.join(dir, "radius.log"), "utf8"), /Message-Authenticator/);
    });

    it("the lab's check passes, from the loopback with the server's own check secret", () => {
        const r = inNs(shellScript(__dirname, "check.sh"), { input: `${PASSWORD}\n`, env: { DIR: dir, PORT: String(PORT), HOST_NAME: "aaa", ...checkCases(specOf(USERS)) } });
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /^vm vm1 000000163e010101: Access-Accept, Framed-IPv6-Prefix 2001:db8:1:1::\/64, Framed-Interface-Id \S+$/m);
        assert.match(r.stdout, /^mag mag1: Access-Accept$/m);
        assert.match(r.stdout, /^unknown 000000deadbeef00: Access-Reject$/m);
        assert.ok(!r.stdout.includes(PASSWORD) && !r.stderr.includes(PASSWORD));
    });

    it("the check fails, in words, when the server answers otherwise", () => {
        const cases = checkCases(specOf(USERS));
        const r = inNs(shellScript(__dirname, "check.sh"), {
            input: `${PASSWORD}\n`,
            env: { DIR: dir, PORT: String(PORT), HOST_NAME: "aaa", ...cases, VMS: `${cases.VMS}\nvm2 000000163e010102 2001:db8:1:2::/64 0216:3eff:fe01:0102`, MAGS: "mag1 mag9" },
        });
        assert.equal(r.status, 1);
        assert.match(r.stderr, /^VM 'vm2' \(User-Name 000000163e010102\): expected an Access-Accept, got Access-Reject/m);
        assert.match(r.stderr, /^MAG 'mag9': expected an Access-Accept, got Access-Reject$/m);
        assert.match(r.stderr, /the RADIUS server on aaa does not answer as the stack says/);
        const wrongPassword = inNs(shellScript(__dirname, "check.sh"), { input: "nope\n", env: { DIR: dir, PORT: String(PORT), HOST_NAME: "aaa", ...cases } });
        assert.equal(wrongPassword.status, 1);
    });

    it("a second create with the same files leaves the server alone; new files restart it with them", () => {
        const first = pid();
        assert.equal(create(USERS).status, 0);
        assert.equal(pid(), first);
        const more = [...USERS, { vm: "vm2", prefix: "2001:db8:1:2::/64" }];
        const r = create(more);
        assert.equal(r.status, 0, r.stderr);
        assert.notEqual(pid(), first);
        assert.ok(!fs.existsSync(`/proc/${first}/comm`) || fs.readFileSync(`/proc/${first}/stat`, "utf8").split(") ")[1][0] === "Z");
        const a = ask("000000163e010102");
        assert.equal(a.code, "Access-Accept", a.out);
        assert.equal(a.prefix, "2001:db8:1:2::/64");
    });

    it("files FreeRADIUS refuses fail the create with its words", () => {
        const broken = bundle(USERS).replace("\tpap {\n", "\tno_such_module {\n");
        const r = inNs(shellScript(__dirname, "server-create.sh"), { input: broken, env: env() });
        assert.equal(r.status, 1);
        assert.match(r.stderr, /FreeRADIUS refuses the configuration in .*raddb:/);
        assert.match(r.stderr, /no_such_module/);
        assert.ok(!r.stderr.includes(PASSWORD) && !SECRETS.some((s) => r.stderr.includes(s)));
        // And the next good create brings it back.
        const again = create(USERS);
        assert.equal(again.status, 0, again.stderr);
        assert.equal(ask("000000163e010101").code, "Access-Accept");
    });

    it("the delete stops the server and leaves no file; then no namespace is left", () => {
        const last = pid();
        const r = inNs(shellScript(__dirname, "server-delete.sh"), { env: env() });
        assert.equal(r.status, 0, r.stderr);
        assert.ok(!fs.existsSync(`/proc/${last}/comm`) || fs.readFileSync(`/proc/${last}/stat`, "utf8").split(") ")[1][0] === "Z");
        assert.equal(run(["pgrep", "-f", "--", `-d ${dir}/raddb`]).status, 1, "no freeradius of this test runs");
        assert.ok(!fs.existsSync(dir));
        assert.ok(!fs.existsSync(path.dirname(dir)), "the stack's folder, empty, is gone too");
        assert.equal(run(["ip", "netns", "del", NS]).status, 0);
        assert.ok(!run(["ip", "netns", "list"]).stdout.split("\n").some((l) => l.startsWith(`${NS} `) || l === NS));
    });
});
