/**
 * The 3D demo models (tools/models/motors.py, tools/models/spine.py) run through the project's own
 * TypeScript core (onnxruntime-node session -> sessionPredictor -> slidingWindowInference) give the
 * PyTorch outputs saved by the training scripts, and reach the held-out metrics computed in Python
 * on exactly the same fixture sets.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { readNpy, type NpyArray } from '../src/core/io/npy';
import { sessionPredictor } from '../src/core/ortPredictor';
import { slidingWindowInference, type SlidingWindowParams } from '../src/core/slidingWindow';

const ROOT = resolve(__dirname, '..');
const MODELS = resolve(ROOT, 'public/models');
const REF = resolve(ROOT, 'tests/fixtures/reference');

const npy = (path: string): NpyArray => {
  const bytes = readFileSync(path);
  return readNpy(path.endsWith('.gz') ? gunzipSync(bytes) : bytes, path);
};
const json = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

async function open(name: string) {
  const session = await ort.InferenceSession.create(resolve(MODELS, `${name}.onnx`), { intraOpNumThreads: 2 });
  const predictor = sessionPredictor(session, (d, dims) => new ort.Tensor('float32', d, dims), session.inputNames[0], session.outputNames[0]);
  return { session, predictor };
}

/** One window covering the whole input: the model sees exactly what PyTorch saw. */
const wholeInput = (spatial: number[]): SlidingWindowParams => ({ roi: spatial, overlap: 0, mode: 'constant', sigmaScale: 0.125, swBatch: 1, cval: 0 });

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

// ---------------------------------------------------------------------------------------------
// metric helpers (the same definitions as tools/models/common.py)

/** numpy / pandas default quantile (linear interpolation). */
function quantileLinear(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/** BYU 2025: a prediction on a tomogram with a motor farther than minRadius / spacing voxels becomes a
 * negative prediction; then sklearn's fbeta_score on the 0/1 labels. */
function fbetaByu(
  truth: { point: number[]; has: boolean }[],
  pred: { point: number[]; has: boolean }[],
  spacing: number,
  beta = 2,
  minRadius = 1000,
) {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  const thr = minRadius / spacing;
  truth.forEach((t, i) => {
    const p = pred[i];
    const d = Math.hypot(t.point[0] - p.point[0], t.point[1] - p.point[1], t.point[2] - p.point[2]);
    const positive = p.has && !(t.has && d > thr);
    if (positive && t.has) tp++;
    else if (positive) fp++;
    else if (t.has) fn++;
  });
  const precision = tp + fp > 0 ? tp / (tp + fp) : 0;
  const recall = tp + fn > 0 ? tp / (tp + fn) : 0;
  const b2 = beta * beta;
  const f = b2 * precision + recall > 0 ? ((1 + b2) * precision * recall) / (b2 * precision + recall) : 0;
  return { f, precision, recall, tp, fp, fn };
}

function dice(a: ArrayLike<boolean | number>, b: ArrayLike<boolean | number>): number {
  let inter = 0;
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ? 1 : 0;
    const y = b[i] ? 1 : 0;
    inter += x & y;
    sa += x;
    sb += y;
  }
  return sa + sb === 0 ? 1 : (2 * inter) / (sa + sb);
}

/** Mann-Whitney AUC with average ranks for ties (sklearn's roc_auc_score). */
function rocAuc(labels: number[], scores: number[]): number {
  const idx = scores.map((s, i) => [s, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(scores.length);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && idx[j + 1][0] === idx[i][0]) j++;
    for (let k = i; k <= j; k++) ranks[idx[k][1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  const nPos = labels.filter((l) => l > 0.5).length;
  const nNeg = labels.length - nPos;
  const rPos = labels.reduce((acc, l, i) => acc + (l > 0.5 ? ranks[i] : 0), 0);
  return (rPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

function logLoss(labels: number[], probs: number[], eps = 1e-15): number {
  let s = 0;
  labels.forEach((y, i) => {
    const p = Math.min(Math.max(probs[i], eps), 1 - eps);
    s += y * Math.log(p) + (1 - y) * Math.log(1 - p);
  });
  return -s / labels.length;
}

// ---------------------------------------------------------------------------------------------

describe('model cards', () => {
  for (const name of ['motor_heatmap', 'spine_seg', 'spine_fracture']) {
    it(`${name}: card matches the ONNX file`, async () => {
      const card = json(resolve(MODELS, `${name}.json`));
      expect(card.name).toBe(name);
      expect(existsSync(resolve(MODELS, card.file))).toBe(true);
      const { session } = await open(name);
      expect(session.inputNames).toEqual(card.inputs.map((i: { name: string }) => i.name));
      expect(session.outputNames).toEqual(card.outputs.map((o: { name: string }) => o.name));
      expect(card.metrics.heldout.n).toBeGreaterThan(0);
      expect(card.training.script).toMatch(/^tools\/models\/.*\.py$/);
      expect(readFileSync(resolve(MODELS, card.file)).length).toBeLessThan(10e6);
    });
  }
});

describe('motor_heatmap', () => {
  const dir = resolve(REF, 'motors');

  it('matches PyTorch through slidingWindowInference within 1e-4', async () => {
    const { predictor } = await open('motor_heatmap');
    const x = npy(resolve(dir, 'input.npy'));
    const y = npy(resolve(dir, 'output.npy'));
    const shape = x.shape.slice(1); // drop N
    const r = await slidingWindowInference({ data: x.data, shape }, predictor, wholeInput(shape.slice(1)));
    expect(r.shape).toEqual(y.shape.slice(1));
    expect(r.stats.zoom).toEqual([0.25, 0.25, 0.25]);
    expect(maxAbsDiff(r.data, y.data)).toBeLessThan(1e-4);
  });

  it('reaches the Python F-beta 2 on the held-out windows', async () => {
    const { predictor } = await open('motor_heatmap');
    const vols = npy(resolve(dir, 'heldout_inputs.npy'));
    const labels = json(resolve(dir, 'heldout_labels.json'));
    const expected = json(resolve(dir, 'heldout_metric.json'));
    const [n, D, H, W] = vols.shape;
    const size = D * H * W;
    const coords: number[][] = [];
    const scores: number[] = [];
    for (let i = 0; i < n; i++) {
      const data = (vols.data as Uint8Array).subarray(i * size, (i + 1) * size);
      const r = await slidingWindowInference({ data, shape: [1, D, H, W], scale: labels.scale }, predictor, wholeInput([D, H, W]));
      const [, d, h, w] = r.shape;
      let best = 0;
      for (let j = 1; j < r.data.length; j++) if (r.data[j] > r.data[best]) best = j;
      const idx = [Math.floor(best / (h * w)), Math.floor(best / w) % h, best % w];
      coords.push(idx.map((v, k) => ((v + 0.5) / [d, h, w][k]) * [D, H, W][k]));
      scores.push(sigmoid(r.data[best]));
    }
    expect(maxAbsDiff(scores, expected.scores)).toBeLessThan(1e-4);
    expect(maxAbsDiff(coords.flat(), expected.coords.flat())).toBe(0);
    const cut = quantileLinear(scores, labels.quantile);
    const pred = coords.map((c, i) => ({ point: scores[i] > cut ? c : [-1, -1, -1], has: scores[i] > cut }));
    const truth = labels.cases.map((c: { motor: number[]; hasMotor: boolean }) => ({ point: c.motor, has: c.hasMotor }));
    const m = fbetaByu(truth, pred, labels.voxelSpacing);
    expect([m.tp, m.fp, m.fn]).toEqual([expected.tp, expected.fp, expected.fn]);
    expect(Math.abs(m.f - expected.value)).toBeLessThan(1e-3);
  });
});

describe('spine_seg', () => {
  const dir = resolve(REF, 'spine_seg');

  it('matches PyTorch through slidingWindowInference within 1e-4', async () => {
    const { predictor } = await open('spine_seg');
    const x = npy(resolve(dir, 'input.npy'));
    const y = npy(resolve(dir, 'output.npy'));
    const shape = x.shape.slice(1);
    const r = await slidingWindowInference({ data: x.data, shape }, predictor, wholeInput(shape.slice(1)));
    expect(r.shape).toEqual(y.shape.slice(1));
    expect(maxAbsDiff(r.data, y.data)).toBeLessThan(1e-4);
  });

  it('reaches the Python Dice per vertebra on the held-out cases', async () => {
    const { predictor } = await open('spine_seg');
    const vols = npy(resolve(dir, 'heldout_inputs.npy.gz'));
    const labs = npy(resolve(dir, 'heldout_labels.npy.gz'));
    const expected = json(resolve(dir, 'heldout_metric.json'));
    const [n, D, H, W] = vols.shape;
    const size = D * H * W;
    const perCase: number[][] = [];
    for (let i = 0; i < n; i++) {
      const one = (vols.data as Uint8Array).subarray(i * size, (i + 1) * size);
      const three = new Uint8Array(3 * size);
      for (let c = 0; c < 3; c++) three.set(one, c * size); // the pipeline's 3-channel repeat
      const r = await slidingWindowInference({ data: three, shape: [3, D, H, W], scale: 1 / 255 }, predictor, wholeInput([D, H, W]));
      expect(r.shape).toEqual([7, D, H, W]);
      const lab = (labs.data as Uint8Array).subarray(i * size, (i + 1) * size);
      const row: number[] = [];
      for (let k = 0; k < 7; k++) {
        const p = r.data.subarray(k * size, (k + 1) * size);
        const pm = new Uint8Array(size);
        const gm = new Uint8Array(size);
        for (let j = 0; j < size; j++) {
          pm[j] = p[j] > 0 ? 1 : 0; // sigmoid > 0.5
          gm[j] = lab[j] === k + 1 ? 1 : 0;
        }
        row.push(dice(pm, gm));
      }
      perCase.push(row);
    }
    expect(maxAbsDiff(perCase.flat(), expected.perCase.flat())).toBeLessThan(1e-3);
    const mean = perCase.flat().reduce((a, b) => a + b, 0) / perCase.flat().length;
    expect(Math.abs(mean - expected.value)).toBeLessThan(1e-3);
  }, 300_000);
});

describe('spine_fracture', () => {
  const dir = resolve(REF, 'spine_fracture');

  it('matches PyTorch within 1e-4', async () => {
    const { predictor } = await open('spine_fracture');
    const x = npy(resolve(dir, 'input.npy'));
    const y = npy(resolve(dir, 'output.npy'));
    const r = await predictor(x.data as Float32Array, x.shape);
    expect(r.shape).toEqual(y.shape);
    expect(maxAbsDiff(r.data, y.data)).toBeLessThan(1e-4);
  });

  it('reaches the Python AUC and log loss on the held-out crops', async () => {
    const { predictor } = await open('spine_fracture');
    const crops = npy(resolve(dir, 'heldout_inputs.npy.gz'));
    const labels = json(resolve(dir, 'heldout_labels.json'));
    const expected = json(resolve(dir, 'heldout_metric.json'));
    const x = Float32Array.from(crops.data as Uint8Array, (v) => v * labels.scale);
    const r = await predictor(x, crops.shape);
    expect(r.shape).toEqual([crops.shape[0], 1]);
    const probs = Array.from(r.data, sigmoid);
    expect(maxAbsDiff(probs, expected.probabilities)).toBeLessThan(1e-4);
    expect(Math.abs(rocAuc(labels.labels, probs) - expected.value)).toBeLessThan(1e-3);
    expect(Math.abs(logLoss(labels.labels, probs) - expected.logLoss)).toBeLessThan(1e-3);
  });
});
