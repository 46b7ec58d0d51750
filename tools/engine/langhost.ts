// A Node.js language host for the Pulumi engine, used only where the official
// `pulumi-language-nodejs` binary is missing (this machine: no registry ships it and the
// Go module proxy refuses its module). The Go front in ./langhost starts it on Run. It
// serves the LanguageRuntime gRPC protocol and runs the program in this process through
// @pulumi/pulumi's own LanguageServer, the same code path the Automation API uses for
// inline programs. TypeScript is compiled by ../ts-require.js, loaded with `-r`.
import * as path from "node:path";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import { exitWithEngine } from "./orphan";

// The engine passes flags (-root=DIR, -tracing=…) and the engine address last.
function parseArgs(argv: string[]): { root: string } {
    let root = process.cwd();
    for (const a of argv) {
        const m = /^--?root=(.*)$/.exec(a);
        if (m) root = m[1];
    }
    return { root };
}

// The program's entry: Pulumi.yaml `main`, else package.json `main`, else index.ts/index.js.
function entryPoint(programDir: string): string {
    const pkgFile = path.join(programDir, "package.json");
    if (fs.existsSync(pkgFile)) {
        const main = JSON.parse(fs.readFileSync(pkgFile, "utf8")).main;
        if (main) return path.resolve(programDir, main);
    }
    for (const f of ["index.ts", "index.js"]) {
        if (fs.existsSync(path.join(programDir, f))) return path.join(programDir, f);
    }
    throw new Error(`no program entry point in ${programDir} (package.json main, index.ts or index.js)`);
}

async function main() {
    const { root } = parseArgs(process.argv.slice(2));
    // Load the SDK from the program's own node_modules, so that the program and this
    // host share one @pulumi/pulumi instance (its runtime settings are module state).
    const req = createRequire(path.join(root, "package.json"));
    const grpc = req("@grpc/grpc-js");
    const langrpc = req("@pulumi/pulumi/proto/language_grpc_pb");
    const langproto = req("@pulumi/pulumi/proto/language_pb");
    const plugproto = req("@pulumi/pulumi/proto/plugin_pb");

    let programDir = root;
    const program = async () => {
        const mod = req(entryPoint(programDir));
        // Module exports become stack outputs; a default export function is the program.
        if (typeof mod.default === "function") return mod.default();
        return mod;
    };
    // The engine starts a language host twice per operation, the first time only to ask about
    // it: the SDK (the LanguageServer) loads when a program runs, not before. These two
    // answers are the LanguageServer's own.
    let inner: any;
    const impl = {
        getPluginInfo(_call: any, callback: any) {
            const resp = new plugproto.PluginInfo();
            resp.setVersion("1.0.0");
            callback(undefined, resp);
        },
        getRequiredPlugins(_call: any, callback: any) {
            const resp = new langproto.GetRequiredPluginsResponse();
            resp.setPluginsList([]);
            callback(undefined, resp);
        },
        run(call: any, callback: any) {
            inner ??= new (req("@pulumi/pulumi/automation/server").LanguageServer)(program);
            const r = call.request;
            // Relative paths in the program (stacks/…, templates/…) are from the project root.
            programDir = path.resolve(r.getPwd() || root, r.getProgram() || ".");
            process.chdir(r.getPwd() || root);
            return inner.run(call, callback);
        },
    };
    const server = new grpc.Server({ "grpc.max_receive_message_length": 400 * 1024 * 1024 });
    server.addService(langrpc.LanguageRuntimeService, impl);
    const port: number = await new Promise((resolve, reject) =>
        server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err: Error | null, p: number) =>
            err ? reject(err) : resolve(p),
        ),
    );
    // The engine reads the port from our first line of stdout.
    process.stdout.write(`${port}\n`);
}

exitWithEngine();
main().catch((err) => {
    process.stderr.write(`pulumi-language-nodejs (wanlab): ${err?.stack ?? err}\n`);
    process.exit(1);
});
