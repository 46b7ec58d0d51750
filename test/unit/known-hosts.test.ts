// Finding a host's key in a known_hosts file, as OpenSSH writes them (plain, hashed, with
// a port), checked against ssh-keygen's own lookup and fingerprints.
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fingerprint, knownHostKey } from "../../model/known-hosts";

describe("known_hosts", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wanlab-test-kh-"));
    const key = (name: string) => {
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path.join(dir, name)]);
        return fs.readFileSync(path.join(dir, `${name}.pub`), "utf8").trim().split(" ").slice(0, 2).join(" ");
    };
    const a = key("a"), b = key("b"), c = key("c");
    const file = path.join(dir, "known_hosts");
    fs.writeFileSync(file, [
        "# a comment",
        `10.0.0.1,host-a ${a}`,
        `[10.0.0.2]:2222 ${b}`,
        `@revoked 10.0.0.3 ${a}`,
        `10.0.0.3 ${c}`,
        "",
    ].join("\n"));

    it("finds plain entries, name lists and [host]:port, and skips markers", () => {
        const text = fs.readFileSync(file, "utf8");
        assert.equal(knownHostKey(text, "10.0.0.1", 22), a);
        assert.equal(knownHostKey(text, "host-a", 22), a);
        assert.equal(knownHostKey(text, "10.0.0.2", 2222), b);
        assert.equal(knownHostKey(text, "10.0.0.2", 22), undefined);
        assert.equal(knownHostKey(text, "10.0.0.3", 22), c);
        assert.equal(knownHostKey(text, "10.0.0.9", 22), undefined);
    });

    it("finds hashed entries that ssh-keygen -H wrote", () => {
        execFileSync("ssh-keygen", ["-q", "-H", "-f", file], { stdio: "ignore" });
        const text = fs.readFileSync(file, "utf8");
        assert.doesNotMatch(text, /10\.0\.0\.1/);
        assert.equal(knownHostKey(text, "10.0.0.1", 22), a);
        assert.equal(knownHostKey(text, "10.0.0.2", 2222), b);
        assert.equal(knownHostKey(text, "10.0.0.9", 22), undefined);
    });

    it("fingerprints as ssh-keygen -l shows them", () => {
        const shown = execFileSync("ssh-keygen", ["-l", "-f", path.join(dir, "a.pub")], { encoding: "utf8" }).split(" ")[1];
        assert.equal(fingerprint(a), shown);
        fs.rmSync(dir, { recursive: true, force: true });
    });
});
