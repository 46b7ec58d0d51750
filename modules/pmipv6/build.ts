// PMIPv6 with the lab's daemon: pmipd on the LMA and every MAG once their IPv6 is up; a
// check (validation) that the LMA's binding names the MAG serving each VM, its tunnel is
// up and the probe host reaches the VM's address; and, after each migration run, the
// signalling read from the nodes' event logs into the run's record.
import * as pulumi from "@pulumi/pulumi";
import type { Stage } from "../../components/stages";
import { shellScript } from "../../lib/scripts";
import type { VirtualMachine } from "../libvirt/vm";
import type { AfterRun } from "../migration/migration";
import { PmipDaemon } from "./daemon";
import { lmaConfig, lmaTunnel, magConfig, magOf, pmipdDir, type RadiusTarget } from "./config";
import { mobileNodes } from "./model";
import { parseEvents, type PmipEvent, signalling } from "./signalling";


export const stage: Stage = {
    build(lab) {
        const p = lab.spec.pmipv6;
        if (!p || p.daemon !== "wanlab") return;
        const radius = lab.spec.radius!;
        const cfg = new pulumi.Config();
        const target: RadiusTarget = { host: radius.host, address: radius.address, port: radius.port };
        const password = cfg.requireSecret(radius.password.config);
        const secretOf = (host: string) => cfg.requireSecret(radius.clients.find((c) => c.host === host)!.secret!.config);
        const dir = pmipdDir(lab.stack);
        const routing = lab.builtIn("links", "network", "routing");
        const daemon = (host: string, config: object) => new PmipDaemon(`pmipd-${host}`, {
            host: lab.hosts[host], dir, config, secret: secretOf(host), password,
            dependsOn: [...lab.underlay(host), ...routing],
        }, lab.child);
        const lma = daemon(p.lma.host, lmaConfig(lab.spec, lab.stack, target));
        lab.add("routing", lma);
        for (const m of p.mags) lab.add("routing", daemon(m.host, magConfig(lab.spec, lab.stack, m, target)));

        // Each VM registered where it runs, reachable from the probe host.
        const vms = lab.all<VirtualMachine>("vm");
        for (const mn of mobileNodes(lab.spec)) {
            const vm = lab.spec.vms.find((v) => v.name === mn.vm)!;
            const mag = magOf(lab.spec, vm.host)!;
            const machine = vms.find((v) => v.address === mn.address);
            const binding = lab.hosts[p.lma.host].command(`pmip-binding-${mn.vm}`, {
                create: shellScript(__dirname, "binding-check.sh"),
                environment: { DIR: dir, MN: mn.userName, MAG: mag.host, TUNNEL: lmaTunnel(mag.host), WAIT_S: "90" },
                ...(machine ? { triggers: [machine.startedAt] } : {}),
            }, { ...lab.child, dependsOn: [lma, ...vms] });
            lab.provide("check", `pmip-binding-${mn.vm}`, binding);
            lab.add("validation", binding);
            const probe = lab.spec.migration?.probe.from;
            if (probe) {
                const ping = lab.hosts[probe].command(`pmip-ping-${mn.vm}`, {
                    create: shellScript(__dirname, "../checks/ping-check.sh"),
                    environment: { TARGET: mn.address, COUNT: "3", WAIT: "60", FROM: probe },
                    ...(machine ? { triggers: [machine.startedAt] } : {}),
                }, { ...lab.child, dependsOn: [binding] });
                lab.provide("check", `pmip-ping-${mn.vm}`, ping);
                lab.add("validation", ping);
            }
        }
    },
};

/** After each run: the new MAG's, the old MAG's and the LMA's events; the LMA's reading, last, turns them into the figures. */
export function pmipAfterRun(lab: Parameters<Stage["build"]>[0], vm: string): AfterRun[] {
    const p = lab.spec.pmipv6;
    const mn = mobileNodes(lab.spec).find((x) => x.vm === vm);
    if (!p || p.daemon !== "wanlab" || !mn) return [];
    const dir = pmipdDir(lab.stack);
    const magFor = (h: string) => magOf(lab.spec, h)!.host;
    const events = (rec: { pmipv6?: Record<string, unknown> }) => (rec.pmipv6?.events as PmipEvent[] | undefined) ?? [];
    // The old MAG notices the VM has gone after nudProbes unanswered NUD intervals.
    const detachS = String(Math.ceil((p.timers.nudProbes + 1) * p.timers.nudIntervalMs / 1000) + 5);
    const reading = (name: string, node: (from: string, to: string) => string, last = false, waitFor = ""): AfterRun => ({
        name: `pmip-events-${name}`,
        host: (r) => lab.hosts[node(r.from, r.to)],
        script: shellScript(__dirname, "events-read.sh"),
        // From 2 s before the run started (the appliances' clocks are this machine's to the second).
        environment: (_r, startedAt) => ({ DIR: dir, SINCE_NS: `${startedAt - 2000}000000`, WAIT_FOR: waitFor, WAIT_S: detachS }),
        merge: (rec, out, r) => {
            const all = events(rec).concat(parseEvents(out));
            return { ...rec, pmipv6: last ? { ...signalling(all, mn.userName, magFor(r.to), magFor(r.from)) } : { events: all } };
        },
    });
    return [
        reading("new-mag", (_from, to) => magFor(to)),
        reading("old-mag", (from) => magFor(from), false, '"event":"detach"'),
        reading("lma", () => p.lma.host, true),
    ];
}
