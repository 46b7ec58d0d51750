// Configuration files are handlebars templates under templates/<tool>/.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import Handlebars from "handlebars";
import { CACHE_DIR, writeCacheFile } from "./cache";

const TEMPLATES = path.join(__dirname, "..", "templates");
/** Precompiled templates, by content and handlebars version (a machine cache: compiling them all takes 60 ms of every run). */
const PRECOMPILED = path.join(CACHE_DIR, "templates");
const cache = new Map<string, Handlebars.TemplateDelegate>();

function compile(name: string): Handlebars.TemplateDelegate {
    const source = fs.readFileSync(path.join(TEMPLATES, name), "utf8");
    // strict: a value the template names but the caller forgot is an error, not "".
    // XML templates escape their values; other formats take them as they are.
    const options = { strict: true, noEscape: !name.endsWith(".xml.hbs") };
    const key = crypto.createHash("sha256").update(`${Handlebars.VERSION}\0${JSON.stringify(options)}\0${source}`).digest("hex").slice(0, 32);
    const file = path.join(PRECOMPILED, `${key}.js`);
    let spec: string | undefined;
    try { spec = fs.readFileSync(file, "utf8"); } catch { /* not precompiled yet */ }
    if (spec === undefined) writeCacheFile(file, (spec = String(Handlebars.precompile(source, options))));
    // The precompiled form is a JavaScript object literal that handlebars itself wrote.
    return Handlebars.template(new Function(`return ${spec};`)());
}

/** Render templates/<name> (for example "libvirt/domain.xml.hbs") with the given values. */
export function render(name: string, values: object): string {
    let t = cache.get(name);
    if (!t) cache.set(name, (t = compile(name)));
    return t(values);
}
