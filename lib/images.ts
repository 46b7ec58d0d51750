// Where scripts/image.sh caches the images it builds (.cache/images/<name>).
import * as path from "node:path";

export function imageDir(name: string): string {
    return path.join(__dirname, "..", ".cache", "images", name);
}
