/**
 * Labels from the conformed grid back to the input's own grid, and tissue volumes. Pure, no DOM.
 *
 * Each native voxel (i, j, k) takes the label of the conformed voxel nearest to its centre:
 * c = inv(conformed affine) * native affine * (i, j, k, 1) in double, rounded half up
 * (floor(c + 0.5)); 0 where that voxel is outside the conformed grid. (Neither niivue-onnx nor
 * brainchop map back: they show the labels on the conformed volume.)
 */
import type { Affine, Volume } from '../volume';
import { spatialShape } from '../volume';

/** The inverse of an affine 4x4 (last row 0, 0, 0, 1), in double. */
export function invertAffine(a: Affine): Affine {
  const [[a00, a01, a02, t0], [a10, a11, a12, t1], [a20, a21, a22, t2]] = a;
  const c00 = a11 * a22 - a12 * a21;
  const c01 = a02 * a21 - a01 * a22;
  const c02 = a01 * a12 - a02 * a11;
  const det = a00 * c00 + a10 * c01 + a20 * c02;
  if (!det) throw new Error('the affine is singular');
  const r: number[][] = [
    [c00 / det, c01 / det, c02 / det],
    [(a12 * a20 - a10 * a22) / det, (a00 * a22 - a02 * a20) / det, (a02 * a10 - a00 * a12) / det],
    [(a10 * a21 - a11 * a20) / det, (a01 * a20 - a00 * a21) / det, (a00 * a11 - a01 * a10) / det],
  ];
  const t = [t0, t1, t2];
  return [
    [r[0][0], r[0][1], r[0][2], -(r[0][0] * t[0] + r[0][1] * t[1] + r[0][2] * t[2])],
    [r[1][0], r[1][1], r[1][2], -(r[1][0] * t[0] + r[1][1] * t[1] + r[1][2] * t[2])],
    [r[2][0], r[2][1], r[2][2], -(r[2][0] * t[0] + r[2][1] * t[1] + r[2][2] * t[2])],
    [0, 0, 0, 1],
  ];
}

/** a * b for affines (sums left to right, in double). */
export function multiplyAffine(a: Affine, b: Affine): Affine {
  const out = [0, 1, 2, 3].map((r) => [0, 1, 2, 3].map((c) => a[r][0] * b[0][c] + a[r][1] * b[1][c] + a[r][2] * b[2][c] + a[r][3] * b[3][c]));
  return out as Affine;
}

/** The conformed grid a run labelled: its affine and [D, H, W]. */
export interface Grid {
  affine: Affine;
  shape: readonly number[];
}

/** Labels of `grid` ([D, H, W], x fastest) on the native volume's grid, nearest neighbour. */
export function labelsToNative(labels: Uint8Array, grid: Grid, native: Pick<Volume, 'shape' | 'affine'>): Uint8Array {
  const [D, H, W] = spatialShape(native);
  const [cD, cH, cW] = grid.shape;
  if (labels.length !== cD * cH * cW) throw new Error(`labels have ${labels.length} values, the grid [${grid.shape.join(', ')}] needs ${cD * cH * cW}`);
  const m = multiplyAffine(invertAffine(grid.affine), native.affine);
  const out = new Uint8Array(D * H * W);
  let p = 0;
  for (let k = 0; k < D; k++)
    for (let j = 0; j < H; j++)
      for (let i = 0; i < W; i++, p++) {
        const x = Math.floor(m[0][0] * i + m[0][1] * j + m[0][2] * k + m[0][3] + 0.5);
        const y = Math.floor(m[1][0] * i + m[1][1] * j + m[1][2] * k + m[1][3] + 0.5);
        const z = Math.floor(m[2][0] * i + m[2][1] * j + m[2][2] * k + m[2][3] + 0.5);
        if (x >= 0 && y >= 0 && z >= 0 && x < cW && y < cH && z < cD) out[p] = labels[(z * cH + y) * cW + x];
      }
  return out;
}

/** Millilitres of one voxel: the product of the spacing (mm) / 1000. */
export const voxelMl = (spacing: readonly number[]): number => (spacing[0] * spacing[1] * spacing[2]) / 1000;
