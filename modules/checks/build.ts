// The connectivity checks, once the network and the VMs are up. A check of a VM's
// address runs again when that VM is started again.
import type { Stage } from "../../components/stages";
import type { VirtualMachine } from "../libvirt/vm";
import { PingCheck } from "./ping-check";

export const stage: Stage = {
    build(lab) {
        const vms = lab.all<VirtualMachine>("vm");
        const summaries: Record<string, unknown> = {};
        for (const c of lab.spec.checks) {
            const vm = vms.find((v) => v.address === c.to);
            const check = new PingCheck(c.name, { spec: c, from: lab.hosts[c.from], triggers: vm ? [vm.startedAt] : [] },
                { ...lab.child, dependsOn: [...lab.builtIn("links", "network", "routing", "wan"), ...vms] });
            lab.provide("check", c.name, check);
            lab.add("validation", check);
            summaries[c.name] = check.summary;
        }
        lab.outputs.checks = summaries;
    },
};
