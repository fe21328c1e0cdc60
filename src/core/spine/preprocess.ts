/**
 * Stage-1 preprocessing of the cervical-spine pipeline (spec section 2), as the original:
 * 1. z-sampling: `round(quantile(range(n), linspace(0, 1, 128)))` (numpy linear quantile, round half to even);
 * 2. each sampled slice (stored values) resized to 128 x 128 with cv2.INTER_AREA semantics (float64);
 * 3. per volume `v -= min; v = v / (max + 1e-4) * 255` -> uint8 (truncation, as numpy astype);
 * 4. x / 255 (float32), repeated to 3 channels, slices last: (1, 3, rows, cols, slices) (or slices first).
 */
import { roundHalfEven } from '../slidingWindow';
import type { SpineLayout } from '../presets/spine';

/** numpy.linspace(start, stop, num) (endpoint included), element for element. */
export function linspace(start: number, stop: number, num: number): number[] {
  if (num <= 0) return [];
  if (num === 1) return [start];
  const div = num - 1;
  const delta = stop - start;
  const step = delta / div;
  const out = new Array<number>(num);
  for (let i = 0; i < num; i++) out[i] = step === 0 ? ((i / div) * delta) + start : i * step + start;
  out[num - 1] = stop;
  return out;
}

/** numpy.quantile(range(n), q) with the default linear method (numpy's _lerp, exact for these values). */
function quantileOfRange(n: number, q: number): number {
  const v = (n - 1) * q;
  const lo = Math.min(Math.max(Math.floor(v), 0), n - 1);
  const hi = Math.min(lo + 1, n - 1);
  const t = v - lo;
  const diff = hi - lo;
  // numpy: a + diff * t, or b - diff * (1 - t) where t >= 0.5
  return t >= 0.5 ? hi - diff * (1 - t) : lo + diff * t;
}

/** The pipeline's slice indices: round(quantile(range(n), linspace(0, 1, count))), numpy round (half to even). */
export function sampleSliceIndices(n: number, count: number): number[] {
  if (n < 1) throw new Error('no slices to sample');
  return linspace(0, 1, count).map((q) => roundHalfEven(quantileOfRange(n, q)));
}

/** Sparse resampling weights along one axis: output i = sum_k w[k] * input[idx[k]] over k in [start[i], start[i + 1]). */
export interface AxisWeights {
  start: Int32Array;
  idx: Int32Array;
  w: Float64Array;
}

function packWeights(rows: { idx: number[]; w: number[] }[]): AxisWeights {
  const start = new Int32Array(rows.length + 1);
  let total = 0;
  rows.forEach((r, i) => {
    start[i] = total;
    total += r.idx.length;
  });
  start[rows.length] = total;
  const idx = new Int32Array(total);
  const w = new Float64Array(total);
  let k = 0;
  for (const r of rows) {
    for (let j = 0; j < r.idx.length; j++) {
      idx[k] = r.idx[j];
      w[k++] = r.w[j];
    }
  }
  return { start, idx, w };
}

/**
 * cv2.INTER_AREA weights for nIn -> nOut. Downscale (nIn >= nOut): output pixel i averages the input
 * interval [i s, (i + 1) s), s = nIn / nOut, each input pixel weighted by its overlap (integer and
 * non-integer factors alike). Upscale: cv2's INTER_AREA falls back to a linear interpolation with
 * its own coefficients: sx = floor(i s), f = (i + 1) - (sx + 1) / s, f = f <= 0 ? 0 : f - floor(f).
 */
export function areaWeights(nIn: number, nOut: number): AxisWeights {
  const rows: { idx: number[]; w: number[] }[] = [];
  const s = nIn / nOut;
  if (nIn >= nOut) {
    for (let i = 0; i < nOut; i++) {
      const a = i * s;
      const b = (i + 1) * s;
      const idx: number[] = [];
      const w: number[] = [];
      let sum = 0;
      for (let j = Math.floor(a); j < Math.min(Math.ceil(b), nIn); j++) {
        const o = Math.max(0, Math.min(b, j + 1) - Math.max(a, j));
        idx.push(j);
        w.push(o);
        sum += o;
      }
      rows.push({ idx, w: w.map((x) => x / sum) });
    }
  } else {
    const inv = nOut / nIn;
    for (let i = 0; i < nOut; i++) {
      let sx = Math.floor(i * s);
      let f = i + 1 - (sx + 1) * inv;
      f = f <= 0 ? 0 : f - Math.floor(f);
      if (sx < 0) {
        sx = 0;
        f = 0;
      }
      if (sx >= nIn - 1) {
        sx = nIn - 1;
        f = 0;
      }
      rows.push(f === 0 ? { idx: [sx], w: [1] } : { idx: [sx, sx + 1], w: [1 - f, f] });
    }
  }
  return packWeights(rows);
}

/**
 * Resizes one [rows, cols] image with separable weights (rows first, then columns) into `out`
 * (float64, outRows x outCols). `tmp` must hold outRows * cols values.
 */
export function resizeSeparable(
  img: ArrayLike<number>,
  rows: number,
  cols: number,
  wy: AxisWeights,
  wx: AxisWeights,
  out: Float64Array,
  tmp: Float64Array,
  outOffset = 0,
): void {
  const outRows = wy.start.length - 1;
  const outCols = wx.start.length - 1;
  for (let i = 0; i < outRows; i++) {
    const t = i * cols;
    for (let c = 0; c < cols; c++) tmp[t + c] = 0;
    for (let k = wy.start[i]; k < wy.start[i + 1]; k++) {
      const r = wy.idx[k] * cols;
      const w = wy.w[k];
      for (let c = 0; c < cols; c++) tmp[t + c] += w * img[r + c];
    }
  }
  void rows;
  for (let i = 0; i < outRows; i++) {
    const t = i * cols;
    const o = outOffset + i * outCols;
    for (let j = 0; j < outCols; j++) {
      let acc = 0;
      for (let k = wx.start[j]; k < wx.start[j + 1]; k++) acc += wx.w[k] * tmp[t + wx.idx[k]];
      out[o + j] = acc;
    }
  }
}

/** Sampled and area-resized slices, float64 [count, size, size] (slices first), and the indices used. */
export function sampleAndResize(
  stored: ArrayLike<number>,
  shape: readonly [number, number, number],
  count: number,
  size: number,
): { data: Float64Array; indices: number[] } {
  const [n, rows, cols] = shape;
  const indices = sampleSliceIndices(n, count);
  const wy = areaWeights(rows, size);
  const wx = areaWeights(cols, size);
  const out = new Float64Array(count * size * size);
  const tmp = new Float64Array(size * cols);
  const plane = rows * cols;
  // one monomorphic float64 copy of each sampled slice keeps the inner loops fast
  const slice = new Float64Array(plane);
  indices.forEach((k, s) => {
    for (let i = 0; i < plane; i++) slice[i] = stored[k * plane + i];
    resizeSeparable(slice, rows, cols, wy, wx, out, tmp, s * size * size);
  });
  return { data: out, indices };
}

/** Per-volume `(v - min) / (max + 1e-4) * 255` (max after the shift) -> uint8 by truncation. */
export function normaliseU8(v: ArrayLike<number>): Uint8Array {
  let lo = Infinity;
  for (let i = 0; i < v.length; i++) if (v[i] < lo) lo = v[i];
  let hi = -Infinity;
  for (let i = 0; i < v.length; i++) if (v[i] - lo > hi) hi = v[i] - lo;
  const out = new Uint8Array(v.length);
  const d = hi + 1e-4;
  for (let i = 0; i < v.length; i++) out[i] = Math.trunc(((v[i] - lo) / d) * 255);
  return out;
}

/**
 * The model input from the uint8 volume [slices, rows, cols]: x / 255 (float32), repeated to
 * `channels`, laid out (1, C, rows, cols, slices) for slices-last or (1, C, slices, rows, cols).
 */
export function toInputTensor(u8: Uint8Array, dims: readonly [number, number, number], channels: number, layout: SpineLayout): { data: Float32Array; shape: number[] } {
  const [s, r, c] = dims;
  const n = s * r * c;
  const data = new Float32Array(channels * n);
  if (layout === 'slices-first') {
    for (let i = 0; i < n; i++) data[i] = u8[i] / 255;
  } else {
    for (let z = 0; z < s; z++) {
      for (let y = 0; y < r; y++) {
        const src = (z * r + y) * c;
        for (let x = 0; x < c; x++) data[(y * c + x) * s + z] = u8[src + x] / 255;
      }
    }
  }
  for (let k = 1; k < channels; k++) data.copyWithin(k * n, 0, n);
  return { data, shape: layout === 'slices-first' ? [1, channels, s, r, c] : [1, channels, r, c, s] };
}

/** Whole stage-1 preprocessing: uint8 [count, size, size] (slices first), the tensor and the slice indices. */
export function preprocessSpine(
  stored: ArrayLike<number>,
  shape: readonly [number, number, number],
  p: { sliceCount: number; size: number; channels: number; layout: SpineLayout },
): { u8: Uint8Array; input: { data: Float32Array; shape: number[] }; indices: number[] } {
  const { data, indices } = sampleAndResize(stored, shape, p.sliceCount, p.size);
  const u8 = normaliseU8(data);
  return { u8, input: toInputTensor(u8, [p.sliceCount, p.size, p.size], p.channels, p.layout), indices };
}
