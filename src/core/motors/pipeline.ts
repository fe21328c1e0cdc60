/**
 * The motor detection pipeline on one tomogram (spec section 1):
 * uint8 resize to `inputSize` (scipy zoom order 1) -> per model and per TTA flip: flip the uint8
 * volume, MONAI sliding window (the input scaling as each window is fed: none = 0..255 as float, the
 * solution's model divides by 255 itself; x / 255, min-max or mean-std when asked; roi, overlap, sw batch, constant
 * mode with the BYU 30 %-margin weight map, resized nearest-exact to the output resolution), flip
 * the output back -> mean of the logits over the flips -> sigmoid -> sum over models = heatmap ->
 * argmax: point = (index + 0.5) / heatmap_shape * original_shape per axis, score = max.
 */
import { AbortError, planWindows, slidingWindowInference, type Predictor, type SlidingWindowParams } from '../slidingWindow';
import { InputError } from '../volume';
import type { MotorsParams, MotorsTta } from '../presets/motors';
import { zoomLinear } from './resize';
import type { Tomogram } from './tomogram';
import { byuWeightMap } from './weightMap';

export type Point3 = [number, number, number];

export interface MotorPeak {
  score: number;
  /** (z, y, x) in original voxels (fractional). */
  point: Point3;
  /** Heatmap voxel (d, h, w) of the peak. */
  index: Point3;
}

export interface MotorDetection {
  id: string;
  /** Summed sigmoid map over models (values in [0, number of models]), C-order. */
  heatmap: Float32Array;
  heatmapShape: Point3;
  /** Max of the heatmap. */
  score: number;
  /** Argmax in original voxels (z, y, x): (index + 0.5) / heatmap_shape * original_shape. */
  point: Point3;
  /** Up to maxPeaks local maxima, best first; peaks[0] is the argmax. */
  peaks: MotorPeak[];
  originalShape: Point3;
  /** Size the tomogram was resized to before inference. */
  inputShape: Point3;
  spacing?: number;
  timings: { totalMs: number; predictMs: number; resizeMs: number; windows: number };
}

export interface MotorsProgress {
  /** Model index (0-based) and TTA pass index (0-based) being run. */
  model: number;
  tta: number;
  /** Windows done over all models and passes, and their total. */
  done: number;
  total: number;
  elapsedMs: number;
  etaMs: number;
}

export interface DetectOptions {
  signal?: AbortSignal;
  onProgress?: (p: MotorsProgress) => void;
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** Axes (D, H, W) each TTA pass flips. */
export const FLIP_AXES: Record<MotorsTta, boolean[]> = {
  identity: [false, false, false],
  flipD: [true, false, false],
  flipH: [false, true, false],
  flipW: [false, false, true],
};

/** Copy of `src` (C-order, shape) reversed along the flagged axes, into `dst` (any typed array of the same length). */
export function flip3<T extends Uint8Array | Float32Array>(src: T, shape: readonly number[], axes: readonly boolean[], dst: T): T {
  const [D, H, W] = shape;
  const [fd, fh, fw] = axes;
  for (let z = 0; z < D; z++) {
    const sz = fd ? D - 1 - z : z;
    for (let y = 0; y < H; y++) {
      const sy = fh ? H - 1 - y : y;
      const s = (sz * H + sy) * W;
      const o = (z * H + y) * W;
      if (!fw) dst.set(src.subarray(s, s + W), o);
      else for (let x = 0; x < W; x++) dst[o + x] = src[s + W - 1 - x];
    }
  }
  return dst;
}

/** (index + 0.5) / heatmap_shape * original_shape per axis. */
export function heatmapToOriginal(index: readonly number[], heatmapShape: readonly number[], originalShape: readonly number[]): Point3 {
  return [0, 1, 2].map((a) => ((index[a] + 0.5) / heatmapShape[a]) * originalShape[a]) as Point3;
}

/** Index of the first maximum (C order), ignoring NaN; -1 for an empty or all-NaN map. */
export function argmax(a: ArrayLike<number>): number {
  let best = -1;
  let v = -Infinity;
  for (let i = 0; i < a.length; i++) {
    if (a[i] > v || (best < 0 && a[i] === -Infinity)) {
      v = a[i];
      best = i;
    }
  }
  return best;
}

function unravel(i: number, shape: readonly number[]): Point3 {
  const [, H, W] = shape;
  return [Math.floor(i / (H * W)), Math.floor(i / W) % H, i % W];
}

/**
 * Up to `k` peaks of the map, best first: the argmax, then local maxima (>= their 26 neighbours) in
 * descending value (ties by index), each kept when it is at least `minDistance` original voxels
 * from every kept one.
 */
export function findPeaks(map: Float32Array, shape: readonly number[], originalShape: readonly number[], k: number, minDistance: number): MotorPeak[] {
  const top = argmax(map);
  if (top < 0) return [];
  const mk = (i: number): MotorPeak => {
    const index = unravel(i, shape);
    return { score: map[i], point: heatmapToOriginal(index, shape, originalShape), index };
  };
  const peaks = [mk(top)];
  if (k <= 1) return peaks;
  const [D, H, W] = shape;
  const cands: number[] = [];
  for (let z = 0; z < D; z++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const i = (z * H + y) * W + x;
        const v = map[i];
        if (!(v === v) || i === top) continue;
        let isMax = true;
        for (let dz = -1; dz <= 1 && isMax; dz++)
          for (let dy = -1; dy <= 1 && isMax; dy++)
            for (let dx = -1; dx <= 1; dx++) {
              const zz = z + dz;
              const yy = y + dy;
              const xx = x + dx;
              if ((dz || dy || dx) && zz >= 0 && zz < D && yy >= 0 && yy < H && xx >= 0 && xx < W && map[(zz * H + yy) * W + xx] > v) {
                isMax = false;
                break;
              }
            }
        if (isMax) cands.push(i);
      }
  cands.sort((a, b) => map[b] - map[a] || a - b);
  for (const i of cands) {
    if (peaks.length >= k) break;
    const p = mk(i);
    if (peaks.every((q) => Math.hypot(p.point[0] - q.point[0], p.point[1] - q.point[1], p.point[2] - q.point[2]) >= minDistance)) peaks.push(p);
  }
  return peaks;
}

/**
 * The linear map x * scale + offset that feeds the resized uint8 tomogram as the input scaling
 * says: none (0..255 as float), x / 255, min-max over the resized tomogram ((x - min) / (max - min);
 * all zeros when it is constant), (x - mean) / std.
 */
export function motorsInputMap(p: Pick<MotorsParams, 'inputScaling' | 'inputMean' | 'inputStd'>, resized: Uint8Array): { scale: number; offset: number } {
  switch (p.inputScaling) {
    case 'div255':
      return { scale: 1 / 255, offset: 0 };
    case 'minmax': {
      let lo = 255;
      let hi = 0;
      for (let i = 0; i < resized.length; i++) {
        const v = resized[i];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      return hi > lo ? { scale: 1 / (hi - lo), offset: -lo / (hi - lo) } : { scale: 0, offset: 0 };
    }
    case 'meanstd':
      return { scale: 1 / p.inputStd, offset: -p.inputMean / p.inputStd };
    default:
      return { scale: 1, offset: 0 };
  }
}

/** Wraps a predictor so that a model whose output is not a single-channel 3D map fails at the first batch. */
function singleChannel(predictor: Predictor, model: number): Predictor {
  return async (batch, shape) => {
    const out = await predictor(batch, shape);
    const s = out.shape;
    if (s.length !== 5 || s[1] !== 1) throw singleChannelError(model, s, shape);
    return out;
  };
}

/** The checks detectMotors makes before any work (also used by the GPU-resident path). */
export function checkMotorsRequest(tomo: Tomogram, models: number, params: MotorsParams): void {
  if (models === 0) throw new InputError('no model given');
  if (params.tta.length === 0) throw new InputError('no TTA pass given (use identity)');
  for (const t of params.tta) if (!FLIP_AXES[t]) throw new InputError(`unknown TTA '${t}'`);
  const [D, H, W] = tomo.shape;
  if (tomo.data.length !== D * H * W) throw new InputError(`${tomo.id}: ${tomo.data.length} voxels do not match shape ${D} x ${H} x ${W}`);
  // a tomogram read for another input depth lacks z planes this resize reads (they are zero)
  if (tomo.planesFor !== undefined && tomo.planesFor !== params.inputSize[0]) {
    throw new InputError(`${tomo.id}: only the slices for an input depth of ${tomo.planesFor} were read; read it again for ${params.inputSize[0]}`);
  }
}

/** The sliding-window values of the motor pipeline: constant mode with the BYU weight map. */
export function motorsWindowParams(params: MotorsParams): SlidingWindowParams {
  return {
    roi: [...params.roi],
    overlap: [...params.overlap],
    mode: 'constant',
    sigmaScale: 0.125,
    swBatch: params.swBatch,
    cval: 0,
    weightMap: byuWeightMap(params.roi, params.weightMargin, params.weightFloor),
  };
}

/** The error detectMotors gives for a model whose output is not one channel. */
export function singleChannelError(model: number, outShape: number[], inShape: number[]): InputError {
  return new InputError(
    `model ${model + 1}: its output has shape [${outShape.join(', ')}] for an input of [${inShape.join(', ')}]; the motor preset needs a single-channel 3D map (N, 1, d, h, w)`,
  );
}

/** The error detectMotors gives when two models' heatmaps differ in shape. */
export function heatmapShapeError(model: number, shape: readonly number[], first: readonly number[]): InputError {
  return new InputError(`model ${model + 1} gives a ${shape.join(' x ')} heatmap but model 1 gave ${first.join(' x ')}; models must share the output resolution to be summed`);
}

/** The tomogram at the model's input size (order-1 zoom; the tomogram itself when it has that size). */
export function resizeForModel(tomo: Tomogram, params: Pick<MotorsParams, 'inputSize'>): { size: Point3; resized: Uint8Array } {
  const size = [...params.inputSize] as Point3;
  return { size, resized: size.every((s, i) => s === tomo.shape[i]) ? tomo.data : zoomLinear(tomo.data, tomo.shape, size) };
}

/**
 * Runs the pipeline on one tomogram with one or several models (each a Predictor taking
 * (n, 1, D, H, W) float32 windows scaled as `params.inputScaling` says). The result's heatmap is at
 * the models' output resolution.
 */
export async function detectMotors(tomo: Tomogram, models: readonly Predictor[], params: MotorsParams, opts: DetectOptions = {}): Promise<MotorDetection> {
  const t0 = now();
  const { signal, onProgress } = opts;
  checkMotorsRequest(tomo, models.length, params);
  const { size, resized } = resizeForModel(tomo, params);
  const resizeMs = now() - t0;
  // flips do not change the min and max: one map for every pass
  const { scale, offset } = motorsInputMap(params, resized);
  if (signal?.aborted) throw new AbortError();

  const sw = motorsWindowParams(params);
  const perRun = planWindows(size, sw).starts.length;
  const total = perRun * models.length * params.tta.length;
  const flipped = params.tta.some((t) => t !== 'identity') ? new Uint8Array(resized.length) : null;
  const tPredict = now();
  let predictMs = 0;
  let heatmap: Float32Array | null = null;
  let hShape: Point3 | null = null;
  let run = 0;

  for (let m = 0; m < models.length; m++) {
    const predictor = singleChannel(models[m], m);
    let logits: Float32Array | null = null;
    let flipBuf: Float32Array | null = null;
    for (let t = 0; t < params.tta.length; t++) {
      const axes = FLIP_AXES[params.tta[t]];
      const input = axes.some(Boolean) ? flip3(resized, size, axes, flipped!) : resized;
      const base = run * perRun;
      const r = await slidingWindowInference({ data: input, shape: [1, ...size], scale, offset }, predictor, sw, {
        signal,
        onProgress: onProgress
          ? (p) => {
              const done = base + p.done;
              const el = now() - tPredict;
              onProgress({ model: m, tta: t, done, total, elapsedMs: now() - t0, etaMs: (el / done) * (total - done) });
            }
          : undefined,
      });
      run++;
      predictMs += r.stats.predictMs;
      const shp = r.shape.slice(1) as Point3;
      if (!hShape) hShape = shp;
      else if (shp.some((v, i) => v !== hShape![i])) {
        throw heatmapShapeError(m, shp, hShape);
      }
      let out = r.data;
      if (axes.some(Boolean)) {
        flipBuf ??= new Float32Array(out.length);
        out = flip3(out, shp, axes, flipBuf);
      }
      if (!logits) logits = Float32Array.from(out);
      else for (let i = 0; i < out.length; i++) logits[i] += out[i];
    }
    heatmap ??= new Float32Array(logits!.length);
    const n = params.tta.length;
    for (let i = 0; i < logits!.length; i++) heatmap[i] += 1 / (1 + Math.exp(-(logits![i] / n)));
  }

  const hs = hShape!;
  const peaks = findPeaks(heatmap!, hs, tomo.shape, Math.max(1, Math.trunc(params.maxPeaks)), params.minPeakDistance);
  if (peaks.length === 0) throw new InputError(`${tomo.id}: the heatmap is empty or all NaN`);
  const det: MotorDetection = {
    id: tomo.id,
    heatmap: heatmap!,
    heatmapShape: hs,
    score: peaks[0].score,
    point: peaks[0].point,
    peaks,
    originalShape: [...tomo.shape] as Point3,
    inputShape: size,
    timings: { totalMs: now() - t0, predictMs, resizeMs, windows: total },
  };
  if (tomo.spacing !== undefined) det.spacing = tomo.spacing;
  return det;
}
