// One migration's PMIPv6 signalling, from the daemons' event logs (tools/pmipd): seed 001
// §3.6 splits the downtime PMIPv6 adds into detection, authorization and registration
// (D_PMIPv6 = D_mov.det + D_auth + D_reg). Each part is measured on one node's clock.

export interface PmipEvent { tNs: number; node: string; event: string; [k: string]: unknown }

export interface PmipSignalling {
    /** The new MAG, and what told it the VM had arrived (na: the VM's unsolicited NA; rarp: QEMU's announce; rs). */
    mag: string;
    trigger: string | null;
    /** Every kind of announcement the new MAG saw from the VM after it arrived, first one first (na, rarp, rs). */
    announcements: string[];
    /** ms since the epoch on the new MAG's clock. */
    attachAt: number | null;
    /** Attach -> Access-Request, RADIUS round trip, Accept -> PBU, PBU -> PBA, PBA -> RA (ms). */
    parts: { detectToRequestMs: number | null; authorizationMs: number | null; acceptToPbuMs: number | null; registrationMs: number | null; pbaToRaMs: number | null };
    /** Attach detected to RA sent: the downtime PMIPv6 adds after the VM is back (ms). */
    pmipMs: number | null;
    /** The old MAG's detach (NUD) and its de-registration, if they came in the window. */
    oldMag: { mag: string; detachAt: number | null; deregistrationIgnored: boolean | null } | null;
    /** The LMA's view: which MAG its binding names now. */
    lmaBindingMag: string | null;
}

const at = (e?: PmipEvent) => (e ? Math.round(e.tNs / 1e3) / 1e3 : null);
const diff = (a?: PmipEvent, b?: PmipEvent) => (a && b ? Math.round((b.tNs - a.tNs) / 1e3) / 1e3 : null);

/** Parse event-log lines (one JSON object a line; other lines are skipped). */
export function parseEvents(text: string): PmipEvent[] {
    return text.split("\n").flatMap((l) => {
        if (!l.startsWith("{")) return [];
        try { return [JSON.parse(l) as PmipEvent]; } catch { return []; }
    });
}

/** The signalling of the run whose VM (MN-ID mn) moved to newMag from oldMag. */
export function signalling(events: PmipEvent[], mn: string, newMag: string, oldMag: string): PmipSignalling {
    const on = (node: string) => events.filter((e) => e.node === node);
    const mag = on(newMag);
    const attach = mag.find((e) => e.event === "attach" && e.mn === mn);
    const after = (name: string, from?: PmipEvent, match: (e: PmipEvent) => boolean = () => true) =>
        from ? mag.find((e) => e.event === name && e.tNs >= from.tNs && match(e)) : undefined;
    const request = after("access-request", attach);
    const accept = after("access-accept", request);
    const pbu = after("pbu-sent", accept, (e) => e.mn === mn && Number(e.lifetimeS) > 0);
    const pba = after("pba-received", pbu, (e) => e.mn === mn && e.status === 0);
    const ra = after("ra-sent", pba, (e) => e.mn === mn);
    const old = on(oldMag);
    const detach = old.find((e) => e.event === "detach" && e.mn === mn);
    const lma = events.filter((e) => e.node !== newMag && e.node !== oldMag);
    const ignored = lma.some((e) => e.event === "dereg-ignored" && e.mn === mn);
    const lastBce = [...lma].reverse().find((e) => (e.event === "bce-created" || e.event === "bce-updated") && e.mn === mn);
    const announcements = [...new Set([attach?.trigger, ...mag.filter((e) => e.event === "announce" && e.mn === mn && attach && e.tNs >= attach.tNs).map((e) => e.kind)]
        .filter((k): k is string => typeof k === "string"))];
    return {
        mag: newMag,
        trigger: (attach?.trigger as string | undefined) ?? null,
        announcements,
        attachAt: at(attach),
        parts: {
            detectToRequestMs: diff(attach, request), authorizationMs: diff(request, accept), acceptToPbuMs: diff(accept, pbu),
            registrationMs: diff(pbu, pba), pbaToRaMs: diff(pba, ra),
        },
        pmipMs: diff(attach, ra),
        oldMag: { mag: oldMag, detachAt: at(detach), deregistrationIgnored: detach ? ignored : null },
        lmaBindingMag: (lastBce?.mag as string | undefined) ?? null,
    };
}
