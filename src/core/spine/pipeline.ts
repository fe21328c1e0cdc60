/**
 * The cervical-spine pipeline on one CT series (spec section 2, RSNA 2022 first place):
 * stage 1: preprocessing (preprocess.ts) -> each segmentation model -> sigmoid -> mean over models
 * -> masks per vertebra (prob > threshold, fallback) -> labels mapped back to the original CT grid
 * (nearest) and per-vertebra rows; stage 2 (when classifiers are given): the crops (crops.ts) of
 * every vertebra -> each classifier -> C_k = clamp(mean over slices and models of sigmoid) and
 * patient_overall from a patient head (a second output) or 1 - prod(1 - C_k).
 *
 * Stage-2 models come in two kinds (spineClassifier reads which from the input's dims):
 * - crops: (n, C, S, S) -> one logit per crop (n, 1) [+ a patient logit per call]; the crops of all
 *   vertebrae in calls of `cropBatch`, or of the model's fixed batch (the last call padded with zeros);
 * - vertebrae (as the RSNA 2022 solution built it: a 2.5D CNN + LSTM over a vertebra's slices): each
 *   vertebra's crops are one item, a 5D (n, slices, C, S, S) model takes floor(cropBatch / slices)
 *   vertebrae per call (or its fixed batch), a 4D export whose batch is fixed at the crop slices
 *   takes one vertebra per call; -> per-slice logits (n, slices) [+ a per-vertebra logit (n, 1),
 *   kept as the vertebra's `fractureHead`].
 */
import type { OutputsPredictor } from '../ortPredictor';
import { AbortError, type Predictor } from '../slidingWindow';
import { InputError, type VoxelArray } from '../volume';
import type { SpineParams } from '../presets/spine';
import { VERTEBRAE } from './vertebrae';
import { preprocessSpine } from './preprocess';
import { vertebraBox, vertebraCrops, type ProbGrid, type VertebraCrops } from './crops';

export interface VertebraRow {
  name: string;
  present: boolean;
  /** Label voxels on the original CT grid. */
  voxels: number;
  volumeMl: number;
  /** In the original series' slice indices (inclusive). */
  sliceRange: [number, number] | null;
  /** Mean stage-1 probability over the vertebra's mask on the model grid. */
  meanProb: number;
  /** Stage 2: C_k. */
  fracture?: number;
  /** Stage 2: mean sigmoid of the models' per-vertebra logit (a sequence model's second output), when they have one. */
  fractureHead?: number;
  /** Voxel [d, h, w] in the CT grid (label centroid). */
  centre?: [number, number, number];
  /** The mask threshold that was used (threshold, or the fallback when nothing passed it). */
  threshold?: number;
}

export interface SpineResult {
  /** 0 = background, k = C_k, on the ORIGINAL CT grid [D, H, W]. */
  labels: Uint8Array;
  /** Optional [7, D, H, W] (not filled: the grid probabilities are in `gridProbs`). */
  probs?: Float32Array;
  /** Stage-1 mean sigmoid on the model grid [7, slices, rows, cols] (slices first, whatever the layout). */
  gridProbs?: Float32Array;
  gridShape?: [number, number, number, number];
  /** Series slice indices of the sampled grid slices. */
  sliceIndices?: number[];
  /** 7 rows, C1..C7. */
  vertebrae: VertebraRow[];
  /** When classifier models are given. */
  patientOverall?: number;
  /** How patientOverall was obtained. */
  patientSource?: 'head' | 'product';
  timings: { preprocessMs: number; segMs: number; clsMs: number };
}

export interface SpineProgress {
  stage: 'preprocess' | 'segment' | 'crops' | 'classify';
  done: number;
  total: number;
}

/** Where each stage sits in one series' run: [start, share] (progress bars and ETAs). */
export const SPINE_STAGE_WEIGHT: Readonly<Record<SpineProgress['stage'], readonly [number, number]>> = {
  preprocess: [0, 0.1],
  segment: [0.1, 0.6],
  crops: [0.7, 0.05],
  classify: [0.75, 0.25],
};

/** Fraction (0..1) of one series' run; without stage 2 the segmentation ends the run. */
export function spineProgressFraction(p: SpineProgress, stage2 = true): number {
  const [start, share] = SPINE_STAGE_WEIGHT[p.stage] ?? [0, 1];
  const f = start + share * (p.total > 0 ? Math.min(1, p.done / p.total) : 0);
  return stage2 ? f : Math.min(1, f / (SPINE_STAGE_WEIGHT.segment[0] + SPINE_STAGE_WEIGHT.segment[1]));
}

/** A Predictor (first output) or an OutputsPredictor (all outputs by name). */
export type SpinePredictor = Predictor | OutputsPredictor;

/** A stage-2 model as the pipeline feeds it (see the header). */
export interface SpineClassifier {
  call: SpinePredictor;
  /** 'crops': one crop per item; 'sequence': 5D, one vertebra's crops per item; 'vertebra': 4D with the batch fixed at the crop slices, one vertebra per call. */
  feed: 'crops' | 'sequence' | 'vertebra';
  /** Items per call the model fixes (its input's first dim), or null. */
  fixedBatch: number | null;
  /** For messages. */
  name?: string;
}

/** How a stage-2 model with this input is fed (dims as the model declares them). */
export function spineClassifier(dims: readonly (number | string)[], call: SpinePredictor, p: Pick<SpineParams, 'cropSlices'>, name?: string): SpineClassifier {
  const b = dims[0];
  const fixedBatch = typeof b === 'number' && b > 0 ? b : null;
  const feed = dims.length === 5 ? 'sequence' : fixedBatch === p.cropSlices ? 'vertebra' : 'crops';
  return { call, feed, fixedBatch, ...(name ? { name } : {}) };
}

const isClassifier = (c: SpinePredictor | SpineClassifier): c is SpineClassifier => typeof c !== 'function';

export interface SpineRunOptions {
  signal?: AbortSignal;
  onProgress?: (p: SpineProgress) => void;
  /** Keep the grid probabilities in the result (gridProbs). Default true. */
  keepGridProbs?: boolean;
}

type Out = { data: Float32Array; shape: number[] };

/** All outputs of a predictor call, in the model's output order. */
async function callAll(p: SpinePredictor, data: Float32Array, shape: number[]): Promise<Out[]> {
  const r = (await p(data, shape)) as Out | Record<string, Out>;
  if ('data' in r && ArrayBuffer.isView((r as Out).data)) return [r as Out];
  return Object.values(r as Record<string, Out>);
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

function check(signal?: AbortSignal): void {
  if (signal?.aborted) throw new AbortError();
}

/** Original slice d -> nearest sampled grid slice (by slice index). */
function nearestGridSlice(indices: readonly number[], n: number): Int32Array {
  const out = new Int32Array(n);
  for (let d = 0; d < n; d++) {
    let best = 0;
    for (let j = 1; j < indices.length; j++) if (Math.abs(indices[j] - d) < Math.abs(indices[best] - d)) best = j;
    out[d] = best;
  }
  return out;
}

/** Original pixel i of n -> grid pixel (nearest, pixel centres): floor((i + 0.5) * m / n). */
function nearestAxis(n: number, m: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.min(m - 1, Math.floor(((i + 0.5) * m) / n));
  return out;
}

/**
 * Grid label map [S, R, C]: each voxel gets the vertebra with the highest probability among those
 * whose mask (prob > its threshold) contains it; 0 elsewhere.
 */
export function gridLabels(prob: ProbGrid, thresholds: readonly (number | null)[]): Uint8Array {
  const [K, S, R, C] = prob.shape;
  const n = S * R * C;
  const out = new Uint8Array(n);
  const best = new Float32Array(n);
  for (let k = 0; k < K; k++) {
    const t = thresholds[k];
    if (t === null) continue;
    const base = k * n;
    for (let i = 0; i < n; i++) {
      const p = prob.data[base + i];
      if (p > t && p > best[i]) {
        best[i] = p;
        out[i] = k + 1;
      }
    }
  }
  return out;
}

/** Grid labels [S, R, C] -> original CT grid [D, H, W] (nearest). */
export function labelsToOriginal(grid: Uint8Array, gridShape: readonly [number, number, number], indices: readonly number[], shape: readonly [number, number, number]): Uint8Array {
  const [S, R, C] = gridShape;
  const [D, H, W] = shape;
  const zs = nearestGridSlice(indices, D);
  const ys = nearestAxis(H, R);
  const xs = nearestAxis(W, C);
  const out = new Uint8Array(D * H * W);
  for (let d = 0; d < D; d++) {
    const gz = zs[d] * R * C;
    for (let h = 0; h < H; h++) {
      const gy = gz + ys[h] * C;
      const o = (d * H + h) * W;
      for (let w = 0; w < W; w++) out[o + w] = grid[gy + xs[w]];
    }
  }
  void S;
  return out;
}

/** Per-vertebra rows from the original-grid labels and the grid probabilities. */
export function vertebraRows(labels: Uint8Array, shape: readonly [number, number, number], spacing: readonly number[], prob: ProbGrid, thresholds: readonly (number | null)[]): VertebraRow[] {
  const [D, H, W] = shape;
  const K = prob.shape[0];
  const count = new Float64Array(K + 1);
  const sd = new Float64Array(K + 1);
  const sh = new Float64Array(K + 1);
  const sw = new Float64Array(K + 1);
  const zlo = new Int32Array(K + 1).fill(D);
  const zhi = new Int32Array(K + 1).fill(-1);
  for (let d = 0; d < D; d++) {
    for (let h = 0; h < H; h++) {
      const o = (d * H + h) * W;
      for (let w = 0; w < W; w++) {
        const l = labels[o + w];
        if (l === 0) continue;
        count[l]++;
        sd[l] += d;
        sh[l] += h;
        sw[l] += w;
        if (d < zlo[l]) zlo[l] = d;
        if (d > zhi[l]) zhi[l] = d;
      }
    }
  }
  const voxelMl = ((spacing[0] ?? 1) * (spacing[1] ?? 1) * (spacing[2] ?? 1)) / 1000;
  const n = prob.shape[1] * prob.shape[2] * prob.shape[3];
  return Array.from({ length: K }, (_, k) => {
    const l = k + 1;
    const t = thresholds[k];
    let sum = 0;
    let m = 0;
    if (t !== null) {
      for (let i = 0; i < n; i++) {
        const p = prob.data[k * n + i];
        if (p > t) {
          sum += p;
          m++;
        }
      }
    }
    const present = count[l] > 0;
    const row: VertebraRow = {
      name: VERTEBRAE[k] ?? `class ${l}`,
      present,
      voxels: count[l],
      volumeMl: count[l] * voxelMl,
      sliceRange: present ? [zlo[l], zhi[l]] : null,
      meanProb: m ? sum / m : 0,
      threshold: t ?? undefined,
    };
    if (present) row.centre = [sd[l] / count[l], sh[l] / count[l], sw[l] / count[l]];
    return row;
  });
}

/** Model output [1, K, ...] in the tensor layout -> sigmoid added into the grid [K, S, R, C] (slices first). */
function addSigmoid(out: Out, acc: Float32Array, K: number, S: number, R: number, C: number, layout: SpineParams['layout']): void {
  const n = S * R * C;
  const want = layout === 'slices-first' ? [1, K, S, R, C] : [1, K, R, C, S];
  if (out.data.length !== K * n || (out.shape.length === 5 && out.shape.some((v, i) => v !== want[i]))) {
    throw new InputError(`the segmentation model returned shape [${out.shape.join(', ')}]; expected [${want.join(', ')}] (7 vertebrae C1..C7 on the input grid)`);
  }
  const d = out.data;
  if (layout === 'slices-first') {
    for (let i = 0; i < K * n; i++) acc[i] += sigmoid(d[i]);
    return;
  }
  for (let k = 0; k < K; k++) {
    const b = k * n;
    for (let y = 0; y < R; y++) {
      for (let x = 0; x < C; x++) {
        const src = b + (y * C + x) * S;
        for (let z = 0; z < S; z++) acc[b + (z * R + y) * C + x] += sigmoid(d[src + z]);
      }
    }
  }
}

/**
 * New masks from a result's grid probabilities with other thresholds (no model run): labels on the
 * CT grid and the per-vertebra rows (stage-2 values, which depend on the masks, are dropped).
 */
export function relabelSpine(
  result: Pick<SpineResult, 'gridProbs' | 'gridShape' | 'sliceIndices'>,
  shape: readonly [number, number, number],
  spacing: readonly number[],
  threshold: number,
  fallbackThreshold: number,
): { labels: Uint8Array; vertebrae: VertebraRow[] } {
  if (!result.gridProbs || !result.gridShape || !result.sliceIndices) throw new Error('this result keeps no grid probabilities: run it again');
  const prob: ProbGrid = { data: result.gridProbs, shape: result.gridShape };
  const K = prob.shape[0];
  const thresholds = Array.from({ length: K }, (_, k) => vertebraBox(prob, k, threshold, fallbackThreshold)?.threshold ?? null);
  const [, S, R, C] = prob.shape;
  const labels = labelsToOriginal(gridLabels(prob, thresholds), [S, R, C], result.sliceIndices, shape);
  return { labels, vertebrae: vertebraRows(labels, shape, spacing, prob, thresholds) };
}

export async function runSpinePipeline(
  stored: VoxelArray,
  shape: [number, number, number],
  spacing: number[],
  seg: readonly SpinePredictor[],
  /** Stage-2 models: a bare predictor is fed crops in calls of `cropBatch`. */
  cls: readonly (SpinePredictor | SpineClassifier)[],
  params: SpineParams,
  opts: SpineRunOptions = {},
): Promise<SpineResult> {
  const { signal, onProgress } = opts;
  const [D, H, W] = shape;
  if (stored.length !== D * H * W) throw new InputError(`the series has ${stored.length} values but shape [${shape.join(', ')}] needs ${D * H * W}`);
  if (D < 2) throw new InputError(`the series has ${D} slice(s); at least 2 are needed`);
  if (seg.length === 0) throw new InputError('add at least one segmentation model');
  const K = VERTEBRAE.length;
  const S = params.sliceCount;
  const R = params.size;
  const C = params.size;
  const t0 = now();
  onProgress?.({ stage: 'preprocess', done: 0, total: 1 });
  const pre = preprocessSpine(stored, shape, params);
  onProgress?.({ stage: 'preprocess', done: 1, total: 1 });
  const preprocessMs = now() - t0;
  check(signal);

  const t1 = now();
  const acc = new Float32Array(K * S * R * C);
  for (let m = 0; m < seg.length; m++) {
    onProgress?.({ stage: 'segment', done: m, total: seg.length });
    await tick();
    check(signal);
    const outs = await callAll(seg[m], pre.input.data, pre.input.shape);
    check(signal);
    addSigmoid(outs[0], acc, K, S, R, C, params.layout);
  }
  if (seg.length > 1) for (let i = 0; i < acc.length; i++) acc[i] /= seg.length;
  onProgress?.({ stage: 'segment', done: seg.length, total: seg.length });
  const prob: ProbGrid = { data: acc, shape: [K, S, R, C] };
  const thresholds = Array.from({ length: K }, (_, k) => vertebraBox(prob, k, params.threshold, params.fallbackThreshold)?.threshold ?? null);
  const grid = gridLabels(prob, thresholds);
  const labels = labelsToOriginal(grid, [S, R, C], pre.indices, shape);
  const vertebrae = vertebraRows(labels, shape, spacing, prob, thresholds);
  const segMs = now() - t1;
  check(signal);

  const result: SpineResult = {
    labels,
    vertebrae,
    sliceIndices: pre.indices,
    gridShape: [K, S, R, C],
    timings: { preprocessMs, segMs, clsMs: 0 },
  };
  if (opts.keepGridProbs !== false) result.gridProbs = acc;
  if (cls.length === 0) return result;

  // stage 2
  const t2 = now();
  const crops: (VertebraCrops | null)[] = [];
  for (let k = 0; k < K; k++) {
    onProgress?.({ stage: 'crops', done: k, total: K });
    await tick();
    check(signal);
    crops.push(vertebraCrops(stored, shape, prob, k, params));
  }
  onProgress?.({ stage: 'crops', done: K, total: K });
  const present = crops.map((c, k) => (c ? k : -1)).filter((k) => k >= 0);
  const per = params.cropSlices;
  const chans = params.cropChannels + 1;
  const size = params.cropSize;
  const item = chans * size * size;
  const total = present.length * per;
  const models = cls.map((c) => (isClassifier(c) ? c : { call: c, feed: 'crops' as const, fixedBatch: null }));
  const fr = new Float64Array(K);
  const head = new Float64Array(K);
  let headModels = 0;
  let patientSum = 0;
  let patientN = 0;
  /** Per call: crops (first crop index, count) or vertebrae (first index into `present`, count), and the items fed (padded). */
  const plans = models.map((m) => {
    const calls: { at: number; n: number; fed: number }[] = [];
    if (m.feed === 'crops') {
      const batch = m.fixedBatch ?? Math.max(1, params.cropBatch);
      for (let b0 = 0; b0 < total; b0 += batch) calls.push({ at: b0, n: Math.min(batch, total - b0), fed: m.fixedBatch ?? Math.min(batch, total - b0) });
    } else {
      const batch = m.feed === 'vertebra' ? 1 : (m.fixedBatch ?? Math.max(1, Math.floor(params.cropBatch / per)));
      for (let v0 = 0; v0 < present.length; v0 += batch) {
        const n = Math.min(batch, present.length - v0);
        calls.push({ at: v0, n, fed: m.feed === 'vertebra' ? 1 : (m.fixedBatch ?? n) });
      }
    }
    return calls;
  });
  const batches = plans.reduce((a, c) => a + c.length, 0);
  const what = (m: (typeof models)[number], i: number) => `the fracture model${m.name ? ` ${m.name}` : models.length > 1 ? ` ${i + 1}` : ''}`;
  let done = 0;
  for (const [mi, model] of models.entries()) {
    let hasHead = false;
    for (const call of plans[mi]) {
      onProgress?.({ stage: 'classify', done, total: batches });
      await tick();
      check(signal);
      if (model.feed === 'crops') {
        // crops `at` .. `at + n` of all vertebrae (each vertebra's `per` crops in a row), zeros after them up to `fed`
        const x = new Float32Array(call.fed * item);
        for (let i = 0; i < call.n; i++) {
          const g = call.at + i;
          const c = crops[present[Math.floor(g / per)]] as VertebraCrops;
          const src = c.data.subarray((g % per) * item, (g % per + 1) * item);
          const o = i * item;
          for (let j = 0; j < item; j++) x[o + j] = src[j] / 255;
        }
        const outs = await callAll(model.call, x, [call.fed, chans, size, size]);
        check(signal);
        const logits = outs[0];
        if (logits.data.length !== call.fed) {
          throw new InputError(`${what(model, mi)} returned shape [${logits.shape.join(', ')}] for ${call.fed} crops; expected [${call.fed}, 1] (one logit per slice)`);
        }
        for (let i = 0; i < call.n; i++) fr[present[Math.floor((call.at + i) / per)]] += sigmoid(logits.data[i]);
        if (outs.length > 1 && outs[1].data.length > 0) {
          for (const v of outs[1].data) patientSum += sigmoid(v);
          patientN += outs[1].data.length;
        }
      } else {
        // vertebrae `at` .. `at + n`, each its `per` crops in order; zeros after them up to `fed`
        const x = new Float32Array(call.fed * per * item);
        for (let i = 0; i < call.n; i++) {
          const src = (crops[present[call.at + i]] as VertebraCrops).data;
          const o = i * per * item;
          for (let j = 0; j < per * item; j++) x[o + j] = src[j] / 255;
        }
        const shape = model.feed === 'sequence' ? [call.fed, per, chans, size, size] : [per, chans, size, size];
        const outs = await callAll(model.call, x, shape);
        check(signal);
        const slices = outs[0];
        if (slices.data.length !== call.fed * per) {
          throw new InputError(
            `${what(model, mi)} returned shape [${slices.shape.join(', ')}] for ${call.fed} vertebra${call.fed === 1 ? '' : 'e'} of ${per} crops; expected [${call.fed}, ${per}] (one logit per slice)`,
          );
        }
        for (let i = 0; i < call.n; i++) {
          const k = present[call.at + i];
          for (let j = 0; j < per; j++) fr[k] += sigmoid(slices.data[i * per + j]);
        }
        const v = outs[1];
        if (v && v.data.length === call.fed) {
          hasHead = true;
          for (let i = 0; i < call.n; i++) head[present[call.at + i]] += sigmoid(v.data[i]);
        }
      }
      done++;
    }
    if (hasHead) headModels++;
  }
  onProgress?.({ stage: 'classify', done: batches, total: batches });
  const clamp = (v: number) => Math.min(params.clampHigh, Math.max(params.clampLow, v));
  for (const k of present) {
    vertebrae[k].fracture = clamp(fr[k] / (per * cls.length));
    if (headModels > 0) vertebrae[k].fractureHead = head[k] / headModels;
  }
  if (params.patient === 'head' && patientN > 0) {
    result.patientOverall = clamp(patientSum / patientN);
    result.patientSource = 'head';
  } else {
    let prod = 1;
    for (const k of present) prod *= 1 - (vertebrae[k].fracture as number);
    result.patientOverall = clamp(1 - prod);
    result.patientSource = 'product';
  }
  result.timings.clsMs = now() - t2;
  return result;
}
