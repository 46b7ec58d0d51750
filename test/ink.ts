// How much of an SVG is drawn: it is rasterised (resvg, no browser) and its non-white
// pixels counted, so that a blank or broken drawing fails a test.
import { Resvg } from "@resvg/resvg-js";

export function rasterise(svg: string, width?: number) {
    return new Resvg(svg, { background: "white", ...(width ? { fitTo: { mode: "width" as const, value: width } } : {}) }).render();
}

/** Pixels with some ink: a channel below 200. */
export function ink(svg: string, width?: number): number {
    // .pixels copies the image on every read: read it once.
    const px = rasterise(svg, width).pixels;
    let n = 0;
    for (let i = 0; i < px.length; i += 4) if (px[i] < 200 || px[i + 1] < 200 || px[i + 2] < 200) n++;
    return n;
}
