// The core's semantic rules, those a JSON Schema cannot express for sites, hosts and links:
// unique names, references that resolve, addresses inside their subnets, subnets that do
// not overlap. Each module then adds its own (model/validate.ts runs them in order).
import type { LabSpec } from "./types";
import { hostPart, inPrefix, isNetworkPrefix, isReservedInPrefix, overlappingPairs } from "./address";
import { CheckContext } from "./context";

export function coreErrors(spec: LabSpec, ctx: CheckContext) {
    ctx.unique("sites", spec.sites);
    ctx.unique("hosts", spec.hosts);
    ctx.unique("links", spec.links);

    const sites = new Set(spec.sites.map((s) => s.name));
    spec.hosts.forEach((h, i) => {
        if (h.site !== undefined && !sites.has(h.site)) ctx.err(`/hosts/${i}/site`, `unknown site '${h.site}'`);
        if (h.appliance && h.transport !== "emulated") ctx.err(`/hosts/${i}/appliance`, "an appliance runs on this machine: give the host transport 'emulated'");
        if (h.appliance && h.roles.includes("hypervisor")) ctx.err(`/hosts/${i}/appliance`, "a hypervisor cannot run as an appliance (a router or a service can)");
        if (h.platform === "ios") {
            if (h.appliance) ctx.err(`/hosts/${i}/appliance`, "an IOS router is not an appliance: the lab renders its configuration and does not boot it");
            const other = h.roles.filter((r) => r !== "router");
            if (other.length) ctx.err(`/hosts/${i}/roles`, `an IOS router can only be a router, not ${other.join(", ")}`);
        }
    });

    // Links: ends on known hosts, each host once, addresses inside the subnet.
    const overlaps = overlappingPairs(spec.links.map((l) => l.subnet));
    spec.links.forEach((l, i) => {
        const at = `/links/${i}`;
        ctx.net.segment(`link:${l.name}`, l.mtu);
        if (!isNetworkPrefix(l.subnet)) ctx.err(`${at}/subnet`, `${l.subnet} is not a network address (host bits are set)`);
        const transports = new Set<string>();
        const seen = new Set<string>();
        let twice: string | undefined;
        l.ends.forEach((e, j) => {
            const ep = `${at}/ends/${j}`;
            if (ctx.hostRef(`${ep}/host`, e.host)) transports.add(ctx.hosts.get(e.host)!.transport);
            if (seen.has(e.host)) twice ??= e.host;
            seen.add(e.host);
            ctx.claimInterface(e.host, e.interface, `${ep}/interface`);
            if (e.address) {
                if (!inPrefix(e.address, l.subnet)) ctx.err(`${ep}/address`, `${e.address} is outside the link's subnet ${l.subnet}`);
                else if (e.address.split("/")[1] !== l.subnet.split("/")[1]) ctx.err(`${ep}/address`, `prefix length of ${e.address} differs from the subnet ${l.subnet}`);
                else if (isReservedInPrefix(e.address, l.subnet)) ctx.err(`${ep}/address`, `${hostPart(e.address)} is the network or broadcast address of ${l.subnet}`);
                ctx.claimAddress(e.address, `${ep}/address`);
                ctx.attach(e.host, e.address, `link:${l.name}`);
            }
        });
        if (twice !== undefined) {
            ctx.err(`${at}/ends`, l.ends.length === 2 ? "a link joins two different hosts"
                : `host '${twice}' has two ends on this LAN: give each host one end`);
        }
        if (transports.size > 1) ctx.err(`${at}/ends`, "a link joins emulated hosts or ssh hosts, not both");
        for (const k of overlaps.get(i) ?? []) {
            ctx.err(`${at}/subnet`, `${l.subnet} overlaps ${spec.links[k].subnet} of link '${spec.links[k].name}'`);
        }
    });
}
