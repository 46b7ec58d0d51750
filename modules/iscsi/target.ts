// Shared storage: an iSCSI target with one LUN that every hypervisor opens, so that a
// migration copies memory only. tgt runs in userspace, so it works on emulated hosts
// (no kernel target here) as on real ones. CHAP credentials are Pulumi secrets.
import * as pulumi from "@pulumi/pulumi";
import { shellScript } from "../../lib/scripts";
import type { Host } from "../../components/host/host";
import type { IscsiStorageSpec } from "./model";

export interface IscsiTargetArgs {
    spec: IscsiStorageSpec;
    host: Host;
    chapPassword?: pulumi.Output<string>;
    /** What must be up first: the portal's address and the routes to the initiators. */
    dependsOn: pulumi.Resource[];
}

export class IscsiTarget extends pulumi.ComponentResource {
    constructor(name: string, args: IscsiTargetArgs, opts?: pulumi.ComponentResourceOptions) {
        super("wanlab:iscsi:IscsiTarget", name, {}, { aliases: [{ type: "wanlab:storage:IscsiTarget" }], ...opts, dependsOn: args.dependsOn });
        const { spec, host } = args;
        host.command(`iscsi-${spec.name}`, {
            create: shellScript(__dirname, "target-create.sh"),
            delete: shellScript(__dirname, "target-delete.sh"),
            environment: {
                IMG: `/var/lib/wanlab/${spec.name}.img`, SIZE_MIB: String(spec.sizeMiB), PORTAL: spec.portal,
                IQN: spec.iqn, INITIATORS: (spec.initiators ?? []).join(" "),
                CHAP_USER: spec.chap?.user ?? "", CHAP_PASSWORD: args.chapPassword ?? "",
            },
        }, { parent: this });
        this.registerOutputs({});
    }
}
