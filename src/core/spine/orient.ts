/**
 * NIfTI input for the spine preset: the model was trained on DICOM pixel order (columns towards the
 * patient's left, rows towards posterior, slices head first). A NIfTI volume whose affine is axial
 * (each voxel axis mostly along one RAS axis, in the order x, y, z) is flipped axis by axis into that
 * order; the labels are flipped back before they are written, so they match the CT voxel for voxel.
 */
import type { Volume, VoxelArray } from '../volume';

/** Flips a [D, H, W] array along the axes marked true (into a new array of the same type). */
export function flip3<T extends VoxelArray>(src: T, shape: readonly number[], axes: readonly [boolean, boolean, boolean]): T {
  const [D, H, W] = shape;
  const dst = new (src.constructor as new (n: number) => T)(src.length);
  for (let d = 0; d < D; d++) {
    const sd = axes[0] ? D - 1 - d : d;
    for (let h = 0; h < H; h++) {
      const sh = axes[1] ? H - 1 - h : h;
      const o = (d * H + h) * W;
      const s = (sd * H + sh) * W;
      if (axes[2]) for (let w = 0; w < W; w++) dst[o + w] = src[s + W - 1 - w];
      else dst.set(src.subarray(s, s + W) as ArrayLike<number> & T, o);
    }
  }
  return dst;
}

export interface OrientedVolume {
  data: VoxelArray;
  shape: [number, number, number];
  spacing: number[];
  /** Flips applied per axis [D, H, W]. */
  flips: [boolean, boolean, boolean];
  /** Labels in the pipeline's order -> the volume's own voxel order. */
  restore: (labels: Uint8Array) => Uint8Array;
  warnings: string[];
}

export function orientHeadFirst(vol: Volume): OrientedVolume {
  const shape = vol.shape.slice(-3) as [number, number, number];
  const a = vol.affine;
  // voxel axis columns: i (W) -> 0, j (H) -> 1, k (D) -> 2; DICOM order wants RAS -x, -y, -z
  const col = (c: number) => [a[0][c], a[1][c], a[2][c]];
  const dominant = (v: number[]) => v.map(Math.abs).indexOf(Math.max(...v.map(Math.abs)));
  const warnings: string[] = [];
  const flips: [boolean, boolean, boolean] = [false, false, false];
  const axial = [0, 1, 2].every((c) => dominant(col(c)) === c);
  if (!axial) {
    warnings.push('the volume is not stored axially (its affine is not x, y, z ordered): used as stored; the model expects axial slices, head first');
  } else {
    // shape axes: 0 = D (k, column 2), 1 = H (j, column 1), 2 = W (i, column 0)
    flips[0] = a[2][2] > 0;
    flips[1] = a[1][1] > 0;
    flips[2] = a[0][0] > 0;
    if (flips[0]) warnings.push('slices run feet first: reversed to head first (the model expects head first)');
    if (flips[1] || flips[2]) warnings.push(`in-plane axes flipped to DICOM pixel order (${[flips[1] ? 'rows' : '', flips[2] ? 'columns' : ''].filter(Boolean).join(' and ')})`);
  }
  const any = flips.some(Boolean);
  return {
    data: any ? flip3(vol.data, shape, flips) : vol.data,
    shape,
    spacing: [...vol.spacing],
    flips,
    restore: (l) => (any ? flip3(l, shape, flips) : l),
    warnings,
  };
}
