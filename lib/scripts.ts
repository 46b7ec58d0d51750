// Shell scripts live in .sh files beside the code that runs them (checked by shellcheck
// in npm test); a command's create or delete is the file's text. Lines that are only a
// comment (explanations, shellcheck directives) stay in the file and out of the command,
// so that a better comment never changes a resource.
import * as fs from "node:fs";
import * as path from "node:path";

const cache = new Map<string, string>();

/** The script at dir/file: its lines less the comment-only ones, without a final newline. */
export function shellScript(dir: string, file: string): string {
    const p = path.join(dir, file);
    let s = cache.get(p);
    if (s === undefined) {
        s = fs.readFileSync(p, "utf8").split("\n").filter((l) => !/^\s*#/.test(l)).join("\n").replace(/\n+$/, "");
        cache.set(p, s);
    }
    return s;
}
