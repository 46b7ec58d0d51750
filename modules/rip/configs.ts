// Each routing device's configuration, rendered from the model: FRR's integrated config
// for a Linux router that runs RIP, and the IOS configuration of every router with a GRE
// tunnel or RIP (an IOS host's own, or what a Linux PE would be on a real Cisco, from
// templates/ios/<module>.cfg.hbs in a fixed order). As netlab's `netlab create`, these are
// for review and for pasting into real routers; the FRR one is also what the lab loads.
import * as ipaddr from "ipaddr.js";
import type { HostSpec, LabSpec } from "../../model/types";
import { hostPart, inPrefix, subnetOf } from "../../model/address";
import { render } from "../../lib/render";
import { classfulBits } from "../../lib/ios-lint";
import { greTunnels } from "../gre/model";
import { addressedInterfaces, ripInterfaces } from "./model";

export interface DeviceConfig { host: string; platform: "frr" | "ios"; file: string; text: string }

/** Hosts with something to configure beyond addresses: a GRE tunnel or RIP. */
export function routingDevices(spec: LabSpec): HostSpec[] {
    const tunnelled = new Set(greTunnels(spec).flatMap((t) => t.endpoints.map((e) => e.host)));
    return spec.hosts.filter((h) => h.rip || tunnelled.has(h.name));
}

const mask = (cidr: string) => ipaddr.IPv4.subnetMaskFromPrefixLength(Number(cidr.split("/")[1])).toString();

/** IOS's name for a model interface (the model's are Linux names): ethN is GigabitEthernet0/N, lo is Loopback0, TunnelN stays. */
export function iosName(ifname: string): string {
    if (ifname === "lo") return "Loopback0";
    const eth = /^eth(\d+)$/.exec(ifname);
    return eth ? `GigabitEthernet0/${eth[1]}` : ifname;
}

/** The classful network IOS's `network` takes for a prefix (10.1.1.0/24 is in 10.0.0.0). */
export function classfulNetwork(prefix: string): string {
    return subnetOf(`${hostPart(prefix)}/${classfulBits(hostPart(prefix))}`);
}

function describe(spec: LabSpec, host: HostSpec, ifname: string): string {
    if (ifname === "lo") return "loopback: tunnel source";
    for (const t of greTunnels(spec)) {
        const j = t.endpoints.findIndex((e) => e.host === host.name && e.interface === ifname);
        if (j >= 0) return `GRE tunnel ${t.name} to ${t.endpoints[1 - j].host}`;
    }
    const link = spec.links.find((l) => l.ends.some((e) => e.host === host.name && e.interface === ifname));
    if (link) {
        const peers = link.ends.filter((e) => e.host !== host.name).map((e) => e.host);
        return `link ${link.name} to ${peers.join(", ")}`;
    }
    return `bridge ${ifname}`;
}

export function frrConfig(spec: LabSpec, host: HostSpec): string {
    const rip = host.rip;
    const on = new Set(ripInterfaces(spec, host).map((i) => i.name));
    const interfaces = addressedInterfaces(spec, host).map((i) => ({
        name: i.name,
        description: describe(spec, host, i.name),
        rip: on.has(i.name),
    }));
    return render("frr/frr.conf.hbs", {
        host: host.name, stack: spec.name,
        statics: (host.routes ?? []).map((r) => ({ to: r.to, via: r.via })),
        interfaces,
        rip: rip ? { version: rip.version, networks: rip.networks, passive: rip.passive ?? [], redistribute: rip.redistribute ?? [] } : false,
    });
}

export function iosConfig(spec: LabSpec, host: HostSpec): string {
    const rip = host.rip;
    const ripOn = new Set(ripInterfaces(spec, host).map((i) => i.name));
    const tunnelIfs = new Set<string>();
    const tunnels = greTunnels(spec).flatMap((t) => t.endpoints.filter((e) => e.host === host.name).map((e) => ({ t, e }))).map(({ t, e }) => {
        tunnelIfs.add(e.interface);
        return {
            name: iosName(e.interface), description: describe(spec, host, e.interface), address: hostPart(e.address), mask: mask(e.address), mtu: t.mtu,
            rip: ripOn.has(e.interface) ? rip!.version : false, source: e.source, destination: e.destination, key: t.key ?? false,
        };
    });
    const interfaces = addressedInterfaces(spec, host).filter((i) => !tunnelIfs.has(i.name)).map((i) => ({
        name: iosName(i.name), description: describe(spec, host, i.name), address: hostPart(i.cidr), mask: mask(i.cidr),
        rip: ripOn.has(i.name) ? rip!.version : false,
    }));
    let ripValues: object | false = false;
    if (rip) {
        const networks = [...new Set(rip.networks.map(classfulNetwork))];
        const passive = new Set((rip.passive ?? []).map((p) => iosName(p)));
        const notes: string[] = [];
        // A classful statement takes in every interface of its class: those the model keeps
        // out of RIP stay passive, though IOS still advertises their subnets.
        for (const i of addressedInterfaces(spec, host)) {
            const byModel = rip.networks.some((n) => inPrefix(i.cidr, n));
            const byIos = networks.some((n) => inPrefix(i.cidr, n));
            if (byIos && !byModel) {
                passive.add(iosName(i.name));
                notes.push(`${iosName(i.name)} (${i.cidr}) is in a classful network above but not in RIP: passive, though still advertised (a static route outranks it)`);
            }
        }
        ripValues = { version: rip.version, networks: networks.map((n) => hostPart(n)), passive: [...passive], redistribute: rip.redistribute ?? [], notes };
    }
    const values = {
        host: host.name, stack: spec.name,
        note: host.platform === "ios" ? "ethN is GigabitEthernet0/N" : `what host ${host.name}, built as Linux with FRR, is on a Cisco IOS router: ethN is GigabitEthernet0/N`,
        interfaces, tunnels, rip: ripValues,
        statics: (host.routes ?? []).map((r) => ({ network: hostPart(r.to), mask: mask(r.to), via: r.via })),
    };
    return ["base", "gre", "rip", "static"].map((m) => render(`ios/${m}.cfg.hbs`, values)).join("");
}

/** Every routing device's configuration files: FRR for Linux routers with RIP, IOS for all. */
export function deviceConfigs(spec: LabSpec): DeviceConfig[] {
    return routingDevices(spec).flatMap((h) => [
        ...(h.platform !== "ios" && h.rip ? [{ host: h.name, platform: "frr" as const, file: `${h.name}/frr.conf`, text: frrConfig(spec, h) }] : []),
        { host: h.name, platform: "ios" as const, file: `${h.name}/ios.cfg`, text: iosConfig(spec, h) },
    ]);
}
