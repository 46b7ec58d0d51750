// A host's IPv6 addresses, routes and forwarding, once its links are up.
import type { Stage } from "../../components/stages";
import { shellScript } from "../../lib/scripts";

export const stage: Stage = {
    build(lab) {
        for (const h of lab.spec.hosts.filter((x) => x.ipv6)) {
            const v6 = h.ipv6!;
            const cmd = lab.hosts[h.name].command("ipv6", {
                create: shellScript(__dirname, "ipv6-create.sh"),
                delete: shellScript(__dirname, "ipv6-delete.sh"),
                environment: {
                    ADDRESSES: v6.addresses.map((a) => `${a.interface}=${a.address}`).join(" "),
                    ROUTES: (v6.routes ?? []).map((r) => `${r.to}=${r.via}`).join(" "),
                    FORWARDING: v6.forwarding ? "1" : "",
                },
            }, { dependsOn: [...lab.underlay(h.name), ...lab.builtIn("links", "network")] });
            lab.add("routing", cmd);
        }
    },
};
