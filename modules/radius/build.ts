// The RADIUS server on its host once the address it listens on is up (its link, or the
// ipv6 module's addresses: both built before this stage), and the lab's check of it.
// Both are routing components, so the VMs (compute) wait for them: a MAG asks the server
// as soon as a VM attaches.
import * as pulumi from "@pulumi/pulumi";
import type { Stage } from "../../components/stages";
import { radiusDir } from "./config";
import { RadiusCheck } from "./check";
import { RadiusServer } from "./server";

export const stage: Stage = {
    build(lab) {
        const r = lab.spec.radius;
        if (!r) return;
        const config = new pulumi.Config();
        const password = config.requireSecret(r.password.config);
        // Validation made sure every client has one.
        const secrets = r.clients.map((c) => config.requireSecret(c.secret!.config));
        const dir = radiusDir(lab.stack, r.host);
        const host = lab.hosts[r.host];
        const server = new RadiusServer(`radius-${r.host}`, {
            spec: lab.spec, stack: lab.stack, host, dir, password, secrets,
            dependsOn: [...lab.underlay(r.host), ...lab.builtIn("links", "network", "routing")],
        }, lab.child);
        lab.add("routing", server);
        lab.provide("radius", r.host, server);
        const check = new RadiusCheck(`radius-${r.host}`, { spec: lab.spec, host, dir, password, server: server.command }, lab.child);
        lab.add("validation", check);
        lab.provide("check", `radius-${r.host}`, check);
        lab.outputs.radius = { host: r.host, address: r.address, port: r.port, check: check.summary };
    },
};
