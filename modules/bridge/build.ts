// Open vSwitch where a host has an OVS bridge, then the bridges, then each link end that
// is plugged into a bridge as a port of it.
import type { Stage } from "../../components/stages";
import type { LabContext } from "../../components/context";
import { OpenVSwitch } from "./ovs";
import { Bridge } from "./bridge";
import type { Link } from "../../components/host/link";

export const stage: Stage = {
    build(lab: LabContext) {
        for (const b of lab.spec.bridges) {
            if (b.type !== "ovs" || lab.lookup("ovs", b.host)) continue;
            lab.provide("ovs", b.host, new OpenVSwitch(b.host, { host: lab.hosts[b.host], capability: lab.capability(b.host, "bridge", "ovs") }, lab.child));
        }
        for (const b of lab.spec.bridges) {
            const bridge = new Bridge(`${b.host}-${b.name}`, { spec: b, host: lab.hosts[b.host], ovs: lab.lookup("ovs", b.host) }, lab.child);
            lab.provide("bridge", `${b.host}/${b.name}`, bridge);
            lab.add("network", bridge);
            if (b.address) lab.addUnderlay(b.host, bridge);
        }
        for (const l of lab.spec.links) {
            for (const e of l.ends) {
                if (!e.bridge) continue;
                const bridge = lab.need<Bridge>("bridge", `${e.host}/${e.bridge}`);
                bridge.addPort(e.interface, [lab.need<Link>("link", l.name)]);
                lab.addUnderlay(e.host, bridge);
            }
        }
    },
};
