// The machine caches under .cache/ (compiled validators, precompiled templates): files keyed
// by what they were made from, so an entry is never stale, only unused.
import * as fs from "node:fs";
import * as path from "node:path";

export const CACHE_DIR = path.join(__dirname, "..", ".cache");

/** Write a cache file whole, so that no reader sees half of it. A cache that cannot be written only costs time. */
export function writeCacheFile(file: string, data: string): void {
    try {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        const tmp = `${file}.${process.pid}`;
        fs.writeFileSync(tmp, data);
        fs.renameSync(tmp, file);
    } catch { /* see above */ }
}
