// The NFS server of one storage: rpcbind and nfs-ganesha on its host, serving one export
// with the VMs' disk image. Userspace, so it runs the same on emulated hosts (this kernel
// has no nfsd) and on real ones; it starts with the lab and stops on delete.
import * as pulumi from "@pulumi/pulumi";
import { render } from "../../lib/render";
import { shellScript } from "../../lib/scripts";
import type { Host } from "../../components/host/host";
import { exportDir, imagePath, NFS_PORTS, type NfsStorageSpec } from "./model";

export interface NfsServerArgs {
    spec: NfsStorageSpec;
    host: Host;
    /** What must be up first: the server's address. */
    dependsOn: pulumi.Resource[];
}

export class NfsServer extends pulumi.ComponentResource {
    constructor(name: string, args: NfsServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("wanlab:nfs:NfsServer", name, {}, { ...opts, dependsOn: args.dependsOn });
        const { spec, host } = args;
        const dir = `/var/lib/wanlab/ganesha-${spec.name}`;
        const stop = shellScript(__dirname, "server-stop.sh");
        host.command(`nfs-${spec.name}`, {
            create: shellScript(__dirname, "server-create.sh"),
            delete: shellScript(__dirname, "server-delete.sh"),
            stdin: render("nfs/ganesha.conf.hbs", {
                name: spec.name, host: spec.host, server: spec.server, ports: NFS_PORTS, dir,
                exportDir: exportDir(spec), clients: spec.clients?.length ? spec.clients.join(", ") : "*",
            }),
            environment: {
                DIR: dir, EXPORT: exportDir(spec), IMG: imagePath(spec), SIZE_MIB: String(spec.sizeMiB), SERVER: spec.server,
                RUN_SCRIPT: shellScript(__dirname, "server-run.sh"), STOP_SCRIPT: stop,
            },
        }, { parent: this });
        this.registerOutputs({});
    }
}
