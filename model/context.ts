// What semantic checks share: the errors found so far, the hosts, and the lab's claims on
// names, interfaces and addresses, so that each module checks its own part against the
// whole. Every lookup is a map: a check is linear in the size of the stack file.
import { pushTo } from "../lib/maps";
import type { HostSpec, LabSpec, SpecError } from "./types";
import { hostPart, inPrefix } from "./address";
import { hostNode, Network } from "./network";

/** Where an address is given: on which host, on which segment of the model's Network. */
export interface Placement { host: string; segment: string }

/** One address given in the stack file: where (a pointer) and where it sits (none: lab-wide). */
interface Claim { pointer: string; places: Placement[] }

export class CheckContext {
    readonly errors: SpecError[] = [];
    readonly hosts: Map<string, HostSpec>;
    private readonly interfaces = new Map<string, string>(); // "host/ifname" -> pointer of its definition
    private readonly claims = new Map<string, Claim[]>(); // ip -> its claims that stand, in order
    /** Claims that only a segment's privacy can clear, decided by settle(): where the error would go in the list. */
    private readonly pending: { ip: string; claim: Claim; before: number; at: number }[] = [];
    private readonly privateTo = new Map<string, string>(); // segment -> the host it is private to
    private readonly attachedTo = new Map<string, string[]>(); // host -> its interface addresses
    private readonly ownerOfIp = new Map<string, Placement[]>(); // ip -> where hosts have it, in order
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

    /**
     * Every address in the lab is given once, except on host-private segments (a NAT's
     * inside bridge, privateSegment): there it is given once per host, so that every
     * hypervisor can have the same private subnet and gateway address, as libvirt's
     * default network (192.168.122.0/24) is the same on every host. `where` says on which
     * segments of which hosts the address sits (a VM's, on every host it may run on); an
     * address given without it is lab-wide.
     *
     * Which segments are private is known once every module has checked its part, so a
     * clash that privacy could clear (two addresses on segments of different hosts) is
     * decided in settle(), and its error takes the place in the list it would have had.
     */
    claimAddress(ifaddr: string, pointer: string, where?: Placement | Placement[]) {
        const ip = hostPart(ifaddr);
        const claim: Claim = { pointer, places: where === undefined ? [] : ([] as Placement[]).concat(where) };
        const earlier = this.claims.get(ip) ?? [];
        for (const e of earlier) {
            const clash = this.clash(e, claim, false);
            if (clash === "no") continue;
            if (clash === "yes") return this.err(pointer, this.usedWords(ip, e, claim));
            this.pending.push({ ip, claim, before: earlier.length, at: this.errors.length });
            break;
        }
        pushTo(this.claims, ip, claim);
    }

    /**
     * Addresses on this segment of the host's are the host's own business (a NAT's inside
     * bridge, and the VMs on it): unique on the host, not in the lab, and no other host
     * owns them. Say so before settle().
     */
    privateSegment(host: string, segment: string) {
        this.privateTo.set(segment, host);
    }

    isPrivate(p: Placement): boolean {
        return this.privateTo.get(p.segment) === p.host;
    }

    /** Decide the claims that waited for every private segment (model/validate.ts: after every module's checks). */
    settle() {
        const late: { at: number; error: SpecError }[] = [];
        for (const { ip, claim, before, at } of this.pending) {
            const first = this.claims.get(ip)!.slice(0, before).find((e) => this.clash(e, claim, true) === "yes");
            if (first) late.push({ at, error: { pointer: claim.pointer, reason: this.usedWords(ip, first, claim) } });
        }
        this.pending.length = 0;
        // Last first, so that each goes where its claim would have reported it.
        for (const { at, error } of late.reverse()) this.errors.splice(at, 0, error);
    }

    /** Whether two claims of one address clash: "maybe" if only segments' privacy (not known yet) can clear them. */
    private clash(a: Claim, b: Claim, final: boolean): "yes" | "no" | "maybe" {
        if (!a.places.length || !b.places.length) return "yes";
        let maybe = false;
        for (const p of a.places) {
            for (const q of b.places) {
                if (p.host === q.host) return "yes";
                if (this.isPrivate(p) && this.isPrivate(q)) continue;
                if (final) return "yes";
                maybe = true;
            }
        }
        return maybe ? "maybe" : "no";
    }

    private usedWords(ip: string, first: Claim, claim: Claim): string {
        // On a private segment, say on which host (the same address may be on others).
        const host = claim.places.find((q) => this.isPrivate(q) && first.places.some((p) => p.host === q.host))?.host;
        return `address ${ip} is already used${host ? ` on host '${host}'` : ""} (at ${first.pointer})`;
    }

    /** The host has this interface address (a.b.c.d/n) on that segment: it is attached to the subnet. */
    attach(host: string, ifaddr: string, segment: string) {
        pushTo(this.attachedTo, host, ifaddr);
        this.net.address(hostNode(host), ifaddr, segment);
        pushTo(this.ownerOfIp, hostPart(ifaddr), { host, segment });
    }

    attached(host: string): string[] {
        return this.attachedTo.get(host) ?? [];
    }

    hasAddress(host: string, ip: string): boolean {
        return this.attached(host).some((a) => hostPart(a) === ip);
    }

    /** The host one of whose interfaces has this address (not on a private segment: there it is the host's own business). */
    ownerOf(ip: string): string | undefined {
        return this.ownerOfIp.get(ip)?.find((p) => !this.isPrivate(p))?.host;
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
