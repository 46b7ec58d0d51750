// An appliance: a lab host whose kernel is a VM's. The lab boots the router image
// (scripts/image.sh router: a stock Debian kernel with NetEm, GRE, IPv6 tunnels, OVS;
// iproute2; sshd) under QEMU inside an emulated host's namespaces (its "shell"), plugs
// the VM's NICs into the lab's links through taps and bridges there, and then reaches
// it over SSH, exactly as it reaches a real machine. The SSH port is forwarded from
// 127.0.0.1 of this machine into the shell's loopback; the VM's management NIC is QEMU's
// user network with restrict=on, so the VM itself reaches nothing through it.
import * as crypto from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import type { HostSpec } from "../../lib/spec";
import { script } from "../../lib/shell";
import { imageDir } from "../../lib/images";
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

    constructor(args: ApplianceHostArgs, opts?: pulumi.ComponentResourceOptions) {
        const { spec, stack } = args;
        const key = new pulumi.Config().requireSecret(spec.appliance!.key.config);
        const port = forwardPort(stack, spec.name);
        super({
            spec, preflights: args.preflights,
            connection: { host: "127.0.0.1", port, user: "root", privateKey: key, dialErrorLimit: 10, perDialTimeout: 10 },
        }, opts, "wanlab:host:ApplianceHost");

        this.shell = new EmulatedHost({ spec, stack, preflights: args.preflights }, { parent: this });
        this.bridgeFor = Object.fromEntries(args.interfaces.map((ifname, i) => [ifname, `ab${i}`]));
        const mgmtMac = mac(stack, spec.name, "mgmt");
        const data = args.interfaces.map((ifname, i) => ({ name: ifname, mac: mac(stack, spec.name, ifname), tap: `at${i}`, bridge: `ab${i}` }));
        const image = imageDir(spec.appliance!.image);
        // NIC i: a tap in the shell, bridged to the shell's end of the link's veth (Link plugs that in).
        const taps = data.map((n) => `${n.tap}:${n.bridge}:${n.mac}`).join(" ");
        this.vm = this.shell.command("appliance", {
            create: script(
                'if [ -f "$RUNDIR/qemu.pid" ] && kill -0 "$(cat "$RUNDIR/qemu.pid")" 2>/dev/null; then echo running; exit 0; fi',
                'mkdir -p "$RUNDIR"',
                'umask 077',
                'printf "%s\\n" "$KEY" > "$RUNDIR/key"',
                'pub=$(ssh-keygen -y -f "$RUNDIR/key" | base64 -w0)',
                'rm -f "$RUNDIR/key"',
                'netdevs=""',
                'for t in $TAPS; do',
                '  tap=${t%%:*}; rest=${t#*:}; br=${rest%%:*}; m=${rest#*:}',
                '  ip link show "$tap" >/dev/null 2>&1 || ip tuntap add "$tap" mode tap',
                '  ip link show "$br" >/dev/null 2>&1 || ip link add "$br" type bridge',
                '  ip link set "$tap" master "$br" up',
                '  ip link set "$br" up',
                '  netdevs="$netdevs -netdev tap,id=$tap,ifname=$tap,script=no,downscript=no -device virtio-net-pci,netdev=$tap,mac=$m"',
                'done',
                // shellcheck: $netdevs is a list of QEMU arguments, split on purpose.
                'qemu-system-x86_64 -machine accel=tcg -m "$MEMORY" -display none -no-reboot \\',
                '  -kernel "$IMAGE/vmlinuz" -initrd "$IMAGE/initrd.img" \\',
                '  -append "console=ttyS0 quiet panic=-1 wanlab.name=$NAME wanlab.mgmt=$MGMT_ADDR wanlab.nics=$NICS wanlab.key=$pub" \\',
                '  -netdev user,id=mgmt,net=$MGMT_NET,restrict=on,hostfwd=tcp:127.0.0.1:2222-:22 \\',
                '  -device virtio-net-pci,netdev=mgmt,mac=$MGMT_MAC $netdevs \\',
                '  -serial file:"$RUNDIR/console.log" -daemonize -pidfile "$RUNDIR/qemu.pid"',
                // Ready when sshd answers with its banner.
                'for i in $(seq 180); do',
                '  if timeout 2 socat -T 2 STDIO TCP:127.0.0.1:2222 </dev/null 2>/dev/null | grep -q ^SSH-; then echo "$NAME up after ${i}s"; exit 0; fi',
                '  sleep 1',
                'done',
                'echo "appliance $NAME did not answer on SSH within 180 s; console:" >&2',
                'tail -n 20 "$RUNDIR/console.log" >&2',
                'exit 1',
            ),
            delete: script(
                'if [ -f "$RUNDIR/qemu.pid" ]; then',
                '  pid=$(cat "$RUNDIR/qemu.pid"); kill "$pid" 2>/dev/null || true',
                '  for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done',
                'fi',
                'for t in $TAPS; do tap=${t%%:*}; rest=${t#*:}; ip link del "$tap" 2>/dev/null || true; ip link del "${rest%%:*}" 2>/dev/null || true; done',
                'rm -rf "$RUNDIR"',
            ),
            environment: {
                KEY: key, NAME: spec.name, IMAGE: image, MEMORY: String(spec.appliance!.memoryMiB),
                RUNDIR: "/var/lib/wanlab/appliance", TAPS: taps, MGMT_NET, MGMT_ADDR,
                MGMT_MAC: mgmtMac, NICS: [`${mgmtMac}=mgmt`, ...data.map((n) => `${n.mac}=${n.name}`)].join(","),
            },
        }, { parent: this });

        // 127.0.0.1:PORT of this machine -> 127.0.0.1:2222 in the shell -> the VM's sshd.
        const forward = localCommand(`${spec.name}-ssh-forward`, {
            create: script(
                'if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then exit 0; fi',
                'if ss -Hltn "sport = :$PORT" | grep -q .; then echo "port $PORT on 127.0.0.1 is taken: cannot reach appliance $NAME" >&2; exit 1; fi',
                'setsid socat TCP-LISTEN:"$PORT",bind=127.0.0.1,reuseaddr,fork \\',
                '  EXEC:"nsenter --net=/run/netns/$NETNS socat STDIO TCP\\:127.0.0.1\\:2222" </dev/null >/dev/null 2>&1 &',
                'echo $! > "$PIDFILE"',
                'for i in $(seq 50); do ss -Hltn "sport = :$PORT" | grep -q . && exit 0; sleep 0.1; done',
                'echo "the SSH forwarder for $NAME did not start" >&2; exit 1',
            ),
            delete: script(
                '[ -f "$PIDFILE" ] || exit 0',
                'kill "$(cat "$PIDFILE")" 2>/dev/null || true',
                'rm -f "$PIDFILE"',
            ),
            environment: { PORT: String(port), NAME: spec.name, NETNS: this.shell.netns, PIDFILE: `${this.shell.runDir}/ssh-forward.pid` },
        }, { parent: this, dependsOn: [this.vm] });
        this.ready = [this.vm, forward];
        this.registerOutputs({ port });
    }
}
