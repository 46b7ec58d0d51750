// The topology graph, from the model alone, on every shipped stack and the LAN fixture:
// the SVG renders (rasterised, it has ink), and every host, link and VM appears in it;
// DOT and Mermaid say the same; `npm run graph` works on a stack name and on a file.
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ink } from "../ink";
import { loadSpec } from "../../model/validate";
import { labGraph, toDot, toMermaid, toSvg } from "../../model/graph";

const ROOT = path.resolve(__dirname, "..", "..");
const FILES = [
    ...fs.readdirSync(path.join(ROOT, "stacks")).filter((f) => f.endsWith(".yaml")).map((f) => path.join("stacks", f)),
    "test/lab/fixtures/lan.yaml",
];

/** The text of an SVG, as its <text> elements hold it (entities decoded). */
const svgText = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1].replace(/&#45;/g, "-").replace(/&amp;/g, "&").replace(/&#39;/g, "'")).join("\n");

describe("topology graph", () => {
    for (const file of FILES) {
        it(`${file}: every host, link and VM is drawn, and the SVG renders`, async () => {
            const spec = loadSpec(path.join(ROOT, file));
            const g = labGraph(spec);
            const svg = await toSvg(g);
            assert.match(svg, /^<\?xml|^<svg/);
            const text = svgText(svg);
            for (const h of spec.hosts) assert.ok(text.split("\n").includes(h.name), `host ${h.name} not in the SVG`);
            for (const l of spec.links) {
                assert.ok(text.includes(l.name) && text.includes(l.subnet), `link ${l.name} ${l.subnet} not in the SVG`);
                for (const e of l.ends) assert.ok(text.includes(`${e.host} ${e.interface}`), `end ${e.host} ${e.interface} not in the SVG`);
            }
            for (const vm of spec.vms) assert.ok(text.includes(`VM ${vm.name}`), `VM ${vm.name} not in the SVG`);
            for (const s of spec.sites) assert.ok(text.includes(s.name), `site ${s.name} not in the SVG`);
            assert.ok(ink(svg, 800) > 2000, `${file}: the drawing is nearly empty`);
            const mermaid = toMermaid(g);
            assert.match(mermaid, /^flowchart LR\n/);
            for (const h of spec.hosts) assert.ok(mermaid.includes(`"${h.name}<br/>`), `host ${h.name} not in the Mermaid text`);
        });
    }

    it("local-wan: the migration is an arrow from source to destination; tunnels carry their VNI; the WAN profile sits on the router's interfaces; storage shows who opens it", () => {
        const dot = toDot(labGraph(loadSpec(path.join(ROOT, "stacks", "local-wan.yaml"))));
        assert.match(dot, /"host1" -> "host2" \[style=bold[^\]]*label="live migration of vm1\\nprobe from storage every 10 ms"\]/);
        assert.equal((dot.match(/label="VXLAN 100 \(overlay\)"/g) ?? []).length, 2, "one tunnel edge per hypervisor, to the router");
        assert.match(dot, /router eth1 192\.168\.1\.1\/24\\nWAN intra-eu: delay 30ms 6ms distribution pareto/);
        assert.match(dot, /router eth2 192\.168\.2\.1\/24\\nWAN intra-eu: delay 30ms 6ms distribution pareto/);
        assert.doesNotMatch(dot, /router eth5 [^"]*WAN/, "the storage LAN has no NetEm");
        assert.match(dot, /"host1" -> "storage:shared" \[[^\]]*label="disk"/);
        assert.match(dot, /"host2" -> "storage:shared" \[[^\]]*label="disk"/);
        assert.match(dot, /label="router\\nrouter; appliance"/);
        // An end plugged into a bridge is drawn on the bridge.
        assert.match(dot, /"br:host1\/br0" -> "router"/);
    });

    it("a LAN is a node of its own, with an edge from each end", () => {
        const dot = toDot(labGraph(loadSpec(path.join(ROOT, "test/lab/fixtures/lan.yaml"))));
        for (const h of ["a", "b", "c"]) assert.match(dot, new RegExp(`"${h}" -> "lan:switch"`));
        assert.match(dot, /"lan:switch" \[shape=ellipse[^\]]*label="switch\\n10\.50\.0\.0\/24\\nLAN of 3"/);
    });

    it("npm run graph: a stack name or a file, svg, dot or mermaid, to stdout or a file; clear errors", () => {
        const graph = (...args: string[]) => spawnSync("node", ["--import", "tsx", "scripts/graph.ts", ...args], { cwd: ROOT, encoding: "utf8" });
        const dot = graph("small", "--format", "dot");
        assert.equal(dot.status, 0, dot.stderr);
        assert.match(dot.stdout, /^digraph "small"/);
        const mermaid = graph("stacks/local.yaml", "--format", "mermaid");
        assert.equal(mermaid.status, 0, mermaid.stderr);
        assert.match(mermaid.stdout, /^flowchart LR/);
        const bad = graph("no-such-stack");
        assert.equal(bad.status, 2);
        assert.match(bad.stderr, /no-such-stack: neither a stack file nor a stack/);
        const format = graph("small", "--format", "png");
        assert.equal(format.status, 2);
        assert.match(format.stderr, /--format must be one of svg, dot, mermaid, not 'png'/);
        const invalid = graph("test/spec/fixtures/many-mistakes.yaml");
        assert.equal(invalid.status, 2);
        assert.match(invalid.stderr, /invalid stack file:\ntest\/spec\/fixtures\/many-mistakes\.yaml: \/hosts\/2\/name: duplicate name 'h1'/);
    });
});
