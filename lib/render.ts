// Configuration files are handlebars templates under templates/<tool>/.
import * as fs from "node:fs";
import * as path from "node:path";
import Handlebars from "handlebars";

const TEMPLATES = path.join(__dirname, "..", "templates");
const cache = new Map<string, Handlebars.TemplateDelegate>();

/** Render templates/<name> (for example "libvirt/domain.xml.hbs") with the given values. */
export function render(name: string, values: object): string {
    let t = cache.get(name);
    if (!t) {
        // strict: a value the template names but the caller forgot is an error, not "".
        // XML templates escape their values; other formats take them as they are.
        t = Handlebars.compile(fs.readFileSync(path.join(TEMPLATES, name), "utf8"), { strict: true, noEscape: !name.endsWith(".xml.hbs") });
        cache.set(name, t);
    }
    return t(values);
}
