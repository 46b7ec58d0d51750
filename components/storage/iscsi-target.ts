// Shared storage: an iSCSI target with one LUN that every hypervisor opens, so that a
// migration copies memory only. tgt runs in userspace, so it works on emulated hosts
// (no kernel target here) as on real ones. CHAP credentials are Pulumi secrets.
import * as pulumi from "@pulumi/pulumi";
import type { StorageSpec } from "../../lib/spec";
import { script } from "../../lib/shell";
import { Host } from "../host/host";

export class IscsiTarget extends pulumi.ComponentResource {
    readonly ready: pulumi.Resource;

    constructor(spec: StorageSpec, host: Host, chapPassword: pulumi.Output<string> | undefined, opts?: pulumi.ComponentResourceOptions) {
        super("wanlab:storage:IscsiTarget", spec.name, {}, opts);
        this.ready = host.command(`iscsi-${spec.name}`, {
            create: script(
                'mkdir -p /var/lib/wanlab',
                '[ -f "$IMG" ] || truncate -s "${SIZE_MIB}M" "$IMG"',
                // tgtd answers on its control socket once it is up.
                'if ! tgtadm --lld iscsi --mode system --op show >/dev/null 2>&1; then',
                '  tgtd --iscsi portal="$PORTAL:3260"',
                '  for i in $(seq 50); do tgtadm --lld iscsi --mode system --op show >/dev/null 2>&1 && break; sleep 0.1; done',
                'fi',
                'if ! tgtadm --lld iscsi --mode target --op show | grep -q "^Target 1: $IQN\\$"; then',
                '  tgtadm --lld iscsi --mode target --op new --tid 1 -T "$IQN"',
                '  tgtadm --lld iscsi --mode logicalunit --op new --tid 1 --lun 1 -b "$IMG"',
                '  for net in ${INITIATORS:-ALL}; do tgtadm --lld iscsi --mode target --op bind --tid 1 -I "$net"; done',
                '  if [ -n "$CHAP_USER" ]; then',
                '    tgtadm --lld iscsi --mode account --op new --user "$CHAP_USER" --password "$CHAP_PASSWORD"',
                '    tgtadm --lld iscsi --mode account --op bind --tid 1 --user "$CHAP_USER"',
                '  fi',
                'fi',
            ),
            // tgtd ignores SIGTERM: it leaves once its targets and the system are deleted.
            delete: script(
                'tgtadm --lld iscsi --mode target --op delete --tid 1 --force 2>/dev/null || true',
                'tgtadm --lld iscsi --mode system --op delete 2>/dev/null || true',
                'for i in $(seq 50); do tgtadm --lld iscsi --mode system --op show >/dev/null 2>&1 || break; sleep 0.1; done',
                'rm -f "$IMG"',
            ),
            environment: {
                IMG: `/var/lib/wanlab/${spec.name}.img`, SIZE_MIB: String(spec.sizeMiB), PORTAL: spec.portal,
                IQN: spec.iqn, INITIATORS: (spec.initiators ?? []).join(" "),
                CHAP_USER: spec.chap?.user ?? "", CHAP_PASSWORD: chapPassword ?? "",
            },
        }, { parent: this });
        this.registerOutputs({});
    }
}
