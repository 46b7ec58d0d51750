// Exercises tools/engine/command-provider.ts for real: local commands run
// through /bin/sh, remote ones through a throwaway OpenSSH server on 127.0.0.1.
//
//   node --import tsx --test test/unit/command-provider.test.ts

import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { fingerprint } from "../../model/known-hosts";
import { commandProvider as provider, secret, isSecret, shellQuote, unwrap } from "../../tools/engine/command-provider";

const SIG = "4dabf18193072939515e22adb298388d";
const ASSET = "c44067f5952c0a294b673a41bacd8c17";
const ARCHIVE = "0def7320c3a5731c473e5ecbe6d01bc7";

const urn = (type: string, name = "test") => `urn:pulumi:dev::wanlab::${type}::${name}`;
const LOCAL = urn("command:local:Command");
const REMOTE = urn("command:remote:Command");
const COPY = urn("command:remote:CopyToRemote");

function tmpDir(prefix: string): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

async function createLocal(inputs: Record<string, any>) {
    const checked = await provider.check!(LOCAL, {}, inputs);
    assert.deepEqual(checked.failures, []);
    return provider.create!(LOCAL, checked.inputs);
}

describe("local.Command", () => {
    it("runs create with environment, stdin and dir, trimming one trailing newline", async () => {
        const dir = tmpDir("cmdprov-dir-");
        try {
            const res = await createLocal({
                create: 'echo "foo=$FOO"; cat; pwd; printf "warn\\n\\n" >&2',
                environment: { FOO: "bar baz" },
                stdin: "from-stdin\n",
                dir,
            });
            assert.match(res.id, /^[0-9a-f]{32}$/);
            assert.equal(res.outs.stdout, `foo=bar baz\nfrom-stdin\n${fs.realpathSync(dir)}`);
            assert.equal(res.outs.stderr, "warn\n"); // only one newline stripped
            assert.equal(res.outs.addPreviousOutputInEnv, true); // default from check
            assert.equal(res.outs.dir, dir);
            assert.equal(res.outs.assets, undefined);
            assert.equal(res.outs.archive, undefined);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("honours a custom interpreter and tolerates assetPaths/archivePaths", async () => {
        const res = await createLocal({
            create: "process.stdout.write(String(6 * 7))",
            interpreter: [process.execPath, "-e"],
            assetPaths: ["*.txt"],
            archivePaths: ["**"],
        });
        assert.equal(res.outs.stdout, "42");
        assert.equal(res.outs.assets, undefined);
    });

    it("update runs `update` with the previous output in the environment, else re-runs create", async () => {
        const created = await createLocal({ create: "echo first" });
        const news = { ...created.outs, update: 'echo "prev=$PULUMI_COMMAND_STDOUT"' };
        delete news.stdout;
        delete news.stderr;
        const updated = await provider.update!(created.id, LOCAL, created.outs, news);
        assert.equal(updated.outs.stdout, "prev=first");

        const recreated = await provider.update!(created.id, LOCAL, created.outs, { create: "echo again", addPreviousOutputInEnv: true });
        assert.equal(recreated.outs.stdout, "again");
    });

    it("a previous output over 64 KiB reaches update in a private file, not the environment (where exec refuses over 128 KiB)", async () => {
        // 200 KiB of output: a migration record at 1 ms probes is larger still.
        const created = await createLocal({ create: "head -c 204800 /dev/zero | tr '\\0' x" });
        assert.equal(created.outs.stdout.length, 204800);
        const news = { ...created.outs, update: 'printf "%s %s " "${PULUMI_COMMAND_STDOUT-unset}" "$(stat -c %a "$PULUMI_COMMAND_STDOUT_FILE")"; wc -c < "$PULUMI_COMMAND_STDOUT_FILE"; echo "$PULUMI_COMMAND_STDOUT_FILE" >&2' };
        delete news.stdout;
        delete news.stderr;
        const updated = await provider.update!(created.id, LOCAL, created.outs, news);
        assert.equal(updated.outs.stdout, "unset 600 204800");
        assert.ok(!fs.existsSync(updated.outs.stderr), `${updated.outs.stderr} is removed once the command ends`);
    });

    it("delete runs `delete` with PULUMI_COMMAND_STDOUT/STDERR unless addPreviousOutputInEnv is false", async () => {
        const dir = tmpDir("cmdprov-del-");
        try {
            const out = path.join(dir, "out.txt");
            const del = `printf '%s|%s' "\${PULUMI_COMMAND_STDOUT-unset}" "\${PULUMI_COMMAND_STDERR-unset}" > ${shellQuote(out)}`;
            const created = await createLocal({ create: "echo hello; echo oops >&2", delete: del });
            await provider.delete!(created.id, LOCAL, created.outs);
            assert.equal(fs.readFileSync(out, "utf8"), "hello|oops");

            const quiet = await createLocal({ create: "echo hello", delete: del, addPreviousOutputInEnv: false });
            await provider.delete!(quiet.id, LOCAL, quiet.outs);
            assert.equal(fs.readFileSync(out, "utf8"), "unset|unset");

            // No delete command: nothing to do.
            await provider.delete!(quiet.id, LOCAL, { create: "true", stdout: "", stderr: "" });
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("fails on a non-zero exit with the exit code and the tails of stderr and stdout", async () => {
        const script = "for i in $(seq 1 30); do echo line$i >&2; done; echo partial-out; exit 3";
        await assert.rejects(createLocal({ create: script }), (e: Error) => {
            assert.match(e.message, /exited with code 3/);
            assert.match(e.message, /line30/);
            assert.match(e.message, /line11\n/); // the 20th line from the end
            assert.doesNotMatch(e.message, /line10\n/); // older lines are cut
            assert.match(e.message, /partial-out/);
            return true;
        });
        await assert.rejects(createLocal({ create: "true", dir: "/nonexistent/dir" }), /does not exist/);
    });

    it("marks stdout/stderr secret when any input is secret, and redacts secrets from errors", async () => {
        const res = await createLocal({ create: 'echo "$TOKEN"; echo e >&2', environment: { TOKEN: secret("s3cr3t-value") } });
        assert.ok(isSecret(res.outs.stdout));
        assert.deepEqual(res.outs.stdout, secret("s3cr3t-value"));
        assert.deepEqual(res.outs.stderr, secret("e"));
        assert.deepEqual(res.outs.environment, { TOKEN: secret("s3cr3t-value") }); // inputs stay wrapped

        const plain = await createLocal({ create: "echo visible" });
        assert.equal(plain.outs.stdout, "visible");

        await assert.rejects(
            createLocal({ create: 'echo "leak $TOKEN"; exit 1', environment: { TOKEN: secret("s3cr3t-value") } }),
            (e: Error) => {
                assert.doesNotMatch(e.message, /s3cr3t-value/);
                assert.match(e.message, /\[secret\]/);
                return true;
            },
        );
    });

    it("check applies defaults and reports a missing create", async () => {
        const ok = await provider.check!(LOCAL, {}, { create: "true", addPreviousOutputInEnv: false });
        assert.equal(ok.inputs.addPreviousOutputInEnv, false);
        const bad = await provider.check!(LOCAL, {}, { delete: "true" });
        assert.equal(bad.failures?.[0]?.property, "create");
    });
});

describe("diff", () => {
    const olds = { create: "echo a", triggers: ["1"], addPreviousOutputInEnv: true, stdout: "a", stderr: "" };
    const news = { create: "echo a", triggers: ["1"], addPreviousOutputInEnv: true };

    it("reports no change when only outputs differ from the inputs", async () => {
        assert.deepEqual(await provider.diff!("id", LOCAL, olds, news), { changes: false, replaces: [], deleteBeforeReplace: false });
    });

    it("replaces on a trigger change", async () => {
        const d = await provider.diff!("id", LOCAL, olds, { ...news, triggers: ["2"] });
        assert.equal(d.changes, true);
        assert.deepEqual(d.replaces, ["triggers"]);
    });

    it("updates in place when create changes", async () => {
        const d = await provider.diff!("id", LOCAL, olds, { ...news, create: "echo b" });
        assert.equal(d.changes, true);
        assert.deepEqual(d.replaces, []);
    });

    it("ignores a change in secret-ness only, but sees a changed secret value", async () => {
        const d = await provider.diff!("id", LOCAL, olds, { ...news, create: secret("echo a") });
        assert.equal(d.changes, false);
        const oldSecret = { ...olds, environment: { K: secret("v1") } };
        const d2 = await provider.diff!("id", LOCAL, oldSecret, { ...news, environment: { K: secret("v2") } });
        assert.equal(d2.changes, true);
        assert.deepEqual(d2.replaces, []);
    });

    it("replaces CopyToRemote on source, remotePath or connection changes", async () => {
        const base = { source: { [SIG]: ASSET, text: "x", hash: "h1" }, remotePath: "/tmp/x", connection: secret({ host: "a", port: 22 }) };
        assert.equal((await provider.diff!("id", COPY, base, { ...base })).changes, false);
        assert.deepEqual((await provider.diff!("id", COPY, base, { ...base, remotePath: "/tmp/y" })).replaces, ["remotePath"]);
        assert.deepEqual(
            (await provider.diff!("id", COPY, base, { ...base, connection: secret({ host: "b", port: 22 }) })).replaces,
            ["connection"],
        );
    });
});

// ---------------------------------------------------------------------------
// Remote resources against a real sshd
// ---------------------------------------------------------------------------

const SSHD = "/usr/sbin/sshd";

function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.on("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const port = (srv.address() as net.AddressInfo).port;
            srv.close(() => resolve(port));
        });
    });
}

function canConnect(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const sock = net.connect(port, "127.0.0.1");
        sock.once("connect", () => {
            sock.destroy();
            resolve(true);
        });
        sock.once("error", () => resolve(false));
    });
}

describe("remote.Command and remote.CopyToRemote over a real sshd", () => {
    let dir = "";
    let sshd: ChildProcess | undefined;
    let sshdLog = "";
    let connection: Record<string, any> = {};
    let hostPublicKey = "";

    const stopSshd = () => {
        if (sshd && sshd.exitCode === null && sshd.signalCode === null) sshd.kill("SIGTERM");
    };
    // Belt and braces: never leave sshd behind even if the runner dies.
    const onExit = () => stopSshd();

    before(async () => {
        if (!fs.existsSync(SSHD)) {
            throw new Error(`${SSHD} is missing: install openssh-server (apt-get install -y openssh-server) to run this test`);
        }
        process.on("exit", onExit);
        dir = tmpDir("cmdprov-sshd-");
        const hostKey = path.join(dir, "host_ed25519");
        const clientKey = path.join(dir, "client_ed25519");
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKey]);
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", clientKey]);
        fs.copyFileSync(`${clientKey}.pub`, path.join(dir, "authorized_keys"));
        // sshd refuses to start without its privilege separation directory.
        fs.mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });

        const port = await freePort();
        const config = path.join(dir, "sshd_config");
        fs.writeFileSync(
            config,
            [
                "ListenAddress 127.0.0.1",
                `Port ${port}`,
                `HostKey ${hostKey}`,
                `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
                "PermitRootLogin prohibit-password",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                `PidFile ${path.join(dir, "sshd.pid")}`,
                "StrictModes no",
                "UsePAM no",
                "Subsystem sftp internal-sftp",
                "",
            ].join("\n"),
        );
        sshd = spawn(SSHD, ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
        sshd.stderr!.on("data", (d: Buffer) => (sshdLog += d.toString()));
        for (let i = 0; i < 100 && !(await canConnect(port)); i++) {
            if (sshd.exitCode !== null) throw new Error(`sshd exited early (${sshd.exitCode}):\n${sshdLog}`);
            await new Promise((r) => setTimeout(r, 100));
        }
        if (!(await canConnect(port))) throw new Error(`sshd did not listen on ${port}:\n${sshdLog}`);

        hostPublicKey = fs.readFileSync(`${hostKey}.pub`, "utf8").trim();
        connection = secret({
            host: "127.0.0.1",
            port,
            user: os.userInfo().username,
            privateKey: fs.readFileSync(clientKey, "utf8"),
            dialErrorLimit: 3,
            perDialTimeout: 10,
        });
    });

    after(async () => {
        stopSshd();
        if (sshd && sshd.exitCode === null && sshd.signalCode === null) {
            await new Promise((r) => sshd!.once("exit", r));
        }
        process.removeListener("exit", onExit);
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    async function checked(type: string, inputs: Record<string, any>) {
        const res = await provider.check!(type, {}, inputs);
        assert.deepEqual(res.failures, [], JSON.stringify(res.failures));
        return res.inputs;
    }

    it("the environment reaches the remote command on stdin: no value is in any process's arguments while it runs, trailing newlines kept", async () => {
        const value = `s3cret-${process.pid}-value\nwith a second line\n`;
        const inputs = await checked(REMOTE, {
            connection,
            create: 'sleep 1; printf "%s|" "$PASSWORD"; cat',
            environment: secret({ PASSWORD: value }),
            stdin: "own stdin",
        });
        const seen: string[] = [];
        const sampler = setInterval(() => {
            for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
                try {
                    const args = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
                    if (args.includes("s3cret-")) seen.push(args.replace(/\0/g, " "));
                } catch { /* gone */ }
            }
        }, 20);
        try {
            const res = await provider.create!(REMOTE, inputs);
            assert.deepEqual(unwrap(res.outs.stdout), `${value}|own stdin`);
        } finally {
            clearInterval(sampler);
        }
        assert.deepEqual(seen, []);
    });

    it("runs create with exported environment and stdin; the secret connection stays secret, stdout does not", async () => {
        const tricky = `it's "quoted" $HOME \`x\`\nline2`;
        const inputs = await checked(REMOTE, {
            connection,
            create: 'printf "%s" "$TRICKY"; echo; cat; echo err >&2',
            environment: { TRICKY: tricky },
            stdin: "piped",
        });
        const res = await provider.create!(REMOTE, inputs);
        // The key cannot reach the command's output, so a secret connection alone
        // does not hide stdout; a secret environment value does.
        assert.deepEqual(res.outs.stdout, `${tricky}\npiped`);
        assert.deepEqual(res.outs.stderr, "err");
        assert.ok(isSecret(res.outs.connection));
        const hidden = await provider.create!(REMOTE, await checked(REMOTE, {
            connection, create: 'echo "$PW"', environment: { PW: secret("s3cret") },
        }));
        assert.deepEqual(hidden.outs.stdout, secret("s3cret"));
    });

    it("check fills connection defaults inside the secret and rejects proxy", async () => {
        const inputs = await checked(REMOTE, { connection: secret({ host: "h" }), create: "true" });
        assert.deepEqual(inputs.connection, secret({ host: "h", port: 22, user: "root", dialErrorLimit: 10, perDialTimeout: 15 }));
        const bad = await provider.check!(REMOTE, {}, { connection: { host: "h", proxy: { host: "p" } }, create: "true" });
        assert.equal(bad.failures?.[0]?.property, "connection.proxy");
    });

    it("update/delete see the previous output; a failing command reports its exit code", async () => {
        const marker = path.join(dir, "remote-delete.txt");
        const inputs = await checked(REMOTE, {
            connection,
            create: "echo v1",
            update: 'echo "was:$PULUMI_COMMAND_STDOUT"',
            delete: `printf '%s' "$PULUMI_COMMAND_STDOUT" > ${shellQuote(marker)}`,
        });
        const created = await provider.create!(REMOTE, inputs);
        const updated = await provider.update!(created.id, REMOTE, created.outs, inputs);
        assert.deepEqual(updated.outs.stdout, "was:v1");
        await provider.delete!(created.id, REMOTE, updated.outs);
        assert.equal(fs.readFileSync(marker, "utf8"), "was:v1");

        const failing = await checked(REMOTE, { connection, create: "echo remote-out; echo remote-err >&2; exit 7" });
        await assert.rejects(provider.create!(REMOTE, failing), (e: Error) => {
            assert.match(e.message, /exited with code 7/);
            assert.match(e.message, /remote-err/);
            assert.match(e.message, /remote-out/);
            assert.doesNotMatch(e.message, /PRIVATE KEY/);
            return true;
        });
    });

    it("verifies hostKey when given and gives up quickly on a mismatch or a closed port", async () => {
        const conn = { ...connection.value, hostKey: hostPublicKey };
        const ok = await provider.create!(REMOTE, await checked(REMOTE, { connection: secret(conn), create: "echo trusted" }));
        assert.deepEqual(ok.outs.stdout, "trusted");

        const wrongKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG1vY2tlZC1ob3N0LWtleS1mb3ItdGVzdGluZy1vbmx5";
        const mismatch = await checked(REMOTE, { connection: secret({ ...conn, hostKey: wrongKey }), create: "true" });
        await assert.rejects(provider.create!(REMOTE, mismatch), (e: Error) => e.message.includes(
            `refused: the host key of 127.0.0.1:${conn.port} is not the pinned one (it offered ${fingerprint(hostPublicKey)}, and the stack pins ${fingerprint(wrongKey)})`));

        const closed = await checked(REMOTE, {
            connection: secret({ ...connection.value, port: await freePort(), dialErrorLimit: 2, perDialTimeout: 2 }),
            create: "true",
        });
        await assert.rejects(provider.create!(REMOTE, closed), /failed to dial/);
    });

    it("CopyToRemote copies files, text and directories with scp-like semantics", async () => {
        const local = path.join(dir, "local");
        fs.mkdirSync(path.join(local, "payload", "sub"), { recursive: true });
        fs.writeFileSync(path.join(local, "payload", "a.txt"), "A");
        fs.writeFileSync(path.join(local, "payload", "sub", "run.sh"), "#!/bin/sh\necho hi\n", { mode: 0o755 });
        const remote = path.join(dir, "remote");

        const copy = async (source: any, remotePath: string) => {
            const inputs = await checked(COPY, { connection, source, remotePath });
            const res = await provider.create!(COPY, inputs);
            assert.match(res.id, /^[0-9a-f]{32}$/);
            assert.deepEqual(res.outs, inputs);
        };

        // FileAsset to a new nested path: parents are created.
        await copy({ [SIG]: ASSET, path: path.join(local, "payload", "a.txt") }, path.join(remote, "deep", "x", "a-copy.txt"));
        assert.equal(fs.readFileSync(path.join(remote, "deep", "x", "a-copy.txt"), "utf8"), "A");

        // StringAsset, then overwrite the same file.
        const textTarget = path.join(remote, "conf", "app.conf");
        await copy({ [SIG]: ASSET, text: "one" }, textTarget);
        await copy({ [SIG]: ASSET, text: "two" }, textTarget);
        assert.equal(fs.readFileSync(textTarget, "utf8"), "two");

        // FileArchive (directory) to a missing path: becomes that path.
        const archive = { [SIG]: ARCHIVE, path: path.join(local, "payload") };
        await copy(archive, path.join(remote, "tree"));
        assert.equal(fs.readFileSync(path.join(remote, "tree", "a.txt"), "utf8"), "A");
        assert.equal(fs.statSync(path.join(remote, "tree", "sub", "run.sh")).mode & 0o777, 0o755);

        // ... and into an existing directory: copied inside it.
        await copy(archive, path.join(remote, "tree"));
        assert.equal(fs.readFileSync(path.join(remote, "tree", "payload", "sub", "run.sh"), "utf8"), "#!/bin/sh\necho hi\n");

        // A directory onto an existing file fails.
        const inputs = await checked(COPY, { connection, source: archive, remotePath: textTarget });
        await assert.rejects(provider.create!(COPY, inputs), /existing remote file/);
    });
});

describe("plugin process", () => {
    it("leaves when the engine that started it is killed (it runs in a process group of its own)", async () => {
        // A shell stands in for the engine: it starts the provider, then is killed outright.
        const root = path.resolve(__dirname, "..", "..");
        const engine = spawn("/bin/sh", ["-c",
            `node --import '${root}/node_modules/tsx/dist/loader.mjs' '${root}/tools/engine/command-provider.ts' & echo $!; sleep 60`],
            { stdio: ["ignore", "pipe", "ignore"], detached: true });
        const pid = Number(await new Promise<string>((resolve) => engine.stdout!.once("data", (d) => resolve(String(d)))));
        const alive = () => { try { process.kill(pid, 0); return true; } catch { return false; } };
        await new Promise((r) => setTimeout(r, 1500));
        assert.ok(alive(), "the provider serves while its engine lives");
        process.kill(engine.pid!, "SIGKILL");
        const deadline = Date.now() + 5000;
        while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        assert.ok(!alive(), "the provider left within 5 s of its engine");
        try { process.kill(-engine.pid!, "SIGKILL"); } catch { /* the group is gone already */ }
    });
});
