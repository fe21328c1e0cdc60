/**
 * Pipeline 3 preprocessing, step by step (each step is checked against numpy/PyTorch in
 * tests/eeg.test.ts): window -> NaN -> 0 -> clip to [e^-4, e^8] -> natural log -> per-image
 * standardise with the population std (float64, then float32) -> bilinear resize to 512 x 512
 * (PyTorch F.interpolate, align_corners False, no antialias) -> (1, 1, 512, 512).
 */
import { resizeBilinear } from '../cam';
import type { EegParams } from '../presets/eeg';
import type { Spectrogram } from './parquet';

export interface WindowChoice {
  /** First row used and the number of rows. */
  start: number;
  rows: number;
  /** Things the user should know (short file, window moved). */
  warnings: string[];
}

/** Which rows of the file go into the model, with warnings naming the file. */
export function chooseWindow(spec: Pick<Spectrogram, 'name' | 'rows'>, p: Pick<EegParams, 'window' | 'windowStart' | 'windowRows' | 'trainedRows'>): WindowChoice {
  const warnings: string[] = [];
  const T = spec.rows;
  const minutes = (r: number) => `${((r * 2) / 60).toFixed(r * 2 < 600 ? 1 : 0)} min`;
  if (p.window === 'whole' || T <= p.windowRows) {
    if (p.window === 'window' && T < p.windowRows) {
      warnings.push(`${spec.name}: ${T} rows is shorter than the ${p.windowRows}-row window; the whole file is used`);
    }
    if (T < p.trainedRows) {
      warnings.push(
        `${spec.name} has ${T} rows (${minutes(T)}); the model was trained on ${p.trainedRows}-row (${minutes(p.trainedRows)}) windows. ` +
          'It runs on the whole file stretched to the model input, so its predictions are less reliable.',
      );
    }
    if (p.window === 'whole' && T > p.trainedRows) {
      warnings.push(
        `${spec.name} has ${T} rows (${minutes(T)}); the model was trained on ${p.trainedRows}-row (${minutes(p.trainedRows)}) windows ` +
          'and the whole file is squeezed into the model input; choose a window to run a 10-minute stretch.',
      );
    }
    return { start: 0, rows: T, warnings };
  }
  let start = Math.max(0, Math.floor(p.windowStart));
  if (start + p.windowRows > T) {
    const s2 = T - p.windowRows;
    warnings.push(`${spec.name}: a ${p.windowRows}-row window from row ${start} runs past the end (${T} rows); using rows ${s2}..${T - 1}`);
    start = s2;
  }
  return { start, rows: p.windowRows, warnings };
}

/** Rows [start, start + rows) of the (400, T) array, NaN -> 0: a (400, rows) float32 array. */
export function spectrogramArray(spec: Pick<Spectrogram, 'data' | 'rows'>, start = 0, rows = spec.rows): Float32Array {
  const T = spec.rows;
  const bins = spec.data.length / T;
  const out = new Float32Array(bins * rows);
  for (let r = 0; r < bins; r++) {
    const src = spec.data.subarray(r * T + start, r * T + start + rows);
    const dst = r * rows;
    for (let i = 0; i < rows; i++) {
      const v = src[i];
      out[dst + i] = v === v ? v : 0;
    }
  }
  return out;
}

/**
 * clip to [lo, hi], natural log, (x - mean) / (std + eps) with the population std over the whole
 * image; float64 arithmetic (two passes, as numpy), float32 result.
 */
export function logStandardise(x: Float32Array, clip: readonly [number, number], eps: number): Float32Array {
  const n = x.length;
  const lg = new Float64Array(n);
  const [lo, hi] = clip;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    const c = v < lo ? lo : v > hi ? hi : v;
    lg[i] = Math.log(c);
    sum += lg[i];
  }
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (lg[i] - mean) ** 2;
  const inv = 1 / (Math.sqrt(ss / n) + eps);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (lg[i] - mean) * inv;
  return out;
}

/** (400, T) -> (H, W) bilinear, PyTorch align_corners False, no antialias. */
export function resizeSpectrogram(x: Float32Array, bins: number, rows: number, size: readonly [number, number]): Float32Array {
  return resizeBilinear(x, [1, bins, rows], size[0], size[1]);
}

export interface EegInput {
  /** (1, 1, H, W) model input. */
  input: Float32Array;
  shape: [1, 1, number, number];
  /** The window used. */
  window: WindowChoice;
}

/** The whole preprocessing of one file (window, NaN -> 0, clip, log, standardise, resize). */
export function preprocessSpectrogram(spec: Pick<Spectrogram, 'name' | 'data' | 'rows'>, p: EegParams): EegInput {
  const window = chooseWindow(spec, p);
  const bins = spec.data.length / spec.rows;
  const arr = spectrogramArray(spec, window.start, window.rows);
  const std = logStandardise(arr, p.clip, p.eps);
  const input = resizeSpectrogram(std, bins, window.rows, p.size);
  return { input, shape: [1, 1, p.size[0], p.size[1]], window };
}
