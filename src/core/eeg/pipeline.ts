/**
 * One spectrogram file through the EEG preset: preprocess (preprocess.ts) -> every model (fold) on
 * the (1, 1, 512, 512) input -> softmax of the logits -> mean over models. Explanation maps: the
 * models' class_maps output (relu, per-class max normalisation, mean over models) or, when no model
 * has one, an occlusion map (src/core/occlusion.ts) of the fold-mean probabilities.
 * The same code runs in the worker (onnxruntime-web) and in Node (CLI, tests).
 */
import { normaliseClassMaps, resizeBilinear } from '../cam';
import { occlusionMap, type OcclusionProgress } from '../occlusion';
import type { OutputsPredictor } from '../ortPredictor';
import { AbortError, type Predictor } from '../slidingWindow';
import { InputError } from '../volume';
import type { EegParams } from '../presets/eeg';
import type { Spectrogram } from './parquet';
import { preprocessSpectrogram, type WindowChoice } from './preprocess';

export interface EegModel {
  name: string;
  outputs: OutputsPredictor;
}

export interface EegFold {
  model: string;
  logits: number[];
  probabilities: number[];
  /** Whether this model gave class maps. */
  classMaps: boolean;
}

export interface EegCam {
  /** [K, h, w] in [0, 1]: normalised class maps (mean over models) or normalised occlusion maps. */
  data: Float32Array;
  shape: [number, number, number];
  source: 'class_maps' | 'occlusion';
}

export interface EegPrediction {
  name: string;
  eegId: string;
  /** Rows of the file, and the window that went into the model. */
  rows: number;
  window: WindowChoice;
  /** Mean over models of the softmax probabilities. */
  probabilities: number[];
  folds: EegFold[];
  cam: EegCam | null;
  warnings: string[];
  ms: number;
}

export interface EegProgress {
  stage: 'models' | 'occlusion';
  done: number;
  total: number;
  elapsedMs: number;
  etaMs: number;
}

export interface EegOptions {
  signal?: AbortSignal;
  onProgress?: (p: EegProgress) => void;
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export function softmax(z: ArrayLike<number>): number[] {
  let m = -Infinity;
  for (let i = 0; i < z.length; i++) m = Math.max(m, z[i]);
  const e = Array.from(z, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

type Outputs = Record<string, { data: Float32Array; shape: number[] }>;

/** The logits output: named 'logits', else the first 2D output (N, K). */
export function findLogits(out: Outputs): { name: string; data: Float32Array; shape: number[] } | null {
  if (out.logits) return { name: 'logits', ...out.logits };
  for (const [name, o] of Object.entries(out)) if (o.shape.length === 2) return { name, ...o };
  return null;
}

/** The class-map output: named 'class_maps', else the first 4D output (N, K, h, w). */
export function findClassMaps(out: Outputs): { name: string; data: Float32Array; shape: number[] } | null {
  if (out.class_maps && out.class_maps.shape.length === 4) return { name: 'class_maps', ...out.class_maps };
  for (const [name, o] of Object.entries(out)) if (o.shape.length === 4) return { name, ...o };
  return null;
}

/** Checks a model's logits against the preset's classes (clear message naming the model). */
export function checkClassCount(model: string, logits: { name: string; shape: number[] }, classes: readonly string[]): void {
  const k = logits.shape[logits.shape.length - 1];
  if (k !== classes.length) {
    throw new InputError(
      `${model}: the model gives ${k} class${k === 1 ? '' : 'es'} (output '${logits.name}' [${logits.shape.join(', ')}]); the EEG preset needs ${classes.length}: ${classes.join(', ')}`,
    );
  }
}

export async function classifySpectrogram(spec: Spectrogram, models: readonly EegModel[], params: EegParams, opts: EegOptions = {}): Promise<EegPrediction> {
  if (models.length === 0) throw new Error('add at least one model');
  const t0 = now();
  const check = () => {
    if (opts.signal?.aborted) throw new AbortError();
  };
  const { input, shape, window } = preprocessSpectrogram(spec, params);
  const warnings = [...window.warnings];
  const K = params.classes.length;
  const folds: EegFold[] = [];
  const maps: { data: Float32Array; h: number; w: number }[] = [];
  for (const [i, m] of models.entries()) {
    check();
    const out = await m.outputs(input, [...shape]);
    check();
    const lg = findLogits(out);
    if (!lg) throw new InputError(`${m.name}: the model has no (N, K) logits output (outputs: ${Object.entries(out).map(([k, o]) => `${k} [${o.shape.join(', ')}]`).join(', ')})`);
    checkClassCount(m.name, lg, params.classes);
    const logits = Array.from(lg.data.subarray(0, K));
    const cm = findClassMaps(out);
    let hasMaps = false;
    if (cm) {
      if (cm.shape[1] !== K) warnings.push(`${m.name}: output '${cm.name}' has ${cm.shape[1]} maps for ${K} classes; not used as CAM`);
      else {
        const [, , h, w] = cm.shape;
        maps.push({ data: normaliseClassMaps(cm.data.subarray(0, K * h * w), [K, h, w], params.camEps), h, w });
        hasMaps = true;
      }
    }
    folds.push({ model: m.name, logits, probabilities: softmax(logits), classMaps: hasMaps });
    opts.onProgress?.({ stage: 'models', done: i + 1, total: models.length, elapsedMs: now() - t0, etaMs: 0 });
  }
  const probabilities = Array.from({ length: K }, (_, j) => folds.reduce((s, f) => s + f.probabilities[j], 0) / folds.length);

  let cam: EegCam | null = null;
  if (maps.length) {
    const { h, w } = maps[0];
    const acc = new Float32Array(K * h * w);
    for (const m of maps) {
      const d = m.h === h && m.w === w ? m.data : resizeBilinear(m.data, [K, m.h, m.w], h, w);
      for (let i = 0; i < acc.length; i++) acc[i] += d[i] / maps.length;
    }
    cam = { data: acc, shape: [K, h, w], source: 'class_maps' };
  } else if (params.occlusion) {
    // occlusion of the fold-mean probabilities
    // models exported with a fixed batch of 1 fail on a batch of masked inputs: those then get one input per call
    const single = new Set<number>();
    const logitsOf = async (mi: number, batch: Float32Array, bshape: number[]): Promise<Float32Array> => {
      const n = bshape[0];
      const m = models[mi];
      if (n > 1 && !single.has(mi)) {
        try {
          return findLogits(await m.outputs(batch, bshape))!.data;
        } catch (e) {
          if ((e as Error).name === 'AbortError' || opts.signal?.aborted) throw e;
          single.add(mi);
          warnings.push(`${m.name}: does not take a batch of ${n} inputs (${(e as Error).message.split('\n')[0]}); occlusion runs it one input at a time`);
        }
      }
      const per = batch.length / n;
      const out = new Float32Array(n * K);
      for (let i = 0; i < n; i++) {
        check();
        out.set(findLogits(await m.outputs(batch.subarray(i * per, (i + 1) * per), [1, ...bshape.slice(1)]))!.data.subarray(0, K), i * K);
      }
      return out;
    };
    const predict: Predictor = async (batch, bshape) => {
      const n = bshape[0];
      const mean = new Float32Array(n * K);
      for (let mi = 0; mi < models.length; mi++) {
        const lg = await logitsOf(mi, batch, bshape);
        for (let i = 0; i < n; i++) {
          const p = softmax(lg.subarray(i * K, (i + 1) * K));
          for (let j = 0; j < K; j++) mean[i * K + j] += p[j] / models.length;
        }
      }
      return { data: mean, shape: [n, K] };
    };
    const occ = await occlusionMap({ data: input, shape: [1, shape[2], shape[3]] }, predict, { ...params.occlusionParams, activation: 'none' }, {
      signal: opts.signal,
      onProgress: (p: OcclusionProgress) => opts.onProgress?.({ stage: 'occlusion', ...p }),
    });
    const side = 64;
    const small = resizeBilinear(occ.maps, occ.shape, side, side);
    cam = { data: normaliseClassMaps(small, [K, side, side], params.camEps), shape: [K, side, side], source: 'occlusion' };
  }
  return {
    name: spec.name,
    eegId: spec.eegId,
    rows: spec.rows,
    window,
    probabilities,
    folds,
    cam,
    warnings,
    ms: now() - t0,
  };
}

/** A class map [h, w] of `cls` resized to the spectrogram window (400 x rows) for display. */
export function camOnSpectrogram(cam: EegCam, cls: number, bins: number, rows: number): Float32Array {
  const [, h, w] = cam.shape;
  return resizeBilinear(cam.data.subarray(cls * h * w, (cls + 1) * h * w), [1, h, w], bins, rows);
}
