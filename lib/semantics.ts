// The checks a JSON Schema cannot express: unique names, references that resolve,
// addresses inside their subnets, subnets that do not overlap, unique MACs and VNIs,
// and a migration between two different hypervisors.
import type { LabSpec, SpecError } from "./spec";
import { hostPart, inPrefix, isNetworkPrefix, isReservedInPrefix, overlaps } from "./address";

export function semanticErrors(spec: LabSpec): SpecError[] {
    const errors: SpecError[] = [];
    const err = (pointer: string, reason: string) => errors.push({ pointer, reason });

    // Names unique within their section.
    const unique = (section: string, items: { name?: string }[]) => {
        const seen = new Map<string, number>();
        items.forEach((it, i) => {
            if (it.name === undefined) return;
            const first = seen.get(it.name);
            if (first !== undefined) err(`/${section}/${i}/name`, `duplicate name '${it.name}' (first at /${section}/${first})`);
            else seen.set(it.name, i);
        });
    };
    unique("sites", spec.sites);
    unique("hosts", spec.hosts);
    unique("links", spec.links);
    unique("tunnels", spec.tunnels);
    unique("storage", spec.storage);
    unique("vms", spec.vms);
    unique("checks", spec.checks);

    const sites = new Set(spec.sites.map((s) => s.name));
    const hosts = new Map(spec.hosts.map((h) => [h.name, h]));
    const hostRef = (pointer: string, name: string): boolean => {
        if (hosts.has(name)) return true;
        err(pointer, `unknown host '${name}'`);
        return false;
    };

    spec.hosts.forEach((h, i) => {
        if (h.site !== undefined && !sites.has(h.site)) err(`/hosts/${i}/site`, `unknown site '${h.site}'`);
        if (h.appliance && h.transport !== "emulated") err(`/hosts/${i}/appliance`, "an appliance runs on this machine: give the host transport 'emulated'");
        if (h.appliance && h.roles.includes("hypervisor")) err(`/hosts/${i}/appliance`, "a hypervisor cannot run as an appliance (a router or a service can)");
    });

    // Interface names are unique per host, whichever section defines them.
    const ifaces = new Map<string, string>(); // "host/ifname" -> pointer of first definition
    const claimInterface = (host: string, name: string, pointer: string) => {
        const key = `${host}/${name}`;
        const first = ifaces.get(key);
        if (first) err(pointer, `interface '${name}' already exists on host '${host}' (at ${first})`);
        else ifaces.set(key, pointer);
    };

    // Bridges: unique per host.
    const bridges = new Map<string, number>(); // "host/bridge" -> index
    spec.bridges.forEach((b, i) => {
        hostRef(`/bridges/${i}/host`, b.host);
        claimInterface(b.host, b.name, `/bridges/${i}/name`);
        bridges.set(`${b.host}/${b.name}`, i);
    });
    const bridgeRef = (pointer: string, host: string, bridge: string) => {
        if (hosts.has(host) && !bridges.has(`${host}/${bridge}`)) err(pointer, `no bridge '${bridge}' on host '${host}'`);
    };

    // Every address in the lab, so that none is given twice.
    const addresses = new Map<string, string>(); // ip -> pointer
    const claimAddress = (ifaddr: string, pointer: string) => {
        const ip = hostPart(ifaddr);
        const first = addresses.get(ip);
        if (first) err(pointer, `address ${ip} is already used (at ${first})`);
        else addresses.set(ip, pointer);
    };
    // Subnets each host is directly attached to, for route and tunnel checks.
    const attached = new Map<string, string[]>();
    const attach = (host: string, ifaddr: string) => attached.set(host, [...(attached.get(host) ?? []), ifaddr]);

    spec.links.forEach((l, i) => {
        const at = `/links/${i}`;
        if (!isNetworkPrefix(l.subnet)) err(`${at}/subnet`, `${l.subnet} is not a network address (host bits are set)`);
        const transports = new Set<string>();
        l.ends.forEach((e, j) => {
            const ep = `${at}/ends/${j}`;
            if (hostRef(`${ep}/host`, e.host)) transports.add(hosts.get(e.host)!.transport);
            claimInterface(e.host, e.interface, `${ep}/interface`);
            if (e.address && e.bridge) err(ep, "give an end either an address or a bridge, not both");
            if (e.bridge) bridgeRef(`${ep}/bridge`, e.host, e.bridge);
            if (e.address) {
                if (!inPrefix(e.address, l.subnet)) err(`${ep}/address`, `${e.address} is outside the link's subnet ${l.subnet}`);
                else if (e.address.split("/")[1] !== l.subnet.split("/")[1]) err(`${ep}/address`, `prefix length of ${e.address} differs from the subnet ${l.subnet}`);
                else if (isReservedInPrefix(e.address, l.subnet)) err(`${ep}/address`, `${hostPart(e.address)} is the network or broadcast address of ${l.subnet}`);
                claimAddress(e.address, `${ep}/address`);
                attach(e.host, e.address);
            }
        });
        if (l.ends[0].host === l.ends[1].host) err(`${at}/ends`, "a link joins two different hosts");
        if (transports.size > 1) err(`${at}/ends`, "a link joins two emulated hosts or two ssh hosts, not one of each");
        spec.links.forEach((o, k) => {
            if (k < i && overlaps(l.subnet, o.subnet)) err(`${at}/subnet`, `${l.subnet} overlaps ${o.subnet} of link '${o.name}'`);
        });
    });

    spec.bridges.forEach((b, i) => {
        if (!b.address) return;
        claimAddress(b.address, `/bridges/${i}/address`);
        attach(b.host, b.address);
        // A bridge's address must sit in the subnet of a link plugged into it.
        const uplinks = spec.links.filter((l) => l.ends.some((e) => e.host === b.host && e.bridge === b.name));
        if (uplinks.length && !uplinks.some((l) => inPrefix(b.address!, l.subnet)))
            err(`/bridges/${i}/address`, `${b.address} is outside the subnet of every link plugged into bridge '${b.name}'`);
    });

    const hasAddress = (host: string, ip: string) => (attached.get(host) ?? []).some((a) => hostPart(a) === ip);
    const ownerOf = (ip: string) => [...attached.keys()].find((h) => hasAddress(h, ip));

    // Tunnels: one VNI per overlay, endpoints on known hosts, remotes among the endpoints.
    const vnis = new Map<number, number>();
    spec.tunnels.forEach((t, i) => {
        const at = `/tunnels/${i}`;
        if (t.vni !== undefined) {
            const first = vnis.get(t.vni);
            if (first !== undefined) err(`${at}/vni`, `VNI ${t.vni} is already used by tunnel '${spec.tunnels[first].name}'`);
            else vnis.set(t.vni, i);
        }
        const members = new Set(t.endpoints.map((e) => e.host));
        t.endpoints.forEach((e, j) => {
            const ep = `${at}/endpoints/${j}`;
            if (!hostRef(`${ep}/host`, e.host)) return;
            claimInterface(e.host, e.interface, `${ep}/interface`);
            bridgeRef(`${ep}/bridge`, e.host, e.bridge);
            if (e.local && !hasAddress(e.host, e.local)) err(`${ep}/local`, `${e.local} is not an address of host '${e.host}'`);
            e.remotes.forEach((r, k) => {
                const owner = ownerOf(r);
                if (owner === e.host) err(`${ep}/remotes/${k}`, "an end point cannot tunnel to its own host");
                else if (!owner || !members.has(owner)) err(`${ep}/remotes/${k}`, `${r} is not an address of another end point of tunnel '${t.name}'`);
            });
        });
        if (members.size !== t.endpoints.length) err(`${at}/endpoints`, "a host appears twice among the endpoints");
    });

    // Routes: the next hop must be on a subnet the host is attached to.
    spec.hosts.forEach((h, i) => {
        const seenTo = new Set<string>();
        (h.routes ?? []).forEach((r, k) => {
            if (seenTo.has(r.to)) err(`/hosts/${i}/routes/${k}/to`, `a second route to ${r.to} on host '${h.name}'`);
            seenTo.add(r.to);
            if (!isNetworkPrefix(r.to)) err(`/hosts/${i}/routes/${k}/to`, `${r.to} is not a network address (host bits are set)`);
            if (!(attached.get(h.name) ?? []).some((a) => inPrefix(r.via, a)))
                err(`/hosts/${i}/routes/${k}/via`, `next hop ${r.via} is not on any subnet of host '${h.name}'`);
        });
    });

    // Storage: on a known host, listening on one of its addresses.
    const storage = new Set(spec.storage.map((st) => st.name));
    spec.storage.forEach((st, i) => {
        if (hostRef(`/storage/${i}/host`, st.host) && !hasAddress(st.host, st.portal))
            err(`/storage/${i}/portal`, `${st.portal} is not an address of host '${st.host}'`);
    });

    // VMs: on hypervisors, with unique MACs and bridges that exist on their host.
    const macs = new Map<string, string>();
    const isHypervisor = (name: string) => hosts.get(name)?.roles.includes("hypervisor") ?? false;
    spec.vms.forEach((vm, i) => {
        const at = `/vms/${i}`;
        if (hostRef(`${at}/host`, vm.host) && !isHypervisor(vm.host))
            err(`${at}/host`, `host '${vm.host}' does not have the role 'hypervisor'`);
        if (!storage.has(vm.disk.storage)) err(`${at}/disk/storage`, `unknown storage '${vm.disk.storage}'`);
        // wanlab's own guest image is built on this machine; a real host needs its own files.
        if (hosts.get(vm.host)?.transport === "ssh" && !vm.image)
            err(`${at}`, "a VM on an ssh host must name its kernel and initrd in 'image' (files present on every hypervisor)");
        vm.interfaces.forEach((nic, j) => {
            const ip = `${at}/interfaces/${j}`;
            if (nic.gateway && nic.address && !inPrefix(nic.gateway, nic.address))
                err(`${ip}/gateway`, `gateway ${nic.gateway} is outside ${nic.address}`);
            bridgeRef(`${ip}/bridge`, vm.host, nic.bridge);
            const first = macs.get(nic.mac);
            if (first) err(`${ip}/mac`, `MAC ${nic.mac} is already used (at ${first})`);
            else macs.set(nic.mac, `${ip}/mac`);
            if (nic.address) claimAddress(nic.address, `${ip}/address`);
        });
    });

    // Migration: an existing VM between two different hypervisors that both have its bridges.
    const m = spec.migration;
    if (m) {
        const vm = spec.vms.find((v) => v.name === m.vm);
        if (!vm) err("/migration/vm", `unknown VM '${m.vm}'`);
        for (const end of ["from", "to"] as const) {
            if (hostRef(`/migration/${end}`, m[end]) && !isHypervisor(m[end]))
                err(`/migration/${end}`, `host '${m[end]}' does not have the role 'hypervisor'`);
            else if (vm && hosts.has(m[end]))
                vm.interfaces.forEach((nic) => bridgeRef(`/migration/${end}`, m[end], nic.bridge));
        }
        if (m.from === m.to) err("/migration/to", "source and destination of a migration must be different hosts");
        // Forward is from -> to; the VM starts on its own host (wanlab:migrationDirection turns it round).
        if (vm && hosts.has(m.from) && m.from !== vm.host) err("/migration/from", `VM '${m.vm}' starts on '${vm.host}', so a migration starts there, not on '${m.from}'`);
        hostRef("/migration/probe/from", m.probe.from);
        if (vm && !vm.interfaces[0].address) err("/migration/vm", `VM '${m.vm}' needs an address on its first interface for the probe`);
    }

    // WAN emulation: on a router, on interfaces it has.
    if (spec.wan) {
        const w = spec.wan;
        if (hostRef("/wan/router", w.router) && !(hosts.get(w.router)!.forwarding ?? hosts.get(w.router)!.roles.includes("router")))
            err("/wan/router", `host '${w.router}' does not forward: give it the role 'router'`);
        w.interfaces.forEach((ifname, i) => {
            if (hosts.has(w.router) && !ifaces.has(`${w.router}/${ifname}`)) err(`/wan/interfaces/${i}`, `no interface '${ifname}' on host '${w.router}'`);
        });
    }

    spec.checks.forEach((c, i) => hostRef(`/checks/${i}/from`, c.from));
    return errors;
}
