// shellcheck on every shell script of the project: the script files (with their own
// directives), and the scripts the code composes (preflights, veth wiring, one-liners),
// as the golden files hold them. A command's text is a script file's less its comment
// lines (lib/scripts.ts), so those are checked as the files, where their directives are.
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { shellScript } from "../../lib/scripts";

const ROOT = path.resolve(__dirname, "..", "..");
const haveShellcheck = spawnSync("shellcheck", ["--version"]).status === 0;

function shellcheck(file: string, args: string[] = []): string {
    const r = spawnSync("shellcheck", ["-f", "gcc", ...args, file], { encoding: "utf8" });
    return r.status === 0 ? "" : (r.stdout + r.stderr).trim();
}

/** The repository's shell scripts: .sh files, and files whose first line names a shell. */
function scriptFiles(): string[] {
    const files = execFileSync("git", ["ls-files"], { cwd: ROOT, encoding: "utf8" }).split("\n").filter(Boolean);
    return files.filter((f) => {
        if (f.endsWith(".sh")) return true;
        if (f.startsWith("test/golden/") || !fs.existsSync(path.join(ROOT, f))) return false;
        const head = fs.readFileSync(path.join(ROOT, f), "utf8").slice(0, 40);
        return /^#!.*\b(sh|bash|busybox sh)\b/.test(head);
    });
}

describe("shellcheck", { skip: !haveShellcheck && "shellcheck is not installed (scripts/bootstrap.sh installs it)" }, () => {
    const files = scriptFiles();

    it("finds the project's scripts", () => {
        for (const f of ["modules/migration/migrate.sh", "modules/libvirt/kvm-probe.sh", "components/host/namespace-create.sh", "scripts/bootstrap.sh", "images/guest/init"]) {
            assert.ok(files.includes(f), `${f} not among ${files.join(", ")}`);
        }
    });

    it("passes on every script file", () => {
        // Files without a shebang are run by /bin/sh (sh -c, nsenter ... /bin/sh -c, ssh).
        const problems = files.map((f) => {
            const shebang = fs.readFileSync(path.join(ROOT, f), "utf8").startsWith("#!");
            return shellcheck(path.join(ROOT, f), shebang ? ["-x"] : ["-s", "sh"]);
        }).filter(Boolean);
        assert.deepEqual(problems, []);
    });

    it("passes on every script the code composes (the golden files' scripts that are not a file's)", () => {
        const fromFiles = new Set(files.filter((f) => f.endsWith(".sh")).map((f) => shellScript(path.dirname(path.join(ROOT, f)), path.basename(f))));
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wanlab-test-shellcheck-"));
        const problems: string[] = [];
        let checked = 0;
        try {
            for (const golden of fs.readdirSync(path.join(ROOT, "test", "golden")).filter((f) => f.endsWith(".txt"))) {
                const text = fs.readFileSync(path.join(ROOT, "test", "golden", golden), "utf8");
                for (const block of text.split("\n### ").slice(1)) {
                    const name = block.slice(0, block.indexOf(" "));
                    const parts = block.split(/\n--- (create|update|delete|stdin)(?: \(secret\))?\n/);
                    for (let i = 1; i < parts.length; i += 2) {
                        if (parts[i] === "stdin") continue;
                        const body = parts[i + 1].replace(/\n+$/, "");
                        if (fromFiles.has(body)) continue;
                        const file = path.join(dir, `${golden}-${name}-${parts[i]}.sh`);
                        // The script as it runs: the golden file's <root> is this checkout again.
                        fs.writeFileSync(file, body.split("<root>").join(ROOT) + "\n");
                        // A preflight runs each kernel probe in a subshell on purpose: a probe may exit.
                        const out = shellcheck(file, ["-s", "sh", ...(name.endsWith("-preflight") ? ["-e", "SC2234"] : [])]);
                        if (out) problems.push(out);
                        checked++;
                    }
                }
            }
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
        assert.ok(checked > 50, `only ${checked} composed scripts found`);
        assert.deepEqual(problems, []);
    });
});
