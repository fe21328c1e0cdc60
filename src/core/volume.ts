/**
 * The one volume type every reader returns and every writer, pipeline and view takes.
 *
 * Axis convention (the same as numpy/mrcfile and the raw voxel order of NIfTI and MRC):
 * `shape` is C-order, slowest axis first, fastest last. A 3D volume is [D, H, W] =
 * [nz, ny, nx]; a multi-channel volume is [C, D, H, W]. Index i (NIfTI x) runs along W.
 */
export type VoxelArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array;

export type DType = 'float32' | 'float64' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32';

/** 4x4 row-major matrix. */
export type Affine = [number[], number[], number[], number[]];

export interface Volume {
  /** C-order shape: [D, H, W] or [C, D, H, W]. */
  shape: number[];
  data: VoxelArray;
  /** Voxel size along the spatial axes in shape order: [sD, sH, sW] (mm for NIfTI, Angstrom for MRC). */
  spacing: [number, number, number];
  /** Unit of `spacing`. */
  unit: 'mm' | 'angstrom' | 'unknown';
  /**
   * Voxel-to-world transform in the NIfTI convention: world = A * [i, j, k, 1] with
   * i along W (fastest), j along H, k along D; world in RAS+ millimetres.
   */
  affine: Affine;
  /** Where it came from, for messages and for writing results back in the same space. */
  source?: { name: string; format: string };
}

export function dtypeOf(a: VoxelArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof Uint8Array) return 'uint8';
  if (a instanceof Int16Array) return 'int16';
  if (a instanceof Uint16Array) return 'uint16';
  if (a instanceof Int32Array) return 'int32';
  return 'uint32';
}

export function product(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** The last three entries of the shape: [D, H, W]. */
export function spatialShape(v: Pick<Volume, 'shape'>): [number, number, number] {
  const s = v.shape;
  if (s.length < 3) throw new Error(`expected a 3D volume, got shape [${s.join(', ')}]`);
  return [s[s.length - 3], s[s.length - 2], s[s.length - 1]];
}

export function channelsOf(v: Pick<Volume, 'shape'>): number {
  return v.shape.length >= 4 ? product(v.shape.slice(0, v.shape.length - 3)) : 1;
}

export function identityAffine(spacing: [number, number, number] = [1, 1, 1]): Affine {
  // spacing is [sD, sH, sW]; the affine's columns are i (W), j (H), k (D)
  return [
    [spacing[2], 0, 0, 0],
    [0, spacing[1], 0, 0],
    [0, 0, spacing[0], 0],
    [0, 0, 0, 1],
  ];
}

export function makeVolume(
  data: VoxelArray,
  shape: number[],
  opts: Partial<Omit<Volume, 'data' | 'shape'>> = {},
): Volume {
  if (product(shape) !== data.length) {
    throw new Error(`data has ${data.length} values but shape [${shape.join(', ')}] needs ${product(shape)}`);
  }
  const spacing = opts.spacing ?? [1, 1, 1];
  return {
    shape,
    data,
    spacing,
    unit: opts.unit ?? 'unknown',
    affine: opts.affine ?? identityAffine(spacing),
    source: opts.source,
  };
}

/** Min and max over the data, ignoring NaN. */
export function range(data: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/** A user-facing error: its message is meant to be shown as is. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}
