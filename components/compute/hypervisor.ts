// A hypervisor host: libvirtd with QEMU. On emulated hosts each host runs its own
// libvirtd inside its namespaces, with its own config, run, state and log directories
// and a distinct host_uuid. On ssh hosts the system's libvirtd is used.
import * as crypto from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { render } from "../../lib/render";
import { script } from "../../lib/shell";
import { Host } from "../host/host";
import { EmulatedHost } from "../host/emulated";

/** A stable UUID from a name, so that the same lab gets the same UUIDs every time. */
export function nameUuid(name: string): string {
    const h = crypto.createHash("sha256").update(name).digest("hex");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export interface IscsiSecret { usage: string; password: pulumi.Output<string> }

export class Hypervisor extends pulumi.ComponentResource {
    readonly host: Host;
    /** How virsh reaches this daemon from any other host of the lab. */
    readonly uri: string;
    readonly ready: pulumi.Resource;
    readonly secrets: pulumi.Resource[] = [];

    constructor(host: Host, stack: string, opts?: pulumi.ComponentResourceOptions) {
        super("wanlab:compute:Hypervisor", host.name, {}, opts);
        this.host = host;
        if (host instanceof EmulatedHost) {
            // The daemon's socket as seen from outside its mount namespace.
            this.uri = `qemu+unix:///system?socket=${host.runDir}/fs/run/libvirt/libvirt-sock`;
            const values = { host: host.name, hostUuid: nameUuid(`${stack}/${host.name}/libvirtd`) };
            const files = [
                host.file("libvirtd-conf", { path: "/etc/libvirt/libvirtd.conf", content: render("libvirt/libvirtd.conf.hbs", values) }, { parent: this }),
                host.file("qemu-conf", { path: "/etc/libvirt/qemu.conf", content: render("libvirt/qemu.conf.hbs", values) }, { parent: this }),
            ];
            this.ready = host.command("libvirtd", {
                create: script(
                    "if ! virsh -c qemu:///system version >/dev/null 2>&1; then",
                    "  libvirtd --daemon --config /etc/libvirt/libvirtd.conf --pid-file /run/libvirt/libvirtd.pid",
                    "  for i in $(seq 100); do virsh -c qemu:///system version >/dev/null 2>&1 && break; sleep 0.1; done",
                    "fi",
                    "virsh -c qemu:///system version >/dev/null",
                ),
                delete: script(
                    "[ -f /run/libvirt/libvirtd.pid ] || exit 0",
                    "pid=$(cat /run/libvirt/libvirtd.pid)",
                    "kill \"$pid\" 2>/dev/null || true",
                    "for i in $(seq 50); do kill -0 \"$pid\" 2>/dev/null || break; sleep 0.1; done",
                    "rm -rf /var/lib/libvirt/* /run/libvirt/* /var/log/libvirt/* /etc/libvirt/secrets",
                ),
                // The daemon reads its configuration at start: a new one means a restart.
                triggers: [values.hostUuid],
            }, { parent: this, dependsOn: files });
        } else {
            this.uri = `qemu+ssh://${host.spec.ssh!.user}@${host.spec.ssh!.address}/system`;
            this.ready = host.command("libvirtd", {
                create: "virsh -c qemu:///system version >/dev/null || { echo 'libvirtd is not running on this host: install and start libvirt-daemon-system' >&2; exit 1; }",
            }, { parent: this });
        }
        this.registerOutputs({ uri: this.uri });
    }

    /** Define the CHAP secret that QEMU needs to open an iSCSI LUN with authentication. */
    addIscsiSecret(name: string, secret: IscsiSecret): pulumi.Resource {
        const uuid = nameUuid(`iscsi-secret/${secret.usage}`);
        const r = this.host.command(`secret-${name}`, {
            create: script(
                'f=$(mktemp -p /run/libvirt)',
                'trap \'rm -f "$f"\' EXIT',
                'cat > "$f"',
                'virsh -q -c qemu:///system secret-define "$f" >/dev/null',
                'printf %s "$CHAP_PASSWORD" > "$f"',
                'virsh -q -c qemu:///system secret-set-value --secret "$UUID" --file "$f" --plain >/dev/null',
            ),
            delete: 'virsh -q -c qemu:///system secret-undefine "$UUID" >/dev/null 2>&1 || true',
            stdin: render("libvirt/secret.xml.hbs", { uuid, usage: secret.usage }),
            environment: { UUID: uuid, CHAP_PASSWORD: secret.password },
        }, { parent: this, dependsOn: [this.ready] });
        this.secrets.push(r);
        return r;
    }
}
