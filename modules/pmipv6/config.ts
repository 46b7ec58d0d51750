// The lab's PMIPv6 daemon's configuration per node (tools/pmipd reads it as JSON). No
// secret is in it: the RADIUS shared secret and password are files beside it.
import type { LabSpec } from "../../model/types";
import { accessBridge, accessLinkLocal, magPath, type PmipMagSpec } from "./model";

export interface RadiusTarget { host: string; address: string; port: number }

export const pmipdDir = (stack: string) => `/var/lib/wanlab/${stack}/pmipd`;

function radiusBlock(r: RadiusTarget, dir: string, nas: string) {
    const server = r.address.includes(":") ? `[${r.address}]:${r.port}` : `${r.address}:${r.port}`;
    return { server, secretFile: `${dir}/radius-secret`, passwordFile: `${dir}/radius-password`, nasIdentifier: nas, timeoutMs: 1000, retries: 3 };
}

/** The LMA's tunnel to one MAG. */
export const lmaTunnel = (mag: string) => `pmip-${mag}`.slice(0, 15);
/** A MAG's tunnel to the LMA. */
export const MAG_TUNNEL = "pmip0";
export const MAG_ROUTE_TABLE = 100;

export function lmaConfig(spec: LabSpec, stack: string, radius: RadiusTarget) {
    const p = spec.pmipv6!;
    const dir = pmipdDir(stack);
    return {
        role: "lma", name: p.lma.host, stateFile: `${dir}/state.json`, eventLog: `${dir}/events.jsonl`,
        mags: p.mags.map((m) => {
            const path = magPath(spec, m);
            return { name: m.host, address: path.egress!, local: path.lma!, tunnel: lmaTunnel(m.host) };
        }),
        radius: radiusBlock(radius, dir, p.lma.host),
        timers: {
            minDelayBeforeBceDeleteMs: p.timers.minDelayBeforeBceDeleteMs,
            timestampValidityWindowMs: p.timers.timestampValidityWindowMs,
            maxBindingLifetimeS: p.timers.pbuLifetimeS,
        },
    };
}

export function magConfig(spec: LabSpec, stack: string, mag: PmipMagSpec, radius: RadiusTarget) {
    const p = spec.pmipv6!;
    const dir = pmipdDir(stack);
    const path = magPath(spec, mag);
    const t = p.timers;
    return {
        role: "mag", name: mag.host, stateFile: `${dir}/state.json`, eventLog: `${dir}/events.jsonl`,
        lmaAddress: path.lma!,
        egress: { interface: mag.egress, address: path.egress! },
        access: { interface: mag.access, mac: p.accessMac, linkLocal: accessLinkLocal(p) },
        radius: radiusBlock(radius, dir, mag.host),
        timers: {
            pbuLifetimeS: t.pbuLifetimeS, retransmitMs: t.retransmitMs, maxRetransmits: t.maxRetransmits,
            nudIntervalMs: t.nudIntervalMs, nudProbes: t.nudProbes, raIntervalS: t.raIntervalS,
        },
        tunnel: MAG_TUNNEL, routeTable: MAG_ROUTE_TABLE,
    };
}

/** The MAG that serves a hypervisor (whose VM bridge its access link reaches). */
export function magOf(spec: LabSpec, hypervisor: string): PmipMagSpec | undefined {
    return spec.pmipv6?.mags.find((m) => accessBridge(spec, m)?.host === hypervisor);
}
