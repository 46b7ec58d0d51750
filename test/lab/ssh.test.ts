// The ssh transport for real: OpenSSH servers run inside two emulated hosts, with keys
// generated for this test, and a second stack drives them over SSH from a third host,
// exactly as it would drive real lab machines. The private key is a Pulumi secret.
import { after, before, describe, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Engine, residue, ROOT, sh, stackConfigFile } from "./harness";

const BASE = "t-sshbase";
const REMOTE = "t-sshremote";
const MGMT = `wl-${BASE}-mgmt`;
const SSHD = "/usr/sbin/sshd";

describe("ssh transport against OpenSSH servers in emulated hosts", () => {
    const engine = new Engine();
    const keys = fs.mkdtempSync(path.join(os.tmpdir(), "wanlab-test-ssh-"));
    const clientKey = path.join(keys, "client");
    let keyText = "";

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
        engine.initStack(REMOTE, path.join(ROOT, "test/lab/fixtures/ssh-remote.yaml"));
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
