/**
 * What a picture of the motors view shows (the gallery thumbnail, a screenshot of the view): the
 * mean luminance of each quadrant (a black quadrant is near 0), the heatmap's red around the
 * motor (the most red pixels in a 24 x 24 box) and the detected point's yellow near that box.
 * Pure; the tests hold the thumbnail and the page's view to it.
 */
export interface ViewPixels {
  /** Mean luminance (0-255) of the top left, top right, bottom left and bottom right quadrants. */
  quadrants: [number, number, number, number];
  /** Heatmap-red pixels in the densest 24 x 24 box, and that box's centre [x, y]. */
  heat: number;
  heatAt: [number, number];
  /** Yellow (the detected motor's marker) pixels within 24 pixels of that box's centre. */
  yellowNear: number;
}

export function viewPixels(img: { width: number; height: number; data: ArrayLike<number>; channels: number }, box = 24): ViewPixels {
  const { width: w, height: h, channels: c, data: d } = img;
  const sums = [0, 0, 0, 0];
  const counts = [0, 0, 0, 0];
  const red = new Uint8Array(w * h);
  const yellow = new Uint8Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * c;
      const [r, g, b] = [d[o], d[o + 1], d[o + 2]];
      const q = (y < h / 2 ? 0 : 2) + (x < w / 2 ? 0 : 1);
      sums[q] += 0.2126 * r + 0.7152 * g + 0.0722 * b;
      counts[q]++;
      red[y * w + x] = r > 120 && g < 90 && b < 90 && r - g > 70 ? 1 : 0;
      yellow[y * w + x] = r > 170 && g > 150 && b < 110 ? 1 : 0;
    }
  // box sums through an integral image
  const integral = (m: Uint8Array): Float64Array => {
    const s = new Float64Array((w + 1) * (h + 1));
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) s[(y + 1) * (w + 1) + x + 1] = m[y * w + x] + s[y * (w + 1) + x + 1] + s[(y + 1) * (w + 1) + x] - s[y * (w + 1) + x];
    return s;
  };
  const sumIn = (s: Float64Array, x0: number, y0: number, x1: number, y1: number): number => {
    [x0, x1] = [Math.max(0, x0), Math.min(w, x1)];
    [y0, y1] = [Math.max(0, y0), Math.min(h, y1)];
    return x1 > x0 && y1 > y0 ? s[y1 * (w + 1) + x1] - s[y0 * (w + 1) + x1] - s[y1 * (w + 1) + x0] + s[y0 * (w + 1) + x0] : 0;
  };
  const ri = integral(red);
  let heat = 0;
  let heatAt: [number, number] = [0, 0];
  for (let y = 0; y + box <= h; y++)
    for (let x = 0; x + box <= w; x++) {
      const n = sumIn(ri, x, y, x + box, y + box);
      if (n > heat) [heat, heatAt] = [n, [x + box / 2, y + box / 2]];
    }
  const yellowNear = heat > 0 ? sumIn(integral(yellow), heatAt[0] - box, heatAt[1] - box, heatAt[0] + box, heatAt[1] + box) : 0;
  return { quadrants: sums.map((s, i) => s / Math.max(1, counts[i])) as ViewPixels['quadrants'], heat, heatAt, yellowNear };
}

/** The floors both tests hold the view to: no quadrant darker, and the motor's heatmap and marker there. */
export const VIEW_FLOORS = { quadrantLuma: 40, heat: 150, yellowNear: 10 } as const;
