// Prints what a lab is, from `pulumi stack output --json` on stdin: hosts and their roles,
// links, and the connectivity checks with their round-trip times.
import * as fs from "node:fs";

const out = JSON.parse(fs.readFileSync(0, "utf8"));
const rows = (cells: string[][]) => {
    const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => r[i].length)));
    return cells.map((r) => "  " + r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd()).join("\n");
};

console.log(`\nLab '${out.experiment}'`);
console.log("\nHosts");
console.log(rows([["host", "site", "roles", "where"], ...Object.entries<any>(out.hosts).map(([name, h]) => [
    name, h.site ?? "-", h.roles.join(",") || "-",
    h.appliance ? `appliance (${h.appliance} image) in netns ${h.netns}` : h.transport === "emulated" ? `netns ${h.netns}` : `ssh ${h.address}`,
])]));
// Which accelerator each hypervisor's VMs use, and why (KVM only where it ran a guest).
const hypervisors = Object.entries<any>(out.hosts).filter(([, h]) => h.accel);
if (hypervisors.length) {
    console.log("\nHypervisors");
    console.log(rows([["host", "accelerator", "why"], ...hypervisors.map(([name, h]) => [name, String(h.accel).toUpperCase(), h.accelReason])]));
}
console.log("\nLinks");
console.log(rows([["link", "subnet", "ends"], ...Object.entries<any>(out.links).map(([name, l]) => [name, l.subnet, l.ends.join("  <->  ")])]));
const checks = Object.entries<string>(out.checks ?? {});
if (checks.length) {
    console.log("\nChecks");
    console.log(rows([["check", "result"], ...checks.map(([name, s]) => {
        const loss = /(\d+(?:\.\d+)?)% packet loss/.exec(s)?.[1];
        const avg = /= [\d.]+\/([\d.]+)\//.exec(s)?.[1];
        return [name, `${loss === undefined ? "?" : `${loss}% loss`}, avg rtt ${avg ?? "?"} ms`];
    })]));
}
const vms = Object.entries<any>(out.vms ?? {});
if (vms.length) {
    console.log("\nVMs");
    console.log(rows([["vm", "address", "now on"], ...vms.map(([name, v]) => [name, v.address ?? "-", v.host])]));
}
const m = out.migration;
if (m) {
    const mib = (b: number | null) => (b === null ? "?" : `${(b / 1048576).toFixed(1)} MiB`);
    const ms = (x: number | null) => (x === null ? "?" : `${x} ms`);
    console.log(`\nMigration run ${m.run}: ${m.vm} from ${m.from} to ${m.to}`);
    console.log(rows([
        ["measure", "value"],
        ["downtime (probe: longest gap between replies)", ms(m.probe.downtimeMs)],
        ["downtime (libvirt)", ms(m.libvirt.downtimeMs)],
        ["total migration time (migrate command)", ms(m.totalMs)],
        ["time elapsed (libvirt)", ms(m.libvirt.timeElapsedMs)],
        ["data moved (libvirt)", mib(m.libvirt.dataProcessedBytes)],
        ["probe replies", `${m.probe.received} of ${m.probe.sent} every ${m.probe.intervalMs} ms (${m.probe.lost} lost)`],
        ["rtt to the VM before", ms(m.probe.rttBeforeMs)],
    ]));
    if (!m.probe.answeredAfter) console.log("  WARNING: the VM did not answer the probe after the migration returned");
}
console.log("");
