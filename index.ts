// The Pulumi program: read the stack's experiment file and its run-time settings, validate
// both before anything is registered, and build the lab they describe. The outputs are
// the Lab's: hosts and links, and what each module adds (checks, vms, migration, wan).
import * as pulumi from "@pulumi/pulumi";
import { SpecValidationError } from "./model/types";
import { loadSpec } from "./model/validate";
import { parseSettings } from "./model/config";
import { Lab } from "./components/lab";

const config = new pulumi.Config();
const specFile = config.require("spec");

function load() {
    try {
        return loadSpec(specFile);
    } catch (err) {
        // RunError: the engine prints the message alone, without a stack trace.
        if (err instanceof SpecValidationError) throw new pulumi.RunError(`invalid stack file:\n${err.message}`);
        throw err;
    }
}

const spec = load();
const { settings, errors } = parseSettings((key) => config.get(key));
if (errors.length) throw new pulumi.RunError(`invalid stack configuration:\n${errors.join("\n")}`);
const lab = new Lab(spec.name, { spec, stack: pulumi.getStack(), settings });

// Each key of the Lab's outputs is a stack output (`pulumi stack output <key>`).
Object.assign(exports, lab.outputs);
