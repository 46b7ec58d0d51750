// The Go tools' own tests (tools/probe: the probes, the stream, the capture reader, sockperf's
// bins; tools/pmipd: the PMIPv6 daemon's wire format byte for byte and through tshark, its
// RADIUS client, the LMA's binding cache, and, as root, a MAG and an LMA in namespaces), with
// the toolchain the bootstrap builds them with.
import { it } from "node:test";
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { spawnSync } from "node:child_process";

it("go test ./probe/ ./pmipd/ and go vet pass", () => {
    const tools = path.join(__dirname, "..", "..", "tools");
    for (const args of [["vet", "./probe/", "./pmipd/"], ["test", "-count=1", "./probe/", "./pmipd/"]]) {
        const r = spawnSync("go", args, { cwd: tools, encoding: "utf8", env: { ...process.env, CGO_ENABLED: "0" } });
        assert.equal(r.status, 0, `go ${args.join(" ")}:\n${r.stdout}${r.stderr}`);
    }
});
