/**
 * Pure helpers behind the view and the run checks: resampling the output onto the input grid,
 * argmax label maps, label colours and counts, intensity scaling, default windows and the
 * checks that a model fits a volume. No React, no Niivue: testable in Node.
 */
import type { ModelInfo, TensorInfo } from '../core/onnx/model';
import { hasFixedSpatialDims } from '../core/onnx/model';
import { resizeNearestExact } from '../core/slidingWindow';
import { channelsOf, spatialShape, type Volume } from '../core/volume';

export type Shape3 = [number, number, number];

/**
 * Nearest-neighbour resampling of a [C, d, h, w] output onto a [D, H, W] grid covering the same
 * extent (output voxel k covers input voxels k/zoom .. (k+1)/zoom). Returns the input when the
 * grids already match.
 */
export function resampleToGrid(data: Float32Array, channels: number, from: Shape3, to: Shape3): Float32Array {
  if (from[0] === to[0] && from[1] === to[1] && from[2] === to[2]) return data;
  const nFrom = from[0] * from[1] * from[2];
  const nTo = to[0] * to[1] * to[2];
  if (data.length !== channels * nFrom) {
    throw new Error(`output has ${data.length} values, expected ${channels}×${from.join('×')}`);
  }
  const out = new Float32Array(channels * nTo);
  for (let c = 0; c < channels; c++) {
    out.set(resizeNearestExact(data.subarray(c * nFrom, (c + 1) * nFrom), from, to), c * nTo);
  }
  return out;
}

/**
 * Label map from a [C, N] array: argmax over channels (first max wins). A single channel is
 * read as one foreground class: value > threshold -> 1. `from`..`to`: only those voxels (the
 * map returned has to - from entries).
 */
export function argmaxLabels(data: Float32Array, channels: number, threshold = 0, from = 0, to = data.length / channels): Uint8Array {
  const n = data.length / channels;
  const out = new Uint8Array(to - from);
  if (channels === 1) {
    for (let i = from; i < to; i++) out[i - from] = data[i] > threshold ? 1 : 0;
    return out;
  }
  if (channels > 256) throw new Error(`argmax over ${channels} channels does not fit a uint8 label map`);
  for (let i = from; i < to; i++) {
    let best = 0;
    let bv = data[i];
    for (let c = 1; c < channels; c++) {
      const v = data[c * n + i];
      if (v > bv) {
        bv = v;
        best = c;
      }
    }
    out[i - from] = best;
  }
  return out;
}

/** Voxels per label 0..nLabels-1. */
export function labelCounts(labels: Uint8Array, nLabels: number): number[] {
  const counts = new Array<number>(Math.max(nLabels, 1)).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l < counts.length) counts[l]++;
  }
  return counts;
}

/** Number of labels an output with `channels` channels produces (a single channel -> background + 1). */
export function labelCount(channels: number): number {
  return channels === 1 ? 2 : channels;
}

/** Distinct label colours; label 0 (background) is shown transparent. */
const PALETTE: Shape3[] = [
  [0, 0, 0],
  [230, 159, 0],
  [86, 180, 233],
  [0, 158, 115],
  [240, 228, 66],
  [0, 114, 178],
  [213, 94, 0],
  [204, 121, 167],
  [220, 50, 47],
  [133, 153, 0],
  [108, 113, 196],
  [42, 161, 152],
];

export function labelColor(i: number): Shape3 {
  if (i < PALETTE.length) return PALETTE[i];
  // golden-angle hues for the rest
  const h = ((i * 137.508) % 360) / 60;
  const x = 1 - Math.abs((h % 2) - 1);
  const [r, g, b] = h < 1 ? [1, x, 0] : h < 2 ? [x, 1, 0] : h < 3 ? [0, 1, x] : h < 4 ? [0, x, 1] : h < 5 ? [x, 0, 1] : [1, 0, x];
  return [Math.round(40 + 200 * r), Math.round(40 + 200 * g), Math.round(40 + 200 * b)];
}

export function labelName(i: number, names: string[] | null): string {
  return names?.[i] ?? (i === 0 ? 'background' : `label ${i}`);
}

/** Niivue label colormap ({R, G, B, A, I, labels}) for labels 0..n-1, background transparent. */
export function labelColormap(n: number, names: string[] | null) {
  const R: number[] = [];
  const G: number[] = [];
  const B: number[] = [];
  const A: number[] = [];
  const I: number[] = [];
  const labels: string[] = [];
  for (let i = 0; i < n; i++) {
    const [r, g, b] = labelColor(i);
    R.push(r);
    G.push(g);
    B.push(b);
    A.push(i === 0 ? 0 : 255);
    I.push(i);
    labels.push(labelName(i, names));
  }
  return { R, G, B, A, I, labels };
}

/** Min and max of one channel of a [C, N] array. */
export function channelRange(data: Float32Array, channels: number, channel: number): [number, number] {
  const n = data.length / channels;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = channel * n; i < (channel + 1) * n; i++) {
    const v = data[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : [0, 0];
}

export type IntensityScaling = 'none' | 'div255' | 'minmax';

/** The linear map x * scale + offset applied to each window. */
export function intensityTransform(kind: IntensityScaling, range: [number, number]): { scale: number; offset: number } {
  if (kind === 'div255') return { scale: 1 / 255, offset: 0 };
  if (kind === 'minmax') {
    const [lo, hi] = range;
    const span = hi - lo;
    if (!(span > 0) || !Number.isFinite(span)) return { scale: 1, offset: -lo || 0 };
    return { scale: 1 / span, offset: -lo / span };
  }
  return { scale: 1, offset: 0 };
}

/** What a model's first input says about the data it takes. */
export interface InputSpec {
  input: TensorInfo;
  rank: number;
  /** 3 for (N, C, D, H, W), 2 for (N, C, H, W); null for other ranks. */
  spatialDims: 2 | 3 | null;
  /** Fixed channel count, or null when symbolic. */
  channels: number | null;
  /** Fixed spatial sizes in [D, H, W] order (2D: [1, H, W]); null per symbolic dim. */
  fixed: (number | null)[];
  hasFixed: boolean;
  /** Fixed output channel count, when declared. */
  outChannels: number | null;
}

export function inputSpec(info: ModelInfo): InputSpec | null {
  const input = info.inputs[0];
  if (!input) return null;
  const rank = input.dims.length;
  const spatialDims = rank === 5 ? 3 : rank === 4 ? 2 : null;
  const num = (d: unknown): number | null => (typeof d === 'number' && d > 0 ? d : null);
  const sp = input.dims.slice(2).map(num);
  const fixed = spatialDims === 2 ? [1, ...sp] : sp;
  const out = info.outputs[0];
  return {
    input,
    rank,
    spatialDims,
    channels: num(input.dims[1]),
    fixed,
    hasFixed: hasFixedSpatialDims(input),
    outChannels: out ? num(out.dims[1]) : null,
  };
}

/** Ops that usually tie a graph to one input size. */
const SIZE_BOUND_OPS = ['Reshape', 'Flatten', 'Gemm', 'MatMul'];

export function sizeBoundOps(info: ModelInfo): string[] {
  return SIZE_BOUND_OPS.filter((op) => (info.ops[op] ?? 0) > 0);
}

/**
 * Default window: the model's fixed spatial dims where it declares them, else
 * min(volume dim, 128); 2D models get D = 1.
 */
export function defaultRoi(spec: InputSpec | null, volume: Volume | null): Shape3 {
  const vol = volume ? spatialShape(volume) : null;
  const out: Shape3 = [128, 128, 128];
  for (let i = 0; i < 3; i++) {
    const f = spec?.fixed[i] ?? null;
    if (spec?.spatialDims === 2 && i === 0) out[i] = 1;
    else if (f !== null) out[i] = f;
    else out[i] = vol ? Math.min(vol[i], 128) : 128;
  }
  return out;
}

/** Axes where the roi differs from a fixed model dim (empty when none). */
export function roiMismatch(spec: InputSpec, roi: Shape3): number[] {
  const axes: number[] = [];
  const first = spec.spatialDims === 2 ? 1 : 0;
  for (let i = first; i < 3; i++) {
    const f = spec.fixed[i];
    if (f !== null && f !== roi[i]) axes.push(i);
  }
  return axes;
}

export function dims(a: readonly (number | null | string)[]): string {
  return a.map((d) => (d === null ? '?' : String(d))).join('×');
}

export interface Problem {
  text: string;
  /** The fix the message offers. */
  action?: 'relax-dims';
}

/** Why this model cannot run on this volume with these settings (empty when it can). */
export function runProblems(info: ModelInfo, relaxed: boolean, volume: Volume, roi: Shape3): Problem[] {
  const problems: Problem[] = [];
  const spec = inputSpec(info);
  if (!spec) return [{ text: 'The model declares no graph input.' }];
  const vol = spatialShape(volume);
  const vc = channelsOf(volume);
  if (spec.spatialDims === null) {
    problems.push({
      text: `The model's input "${spec.input.name}" has rank ${spec.rank} [${dims(spec.input.dims)}]; expected rank 5 (N, C, D, H, W) for a 3D volume or rank 4 (N, C, H, W) for a 2D image.`,
    });
    return problems;
  }
  if (spec.spatialDims === 2 && vol[0] !== 1) {
    problems.push({
      text: `The model takes 2D images (N, C, H, W) but the volume has ${vol[0]} slices (${dims(vol)}). Load a single 2D image, or a 3D model.`,
    });
  }
  if (spec.channels !== null && spec.channels !== vc) {
    problems.push({
      text: `The model expects ${spec.channels} input channel${spec.channels === 1 ? '' : 's'} but the volume has ${vc}${vc === 1 ? ' (a single 3D volume)' : ''}.`,
    });
  }
  if (roi.some((r) => !Number.isInteger(r) || r < 1)) {
    problems.push({ text: `The window size must be whole numbers ≥ 1, got ${dims(roi)}.` });
  }
  if (!relaxed) {
    const bad = roiMismatch(spec, roi);
    if (bad.length > 0) problems.push({ text: relaxPrompt(info, roi), action: 'relax-dims' });
  }
  return problems;
}

/** The question asked when the chosen window differs from the model's fixed spatial dims. */
export function relaxPrompt(info: ModelInfo, roi: Shape3): string {
  const spec = inputSpec(info)!;
  const first = spec.spatialDims === 2 ? 1 : 0;
  const fixed = dims(spec.fixed.slice(first));
  const want = dims(roi.slice(first));
  const bound = sizeBoundOps(info);
  const why =
    bound.length === 0
      ? 'but is fully convolutional (no Reshape, Flatten, Gemm or MatMul), so it can most likely run on other window sizes'
      : `and contains ${bound.join(', ')}, which may tie it to that size; relaxing may then fail at run time`;
  return `This model declares fixed input size ${fixed} ${why}. The window is ${want}. Make spatial dims symbolic?`;
}

/** Inverse of a 4x4 row-major affine (null when singular). */
export function invertAffine(a: number[][]): number[][] | null {
  const m = a.flat();
  const inv = new Array<number>(16);
  inv[0] = m[5] * m[10] * m[15] - m[5] * m[11] * m[14] - m[9] * m[6] * m[15] + m[9] * m[7] * m[14] + m[13] * m[6] * m[11] - m[13] * m[7] * m[10];
  inv[4] = -m[4] * m[10] * m[15] + m[4] * m[11] * m[14] + m[8] * m[6] * m[15] - m[8] * m[7] * m[14] - m[12] * m[6] * m[11] + m[12] * m[7] * m[10];
  inv[8] = m[4] * m[9] * m[15] - m[4] * m[11] * m[13] - m[8] * m[5] * m[15] + m[8] * m[7] * m[13] + m[12] * m[5] * m[11] - m[12] * m[7] * m[9];
  inv[12] = -m[4] * m[9] * m[14] + m[4] * m[10] * m[13] + m[8] * m[5] * m[14] - m[8] * m[6] * m[13] - m[12] * m[5] * m[10] + m[12] * m[6] * m[9];
  inv[1] = -m[1] * m[10] * m[15] + m[1] * m[11] * m[14] + m[9] * m[2] * m[15] - m[9] * m[3] * m[14] - m[13] * m[2] * m[11] + m[13] * m[3] * m[10];
  inv[5] = m[0] * m[10] * m[15] - m[0] * m[11] * m[14] - m[8] * m[2] * m[15] + m[8] * m[3] * m[14] + m[12] * m[2] * m[11] - m[12] * m[3] * m[10];
  inv[9] = -m[0] * m[9] * m[15] + m[0] * m[11] * m[13] + m[8] * m[1] * m[15] - m[8] * m[3] * m[13] - m[12] * m[1] * m[11] + m[12] * m[3] * m[9];
  inv[13] = m[0] * m[9] * m[14] - m[0] * m[10] * m[13] - m[8] * m[1] * m[14] + m[8] * m[2] * m[13] + m[12] * m[1] * m[10] - m[12] * m[2] * m[9];
  inv[2] = m[1] * m[6] * m[15] - m[1] * m[7] * m[14] - m[5] * m[2] * m[15] + m[5] * m[3] * m[14] + m[13] * m[2] * m[7] - m[13] * m[3] * m[6];
  inv[6] = -m[0] * m[6] * m[15] + m[0] * m[7] * m[14] + m[4] * m[2] * m[15] - m[4] * m[3] * m[14] - m[12] * m[2] * m[7] + m[12] * m[3] * m[6];
  inv[10] = m[0] * m[5] * m[15] - m[0] * m[7] * m[13] - m[4] * m[1] * m[15] + m[4] * m[3] * m[13] + m[12] * m[1] * m[7] - m[12] * m[3] * m[5];
  inv[14] = -m[0] * m[5] * m[14] + m[0] * m[6] * m[13] + m[4] * m[1] * m[14] - m[4] * m[2] * m[13] - m[12] * m[1] * m[6] + m[12] * m[2] * m[5];
  inv[3] = -m[1] * m[6] * m[11] + m[1] * m[7] * m[10] + m[5] * m[2] * m[11] - m[5] * m[3] * m[10] - m[9] * m[2] * m[7] + m[9] * m[3] * m[6];
  inv[7] = m[0] * m[6] * m[11] - m[0] * m[7] * m[10] - m[4] * m[2] * m[11] + m[4] * m[3] * m[10] + m[8] * m[2] * m[7] - m[8] * m[3] * m[6];
  inv[11] = -m[0] * m[5] * m[11] + m[0] * m[7] * m[9] + m[4] * m[1] * m[11] - m[4] * m[3] * m[9] - m[8] * m[1] * m[7] + m[8] * m[3] * m[5];
  inv[15] = m[0] * m[5] * m[10] - m[0] * m[6] * m[9] - m[4] * m[1] * m[10] + m[4] * m[2] * m[9] + m[8] * m[1] * m[6] - m[8] * m[2] * m[5];
  const det = m[0] * inv[0] + m[1] * inv[4] + m[2] * inv[8] + m[3] * inv[12];
  if (!det || !Number.isFinite(det)) return null;
  const r = inv.map((x) => x / det);
  return [r.slice(0, 4), r.slice(4, 8), r.slice(8, 12), r.slice(12, 16)];
}

/**
 * Voxel [i, j, k] (i along W) nearest to world point `mm`, or null outside a [D, H, W] grid.
 */
export function worldToVoxel(affine: number[][], mm: ArrayLike<number>, shape: Shape3): Shape3 | null {
  const inv = invertAffine(affine);
  if (!inv) return null;
  const p = [mm[0], mm[1], mm[2], 1];
  const v = [0, 1, 2].map((r) => Math.round(inv[r][0] * p[0] + inv[r][1] * p[1] + inv[r][2] * p[2] + inv[r][3]));
  const [i, j, k] = v;
  const [D, H, W] = shape;
  if (i < 0 || j < 0 || k < 0 || i >= W || j >= H || k >= D) return null;
  return [i, j, k];
}

/**
 * The voxel nearest to world point `mm` on a [D, H, W] grid (worldToVoxel) with its index in the
 * grid's C-order data (x fastest), or null outside: what a view's readout reads at the clicked point.
 */
export function voxelAt(affine: number[][], mm: ArrayLike<number>, shape: Shape3): { ijk: Shape3; index: number } | null {
  const ijk = worldToVoxel(affine, mm, shape);
  return ijk && { ijk, index: (ijk[2] * shape[1] + ijk[1]) * shape[2] + ijk[0] };
}
