// Loading and validating an experiment file (stacks/<name>.yaml).
// Validation runs before any resource is registered and reports every error at once,
// each as `file: /json/pointer: reason`.
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import Ajv2020, { ErrorObject } from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { semanticErrors } from "./semantics";

export type Transport = "emulated" | "ssh";
export type Role = "hypervisor" | "router" | "storage" | "client" | "service";

export interface SecretRef { config: string }
export interface SshSpec { address: string; port: number; user: string; privateKey: SecretRef }
export interface RouteSpec { to: string; via: string }
export interface HostSpec {
    name: string;
    site?: string;
    description?: string;
    transport: Transport;
    roles: Role[];
    ssh?: SshSpec;
    routes?: RouteSpec[];
    forwarding?: boolean;
    accel: "auto" | "kvm" | "tcg";
    appliance?: { image: "router"; memoryMiB: number; key: SecretRef };
}
export interface LinkEnd { host: string; interface: string; address?: string; bridge?: string }
export interface LinkSpec { name: string; subnet: string; mtu: number; ends: [LinkEnd, LinkEnd] }
export interface BridgeSpec { name: string; host: string; type: "ovs" | "linux"; address?: string }
export interface TunnelEndpoint { host: string; interface: string; bridge: string; local?: string; remotes: string[] }
export interface TunnelSpec { name: string; type: "vxlan" | "gre"; vni?: number; port: number; mtu: number; endpoints: TunnelEndpoint[] }
export interface StorageSpec {
    name: string; host: string; type: "iscsi"; implementation: "tgt" | "lio";
    portal: string; iqn: string; sizeMiB: number; initiators?: string[];
    chap?: { user: string; password: SecretRef };
}
export interface VmInterface { bridge: string; mac: string; address?: string; gateway?: string; mtu: number }
export interface VmSpec {
    name: string; host: string; memoryMiB: number; vcpus: number; interfaces: VmInterface[];
    disk: { storage: string };
    image?: { kernel: string; initrd: string };
}
export interface MigrationSpec {
    vm: string; from: string; to: string;
    probe: { from: string; intervalMs: number };
    port?: number; bandwidthMiBps?: number; maxDowntimeMs?: number;
    autoConverge: boolean; postCopy: boolean; timeoutS: number;
}
export interface WanSpec {
    router: string;
    interfaces: string[];
    profile: string | import("./wan-profiles").NetemParams;
    mode: import("./wan-profiles").WanMode;
}
export interface CheckSpec { name?: string; from: string; to: string; count: number; waitS: number }

export interface LabSpec {
    name: string;
    description?: string;
    sites: { name: string; description?: string }[];
    hosts: HostSpec[];
    links: LinkSpec[];
    bridges: BridgeSpec[];
    tunnels: TunnelSpec[];
    storage: StorageSpec[];
    vms: VmSpec[];
    migration?: MigrationSpec;
    wan?: WanSpec;
    checks: CheckSpec[];
}

/** One problem in a stack file: where (a JSON pointer) and why. */
export interface SpecError { pointer: string; reason: string }

export class SpecValidationError extends Error {
    constructor(public readonly file: string, public readonly errors: SpecError[]) {
        super(errors.map((e) => `${file}: ${e.pointer || "/"}: ${e.reason}`).join("\n"));
        this.name = "SpecValidationError";
    }
}

const SCHEMA_FILE = path.join(__dirname, "..", "stacks", "schema.json");
let validator: ReturnType<Ajv2020["compile"]> | undefined;

function compiled() {
    if (!validator) {
        // useDefaults fills in the schema's defaults, so the rest of the code sees one shape.
        const ajv = new Ajv2020({ allErrors: true, useDefaults: true, verbose: true, strict: true, strictRequired: false });
        addFormats(ajv);
        validator = ajv.compile(JSON.parse(fs.readFileSync(SCHEMA_FILE, "utf8")));
    }
    return validator;
}

// Turn ajv's errors into one readable line each, dropping the noise of if/then wrappers.
export function schemaErrors(errors: ErrorObject[]): SpecError[] {
    const out: SpecError[] = [];
    for (const e of errors) {
        const p = e.instancePath;
        switch (e.keyword) {
            case "if":
                continue;
            case "additionalProperties":
                out.push({ pointer: p, reason: `unknown property '${(e.params as any).additionalProperty}'` });
                break;
            case "required":
                out.push({ pointer: p, reason: `missing required property '${(e.params as any).missingProperty}'` });
                break;
            case "enum":
                out.push({ pointer: p, reason: `must be one of ${(e.params as any).allowedValues.map((v: unknown) => JSON.stringify(v)).join(", ")}` });
                break;
            case "pattern":
                out.push({ pointer: p, reason: describePattern(e) });
                break;
            case "not":
                out.push({ pointer: p, reason: "'ssh' is only allowed with transport 'ssh'" });
                break;
            default:
                out.push({ pointer: p, reason: e.message ?? e.keyword });
        }
    }
    return out;
}

// Say what the value should look like in the schema's words, not as a regular expression.
function describePattern(e: ErrorObject): string {
    const desc: string | undefined = (e.parentSchema as any)?.description;
    const got = JSON.stringify(e.data);
    return desc ? `${got} is not valid: ${desc[0].toLowerCase()}${desc.slice(1).replace(/\.$/, "")}` : `${got} ${e.message}`;
}

/** Parse and validate a document; returns the typed spec or the list of errors. */
export function validateDocument(doc: unknown): { spec?: LabSpec; errors: SpecError[] } {
    const validate = compiled();
    if (!validate(doc)) return { errors: schemaErrors(validate.errors ?? []) };
    const raw = doc as any;
    const spec: LabSpec = {
        sites: [], links: [], bridges: [], tunnels: [], storage: [], vms: [], checks: [],
        ...raw,
        hosts: raw.hosts.map((h: any) => ({ roles: [], ...h })),
    };
    // An unnamed check is named by its position, so its name takes part in the uniqueness check.
    spec.checks = spec.checks.map((c, i) => ({ ...c, name: c.name ?? `check-${i}` }));
    const errors = semanticErrors(spec);
    return errors.length ? { errors } : { spec, errors: [] };
}

/** Read, parse and validate a stack file; throws SpecValidationError listing every problem. */
export function loadSpec(file: string): LabSpec {
    const { spec, errors } = validateDocument(readYaml(file));
    if (!spec) throw new SpecValidationError(file, errors);
    return spec;
}

/** Read and parse a YAML file; an unreadable or malformed file is a SpecValidationError. */
export function readYaml(file: string): unknown {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (err: any) {
        throw new SpecValidationError(file, [{ pointer: "", reason: `cannot read file: ${err.code ?? err.message}` }]);
    }
    let doc: unknown;
    try {
        doc = yaml.load(text, { filename: file });
    } catch (err: any) {
        const m = err.mark ? ` at line ${err.mark.line + 1}, column ${err.mark.column + 1}` : "";
        throw new SpecValidationError(file, [{ pointer: "", reason: `YAML error${m}: ${err.reason ?? err.message}` }]);
    }
    return doc;
}
