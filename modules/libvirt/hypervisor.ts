// A hypervisor host: libvirtd with QEMU. Where the platform says `daemon: per-host`
// (emulated hosts) the host runs its own libvirtd inside its namespaces, with its own
// config, run, state and log directories and a distinct host_uuid; elsewhere the
// system's libvirtd is used. The platform's `uri` says how the other hosts reach it.
import * as crypto from "node:crypto";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import Handlebars from "handlebars";
import { render } from "../../lib/render";
import { shellScript } from "../../lib/scripts";
import type { Host } from "../../components/host/host";
import type { Capability } from "../../model/platforms";
import { CACHE_DIR } from "../../lib/cache";

/** A stable UUID from a name, so that the same lab gets the same UUIDs every time. */
export function nameUuid(name: string): string {
    const h = crypto.createHash("sha256").update(name).digest("hex");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The machine's cache of QEMU capabilities that per-host daemons probe (a machine cache, like the images). */
export const QEMU_CAPS_CACHE = path.join(CACHE_DIR, "libvirt-qemu-caps");

export interface HypervisorArgs {
    host: Host;
    stack: string;
    /** The platform's `libvirt.hypervisor` capability: daemon (per-host | system) and uri. */
    capability: Capability;
}

export class Hypervisor extends pulumi.ComponentResource {
    readonly host: Host;
    /** How virsh reaches this daemon from any other host of the lab. */
    readonly uri: string;
    /** The daemon: what commands that talk to it wait for. */
    readonly daemon: pulumi.Resource;

    constructor(name: string, args: HypervisorArgs, opts?: pulumi.ComponentResourceOptions) {
        super("wanlab:libvirt:Hypervisor", name, {}, { aliases: [{ type: "wanlab:compute:Hypervisor" }], ...opts });
        const { host, capability } = args;
        this.host = host;
        this.uri = Handlebars.compile(String(capability.uri), { noEscape: true, strict: true })(host.facts());
        if (capability.daemon === "per-host") {
            const values = { host: host.name, hostUuid: nameUuid(`${args.stack}/${host.name}/libvirtd`) };
            const files = [
                host.file("libvirtd-conf", { path: "/etc/libvirt/libvirtd.conf", content: render("libvirt/libvirtd.conf.hbs", values) }, { parent: this }),
                host.file("qemu-conf", { path: "/etc/libvirt/qemu.conf", content: render("libvirt/qemu.conf.hbs", values) }, { parent: this }),
            ];
            this.daemon = host.command("libvirtd", {
                create: shellScript(__dirname, "libvirtd-create.sh"),
                delete: shellScript(__dirname, "libvirtd-delete.sh"),
                environment: { CAPS_CACHE: QEMU_CAPS_CACHE, SUPERVISE: path.join(__dirname, "libvirtd-supervise.sh") },
                // The daemon reads its configuration at start: a new one means a restart.
                triggers: [values.hostUuid],
            }, { parent: this, dependsOn: files });
        } else {
            this.daemon = host.command("libvirtd", { create: SYSTEM_CHECK }, { parent: this });
        }
        this.registerOutputs({ uri: this.uri });
    }
}

const SYSTEM_CHECK = "virsh -c qemu:///system version >/dev/null || { echo 'libvirtd is not running on this host: install and start libvirt-daemon-system' >&2; exit 1; }";
