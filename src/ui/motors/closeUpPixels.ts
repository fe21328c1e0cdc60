/**
 * The close-up of a detected motor: an axial crop of the tomogram around the detected point with
 * the heatmap over it, coloured as the live slices colour it (viewerLive's heatmap shader: the
 * colormap from the floor up, the overlay's opacity, transparent below the floor). Pure: RGBA
 * pixels at voxel resolution, drawn (scaled, with the markers) by CloseUp.tsx.
 */
import type { Point3 } from '../../core/motors/pipeline';

export interface CloseUpInput {
  /** (Z, Y, X) uint8 voxels of the tomogram, x fastest. */
  data: Uint8Array;
  shape: Point3;
  heatmap: Float32Array;
  heatmapShape: Point3;
  /** [z, y, x] voxel of the tomogram the crop is centred on. */
  point: Point3;
  /** Side of the square crop in voxels (shrunk to the tomogram's sides). */
  side: number;
  /** 256 RGBA entries of the heatmap's colormap (Niivue's). */
  lut: ArrayLike<number>;
  calMin: number;
  calMax: number;
  /** 0 hides the heatmap. */
  opacity: number;
}

export interface CloseUp {
  /** RGBA, side x side (the crop's y rows, x columns). */
  rgba: Uint8ClampedArray;
  side: number;
  /** The axial slice shown and the crop's first voxel (y, x): the point is inside, shifted off-centre near a border, never clipped. */
  z: number;
  y0: number;
  x0: number;
  /** Grey window of the crop (its 1st and 99th percentile). */
  window: [number, number];
}

/** First voxel of a crop of `side` centred on `c` within [0, n). */
function cropStart(c: number, side: number, n: number): number {
  return Math.max(0, Math.min(n - side, Math.round(c - side / 2)));
}

/** Heatmap value at original voxel (z, y, x), trilinear between cell centres (cell h covers [h f, (h + 1) f)). */
function heatAt(hm: Float32Array, hs: Point3, shape: Point3, z: number, y: number, x: number): number {
  const p = [z, y, x].map((v, a) => Math.min(hs[a] - 1, Math.max(0, ((v + 0.5) * hs[a]) / shape[a] - 0.5)));
  const i0 = p.map(Math.floor);
  const i1 = i0.map((v, a) => Math.min(hs[a] - 1, v + 1));
  const t = p.map((v, a) => v - i0[a]);
  const at = (zz: number, yy: number, xx: number): number => hm[(zz * hs[1] + yy) * hs[2] + xx];
  let s = 0;
  for (let dz = 0; dz < 2; dz++)
    for (let dy = 0; dy < 2; dy++)
      for (let dx = 0; dx < 2; dx++) {
        const w = (dz ? t[0] : 1 - t[0]) * (dy ? t[1] : 1 - t[1]) * (dx ? t[2] : 1 - t[2]);
        if (w > 0) s += w * at(dz ? i1[0] : i0[0], dy ? i1[1] : i0[1], dx ? i1[2] : i0[2]);
      }
  return s;
}

export function closeUp(inp: CloseUpInput): CloseUp {
  const [D, H, W] = inp.shape;
  const side = Math.max(1, Math.min(inp.side, H, W));
  const z = Math.max(0, Math.min(D - 1, Math.round(inp.point[0])));
  const y0 = cropStart(inp.point[1], side, H);
  const x0 = cropStart(inp.point[2], side, W);
  const hist = new Uint32Array(256);
  for (let y = 0; y < side; y++) {
    const row = (z * H + y0 + y) * W + x0;
    for (let x = 0; x < side; x++) hist[inp.data[row + x]]++;
  }
  const pct = (q: number): number => {
    let acc = 0;
    for (let v = 0; v < 256; v++) if ((acc += hist[v]) >= q * side * side) return v;
    return 255;
  };
  const lo = pct(0.01);
  const hi = Math.max(lo + 1, pct(0.99));
  const rgba = new Uint8ClampedArray(side * side * 4);
  const range = Math.max(1e-5, Math.abs(inp.calMax - inp.calMin));
  const floor = Math.min(inp.calMin, inp.calMax);
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) {
      const g = ((inp.data[(z * H + y0 + y) * W + x0 + x] - lo) * 255) / (hi - lo);
      let r = g;
      let gg = g;
      let b = g;
      if (inp.opacity > 0) {
        const f = heatAt(inp.heatmap, inp.heatmapShape, inp.shape, z, y0 + y, x0 + x);
        if (f > floor) {
          const k = Math.min(255, Math.max(2, Math.round(((f - floor) / range) * 255))) * 4;
          if (inp.lut[k + 3] > 0) {
            const a = inp.opacity;
            r = r * (1 - a) + inp.lut[k] * a;
            gg = gg * (1 - a) + inp.lut[k + 1] * a;
            b = b * (1 - a) + inp.lut[k + 2] * a;
          }
        }
      }
      const o = (y * side + x) * 4;
      rgba[o] = r;
      rgba[o + 1] = gg;
      rgba[o + 2] = b;
      rgba[o + 3] = 255;
    }
  return { rgba, side, z, y0, x0, window: [lo, hi] };
}
