// WAN profiles: the studies' figures, the two readings of a profile's delay, and the
// NetEm arguments and kernel requirement they lead to.
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { netemArgs, perInterface, PROFILES, withRate } from "./profiles";
import { appliedArgs } from "./model";
import { requirementsFor } from "../../model/platforms";
import { validateDocument } from "../../model/validate";
import { applySettings } from "../../model/config";
import type { LabSpec } from "../../model/types";

const ROOT = path.resolve(__dirname, "..", "..");

/** The spec as `pulumi config set wanlab:wanProfile <profile>` makes it. */
const withProfile = (spec: LabSpec, wanProfile: string) => applySettings(structuredClone(spec), { wanProfile });

describe("WAN profiles", () => {
    it("carry seed 000's delays and jitters with the pareto distribution", () => {
        assert.deepEqual(netemArgs(PROFILES.campus), []);
        assert.deepEqual(netemArgs(PROFILES["intra-eu"]), ["delay", "30ms", "6ms", "distribution", "pareto"]);
        assert.deepEqual(netemArgs(PROFILES["trans-atlantic"]), ["delay", "90ms", "10ms", "distribution", "pareto"]);
        assert.deepEqual(netemArgs(PROFILES["trans-pacific"]), ["delay", "160ms", "20ms", "distribution", "pareto"]);
    });

    it("per-interface (seed 000) applies the delay as it is; split-rtt (seed 001) halves it, delay only", () => {
        assert.deepEqual(perInterface(PROFILES["trans-pacific"], "per-interface"), PROFILES["trans-pacific"]);
        assert.deepEqual(netemArgs(perInterface(PROFILES["intra-eu"], "split-rtt")), ["delay", "15ms"]);
        assert.deepEqual(netemArgs(perInterface(PROFILES["trans-atlantic"], "split-rtt")), ["delay", "45ms"]);
        assert.deepEqual(netemArgs(perInterface(PROFILES["trans-pacific"], "split-rtt")), ["delay", "80ms"]);
    });

    it("every NetEm parameter has its tc form", () => {
        assert.deepEqual(netemArgs({
            delayMs: 20, jitterMs: 5, correlationPct: 25, distribution: "paretonormal",
            lossPct: 1, duplicatePct: 0.5, corruptPct: 0.1, reorderPct: 2, rateMbit: 100,
        }), ["delay", "20ms", "5ms", "25%", "distribution", "paretonormal", "loss", "1%", "duplicate", "0.5%",
            "corrupt", "0.1%", "reorder", "2%", "rate", "100mbit"]);
    });

    it("a rate over a profile: seed 000's 100 Mbit/s host links, with a queue long enough for what is in flight", () => {
        // 100 Mbit/s for 20 ms (no delay, and 10 ms of room) is 167 full frames: the default 1000 will do.
        assert.deepEqual(netemArgs(withRate(PROFILES.campus, 100)), ["rate", "100mbit"]);
        // 160 + 20 + 10 ms at 100 Mbit/s, twice over: 3167 frames of 1500 bytes.
        assert.deepEqual(netemArgs(withRate(PROFILES["trans-pacific"], 100)),
            ["delay", "160ms", "20ms", "distribution", "pareto", "rate", "100mbit", "limit", "3167"]);
        assert.deepEqual(withRate(PROFILES["intra-eu"], undefined), PROFILES["intra-eu"]);
        // wanlab:wanRateMbit over the stack file's; 0 takes it away.
        const base = validateDocument(yaml.load(fs.readFileSync(path.join(ROOT, "stacks", "local-wan.yaml"), "utf8"))).spec!;
        const rated = applySettings(structuredClone(base), { wanRateMbit: 100, wanProfile: "intra-eu" });
        assert.equal(appliedArgs(rated.wan!), "delay 30ms 6ms distribution pareto rate 100mbit");
        assert.equal(applySettings(structuredClone(rated), { wanRateMbit: 0 }).wan!.rateMbit, undefined);
        // The router needs sch_netem for a rate alone, at campus too.
        assert.equal(appliedArgs(applySettings(structuredClone(base), { wanRateMbit: 100, wanProfile: "campus" }).wan!), "rate 100mbit");
    });

    it("the router needs sch_netem only when its profile adds something", () => {
        const v = validateDocument({
            name: "w",
            hosts: [{ name: "a", transport: "emulated" }, { name: "r", transport: "emulated", roles: ["router"] }],
            links: [{ name: "l", subnet: "10.0.9.0/24", ends: [
                { host: "a", interface: "eth0", address: "10.0.9.2/24" }, { host: "r", interface: "eth1", address: "10.0.9.1/24" }] }],
            wan: { router: "r", interfaces: ["eth1"], profile: "campus", mode: "per-interface" },
        });
        assert.deepEqual(v.errors, []);
        const r = v.spec!.hosts[1];
        const eu = withProfile(v.spec!, "intra-eu");
        assert.ok(!requirementsFor(v.spec!, r).kernel.includes("sch_netem"));
        assert.ok(requirementsFor(eu, eu.hosts[1]).kernel.includes("sch_netem"));
        assert.ok(requirementsFor(v.spec!, r).binaries.includes("tc"));
        assert.ok(!requirementsFor(eu, eu.hosts[0]).kernel.includes("sch_netem"));
    });

    it("a WAN on a host that does not route, or on an interface it lacks, is an error", () => {
        const v = validateDocument({
            name: "w",
            hosts: [{ name: "a", transport: "emulated" }, { name: "b", transport: "emulated" }],
            links: [{ name: "l", subnet: "10.0.9.0/24", ends: [
                { host: "a", interface: "eth0", address: "10.0.9.2/24" }, { host: "b", interface: "eth1", address: "10.0.9.1/24" }] }],
            wan: { router: "b", interfaces: ["eth1", "eth7"], profile: { delayMs: 5 }, mode: "split-rtt" },
        });
        assert.deepEqual(v.errors, [
            { pointer: "/wan/router", reason: "host 'b' does not forward: give it the role 'router'" },
            { pointer: "/wan/interfaces/1", reason: "no interface 'eth7' on host 'b'" },
        ]);
    });
});
