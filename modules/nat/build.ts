// Each NAT host's nftables table (the ruleset: templates/nftables/nat.nft.hbs), once its
// inside bridge is there. The host's forwarding is the routes module's (a NAT host
// forwards by default). A changed ruleset is applied by the same command again, which
// replaces the table in one transaction; delete removes the table.
import * as crypto from "node:crypto";
import type { Stage } from "../../components/stages";
import type { LabSpec } from "../../model/types";
import { render } from "../../lib/render";
import { shellScript } from "../../lib/scripts";
import type { Bridge } from "../bridge/bridge";
import { insideSubnet, NAT_TABLE, type NatSpec } from "./model";

/** The host's ruleset, and its digest (the table's comment, by which nat-create.sh sees that it is there already). */
export function natRuleset(spec: LabSpec, n: NatSpec): { text: string; digest: string } {
    const values = { host: n.host, table: NAT_TABLE, inside: n.inside, outside: n.outside, subnet: insideSubnet(spec, n)! };
    const body = render("nftables/nat.nft.hbs", { ...values, digest: "" });
    const digest = `wanlab ${crypto.createHash("sha256").update(body).digest("hex").slice(0, 16)}`;
    return { text: render("nftables/nat.nft.hbs", { ...values, digest }), digest };
}

export const stage: Stage = {
    build(lab) {
        for (const n of lab.spec.nat) {
            const host = lab.hosts[n.host];
            const { text, digest } = natRuleset(lab.spec, n);
            const inside = lab.need<Bridge>("bridge", `${n.host}/${n.inside}`);
            const nat = host.command("nat", {
                create: shellScript(__dirname, "nat-create.sh"),
                delete: shellScript(__dirname, "nat-delete.sh"),
                stdin: text,
                environment: { TABLE: NAT_TABLE, DIGEST: digest },
            }, { dependsOn: [inside.ready] });
            lab.add("routing", nat);
        }
    },
};
