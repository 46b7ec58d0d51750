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
        writeWhole(cached, code);
    }
    module._compile(code, filename);
}

/** A cache file, written whole so that no reader sees half of it. A cache that cannot be written only costs time. */
function writeWhole(file, data) {
    try {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        const tmp = `${file}.${process.pid}`;
        fs.writeFileSync(tmp, data);
        fs.renameSync(tmp, file);
    } catch { /* see above */ }
}

Module._extensions[".ts"] = load;
if (MAPS) process.setSourceMapsEnabled(true);

// V8's code cache for every CommonJS module, the SDK's and ours: compiling them is most of a
// plugin's start. One file per module and content, written as soon as the module has run
// (the engine kills its plugins, so there is no exit to save at). WANLAB_CODE_CACHE=0: off.
const vm = require("node:vm");
const V8_CACHE = path.join(ROOT, ".cache", "v8");
const importModuleDynamically = vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER;
const nodeCompile = Module.prototype._compile;

function requireFor(mod) {
    const req = (id) => mod.require(id);
    req.resolve = (request, options) => Module._resolveFilename(request, mod, false, options);
    req.resolve.paths = (request) => Module._resolveLookupPaths(request, mod);
    req.main = process.mainModule;
    req.extensions = Module._extensions;
    req.cache = Module._cache;
    return req;
}

// The SDK stamps every promise it makes with `new Error().stack`, for the leak report that
// PULUMI_DEBUG_PROMISE_LEAKS asks for: a quarter of the program's time in a no-op preview.
// Without that variable, the stamp is the one line "Error".
const DEBUGGABLE = `${path.sep}@pulumi${path.sep}pulumi${path.sep}runtime${path.sep}debuggable.js`;
function cheapDebuggablePromise(exports) {
    const stamp = exports.debuggablePromise;
    if (typeof stamp !== "function") return;
    exports.debuggablePromise = function (p, ctx) {
        const limit = Error.stackTraceLimit;
        Error.stackTraceLimit = 0;
        try {
            return stamp(p, ctx);
        } finally {
            Error.stackTraceLimit = limit;
        }
    };
}

/** Compile and run one module as Node would, with V8's cached code for it, and cache it if it was not. */
function compileCached(mod, content, filename) {
    const key = crypto.createHash("sha1").update(`${process.version}\0${filename}\0`).update(content).digest("hex");
    const file = path.join(V8_CACHE, `${key}.bin`);
    let cachedData;
    try { cachedData = fs.readFileSync(file); } catch { /* not cached yet */ }
    let script;
    try {
        // A shebang is valid only at the very start, which the wrapper takes.
        script = new vm.Script(Module.wrap(content.replace(/^#!.*/, "")), { filename, cachedData, importModuleDynamically });
    } catch {
        return nodeCompile.call(mod, content, filename); // Node reports the syntax error its own way
    }
    const result = script.runInThisContext({ displayErrors: true })
        .call(mod.exports, mod.exports, requireFor(mod), mod, filename, path.dirname(filename));
    if (!cachedData || script.cachedDataRejected) writeWhole(file, script.createCachedData());
    return result;
}

const codeCache = process.env.WANLAB_CODE_CACHE !== "0" && importModuleDynamically !== undefined;
const cheapStamps = !process.env.PULUMI_DEBUG_PROMISE_LEAKS;
Module.prototype._compile = function (content, filename) {
    const result = codeCache ? compileCached(this, content, filename) : nodeCompile.call(this, content, filename);
    if (cheapStamps && filename.endsWith(DEBUGGABLE)) cheapDebuggablePromise(this.exports);
    return result;
};

// @pulumi/pulumi loads npm's package tooling (arborist, pacote, sigstore: 470 of the 770 modules
// it loads) and the TypeScript compiler (9 MB) for one thing, serializing functions, which this
// project never does. They load on first use instead.
const LAZY = new Set(["@npmcli/arborist", "normalize-package-data", "fdir", "../../typescript-shim"]);
const CLOSURE = `${path.sep}@pulumi${path.sep}pulumi${path.sep}runtime${path.sep}closure${path.sep}`;
const nodeLoad = Module._load;
Module._load = function (request, parent, isMain) {
    if (!LAZY.has(request) || !parent?.filename?.includes(CLOSURE)) return nodeLoad.apply(this, arguments);
    let real;
    const load = () => (real ??= nodeLoad.call(this, request, parent, isMain));
    // __esModule: TypeScript's import helpers take the module as it is, without reading it.
    return new Proxy({}, {
        get: (_, k) => (k === "__esModule" ? true : load()[k]),
        has: (_, k) => k in load(),
        ownKeys: () => Reflect.ownKeys(load()),
        getOwnPropertyDescriptor: (_, k) => {
            const d = Object.getOwnPropertyDescriptor(load(), k);
            return d && { ...d, configurable: true };
        },
    });
};
