// A VM's workload: the guest fills a share of its memory at boot with data that does not
// compress page by page, and may keep rewriting some MiB/s of it, so that a migration
// moves real pages (a bare busybox guest is almost all zero pages: 256 MiB moved 82 MiB,
// 512 MiB 85). The guest's init does the work (images/guest/init); the VM passes it the
// figures on its kernel command line.
import type { ModuleModel } from "../../model/modules";
import { configKey, wholeNumber } from "../../model/config";
import { changeMigratedVm } from "../migration/model";

/**
 * A share of the VM's memory, or "max": all the guest can hold beside its reserve. Only
 * "max" makes the data moved grow as the memory does (×2.0 from 256 to 512 MiB): a share
 * leaves the bare guest's ~80 MiB of pages on top, as Xen's guests in seed 000 did not
 * (xl sends every page).
 */
export type FillPct = number | "max";
export interface Workload { fillPct: FillPct; dirtyMiBps: number; workingSetMiB?: number }

declare module "../libvirt/model" {
    interface VmSpec { workload?: Workload }
}

/**
 * What the guest's kernel and programs need beside the fill: 88 MiB and a tenth of its
 * memory. Measured under TCG: 256 MiB filled 163 but not 172, 512 filled 414, and 1024 ran
 * out of memory at 916 but filled 834.
 */
export const guestReserveMiB = (memoryMiB: number) => 88 + Math.ceil(memoryMiB / 10);

/** The filled MiB of a VM of memoryMiB. */
export const fillMiB = (memoryMiB: number, w?: Workload) =>
    w?.fillPct === "max" ? memoryMiB - guestReserveMiB(memoryMiB) : Math.floor((memoryMiB * (w?.fillPct ?? 0)) / 100);

/** How a fill reads in an error: "25 % of 256 MiB", or "the most 256 MiB can hold". */
const fillWords = (memoryMiB: number, w: Workload) => (w.fillPct === "max" ? `the most ${memoryMiB} MiB can hold` : `${w.fillPct} % of ${memoryMiB} MiB`);

/** wanlab:vmFillPct: "max", or a whole number of %. */
function parseFillPct(raw: string): FillPct {
    if (raw.trim() === "max") return "max";
    try {
        return wholeNumber("vmFillPct", 0, 90, "%")(raw);
    } catch {
        throw new Error(`${configKey("vmFillPct")} must be 'max' or a whole number of % from 0 to 90, not '${raw}'`);
    }
}

/** Why a VM of memoryMiB cannot run this workload, in words (none: it can). */
export function workloadProblems(memoryMiB: number, w: Workload | undefined): { field: string; reason: string }[] {
    if (!w) return [];
    const out: { field: string; reason: string }[] = [];
    const fill = fillMiB(memoryMiB, w);
    const reserve = guestReserveMiB(memoryMiB);
    const room = memoryMiB - reserve;
    if (w.fillPct !== "max" && fill > room) {
        out.push({ field: "fillPct", reason: `${w.fillPct} % of ${memoryMiB} MiB is ${fill} MiB, which leaves the guest less than the ${reserve} MiB ` +
            `its kernel and programs need: at most ${Math.max(0, Math.floor((room * 100) / memoryMiB))} % here` });
    }
    if (w.dirtyMiBps > 0 && fill === 0) out.push({ field: "dirtyMiBps", reason: "rewrites the filled memory, but fillPct fills none: give fillPct too" });
    if (w.workingSetMiB !== undefined && w.workingSetMiB > fill) {
        out.push({ field: "workingSetMiB", reason: `is ${w.workingSetMiB} MiB, more than the ${fill} MiB filled (${fillWords(memoryMiB, w)})` });
    }
    return out;
}

/** The guest's kernel command line for the workload (nothing without one). */
export function workloadArgs(memoryMiB: number, w: Workload | undefined): string[] {
    const fill = fillMiB(memoryMiB, w);
    if (!w || fill === 0) return [];
    return [`wanlab.fill=${fill}`, ...(w.dirtyMiBps ? [`wanlab.dirty=${w.dirtyMiBps}`, `wanlab.ws=${w.workingSetMiB ?? fill}`] : [])];
}

export const module: ModuleModel = {
    name: "workload",
    // Before the VMs are built: it changes what they boot with.
    phase: "compute",
    capabilities: {},
    configKeys: [
        {
            key: "vmFillPct",
            description: "the share of the migrated VM's memory its guest fills at boot, or 'max' for all it can hold (a new value replaces the VM)",
            parse: parseFillPct,
        },
        {
            key: "vmDirtyMiBps",
            description: "MiB per second the migrated VM's guest rewrites in its filled memory (a new value replaces the VM)",
            parse: wholeNumber("vmDirtyMiBps", 0, 1024, "MiB/s"),
        },
    ],
    applySettings(spec, settings) {
        const fill = settings.vmFillPct as FillPct | undefined;
        const dirty = settings.vmDirtyMiBps as number | undefined;
        if (fill === undefined && dirty === undefined) return;
        changeMigratedVm(spec, (vm) => ({
            ...vm,
            workload: { fillPct: fill ?? vm.workload?.fillPct ?? 0, dirtyMiBps: dirty ?? vm.workload?.dirtyMiBps ?? 0, workingSetMiB: vm.workload?.workingSetMiB },
        }));
    },
    // The memory may come from a setting too (wanlab:vmMemoryMiB): checked once all are applied.
    settledErrors: (spec) => spec.vms.flatMap((vm) => workloadProblems(vm.memoryMiB, vm.workload)
        .map((p) => `VM '${vm.name}': workload ${p.field} ${p.reason}`)),
    check(spec, ctx) {
        spec.vms.forEach((vm, i) => {
            for (const p of workloadProblems(vm.memoryMiB, vm.workload)) ctx.err(`/vms/${i}/workload/${p.field}`, p.reason);
        });
    },
};
