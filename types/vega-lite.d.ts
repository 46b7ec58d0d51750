// vega-lite ships its types behind package "exports", which this project's
// moduleResolution ("node", for the CommonJS Pulumi program) cannot see; the report
// uses one function.
declare module "vega-lite" {
    export function compile(spec: object): { spec: any };
}
