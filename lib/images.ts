// Where scripts/image.sh caches the images it builds (.cache/images/<name>).
import * as path from "node:path";
import { CACHE_DIR } from "./cache";

export function imageDir(name: string): string {
    return path.join(CACHE_DIR, "images", name);
}
