/**
 * Colour ramps of the 2D views (the EEG spectrogram and its CAM, the protein CAM): a ramp is a
 * few RGB stops, linear between them; the same ramp gives a canvas pixel and a CSS colour bar.
 * Pure functions (the views and the tests draw with them).
 */
export type Rgb = [number, number, number];

/** Matplotlib's viridis in five stops (spectrogram power). */
export const VIRIDIS: readonly Rgb[] = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];

/** Dark red to light yellow (the EEG CAM over viridis). */
export const HOT: readonly Rgb[] = [[128, 0, 0], [230, 20, 0], [255, 140, 0], [255, 255, 90]];

/** Inferno-like, black to pale yellow (the protein CAM over the RGBY composite). */
export const INFERNO: readonly Rgb[] = [[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]];

/** The ramp's colour at t in [0, 1] (clamped), 0..255 per channel, not rounded. */
export function ramp(stops: readonly Rgb[], t: number): Rgb {
  const x = Math.min(Math.max(t, 0), 1) * (stops.length - 1);
  const i = Math.min(Math.floor(x), stops.length - 2);
  const f = x - i;
  const a = stops[i];
  const b = stops[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

/** A CSS linear-gradient of the ramp (`to right` or `to top`), sampled at n points. */
export function rampGradient(stops: readonly Rgb[], direction: 'to right' | 'to top' = 'to right', n = 11): string {
  const parts = Array.from({ length: n }, (_, i) => {
    const [r, g, b] = ramp(stops, i / (n - 1));
    return `rgb(${r.toFixed(0)},${g.toFixed(0)},${b.toFixed(0)}) ${((100 * i) / (n - 1)).toFixed(0)}%`;
  });
  return `linear-gradient(${direction}, ${parts.join(', ')})`;
}

/** `over` laid on `base` with opacity a (0..1). */
export function blend(base: Rgb, over: Rgb, a: number): Rgb {
  return [base[0] * (1 - a) + over[0] * a, base[1] * (1 - a) + over[1] * a, base[2] * (1 - a) + over[2] * a];
}

/** The index of the largest value (0 for an empty list). */
export function topClass(values: ArrayLike<number> | undefined): number {
  if (!values || values.length === 0) return 0;
  let best = 0;
  for (let k = 1; k < values.length; k++) if (values[k] > values[best]) best = k;
  return best;
}
