// An appliance: a lab host whose kernel is a VM's. The lab boots the router image
// (scripts/image.sh router: a stock Debian kernel with the queueing disciplines, GRE,
// IPv6 tunnels and OVS this machine may lack; iproute2; sshd) under QEMU inside an
// emulated host's namespaces (its "shell"), plugs the VM's NICs into the lab's links
// through taps and bridges there, and then reaches it over SSH, exactly as it reaches a
// real machine. The SSH port is forwarded from 127.0.0.1 of this machine into the
// shell's loopback; the VM's management NIC is QEMU's user network with restrict=on, so
// the VM itself reaches nothing through it.
import * as crypto from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import type { HostSpec } from "../../model/types";
import { shellScript } from "../../lib/scripts";
import { script } from "../../lib/shell";
import { imageDir } from "../../lib/images";
import type { Host, LocalEnd } from "./host";
import { EmulatedHost } from "./emulated";
import { localCommand } from "./local";
import { SshHost } from "./ssh";

/** The VM's management network (QEMU user mode), link-local so that it meets no lab subnet. */
const MGMT_NET = "169.254.200.0/24";
const MGMT_ADDR = "169.254.200.15/24";

export interface ApplianceHostArgs {
    spec: HostSpec;
    stack: string;
    preflights: pulumi.Resource[];
    /** The host's interfaces on the lab's links, in the stack file's names. */
    interfaces: string[];
}

/** The "host-key: TYPE BASE64" line of the appliance command's output (none from an appliance an older wanlab started). */
export function applianceHostKey(stdout: string): string | undefined {
    const line = stdout.split("\n").find((l) => l.startsWith("host-key: "));
    return line?.slice("host-key: ".length).trim();
}

/** A stable MAC for one NIC of one appliance (locally administered). */
function mac(...parts: string[]): string {
    const h = crypto.createHash("sha256").update(parts.join("/")).digest();
    return ["52", "54", h[0], h[1], h[2], h[3]].map((b) => (typeof b === "string" ? b : b.toString(16).padStart(2, "0"))).join(":");
}

/** The port on 127.0.0.1 that reaches the appliance's sshd, stable per stack and host. */
export function forwardPort(stack: string, host: string): number {
    return 20000 + (crypto.createHash("sha256").update(`${stack}/${host}`).digest().readUInt16BE(0) % 20000);
}

export class ApplianceHost extends SshHost {
    readonly shell: EmulatedHost;
    readonly vm: pulumi.CustomResource;
    /** The bridge in the shell that a link's veth end joins, by interface name. */
    readonly bridgeFor: Record<string, string>;
    /** The VM's tap in the shell, by interface name. */
    readonly tapFor: Record<string, string>;

    constructor(name: string, args: ApplianceHostArgs, opts?: pulumi.ComponentResourceOptions) {
        const { spec, stack } = args;
        const key = new pulumi.Config().requireSecret(spec.appliance!.key.config);
        const port = forwardPort(stack, spec.name);
        super(name, {
            spec, preflights: args.preflights,
            connection: { host: "127.0.0.1", port, user: "root", privateKey: key, dialErrorLimit: 10, perDialTimeout: 10 },
        }, opts, "wanlab:host:ApplianceHost");

        this.shell = new EmulatedHost(spec.name, { spec, stack, preflights: args.preflights }, { parent: this });
        this.bridgeFor = Object.fromEntries(args.interfaces.map((ifname, i) => [ifname, `ab${i}`]));
        this.tapFor = Object.fromEntries(args.interfaces.map((ifname, i) => [ifname, `at${i}`]));
        const mgmtMac = mac(stack, spec.name, "mgmt");
        const data = args.interfaces.map((ifname, i) => ({ name: ifname, mac: mac(stack, spec.name, ifname), tap: `at${i}`, bridge: `ab${i}` }));
        const image = imageDir(spec.appliance!.image);
        const taps = data.map((n) => `${n.tap}:${n.bridge}:${n.mac}`).join(" ");
        this.vm = this.shell.command("appliance", {
            create: shellScript(__dirname, "appliance-create.sh"),
            delete: shellScript(__dirname, "appliance-delete.sh"),
            environment: {
                KEY: key, NAME: spec.name, IMAGE: image, MEMORY: String(spec.appliance!.memoryMiB),
                RUNDIR: "/var/lib/wanlab/appliance", TAPS: taps, MGMT_NET, MGMT_ADDR,
                MGMT_MAC: mgmtMac, NICS: [`${mgmtMac}=mgmt`, ...data.map((n) => `${n.mac}=${n.name}`)].join(","),
            },
        }, { parent: this });
        // The host key the VM was given (appliance-create.sh prints it): every command pins it.
        this.connection = { ...this.connection, hostKey: (this.vm as pulumi.CustomResource & { stdout: pulumi.Output<string> }).stdout.apply((out) => applianceHostKey(out) ?? "") };

        // 127.0.0.1:PORT of this machine -> 127.0.0.1:2222 in the shell -> the VM's sshd.
        const forward = localCommand(`${spec.name}-ssh-forward`, {
            create: shellScript(__dirname, "ssh-forward-create.sh"),
            delete: script('[ -f "$PIDFILE" ] || exit 0', 'kill "$(cat "$PIDFILE")" 2>/dev/null || true', 'rm -f "$PIDFILE"'),
            environment: { PORT: String(port), NAME: spec.name, NETNS: this.shell.netns, PIDFILE: `${this.shell.runDir}/ssh-forward.pid` },
        }, { parent: this, dependsOn: [this.vm] });
        this.ready = [this.vm, forward];
        this.registerOutputs({ port });
    }

    /** A link's veth end joins the bridge of the VM's tap for that NIC, in the shell. */
    localEnd(ifname: string): LocalEnd {
        return { netns: this.shell.netns, bridge: this.bridgeFor[ifname] };
    }

    /** The VM's tap for that NIC, in the shell: counted there, the TCG guest does no extra work. */
    counterEnd(ifname: string): { host: Host; device: string } {
        return { host: this.shell, device: this.tapFor[ifname] };
    }

    /** The bridges exist once the VM has started. */
    linkReady(): pulumi.Resource {
        return this.vm;
    }

    describe() {
        return { netns: this.shell.netns, appliance: this.spec.appliance!.image };
    }

    facts() {
        return { ...this.shell.facts(), address: "127.0.0.1", user: "root" };
    }
}
