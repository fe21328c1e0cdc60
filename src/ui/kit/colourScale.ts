/**
 * The colours the views share: CSS gradients of Niivue's colormaps (for colour bars that match the
 * overlay), and the crosshair colour, chosen away from every overlay colour the pages use (the
 * label palettes, the vertebra colours, the motors points, the heatmap colormaps): a lime green
 * that no colormap or palette here contains.
 */
import { cmapper } from '@niivue/niivue';

/** Niivue's crosshair, RGBA 0..1 (lime: not in red/warm/winter/gray, the label or vertebra palettes). */
export const CROSSHAIR_RGBA: [number, number, number, number] = [136 / 255, 1, 0, 0.9];

/** A CSS linear-gradient of a Niivue colormap ('red', 'warm', 'viridis'…), left to right (opaque; the overlay's opacity is its own). */
export function niivueGradient(name: string, n = 11): string {
  const lut = cmapper.colormap(name); // an unknown name gives Niivue's gray (with a warning)
  const stops = Array.from({ length: n }, (_, i) => {
    const k = Math.round((i * 255) / (n - 1)) * 4;
    return `rgb(${lut[k]},${lut[k + 1]},${lut[k + 2]}) ${((100 * i) / (n - 1)).toFixed(0)}%`;
  });
  return `linear-gradient(to right, ${stops.join(', ')})`;
}

/** The RGB colours of a Niivue colormap, sampled at n points (for checks against the crosshair). */
export function niivueColours(name: string, n = 32): [number, number, number][] {
  const lut = cmapper.colormap(name);
  return Array.from({ length: n }, (_, i) => {
    const k = Math.round((i * 255) / (n - 1)) * 4;
    return [lut[k], lut[k + 1], lut[k + 2]];
  });
}
