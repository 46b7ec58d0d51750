// The server's files, rendered from the model and the secrets (templates/freeradius/), and
// what the lab's check asks it. No Pulumi here: the server component renders these inside
// an apply() over the secrets, and server.test.ts renders them for a real server.
import { render } from "../../lib/render";
import { configKey } from "../../model/config";
import type { LabSpec } from "../../model/types";
import { addressFamily, canonicalAddress, radiusUserName, radiusUsers, type RadiusSpec } from "./model";

/** The server's own directory on its host (raddb/, run/, its log and the check's secret). */
export const radiusDir = (stack: string, host: string) => `/var/lib/wanlab/${stack}/radius-${host}`;

/** The secrets the files hold: the users' password, and each client's secret in radius.clients' order. */
export interface RadiusSecrets { password: string; secrets: string[] }

/**
 * Why a secret cannot go into FreeRADIUS's files as it is, or undefined. The files quote it
 * in single quotes, where FreeRADIUS expands nothing (no ${...}, no %{...}), but its config
 * parser and its users-file parser disagree on backslashes, so neither ' nor \ may be in it;
 * and RADIUS carries at most 128 octets of User-Password.
 */
export function secretProblem(value: string): string | undefined {
    if (!value.length) return "it is empty";
    if (value.length > 128) return `it has ${value.length} characters: at most 128`;
    if (!/^[\x20-\x7e]*$/.test(value)) return "it holds a character that is not printable ASCII (a line break, say)";
    if (/['\\]/.test(value)) return "it holds ' or \\, which FreeRADIUS's files cannot quote alike";
    return undefined;
}

function checked(key: string, value: string): string {
    const why = secretProblem(value);
    // The key's name only: never the value.
    if (why) throw new Error(`the secret ${configKey(key)} cannot be a RADIUS secret or password: ${why}`);
    return value;
}

/** The section's clients as clients.conf names them: the host's name, and -2, -3 for a host's further addresses. */
function clientNames(r: RadiusSpec): string[] {
    const seen = new Map<string, number>();
    return r.clients.map((c) => {
        const n = (seen.get(c.host) ?? 0) + 1;
        seen.set(c.host, n);
        return n === 1 ? c.host : `${c.host}-${n}`;
    });
}

/** The server's files (raddb/<name>): radiusd.conf, clients.conf, users. */
export function radiusFiles(spec: LabSpec, stack: string, dir: string, s: RadiusSecrets): Record<string, string> {
    const r = spec.radius!;
    const names = clientNames(r);
    const password = checked(r.password.config, s.password);
    const v6 = addressFamily(r.address) === 6;
    return {
        "radiusd.conf": render("freeradius/radiusd.conf.hbs", {
            stack, host: r.host, dir, listenKey: v6 ? "ipv6addr" : "ipaddr", address: canonicalAddress(r.address), port: r.port,
        }),
        "clients.conf": render("freeradius/clients.conf.hbs", {
            clients: r.clients.map((c, i) => ({
                name: names[i], key: addressFamily(c.address) === 6 ? "ipv6addr" : "ipaddr", address: canonicalAddress(c.address),
                secret: checked(c.secret!.config, s.secrets[i]),
            })),
        }),
        users: render("freeradius/users.hbs", { users: radiusUsers(spec), password }),
    };
}

/** The files as one text for the create script's stdin: each after a line `#### wanlab-file NAME`. */
export function fileBundle(files: Record<string, string>): string {
    return Object.entries(files).map(([name, text]) => `#### wanlab-file ${name}\n${text.endsWith("\n") ? text : `${text}\n`}`).join("");
}

/** A User-Name no user has, spelled as a VM's (the MAC 00:de:ad:be:ef:NN): the check expects its Access-Reject. */
export function unknownUserName(spec: LabSpec): string {
    const taken = new Set(radiusUsers(spec).map((u) => u.userName));
    for (let n = 0; ; n++) {
        const name = radiusUserName(`00:de:ad:be:ef:${n.toString(16).padStart(2, "0")}`);
        if (!taken.has(name)) return name;
    }
}

/** What the check asks, as the check script reads it: one VM a line (vm user-name prefix interface-id), the MAGs' user names, an unknown one. */
export function checkCases(spec: LabSpec): { VMS: string; MAGS: string; UNKNOWN: string } {
    const users = radiusUsers(spec);
    return {
        VMS: users.filter((u) => u.kind === "vm").map((u) => `${u.vm} ${u.userName} ${u.prefix} ${u.interfaceId}`).join("\n"),
        MAGS: users.filter((u) => u.kind === "mag").map((u) => u.userName).join(" "),
        UNKNOWN: unknownUserName(spec),
    };
}

/** The listening socket as `ss` prints it: [2001:db8:a::10]:1812 or 10.0.0.1:1812. */
export function listenSocket(r: Pick<RadiusSpec, "address" | "port">): string {
    const a = canonicalAddress(r.address);
    return `${addressFamily(r.address) === 6 ? `[${a}]` : a}:${r.port}`;
}
