// Finding a host's key in a known_hosts file (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"):
// plain or hashed host patterns, "[host]:port" for a port other than 22, markers skipped.
import * as crypto from "node:crypto";

/** The key ("type base64") the file gives for host at port, or undefined. */
export function knownHostKey(text: string, host: string, port: number): string | undefined {
    const name = port === 22 ? host : `[${host}]:${port}`;
    for (const raw of text.split("\n")) {
        const line = raw.trim();
        if (!line || line.startsWith("#") || line.startsWith("@")) continue;
        const [hosts, type, key] = line.split(/\s+/);
        if (!type || !key) continue;
        if (hosts.split(",").some((h) => matches(h, name))) return `${type} ${key}`;
    }
    return undefined;
}

function matches(pattern: string, name: string): boolean {
    if (pattern.startsWith("|1|")) {
        const [, , salt, hash] = pattern.split("|");
        if (!salt || !hash) return false;
        return crypto.createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64") === hash;
    }
    return pattern === name;
}

/** OpenSSH's fingerprint of a public key line: SHA256:<base64 without padding>. */
export function fingerprint(keyLine: string): string {
    const parts = keyLine.trim().split(/\s+/);
    const blob = Buffer.from(parts.length >= 2 ? parts[1] : parts[0], "base64");
    return `SHA256:${crypto.createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}
