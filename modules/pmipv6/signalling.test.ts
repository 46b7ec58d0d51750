// A migration's PMIPv6 signalling from the daemons' events (taken from a real run on
// local-pmipv6, with one announce event added): the parts of seed 001's D_PMIPv6.
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseEvents, signalling } from "./signalling";

const events = parseEvents(fs.readFileSync(path.join(__dirname, "fixtures", "run1-events.jsonl"), "utf8") + "not json\n");

describe("PMIPv6 signalling of a run", () => {
    const s = signalling(events, "000000163e010101", "mag2", "mag1");
    it("takes the new MAG's first trigger and every announcement after it", () => {
        assert.equal(s.trigger, "rarp");
        assert.deepEqual(s.announcements, ["rarp", "na"]);
        assert.equal(s.attachAt, 1796546010225.486);
    });
    it("splits attach -> RA into authorization, registration and the steps between, on the new MAG's clock", () => {
        assert.deepEqual(s.parts, { detectToRequestMs: 0.195, authorizationMs: 8.382, acceptToPbuMs: 13.259, registrationMs: 151.114, pbaToRaMs: 213.679 });
        assert.equal(s.pmipMs, 386.629);
    });
    it("sees the old MAG's detach and the LMA ignoring its late de-registration", () => {
        assert.deepEqual(s.oldMag, { mag: "mag1", detachAt: 1796546014257.216, deregistrationIgnored: true });
        assert.equal(s.lmaBindingMag, "mag2");
    });
    it("gives nulls, not numbers, for steps that did not happen", () => {
        const none = signalling(events.filter((e) => e.event !== "pba-received"), "000000163e010101", "mag2", "mag1");
        assert.equal(none.parts.registrationMs, null);
        assert.equal(none.pmipMs, null);
        assert.equal(signalling([], "x", "mag2", "mag1").trigger, null);
    });
});
