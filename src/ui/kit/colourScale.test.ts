/**
 * The crosshair colour is none of the overlay colours the pages draw (issue 13, item 4): far, in
 * CIELAB, from every label and vertebra colour, the motors points, and the colormaps of the
 * heatmaps (motors 'red', the workbench's default 'warm' and the others it offers, the CT/MR
 * grey base); the colour bars' gradients are the colormaps' own colours.
 */
import { describe, expect, it } from 'vitest';
import { labelColor } from '../overlay';
import { VERTEBRA_RGB } from '../spine/display';
import { CROSSHAIR_RGBA, niivueColours, niivueGradient } from './colourScale';

type Rgb = readonly [number, number, number];

function lab([r, g, b]: Rgb): [number, number, number] {
  const lin = (c: number) => (c / 255 > 0.04045 ? ((c / 255 + 0.055) / 1.055) ** 2.4 : c / 255 / 12.92);
  const [R, G, B] = [lin(r), lin(g), lin(b)];
  const x = (0.4124 * R + 0.3576 * G + 0.1805 * B) / 0.9505;
  const y = 0.2126 * R + 0.7152 * G + 0.0722 * B;
  const z = (0.0193 * R + 0.1192 * G + 0.9505 * B) / 1.089;
  const f = (t: number) => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116);
  return [116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))];
}
const dist = (a: Rgb, b: Rgb): number => Math.hypot(...lab(a).map((v, i) => v - lab(b)[i]));

describe('crosshair colour', () => {
  const cross: Rgb = [CROSSHAIR_RGBA[0] * 255, CROSSHAIR_RGBA[1] * 255, CROSSHAIR_RGBA[2] * 255];
  const fixed: [string, Rgb][] = [
    ...Array.from({ length: 12 }, (_, i) => [`label ${i}`, labelColor(i)] as [string, Rgb]).slice(1),
    ...VERTEBRA_RGB.map((c, k) => [`C${k + 1}`, c] as [string, Rgb]),
    ['motors detected point (warm)', [255, 230, 40]],
    ['motors true point (winter)', [0, 220, 140]],
  ];
  it('is far from every label, vertebra and point colour', () => {
    for (const [what, c] of fixed) expect(dist(cross, c), what).toBeGreaterThan(35);
  });
  it('is far from the heatmap colormaps and the grey base (red, warm, hot, winter, gray)', () => {
    for (const name of ['red', 'warm', 'hot', 'winter', 'gray']) {
      for (const c of niivueColours(name)) expect(dist(cross, c), `${name} ${c.join(',')}`).toBeGreaterThan(30);
    }
  });
  it('the old crosshair (cyan) was not: it is C5 and label 2', () => {
    expect(dist([51, 204, 255], VERTEBRA_RGB[4])).toBeLessThan(15);
  });
});

describe('colour bar gradients', () => {
  it("are the colormap's own colours, left to right", () => {
    expect(niivueGradient('red', 3)).toBe('linear-gradient(to right, rgb(0,0,0) 0%, rgb(128,0,0) 50%, rgb(255,0,0) 100%)');
    expect(niivueGradient('warm', 2)).toMatch(/^linear-gradient\(to right, rgb\(255,127,0\) 0%, rgb\(255,254,0\) 100%\)$/);
    expect(niivueGradient('no such map', 2)).toBe(niivueGradient('gray', 2));
  });
});
