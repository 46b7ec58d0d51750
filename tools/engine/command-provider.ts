// A stand-in for the `pulumi-resource-command` plugin (the official one is a Go
// binary we cannot download or build offline). It serves the ResourceProvider
// gRPC protocol through @pulumi/pulumi/provider and implements the resources the
// @pulumi/command 1.2.1 SDK registers:
//   command:local:Command, command:remote:Command, command:remote:CopyToRemote
//
// The provider server hands us raw `toJavaScript()` structs, so secrets, assets
// and unknowns appear as objects/strings carrying Pulumi's magic signatures.

import { spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
// ssh2 loads only for remote commands: most labs run none, and it costs 60-80 ms of every start.
import type { Client, ClientChannel, ConnectConfig, SFTPWrapper } from "ssh2";
import * as pulumiProvider from "@pulumi/pulumi/provider";
import { exitWithEngine } from "./orphan";

export const PROVIDER_VERSION = "1.2.1";

// Magic values of Pulumi's wire format (sdk/go/common/resource/sig).
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17";
const ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7";
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

const LOCAL_COMMAND = "command:local:Command";
const REMOTE_COMMAND = "command:remote:Command";
const COPY_TO_REMOTE = "command:remote:CopyToRemote";

// Keys that only exist in a Command's outputs; they must be ignored when diffing
// old state against new inputs.
const COMMAND_OUTPUT_KEYS = new Set(["stdout", "stderr", "assets", "archive"]);
// How many lines of stdout/stderr go into a failure message.
const TAIL_LINES = 20;

type Props = Record<string, any>;

// ---------------------------------------------------------------------------
// Wire-format helpers
// ---------------------------------------------------------------------------

export function isSecret(v: unknown): v is { value: unknown } {
    return typeof v === "object" && v !== null && (v as any)[SIG_KEY] === SECRET_SIG;
}

export function secret<T>(value: T): Props {
    return { [SIG_KEY]: SECRET_SIG, value };
}

/** Deeply removes secret wrappers (assets/archives keep their shape). */
export function unwrap(v: any): any {
    if (isSecret(v)) {
        return unwrap(v.value);
    }
    if (Array.isArray(v)) {
        return v.map(unwrap);
    }
    if (typeof v === "object" && v !== null) {
        const out: Props = {};
        for (const [k, val] of Object.entries(v)) {
            out[k] = unwrap(val);
        }
        return out;
    }
    return v;
}

export function containsSecret(v: any): boolean {
    if (isSecret(v)) {
        return true;
    }
    if (Array.isArray(v)) {
        return v.some(containsSecret);
    }
    if (typeof v === "object" && v !== null) {
        return Object.values(v).some(containsSecret);
    }
    return false;
}

/** Structural equality; a missing key and a null value count as equal. */
export function deepEqual(a: any, b: any): boolean {
    if (a === undefined) a = null;
    if (b === undefined) b = null;
    if (a === b) {
        return true;
    }
    if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) {
        return false;
    }
    if (Array.isArray(a) !== Array.isArray(b)) {
        return false;
    }
    if (Array.isArray(a)) {
        return a.length === b.length && a.every((x: any, i: number) => deepEqual(x, b[i]));
    }
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
        if (!deepEqual(a[k], b[k])) {
            return false;
        }
    }
    return true;
}

/** The resource type token from a URN (the last `$`-separated part of the type). */
export function typeOfUrn(urn: string): string {
    const parts = urn.split("::");
    const qualifiedType = parts.length >= 3 ? parts[2] : urn;
    return qualifiedType.split("$").pop() ?? qualifiedType;
}

function nameOfUrn(urn: string): string {
    const parts = urn.split("::");
    return parts.length >= 4 ? parts.slice(3).join("::") : urn;
}

// Connection fields that are not sensitive: the SDK wraps the whole connection
// as a secret, but a host or user name in an error message must stay readable.
const CONNECTION_PLAIN_FIELDS = new Set([
    "host", "port", "user", "hostKey", "agentSocketPath", "dialErrorLimit", "perDialTimeout",
]);

/**
 * Every string that sits inside a secret in the inputs, used to redact error
 * messages (they can be printed by the engine, and by the provider server on a
 * failed delete).
 */
function secretStrings(inputs: Props): string[] {
    const found = new Set<string>();
    const walk = (v: any, inSecret: boolean): void => {
        if (isSecret(v)) {
            walk(v.value, true);
        } else if (Array.isArray(v)) {
            v.forEach((x) => walk(x, inSecret));
        } else if (typeof v === "object" && v !== null) {
            Object.values(v).forEach((x) => walk(x, inSecret));
        } else if (inSecret && typeof v === "string") {
            found.add(v);
            // A multi-line secret (a private key) could also leak line by line.
            for (const line of v.split(/\r?\n/)) {
                if (line.trim().length >= 8) found.add(line.trim());
            }
        }
    };
    const walkConnection = (v: any): void => {
        while (isSecret(v)) v = v.value;
        if (typeof v !== "object" || v === null) return;
        for (const [k, val] of Object.entries(v)) {
            if (k === "proxy") walkConnection(val);
            // Credentials always count; plain fields only if wrapped on their own.
            else walk(val, !CONNECTION_PLAIN_FIELDS.has(k));
        }
    };
    for (const [k, v] of Object.entries(inputs ?? {})) {
        if (k === "connection") walkConnection(v);
        else walk(v, false);
    }
    // Very short strings would mangle the whole message and are not credible secrets.
    return [...found].filter((s) => s.length >= 3).sort((x, y) => y.length - x.length);
}

function redact(text: string, secrets: string[]): string {
    let out = text;
    for (const s of secrets) {
        out = out.split(s).join("[secret]");
    }
    return out;
}

function tail(text: string, lines = TAIL_LINES): string {
    const all = text.replace(/\n$/, "").split("\n");
    return all.slice(-lines).join("\n");
}

// ---------------------------------------------------------------------------
// Running commands
// ---------------------------------------------------------------------------

interface RunResult {
    stdout: string;
    stderr: string;
    code: number | null;
    signal?: string | null;
}

interface RunRequest {
    command: string;
    env: Record<string, string>;
    stdin?: string;
}

/** Like the official provider: drop exactly one trailing newline. */
function trimOneNewline(s: string): string {
    return s.endsWith("\n") ? s.slice(0, -1) : s;
}

function runLocal(inputs: Props, req: RunRequest): Promise<RunResult> {
    const interpreter: string[] =
        Array.isArray(inputs.interpreter) && inputs.interpreter.length > 0 ? inputs.interpreter.map(String) : ["/bin/sh", "-c"];
    const cwd: string = inputs.dir ?? process.cwd();
    // spawn reports a missing cwd as "spawn /bin/sh ENOENT", which is misleading.
    if (!fs.existsSync(cwd) || !fs.statSync(cwd).isDirectory()) {
        return Promise.reject(new Error(`dir ${JSON.stringify(cwd)} does not exist or is not a directory`));
    }
    return new Promise((resolve, reject) => {
        const child = spawn(interpreter[0], [...interpreter.slice(1), req.command], {
            cwd,
            env: { ...process.env, ...req.env },
            stdio: ["pipe", "pipe", "pipe"],
        });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on("data", (d: Buffer) => out.push(d));
        child.stderr.on("data", (d: Buffer) => err.push(d));
        // The command may exit without reading its stdin; that EPIPE is harmless.
        child.stdin.on("error", () => undefined);
        child.on("error", (e) => reject(new Error(`failed to start ${interpreter[0]}: ${e.message}`)));
        child.on("close", (code, signal) =>
            resolve({
                stdout: Buffer.concat(out).toString("utf8"),
                stderr: Buffer.concat(err).toString("utf8"),
                code,
                signal,
            }),
        );
        child.stdin.end(req.stdin ?? "");
    });
}

// ---------------------------------------------------------------------------
// SSH
// ---------------------------------------------------------------------------

interface Connection {
    host: string;
    port: number;
    user: string;
    password?: string;
    privateKey?: string;
    privateKeyPassword?: string;
    agentSocketPath?: string;
    hostKey?: string;
    dialErrorLimit: number;
    perDialTimeout: number;
    proxy?: unknown;
}

function applyConnectionDefaults(conn: any): any {
    if (isSecret(conn)) {
        return { ...conn, value: applyConnectionDefaults(conn.value) };
    }
    if (typeof conn !== "object" || conn === null) {
        return conn; // unknown during preview, or missing
    }
    const defaults: Props = { port: 22, user: "root", dialErrorLimit: 10, perDialTimeout: 15 };
    const out = { ...conn };
    for (const [k, v] of Object.entries(defaults)) {
        if (out[k] === undefined || out[k] === null) out[k] = v;
    }
    return out;
}

function toConnection(raw: any): Connection {
    const c = unwrap(applyConnectionDefaults(raw));
    if (typeof c !== "object" || c === null || typeof c.host !== "string" || c.host === "") {
        throw new Error("connection.host is required");
    }
    return c as Connection;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The raw key blob of an authorized_keys-style line ("ssh-ed25519 AAAA... comment"). */
function hostKeyBlob(hostKey: string): Buffer {
    const parts = hostKey.trim().split(/\s+/);
    return Buffer.from(parts.length >= 2 ? parts[1] : parts[0], "base64");
}

class HostKeyMismatch extends Error {}

/** OpenSSH's way to show a key: SHA256:<base64 without padding>. */
function fingerprintOf(blob: Buffer): string {
    return `SHA256:${crypto.createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

function dialOnce(conn: Connection): Promise<Client> {
    return new Promise((resolve, reject) => {
        const client: Client = new (require("ssh2") as typeof import("ssh2")).Client();
        let hostKeyRejected: string | false = false;
        const cfg: ConnectConfig = {
            host: conn.host,
            port: conn.port,
            username: conn.user,
            // perDialTimeout 0 means "no maximum".
            readyTimeout: conn.perDialTimeout > 0 ? conn.perDialTimeout * 1000 : 2 ** 31 - 1,
            keepaliveInterval: 15000,
        };
        if (conn.password) {
            cfg.password = conn.password;
            cfg.tryKeyboard = true; // some sshd only offer keyboard-interactive
        }
        if (conn.privateKey) {
            cfg.privateKey = conn.privateKey;
            if (conn.privateKeyPassword) cfg.passphrase = conn.privateKeyPassword;
        }
        if (conn.agentSocketPath) {
            cfg.agent = conn.agentSocketPath;
        } else if (!conn.password && !conn.privateKey && process.env.SSH_AUTH_SOCK) {
            cfg.agent = process.env.SSH_AUTH_SOCK;
        }
        if (conn.hostKey) {
            const expected = hostKeyBlob(conn.hostKey);
            cfg.hostVerifier = (key: Buffer) => {
                const ok = key.equals(expected);
                if (!ok) hostKeyRejected = `it offered ${fingerprintOf(key)}, and the stack pins ${fingerprintOf(expected)}`;
                return ok;
            };
        }
        client.on("keyboard-interactive", (_name, _instr, _lang, prompts, finish) => {
            finish(prompts.map(() => conn.password ?? ""));
        });
        client.once("ready", () => {
            client.removeAllListeners("error");
            // Errors after the handshake surface through the channel/sftp callers.
            client.on("error", () => undefined);
            resolve(client);
        });
        client.once("error", (e: Error) => {
            client.end();
            reject(hostKeyRejected ? new HostKeyMismatch(`refused: the host key of ${conn.host}:${conn.port} is not the pinned one (${hostKeyRejected}). ` +
                "If the machine was reinstalled, check its new key and pin that (ssh.hostKey or its known_hosts entry); otherwise something may be in the middle") : e);
        });
        client.connect(cfg);
    });
}

/** Dials with retries: dialErrorLimit attempts (-1 = unlimited) and a short, growing backoff. */
export async function dial(rawConnection: any): Promise<Client> {
    const conn = toConnection(rawConnection);
    if (conn.proxy !== undefined && conn.proxy !== null) {
        throw new Error("connection.proxy is not supported by this pulumi-resource-command implementation");
    }
    const limit = Number(conn.dialErrorLimit);
    let lastError: Error | undefined;
    for (let attempt = 1; limit < 0 || attempt <= Math.max(limit, 1); attempt++) {
        try {
            return await dialOnce(conn);
        } catch (e: any) {
            lastError = e;
            if (e instanceof HostKeyMismatch) break; // retrying cannot help
            if (limit >= 0 && attempt >= Math.max(limit, 1)) break;
            await sleep(Math.min(1000 * attempt, 5000));
        }
    }
    throw new Error(
        `failed to dial ${conn.user}@${conn.host}:${conn.port}: ${lastError?.message ?? "unknown error"}`,
    );
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Single-quotes a string for POSIX shells. */
export function shellQuote(s: string): string {
    return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * sshd usually refuses SetEnv, and whatever is in the command text is in the remote
 * shell's arguments (ps shows it) for as long as the command runs. So the environment
 * travels on the channel's stdin, ahead of the command's own: one NAME=<base64> line per
 * variable and an end line, read by a fixed preamble that exports each.
 */
export const ENV_END = "__WANLAB_ENV_END__";
export function withEnvOnStdin(env: Record<string, string>, command: string, stdin = ""): { command: string; stdin: string } {
    const lines = Object.entries(env).map(([k, v]) => {
        if (!ENV_NAME.test(k)) {
            throw new Error(`environment variable name ${JSON.stringify(k)} is not a valid shell identifier`);
        }
        return `${k}=${Buffer.from(String(v), "utf8").toString("base64")}\n`;
    });
    // printf is a shell builtin and base64 reads its stdin: no value is ever an argument.
    // The x keeps trailing newlines that $(...) would strip.
    const preamble = [
        `while IFS= read -r wanlab_l && [ "$wanlab_l" != ${ENV_END} ]; do`,
        '  wanlab_v=$(printf %s "${wanlab_l#*=}" | base64 -d; echo x)',
        '  export "${wanlab_l%%=*}=${wanlab_v%x}"',
        "done",
        "unset wanlab_l wanlab_v",
        "",
    ].join("\n");
    return { command: preamble + command, stdin: lines.join("") + `${ENV_END}\n` + stdin };
}

function sshExec(client: Client, command: string, stdin?: string): Promise<RunResult> {
    return new Promise((resolve, reject) => {
        const onClose = () => reject(new Error("ssh connection closed before the command finished"));
        client.once("close", onClose);
        client.exec(command, (err: Error | undefined, stream: ClientChannel) => {
            if (err) {
                client.removeListener("close", onClose);
                reject(err);
                return;
            }
            const out: Buffer[] = [];
            const errOut: Buffer[] = [];
            let code: number | null = null;
            let signal: string | null = null;
            stream.on("data", (d: Buffer) => out.push(d));
            stream.stderr.on("data", (d: Buffer) => errOut.push(d));
            stream.on("exit", (c: number | null, sig?: string) => {
                code = c ?? null;
                signal = sig ?? null;
            });
            stream.on("close", () => {
                client.removeListener("close", onClose);
                resolve({
                    stdout: Buffer.concat(out).toString("utf8"),
                    stderr: Buffer.concat(errOut).toString("utf8"),
                    code,
                    signal,
                });
            });
            stream.end(stdin ?? "");
        });
    });
}

async function runRemote(inputs: Props, req: RunRequest): Promise<RunResult> {
    const client = await dial(inputs.connection);
    try {
        const r = withEnvOnStdin(req.env, req.command, req.stdin);
        return await sshExec(client, r.command, r.stdin);
    } finally {
        client.end();
    }
}

// ---------------------------------------------------------------------------
// SFTP copy
// ---------------------------------------------------------------------------

function sftpSession(client: Client): Promise<SFTPWrapper> {
    return new Promise((resolve, reject) => client.sftp((err, sftp) => (err ? reject(err) : resolve(sftp))));
}

type RemoteKind = "dir" | "file" | "missing";

function remoteKind(sftp: SFTPWrapper, p: string): Promise<RemoteKind> {
    return new Promise((resolve) =>
        sftp.stat(p, (err, stats) => resolve(err ? "missing" : stats.isDirectory() ? "dir" : "file")),
    );
}

function sftpCall(fn: (cb: (err?: Error | null) => void) => void): Promise<void> {
    return new Promise((resolve, reject) => fn((err) => (err ? reject(err) : resolve())));
}

async function mkdirp(sftp: SFTPWrapper, dir: string): Promise<void> {
    const absolute = dir.startsWith("/");
    let current = absolute ? "" : ".";
    for (const part of dir.split("/").filter((x) => x !== "" && x !== ".")) {
        current = current === "" ? `/${part}` : `${current}/${part}`;
        const kind = await remoteKind(sftp, current);
        if (kind === "file") {
            throw new Error(`remote path ${current} exists and is not a directory`);
        }
        if (kind === "missing") {
            // Another upload to the same host may make it between the stat and the mkdir.
            await sftpCall((cb) => sftp.mkdir(current, cb)).catch(async (err) => {
                if ((await remoteKind(sftp, current)) !== "dir") throw err;
            });
        }
    }
}

async function putFile(sftp: SFTPWrapper, localPath: string, remotePath: string): Promise<void> {
    // Keep the permission bits so that copied scripts stay executable.
    const mode = fs.statSync(localPath).mode & 0o777;
    await sftpCall((cb) => sftp.fastPut(localPath, remotePath, { mode }, cb));
    await sftpCall((cb) => sftp.chmod(remotePath, mode, cb));
}

async function putDir(sftp: SFTPWrapper, localDir: string, remoteDir: string): Promise<void> {
    await mkdirp(sftp, remoteDir);
    for (const entry of fs.readdirSync(localDir)) {
        const local = path.join(localDir, entry);
        const remote = path.posix.join(remoteDir, entry);
        const st = fs.statSync(local); // follows symlinks, like copying the content
        if (st.isDirectory()) {
            await putDir(sftp, local, remote);
        } else if (st.isFile()) {
            await putFile(sftp, local, remote);
        }
        // sockets, fifos etc. are skipped
    }
}

type Source = { kind: "file"; path: string } | { kind: "text"; text: string } | { kind: "dir"; path: string };

function describeSource(raw: any): Source {
    const src = unwrap(raw);
    if (typeof src !== "object" || src === null) {
        throw new Error("source must be a FileAsset, StringAsset or FileArchive");
    }
    if (src[SIG_KEY] === ASSET_SIG) {
        if (typeof src.path === "string" && src.path !== "") return { kind: "file", path: path.resolve(src.path) };
        if (typeof src.text === "string") return { kind: "text", text: src.text };
        throw new Error("only FileAsset and StringAsset sources are supported (remote assets are not)");
    }
    if (src[SIG_KEY] === ARCHIVE_SIG) {
        if (typeof src.path === "string" && src.path !== "") {
            const p = path.resolve(src.path);
            // A FileArchive of a .tgz etc. is copied as-is, not unpacked.
            return fs.statSync(p).isDirectory() ? { kind: "dir", path: p } : { kind: "file", path: p };
        }
        throw new Error("only FileArchive sources with a path are supported (AssetArchive/RemoteArchive are not)");
    }
    throw new Error("source must be a FileAsset, StringAsset or FileArchive");
}

/**
 * Copies with the documented semantics: parents are created; an existing remote
 * directory receives the source inside it; an existing file is overwritten by a
 * file but is an error for a directory source.
 */
export async function copyToRemote(inputs: Props): Promise<void> {
    const source = describeSource(inputs.source);
    const remotePath: string = unwrap(inputs.remotePath);
    const client = await dial(inputs.connection);
    try {
        const sftp = await sftpSession(client);
        const kind = await remoteKind(sftp, remotePath);
        if (source.kind === "dir") {
            if (kind === "file") {
                throw new Error(`cannot copy directory ${source.path} onto existing remote file ${remotePath}`);
            }
            const dest = kind === "dir" ? path.posix.join(remotePath, path.basename(source.path)) : remotePath;
            await putDir(sftp, source.path, dest);
        } else {
            let dest = remotePath;
            if (kind === "dir") {
                if (source.kind === "text") {
                    throw new Error(`remotePath ${remotePath} is a directory; a StringAsset needs a file path`);
                }
                dest = path.posix.join(remotePath, path.basename(source.path));
            } else {
                await mkdirp(sftp, path.posix.dirname(remotePath));
            }
            if (source.kind === "file") {
                await putFile(sftp, source.path, dest);
            } else {
                const text = source.text;
                await sftpCall((cb) => sftp.writeFile(dest, text, cb));
            }
        }
        sftp.end();
    } finally {
        client.end();
    }
}

// ---------------------------------------------------------------------------
// Resource operations
// ---------------------------------------------------------------------------

type Op = "create" | "update" | "delete";

/** The largest previous output a local command gets in its environment (the kernel refuses one string over 128 KiB). */
export const PREVIOUS_OUTPUT_ENV_MAX = 64 * 1024;

/** Runs one lifecycle command of a (local or remote) Command and fails on a non-zero exit. */
async function runCommand(urn: string, op: Op, command: string, inputs: Props, previous?: Props): Promise<RunResult> {
    const type = typeOfUrn(urn);
    const plain = unwrap(inputs);
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(plain.environment ?? {})) {
        env[k] = String(v);
    }
    // A local command gets its environment from exec, where one string over 128 KiB fails
    // (E2BIG): a previous output that large is handed over in a private file instead,
    // named by PULUMI_COMMAND_STDOUT_FILE (STDERR_FILE), removed once the command ends.
    // (A remote command's environment travels on stdin, where any size fits.)
    const files: string[] = [];
    if (previous && plain.addPreviousOutputInEnv !== false) {
        for (const [name, value] of [["STDOUT", previous.stdout], ["STDERR", previous.stderr]] as const) {
            const text = String(unwrap(value) ?? "");
            if (type === REMOTE_COMMAND || Buffer.byteLength(text) <= PREVIOUS_OUTPUT_ENV_MAX) {
                env[`PULUMI_COMMAND_${name}`] = text;
                continue;
            }
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wanlab-command-"));
            const file = path.join(dir, name.toLowerCase());
            fs.writeFileSync(file, text, { mode: 0o600 });
            files.push(dir);
            env[`PULUMI_COMMAND_${name}_FILE`] = file;
        }
    }
    const req: RunRequest = { command, env, stdin: typeof plain.stdin === "string" ? plain.stdin : undefined };

    let result: RunResult;
    try {
        result = type === REMOTE_COMMAND ? await runRemote(plain, req) : await runLocal(plain, req);
    } catch (e: any) {
        throw new Error(redact(`${op} of ${nameOfUrn(urn)} failed: ${e.message}`, secretStrings(inputs)));
    } finally {
        for (const dir of files) fs.rmSync(dir, { recursive: true, force: true });
    }
    result.stdout = trimOneNewline(result.stdout);
    result.stderr = trimOneNewline(result.stderr);
    if (result.code !== 0) {
        const status = result.code === null ? `was killed by signal ${result.signal ?? "?"}` : `exited with code ${result.code}`;
        const msg =
            `${op} command of ${nameOfUrn(urn)} ${status}\n` +
            `--- stderr (last ${TAIL_LINES} lines) ---\n${tail(result.stderr)}\n` +
            `--- stdout (last ${TAIL_LINES} lines) ---\n${tail(result.stdout)}`;
        throw new Error(redact(msg, secretStrings(inputs)));
    }
    return result;
}

/**
 * All inputs as they arrived, plus stdout/stderr: secret if any input that can reach the
 * command's output was secret. The connection (its key) never reaches the output.
 */
function commandOutputs(inputs: Props, result: RunResult): Props {
    const { connection: _connection, ...reachable } = inputs;
    const sensitive = containsSecret(reachable);
    return {
        ...inputs,
        stdout: sensitive ? secret(result.stdout) : result.stdout,
        stderr: sensitive ? secret(result.stderr) : result.stderr,
    };
}

function isMissing(v: unknown): boolean {
    const u = unwrap(v);
    return u === undefined || u === null;
}

function newId(): string {
    return crypto.randomBytes(16).toString("hex");
}

export const commandProvider: pulumiProvider.Provider = {
    version: PROVIDER_VERSION,

    async check(urn: string, _olds: any, news: any): Promise<pulumiProvider.CheckResult> {
        const type = typeOfUrn(urn);
        const inputs: Props = { ...(news ?? {}) };
        const failures: pulumiProvider.CheckFailure[] = [];
        const requireKey = (key: string) => {
            if (isMissing(inputs[key])) failures.push({ property: key, reason: `missing required property '${key}'` });
        };
        switch (type) {
            case LOCAL_COMMAND:
            case REMOTE_COMMAND:
                if (inputs.addPreviousOutputInEnv === undefined || inputs.addPreviousOutputInEnv === null) {
                    inputs.addPreviousOutputInEnv = true;
                }
                requireKey("create");
                if (type === REMOTE_COMMAND) requireKey("connection");
                break;
            case COPY_TO_REMOTE:
                requireKey("source");
                requireKey("remotePath");
                requireKey("connection");
                break;
            default:
                failures.push({ property: "", reason: `unknown resource type ${type}` });
        }
        if (type === REMOTE_COMMAND || type === COPY_TO_REMOTE) {
            if (!isMissing(inputs.connection)) {
                inputs.connection = applyConnectionDefaults(inputs.connection);
                const proxy = unwrap(inputs.connection)?.proxy;
                if (proxy !== undefined && proxy !== null) {
                    failures.push({ property: "connection.proxy", reason: "proxy connections are not supported by this provider" });
                }
            }
        }
        return { inputs, failures };
    },

    async diff(_id: string, urn: string, olds: any, news: any): Promise<pulumiProvider.DiffResult> {
        const type = typeOfUrn(urn);
        const replaceKeys =
            type === COPY_TO_REMOTE ? new Set(["triggers", "source", "remotePath", "connection"]) : new Set(["triggers"]);
        // olds is the previous state, which also holds outputs such as stdout.
        const ignored = type === COPY_TO_REMOTE ? new Set<string>() : COMMAND_OUTPUT_KEYS;
        const o: Props = olds ?? {};
        const n: Props = news ?? {};
        const changed = [...new Set([...Object.keys(o), ...Object.keys(n)])]
            .filter((k) => !ignored.has(k))
            // Comparing unwrapped values makes a mere change of secret-ness a no-op.
            .filter((k) => !deepEqual(unwrap(o[k]), unwrap(n[k])));
        return {
            changes: changed.length > 0,
            replaces: changed.filter((k) => replaceKeys.has(k)),
            deleteBeforeReplace: false,
        };
    },

    async create(urn: string, inputs: any): Promise<pulumiProvider.CreateResult> {
        const type = typeOfUrn(urn);
        if (type === COPY_TO_REMOTE) {
            await copyToRemote(inputs);
            return { id: newId(), outs: { ...inputs } };
        }
        assertKnownType(type);
        const result = await runCommand(urn, "create", String(unwrap(inputs.create)), inputs);
        return { id: newId(), outs: commandOutputs(inputs, result) };
    },

    async update(_id: string, urn: string, olds: any, news: any): Promise<pulumiProvider.UpdateResult> {
        const type = typeOfUrn(urn);
        if (type === COPY_TO_REMOTE) {
            // Every CopyToRemote input forces a replacement; re-copying is the safe answer otherwise.
            await copyToRemote(news);
            return { outs: { ...news } };
        }
        assertKnownType(type);
        // An absent or empty `update` means "run create again" (documented SDK behaviour).
        const command = isMissing(news.update) || unwrap(news.update) === "" ? news.create : news.update;
        const result = await runCommand(urn, "update", String(unwrap(command)), news, olds);
        return { outs: commandOutputs(news, result) };
    },

    async delete(_id: string, urn: string, props: any): Promise<void> {
        const type = typeOfUrn(urn);
        // The official provider leaves copied files in place on delete.
        if (type === COPY_TO_REMOTE || isMissing(props?.delete)) {
            return;
        }
        assertKnownType(type);
        await runCommand(urn, "delete", String(unwrap(props.delete)), props, props);
    },
};

function assertKnownType(type: string): void {
    if (type !== LOCAL_COMMAND && type !== REMOTE_COMMAND) {
        throw new Error(`unknown resource type ${type}`);
    }
}

// Only serve when launched as the plugin executable, not when imported by tests.
if (require.main === module && process.env.PULUMI_COMMAND_PROVIDER_MAIN !== "0") {
    exitWithEngine();
    pulumiProvider.main(commandProvider, process.argv.slice(2)).catch((e) => {
        process.stderr.write(`pulumi-resource-command: ${e?.message ?? e}\n`);
        process.exit(1);
    });
}
