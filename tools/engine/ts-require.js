// A light TypeScript loader for the engine's plugins and the program they run (node -r):
// the project's own .ts files are compiled to CommonJS by esbuild (the one tsx ships), once
// per content, into .cache/ts-require/ (a machine cache: `rm -rf .cache` is safe); packages
// in node_modules are loaded by Node itself. tsx does the same compiling but also hooks every
// module resolution, which doubles the time it takes to load @pulumi/pulumi (2 s instead of
// 1 s here), and that on every plugin start and every program run.
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");
const Module = require("node:module");

const ROOT = path.resolve(__dirname, "..", "..");
const CACHE = path.join(ROOT, ".cache", "ts-require");
// Source maps make every stack trace cost a lookup, and the SDK takes one for each resource it
// registers (its source position): 0.4 s for the default lab. Off unless asked for.
const MAPS = process.env.WANLAB_SOURCE_MAPS === "1";
let esbuild;
let version;

function compile(source, filename) {
    esbuild ??= require(path.join(ROOT, "node_modules", "esbuild"));
    return esbuild.transformSync(source, {
        loader: "ts", format: "cjs", platform: "node", target: `node${process.versions.node.split(".")[0]}`,
        sourcefile: filename, keepNames: true, ...(MAPS ? { sourcemap: "inline" } : {}),
    }).code;
}

function load(module, filename) {
    const source = fs.readFileSync(filename, "utf8");
    version ??= require(path.join(ROOT, "node_modules", "esbuild", "package.json")).version;
    const key = crypto.createHash("sha256").update(`${version}\0${process.versions.node}\0${MAPS}\0${filename}\0${source}`).digest("hex");
    const cached = path.join(CACHE, `${key.slice(0, 32)}.js`);
    let code;
    try {
        code = fs.readFileSync(cached, "utf8");
    } catch {
        code = compile(source, filename);
        try {
            fs.mkdirSync(CACHE, { recursive: true });
            const tmp = `${cached}.${process.pid}`;
            fs.writeFileSync(tmp, code);
            fs.renameSync(tmp, cached);
        } catch { /* a cache that cannot be written only costs time */ }
    }
    module._compile(code, filename);
}

Module._extensions[".ts"] = load;
if (MAPS) process.setSourceMapsEnabled(true);
