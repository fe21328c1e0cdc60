/**
 * Volumes the viewer shows for a tomogram: the tomogram itself (decimated for display when it is
 * very large), its heatmap at the model's own resolution with a scaled affine (Niivue reslices
 * overlays onto the base by their affines), and the world grid points are placed on.
 */
import type { MotorDetection, Point3 } from '../../core/motors/pipeline';
import type { Tomogram } from '../../core/motors/tomogram';
import { identityAffine, type Affine, type Volume } from '../../core/volume';

/** Voxels shown at most; larger tomograms are shown with every k-th voxel (the data is not changed). */
export const MAX_DISPLAY_VOXELS = 96 * 2 ** 20;

/** The original grid: world = spacing * voxel (x fastest, as NIfTI i). */
export function tomogramGrid(t: Pick<Tomogram, 'shape' | 'spacing' | 'id'>, data: Uint8Array = new Uint8Array(0)): Volume {
  const s = t.spacing ?? 1;
  return {
    shape: [...t.shape],
    data,
    spacing: [s, s, s],
    unit: t.spacing ? 'angstrom' : 'unknown',
    affine: identityAffine([s, s, s]),
    source: { name: t.id, format: 'tomogram' },
  };
}

/** Affine of a grid whose voxel h covers original voxels [h * f, (h + 1) * f) per axis. */
function scaledAffine(base: Affine, f: Point3): Affine {
  // columns: i (x, f[2]), j (y, f[1]), k (z, f[0]); the centre of cell h is at original (h + 0.5) f - 0.5
  const fx = [f[2], f[1], f[0]];
  return base.map((row, r) => {
    if (r === 3) return [...row];
    const out = [row[0] * fx[0], row[1] * fx[1], row[2] * fx[2], row[3]];
    for (let c = 0; c < 3; c++) out[3] += row[c] * ((fx[c] - 1) / 2);
    return out;
  }) as Affine;
}

/** The base volume to show: the tomogram, or every k-th voxel of it when it is larger than MAX_DISPLAY_VOXELS. */
export function displayVolume(t: Tomogram): Volume {
  const grid = tomogramGrid(t, t.data);
  const [D, H, W] = t.shape;
  let k = 1;
  while ((Math.ceil(D / k) * Math.ceil(H / k) * Math.ceil(W / k)) > MAX_DISPLAY_VOXELS) k++;
  if (k === 1) return grid;
  const d = Math.ceil(D / k);
  const h = Math.ceil(H / k);
  const w = Math.ceil(W / k);
  const out = new Uint8Array(d * h * w);
  let o = 0;
  for (let z = 0; z < d; z++)
    for (let y = 0; y < h; y++) {
      const row = (z * k * H + y * k) * W;
      for (let x = 0; x < w; x++) out[o++] = t.data[row + x * k];
    }
  // voxel v of the decimated grid is original voxel k v: plain scaling, no half-voxel shift
  const a = grid.affine.map((r, i) => (i === 3 ? [...r] : [r[0] * k, r[1] * k, r[2] * k, r[3]])) as Affine;
  const s = grid.spacing[0] * k;
  return { ...grid, shape: [d, h, w], data: out, spacing: [s, s, s], affine: a };
}

/** The heatmap as a volume on its own grid, placed over the tomogram's grid. */
export function heatmapVolume(det: MotorDetection, grid: Volume): Volume {
  const f = det.originalShape.map((o, i) => o / det.heatmapShape[i]) as Point3;
  const affine = scaledAffine(grid.affine, f);
  return {
    shape: [...det.heatmapShape],
    data: det.heatmap,
    spacing: [grid.spacing[0] * f[0], grid.spacing[1] * f[1], grid.spacing[2] * f[2]],
    unit: grid.unit,
    affine,
    source: { name: `${det.id} heatmap`, format: 'heatmap' },
  };
}

/**
 * The index in `det.heatmap` of the cell that holds original voxel (z, y, x): cell h covers voxels
 * [h f, (h + 1) f) per axis, f = original / heatmap size (heatmapVolume's grid).
 */
export function heatmapIndexAt(det: Pick<MotorDetection, 'heatmapShape' | 'originalShape'>, zyx: readonly number[]): number {
  const [, hh, hw] = det.heatmapShape;
  const h = [0, 1, 2].map((a) => Math.max(0, Math.min(det.heatmapShape[a] - 1, Math.floor((zyx[a] * det.heatmapShape[a]) / det.originalShape[a]))));
  return (h[0] * hh + h[1]) * hw + h[2];
}

/** Min and max of a map (NaN skipped). */
export function mapRange(a: Float32Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/**
 * Radius (world units) of a marked point: about 1.5 % of the tomogram's largest side, at least 2.5
 * voxels (small enough that a detection a few voxels from the true motor does not hide it).
 */
export function pointSize(grid: Volume): number {
  return Math.max(2.5, 0.015 * Math.max(...grid.shape)) * grid.spacing[0];
}
