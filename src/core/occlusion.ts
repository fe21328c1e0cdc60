/**
 * Occlusion maps for classifiers that return logits only (no class-map output): the model is run
 * again on copies of the input with one patch masked, and a pixel's attribution for class k is
 * the drop of class k's score when the patches covering it are masked (Zeiler & Fergus 2014;
 * the same averaging as Captum's `Occlusion`: each pixel gets the mean drop over the windows that
 * covered it; pixels no window covered get 0). Model-agnostic, generic over [C, H, W] inputs
 * (all channels of a patch are masked together). Pure TS: runs in the worker, Node and tests.
 *
 * Exported signature (shared by the EEG and protein presets):
 *
 *   occlusionMap(
 *     input: { data: Float32Array; shape: [C, H, W] },
 *     predict: Predictor,                 // (batch [n, C, H, W], shape) -> { data [n, K], shape [n, K] }
 *     params?: Partial<OcclusionParams>,  // patch [ph, pw], stride [sh, sw], fill, batch, activation
 *     opts?: { signal?: AbortSignal; onProgress?: (p: OcclusionProgress) => void },
 *   ): Promise<OcclusionResult>
 *
 *   OcclusionResult = {
 *     maps: Float32Array,        // [K, H, W]: mean score drop per pixel (positive = the region supports class k)
 *     shape: [K, H, W],
 *     grid: Float32Array,        // [K, gy, gx]: score drop per window position
 *     gridShape: [K, gy, gx],
 *     starts: { y: number[]; x: number[] },  // window top-left corners (rows, columns)
 *     baseline: Float32Array,    // [K] scores of the unmasked input
 *     windows: number, ms: number,
 *   }
 *
 *   occlusionWindows(H, W, params) -> { y: number[]; x: number[] }   // the window starts used
 *
 * Scores are the model outputs after `activation` ('softmax' default, 'sigmoid' or 'none' =
 * raw logits). A predictor that averages several models (folds) can be passed as `predict`.
 * Cancel: abort the signal; the promise rejects with AbortError (from slidingWindow.ts) before
 * the next batch. The maps can be shown with src/core/cam.ts (normaliseClassMaps) like CAMs.
 */
import { AbortError, type Predictor } from './slidingWindow';

export type OcclusionActivation = 'softmax' | 'sigmoid' | 'none';

export interface OcclusionParams {
  /** Patch size [ph, pw] in input pixels (clamped to the image). */
  patch: [number, number];
  /** Step between window starts [sh, sw]; the last window always touches the far edge. */
  stride: [number, number];
  /**
   * Value written into the masked patch: a number (all channels), one number per channel, or
   * 'mean' (each channel's mean over the whole input).
   */
  fill: number | number[] | 'mean';
  /** Masked inputs per model call. */
  batch: number;
  /** Applied to each [K] output row before the drop is taken. */
  activation: OcclusionActivation;
}

export const defaultOcclusionParams: OcclusionParams = {
  patch: [64, 64],
  stride: [32, 32],
  fill: 0,
  batch: 8,
  activation: 'softmax',
};

export interface OcclusionProgress {
  /** Masked inputs scored so far (the unmasked baseline is not counted). */
  done: number;
  total: number;
  elapsedMs: number;
  etaMs: number;
}

export interface OcclusionResult {
  /** [K, H, W] mean score drop over the windows covering each pixel. */
  maps: Float32Array;
  shape: [number, number, number];
  /** [K, gy, gx] score drop per window position. */
  grid: Float32Array;
  gridShape: [number, number, number];
  starts: { y: number[]; x: number[] };
  /** [K] scores of the unmasked input (after the activation). */
  baseline: Float32Array;
  windows: number;
  ms: number;
}

export interface OcclusionOptions {
  signal?: AbortSignal;
  onProgress?: (p: OcclusionProgress) => void;
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

function starts1d(size: number, patch: number, stride: number): number[] {
  const p = Math.min(patch, size);
  const out: number[] = [];
  for (let s = 0; s + p < size; s += stride) out.push(s);
  out.push(size - p);
  return [...new Set(out)];
}

/** Window top-left corners for an H x W input: every `stride`, plus one flush with the far edge. */
export function occlusionWindows(h: number, w: number, params: Pick<OcclusionParams, 'patch' | 'stride'>): { y: number[]; x: number[] } {
  const [ph, pw] = params.patch;
  const [sh, sw] = params.stride;
  if (!(ph >= 1 && pw >= 1 && sh >= 1 && sw >= 1) || ![ph, pw, sh, sw].every(Number.isInteger)) {
    throw new Error(`occlusion patch and stride must be positive integers (patch ${ph} x ${pw}, stride ${sh} x ${sw})`);
  }
  return { y: starts1d(h, ph, sh), x: starts1d(w, pw, sw) };
}

/** Row-wise activation of [n, K] scores (float64 arithmetic, float32 out). */
export function activateRows(data: Float32Array, n: number, k: number, activation: OcclusionActivation): Float32Array {
  const out = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    const row = data.subarray(i * k, (i + 1) * k);
    if (activation === 'softmax') {
      let m = -Infinity;
      for (const v of row) if (v > m) m = v;
      let s = 0;
      for (const v of row) s += Math.exp(v - m);
      for (let j = 0; j < k; j++) out[i * k + j] = Math.exp(row[j] - m) / s;
    } else if (activation === 'sigmoid') {
      for (let j = 0; j < k; j++) out[i * k + j] = 1 / (1 + Math.exp(-row[j]));
    } else out.set(row, i * k);
  }
  return out;
}

export async function occlusionMap(
  input: { data: Float32Array; shape: readonly [number, number, number] },
  predict: Predictor,
  params: Partial<OcclusionParams> = {},
  opts: OcclusionOptions = {},
): Promise<OcclusionResult> {
  const p: OcclusionParams = { ...defaultOcclusionParams, ...params };
  const [c, h, w] = input.shape;
  const plane = h * w;
  if (input.data.length !== c * plane) throw new Error(`occlusion input has ${input.data.length} values; shape [${c}, ${h}, ${w}] needs ${c * plane}`);
  const batchSize = Math.max(1, Math.floor(p.batch));
  const ph = Math.min(p.patch[0], h);
  const pw = Math.min(p.patch[1], w);
  const { y: ys, x: xs } = occlusionWindows(h, w, p);
  const fill = new Float32Array(c);
  for (let ch = 0; ch < c; ch++) {
    if (p.fill === 'mean') {
      let s = 0;
      for (let i = ch * plane; i < (ch + 1) * plane; i++) s += input.data[i];
      fill[ch] = s / plane;
    } else if (Array.isArray(p.fill)) {
      if (p.fill.length !== c) throw new Error(`occlusion fill has ${p.fill.length} values; the input has ${c} channels`);
      fill[ch] = p.fill[ch];
    } else fill[ch] = p.fill;
  }
  const t0 = now();
  const check = () => {
    if (opts.signal?.aborted) throw new AbortError();
  };
  let k = 0;
  const score = async (batch: Float32Array, n: number): Promise<Float32Array> => {
    check();
    const out = await predict(batch, [n, c, h, w]);
    check();
    const kk = out.data.length / n;
    if (!Number.isInteger(kk) || kk < 1) throw new Error(`the model returned ${out.data.length} values for ${n} inputs; expected [${n}, K] scores`);
    if (k && kk !== k) throw new Error(`the model returned ${kk} scores per input, earlier ${k}`);
    k = kk;
    return activateRows(out.data, n, kk, p.activation);
  };

  const baseline = await score(input.data, 1);
  const windows: [number, number][] = [];
  for (const y0 of ys) for (const x0 of xs) windows.push([y0, x0]);
  const total = windows.length;
  const grid = new Float32Array(k * total);
  const buf = new Float32Array(batchSize * c * plane);
  let done = 0;
  for (let b0 = 0; b0 < total; b0 += batchSize) {
    const n = Math.min(batchSize, total - b0);
    for (let i = 0; i < n; i++) {
      const off = i * c * plane;
      buf.set(input.data, off);
      const [y0, x0] = windows[b0 + i];
      for (let ch = 0; ch < c; ch++) {
        const f = fill[ch];
        for (let y = y0; y < y0 + ph; y++) buf.fill(f, off + ch * plane + y * w + x0, off + ch * plane + y * w + x0 + pw);
      }
    }
    const scores = await score(n === batchSize ? buf : buf.subarray(0, n * c * plane), n);
    for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) grid[j * total + b0 + i] = baseline[j] - scores[i * k + j];
    done += n;
    if (opts.onProgress) {
      const elapsedMs = now() - t0;
      opts.onProgress({ done, total, elapsedMs, etaMs: (elapsedMs / done) * (total - done) });
    }
  }

  // per pixel: mean of the drops of the windows that covered it
  const maps = new Float32Array(k * plane);
  const sum = new Float64Array(plane);
  const count = new Uint32Array(plane);
  for (let wi = 0; wi < total; wi++) {
    const [y0, x0] = windows[wi];
    for (let y = y0; y < y0 + ph; y++) for (let x = x0; x < x0 + pw; x++) count[y * w + x]++;
  }
  for (let j = 0; j < k; j++) {
    sum.fill(0);
    for (let wi = 0; wi < total; wi++) {
      const [y0, x0] = windows[wi];
      const d = grid[j * total + wi];
      for (let y = y0; y < y0 + ph; y++) {
        const r = y * w;
        for (let x = x0; x < x0 + pw; x++) sum[r + x] += d;
      }
    }
    for (let i = 0; i < plane; i++) maps[j * plane + i] = count[i] ? sum[i] / count[i] : 0;
  }
  return {
    maps,
    shape: [k, h, w],
    grid,
    gridShape: [k, ys.length, xs.length],
    starts: { y: ys, x: xs },
    baseline,
    windows: total,
    ms: now() - t0,
  };
}
