// What semantic checks share: the errors found so far, the hosts, and the lab's claims on
// names, interfaces and addresses, so that each module checks its own part against the
// whole. Every lookup is a map: a check is linear in the size of the stack file.
import { pushTo } from "../lib/maps";
import type { HostSpec, LabSpec, SpecError } from "./types";
import { hostPart, inPrefix } from "./address";
import { hostNode, Network } from "./network";

export class CheckContext {
    readonly errors: SpecError[] = [];
    readonly hosts: Map<string, HostSpec>;
    private readonly interfaces = new Map<string, string>(); // "host/ifname" -> pointer of its definition
    private readonly addresses = new Map<string, string>(); // ip -> pointer
    private readonly attachedTo = new Map<string, string[]>(); // host -> its interface addresses
    private readonly ownerOfIp = new Map<string, string>(); // ip -> host
    private readonly facts = new Map<string, Map<string, unknown>>();
    private readonly deferred: (() => void)[] = [];
    /** The lab's IPv4 network, as the checks add it up (segments, addresses, routes). */
    readonly net = new Network();

    constructor(readonly spec: LabSpec) {
        this.hosts = new Map(spec.hosts.map((h) => [h.name, h]));
    }

    err(pointer: string, reason: string) {
        this.errors.push({ pointer, reason });
    }

    /** Names unique within their section. */
    unique(section: string, items: { name?: string }[]) {
        const seen = new Map<string, number>();
        items.forEach((it, i) => {
            if (it.name === undefined) return;
            const first = seen.get(it.name);
            if (first !== undefined) this.err(`/${section}/${i}/name`, `duplicate name '${it.name}' (first at /${section}/${first})`);
            else seen.set(it.name, i);
        });
    }

    /** Whether the host exists; an error at pointer if not. */
    hostRef(pointer: string, name: string): boolean {
        if (this.hosts.has(name)) return true;
        this.err(pointer, `unknown host '${name}'`);
        return false;
    }

    hasRole(host: string, role: HostSpec["roles"][number]): boolean {
        return this.hosts.get(host)?.roles.includes(role) ?? false;
    }

    /** Interface names are unique per host, whichever section defines them. */
    claimInterface(host: string, name: string, pointer: string) {
        const key = `${host}/${name}`;
        const first = this.interfaces.get(key);
        if (first) this.err(pointer, `interface '${name}' already exists on host '${host}' (at ${first})`);
        else this.interfaces.set(key, pointer);
    }

    hasInterface(host: string, name: string): boolean {
        return this.interfaces.has(`${host}/${name}`);
    }

    /** Every address in the lab is given once. */
    claimAddress(ifaddr: string, pointer: string) {
        const ip = hostPart(ifaddr);
        const first = this.addresses.get(ip);
        if (first) this.err(pointer, `address ${ip} is already used (at ${first})`);
        else this.addresses.set(ip, pointer);
    }

    /** The host has this interface address (a.b.c.d/n) on that segment: it is attached to the subnet. */
    attach(host: string, ifaddr: string, segment: string) {
        pushTo(this.attachedTo, host, ifaddr);
        this.net.address(hostNode(host), ifaddr, segment);
        const ip = hostPart(ifaddr);
        if (!this.ownerOfIp.has(ip)) this.ownerOfIp.set(ip, host);
    }

    attached(host: string): string[] {
        return this.attachedTo.get(host) ?? [];
    }

    hasAddress(host: string, ip: string): boolean {
        return this.attached(host).some((a) => hostPart(a) === ip);
    }

    /** The host one of whose interfaces has this address. */
    ownerOf(ip: string): string | undefined {
        return this.ownerOfIp.get(ip);
    }

    /** Whether ip lies in one of the host's attached subnets (a next hop it can reach). */
    onAttachedSubnet(host: string, ip: string): boolean {
        return this.attached(host).some((a) => inPrefix(ip, a));
    }

    /** A check that needs every module's part (paths through the network): run after all checks, if they found nothing. */
    later(check: () => void) {
        this.deferred.push(check);
    }

    runLater() {
        for (const c of this.deferred) c();
    }

    /** Facts one module's checks leave for another's (e.g. which bridges exist). */
    provide(kind: string, key: string, value: unknown = true) {
        let m = this.facts.get(kind);
        if (!m) this.facts.set(kind, (m = new Map()));
        m.set(key, value);
    }

    lookup<T = unknown>(kind: string, key: string): T | undefined {
        return this.facts.get(kind)?.get(key) as T | undefined;
    }
}
