/**
 * The 2D demo models (EEG spectrogram, protein localisation), run with onnxruntime-node against the references that
 * their training scripts (tools/models/eeg.py, tools/models/protein.py) saved from PyTorch: same logits and class maps
 * within 1e-4, and the same held-out metric (recomputed here) within 1e-3. Also checks the model cards and the samples.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { type NpyArray, readNpy } from '../src/core/io/npy';

const ROOT = resolve(__dirname, '..');
const REF = resolve(ROOT, 'tests/fixtures/reference');
const MODELS = resolve(ROOT, 'public/models');
const SAMPLES = resolve(ROOT, 'public/samples');

const npy = (model: string, f: string): NpyArray => readNpy(readFileSync(resolve(REF, model, f)), f);
const json = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function session(name: string): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(readFileSync(resolve(MODELS, `${name}.onnx`)));
}

async function run(s: ort.InferenceSession, x: NpyArray): Promise<{ logits: ort.Tensor; maps: ort.Tensor }> {
  const out = await s.run({ input: new ort.Tensor('float32', Float32Array.from(x.data), x.shape) });
  return { logits: out.logits, maps: out.class_maps };
}

/** rows of an (n, c) array, in float64 */
function rows(data: ArrayLike<number>, n: number, c: number): number[][] {
  return Array.from({ length: n }, (_, i) => Array.from({ length: c }, (_, j) => Number(data[i * c + j])));
}

function softmax(z: number[]): number[] {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

const argmax = (v: number[]) => v.reduce((best, x, i) => (x > v[best] ? i : best), 0);

/** mean over samples of KL(votes / sum || p), p clipped at 1e-15, 0 log 0 = 0 (as tools/models/eeg.py) */
function klDivergence(votes: number[][], probs: number[][]): number {
  let total = 0;
  votes.forEach((v, i) => {
    const n = v.reduce((a, b) => a + b, 0);
    v.forEach((c, k) => {
      const t = c / n;
      if (t > 0) total += t * (Math.log(t) - Math.log(Math.max(probs[i][k], 1e-15)));
    });
  });
  return total / votes.length;
}

/** sklearn's average_precision_score: sum over distinct thresholds of (R_n - R_n-1) P_n */
function averagePrecision(y: number[], s: number[]): number {
  const idx = s.map((_, i) => i).sort((a, b) => s[b] - s[a]);
  const npos = y.reduce((a, b) => a + b, 0);
  let tp = 0;
  let ap = 0;
  let recPrev = 0;
  idx.forEach((j, r) => {
    tp += y[j];
    if (r === idx.length - 1 || s[idx[r + 1]] !== s[j]) {
      const rec = tp / npos;
      ap += (rec - recPrev) * (tp / (r + 1));
      recPrev = rec;
    }
  });
  return ap;
}

/** ROC AUC with average ranks for ties */
function rocAuc(y: number[], s: number[]): number {
  const idx = s.map((_, i) => i).sort((a, b) => s[a] - s[b]);
  const rank = new Array<number>(s.length);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && s[idx[j + 1]] === s[idx[i]]) j++;
    for (let k = i; k <= j; k++) rank[idx[k]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  const npos = y.reduce((a, b) => a + b, 0);
  const nneg = y.length - npos;
  const rsum = y.reduce((a, v, i) => a + (v ? rank[i] : 0), 0);
  return (rsum - (npos * (npos + 1)) / 2) / (npos * nneg);
}

function checkCard(name: string, preset: string, nClasses: number, mapShape: number[]) {
  const card = json(resolve(MODELS, `${name}.json`));
  expect(card.name).toBe(name);
  expect(card.file).toBe(`${name}.onnx`);
  expect(card.preset).toBe(preset);
  expect(card.classes).toHaveLength(nClasses);
  expect(card.inputs.map((i: { name: string }) => i.name)).toEqual(['input']);
  expect(card.outputs.map((o: { name: string }) => o.name)).toEqual(['logits', 'class_maps']);
  expect(card.outputs[1].shape.slice(1)).toEqual([nClasses, ...mapShape]);
  expect(card.training.seed).toBe(0);
  expect(card.training.script).toMatch(/^tools\/models\/.*\.py$/);
  expect(card.metrics.heldout.n).toBeGreaterThanOrEqual(100);
  expect(typeof card.limitations).toBe('string');
  expect(statSync(resolve(MODELS, card.file)).size).toBeLessThan(10 * 1024 * 1024);
  return card;
}

/** width, height, bit depth and colour type from a PNG's IHDR chunk */
function pngHeader(path: string) {
  const b = readFileSync(path);
  expect(b.subarray(1, 4).toString('latin1')).toBe('PNG');
  expect(b.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20), bitDepth: b[24], colourType: b[25] };
}

describe('eeg_spectrogram model', () => {
  const name = 'eeg_spectrogram';

  it('has a model card that fits the model', async () => {
    const card = checkCard(name, 'eeg', 6, [16, 16]);
    expect(card.classes).toEqual(['seizure', 'lpd', 'gpd', 'lrda', 'grda', 'other']);
    const s = await session(name);
    expect(s.inputNames).toEqual(['input']);
    expect(s.outputNames).toEqual(['logits', 'class_maps']);
  });

  it('gives the PyTorch logits and class maps on the reference sample within 1e-4', async () => {
    const x = npy(name, 'input.npy');
    expect(x.shape).toEqual([1, 1, 512, 512]);
    const { logits, maps } = await run(await session(name), x);
    const l = npy(name, 'logits.npy');
    const m = npy(name, 'class_maps.npy');
    expect(logits.dims).toEqual(l.shape);
    expect(maps.dims).toEqual(m.shape);
    expect(maxAbsDiff(logits.data as Float32Array, l.data)).toBeLessThan(1e-4);
    expect(maxAbsDiff(maps.data as Float32Array, m.data)).toBeLessThan(1e-4);
    // CAM head: logits are the spatial mean of the class maps
    const hw = m.shape[2] * m.shape[3];
    for (let c = 0; c < 6; c++) {
      let s = 0;
      for (let i = 0; i < hw; i++) s += (maps.data as Float32Array)[c * hw + i];
      expect(Math.abs(s / hw - Number((logits.data as Float32Array)[c]))).toBeLessThan(1e-4);
    }
  }, 60_000);

  it('reference raw spectrogram is the (400, 300) sample with its NaN set to 0', () => {
    const raw = npy(name, 'raw.npy');
    expect(raw.shape).toEqual([400, 300]);
    let zeros = 0;
    let nans = 0;
    for (let i = 0; i < raw.data.length; i++) {
      if (Number.isNaN(raw.data[i])) nans++;
      else if (raw.data[i] === 0) zeros++;
    }
    expect(nans).toBe(0);
    expect(zeros).toBe(100 * 6); // RP chain, rows 120..125
  });

  it('reaches its held-out KL divergence and accuracy again', async () => {
    const x = npy(name, 'heldout_input.npy');
    const votes = npy(name, 'heldout_votes.npy');
    const ref = json(resolve(REF, name, 'heldout_metric.json'));
    const n = x.shape[0];
    expect(n).toBe(ref.n);
    const { logits } = await run(await session(name), x);
    expect(maxAbsDiff(logits.data as Float32Array, npy(name, 'heldout_logits.npy').data)).toBeLessThan(1e-4);
    const probs = rows(logits.data as Float32Array, n, 6).map(softmax);
    const v = rows(votes.data, n, 6);
    const kl = klDivergence(v, probs);
    const acc = v.filter((row, i) => argmax(row) === argmax(probs[i])).length / n;
    expect(Math.abs(kl - ref.kl_divergence)).toBeLessThan(1e-3);
    expect(Math.abs(acc - ref.accuracy)).toBeLessThan(1e-3);
  }, 60_000);

  it('ships 3 HMS-style parquet samples and the votes of the simulated ones', () => {
    const dir = resolve(SAMPLES, 'eeg');
    const columns = readFileSync(resolve(ROOT, 'tests/fixtures/reference/eeg_spectrogram/hms_spectrogram_columns.txt'), 'utf8').split('\n').filter(Boolean);
    const files = ['sim_seizure_001.parquet', 'sim_lpd_002.parquet', 'real_eegmmidb_S001R03.parquet'];
    for (const f of files) {
      const b = readFileSync(resolve(dir, f));
      expect(b.subarray(0, 4).toString('latin1')).toBe('PAR1');
      expect(b.subarray(b.length - 4).toString('latin1')).toBe('PAR1');
      // the footer names the 401 columns in HMS order
      const footer = b.subarray(b.length - 8 - b.readUInt32LE(b.length - 8), b.length - 8).toString('latin1');
      let at = 0;
      for (const c of columns) {
        const i = footer.indexOf(c, at);
        expect(i, `${f}: column ${c}`).toBeGreaterThanOrEqual(0);
        at = i + c.length;
      }
    }
    const votes = readFileSync(resolve(dir, 'votes.csv'), 'utf8').trim().split('\n');
    expect(votes[0]).toBe('eeg_id,seizure_vote,lpd_vote,gpd_vote,lrda_vote,grda_vote,other_vote');
    expect(votes.slice(1).map((r) => r.split(',')[0])).toEqual(['sim_seizure_001', 'sim_lpd_002']);
    expect(existsSync(resolve(dir, 'ATTRIBUTION.md'))).toBe(true);
  });
});

describe('protein_localisation model', () => {
  const name = 'protein_localisation';

  it('has a model card that fits the model', async () => {
    const card = checkCard(name, 'protein', 19, [16, 16]);
    expect(card.classes[0]).toBe('Nucleoplasm');
    expect(card.classes[18]).toBe('Negative');
    expect(card.preprocessing.normalise.mean).toEqual([0.485, 0.456, 0.406, 0.485]);
    const s = await session(name);
    expect(s.outputNames).toEqual(['logits', 'class_maps']);
  });

  it('gives the PyTorch logits and class maps on the reference sample within 1e-4', async () => {
    const x = npy(name, 'input.npy');
    expect(x.shape).toEqual([1, 4, 512, 512]);
    const { logits, maps } = await run(await session(name), x);
    const l = npy(name, 'logits.npy');
    const m = npy(name, 'class_maps.npy');
    expect(maps.dims).toEqual([1, 19, 16, 16]);
    expect(maxAbsDiff(logits.data as Float32Array, l.data)).toBeLessThan(1e-4);
    expect(maxAbsDiff(maps.data as Float32Array, m.data)).toBeLessThan(1e-4);
  }, 60_000);

  it('reference input is the raw sample scaled by 1/255 and normalised', () => {
    const raw = npy(name, 'raw.npy');
    const x = npy(name, 'input.npy');
    expect(raw.shape).toEqual([4, 512, 512]);
    const mean = [0.485, 0.456, 0.406, 0.485];
    const std = [0.229, 0.224, 0.225, 0.229];
    const hw = 512 * 512;
    let m = 0;
    for (let i = 0; i < raw.data.length; i++) {
      const c = Math.floor(i / hw);
      m = Math.max(m, Math.abs((raw.data[i] / 255 - mean[c]) / std[c] - x.data[i]));
    }
    expect(m).toBeLessThan(1e-5);
  });

  it('reaches its held-out mAP and AUCs again', async () => {
    const raw = npy(name, 'heldout_raw256.npy');
    const targets = npy(name, 'heldout_targets.npy');
    const ref = json(resolve(REF, name, 'heldout_metric.json'));
    const [n, c, h, w] = raw.shape;
    expect([c, h, w]).toEqual([4, 256, 256]);
    const x = new Float32Array(raw.data.length);
    for (let i = 0; i < x.length; i++) {
      const ch = Math.floor(i / (h * w)) % 4;
      x[i] = (raw.data[i] / 255 - ref.mean[ch]) / ref.std[ch];
    }
    const { logits, maps } = await run(await session(name), { shape: raw.shape, data: x });
    expect(maps.dims).toEqual([n, 19, 16, 16]);
    expect(maxAbsDiff(logits.data as Float32Array, npy(name, 'heldout_logits.npy').data)).toBeLessThan(1e-4);
    const scores = rows(logits.data as Float32Array, n, 19).map((r) => r.map((z) => 1 / (1 + Math.exp(-z))));
    const y = rows(targets.data, n, 19);
    const classes: string[] = json(resolve(MODELS, `${name}.json`)).classes;
    const aps: number[] = [];
    classes.forEach((cls, k) => {
      const yk = y.map((r) => r[k]);
      const sk = scores.map((r) => r[k]);
      const npos = yk.reduce((a, b) => a + b, 0);
      if (npos === 0) {
        expect(ref.ap[cls]).toBeUndefined();
        return;
      }
      const ap = averagePrecision(yk, sk);
      expect(Math.abs(ap - ref.ap[cls]), cls).toBeLessThan(1e-3);
      aps.push(ap);
      if (npos < n) expect(Math.abs(rocAuc(yk, sk) - ref.auc[cls]), cls).toBeLessThan(1e-3);
    });
    const mAP = aps.reduce((a, b) => a + b, 0) / aps.length;
    expect(Math.abs(mAP - ref.mAP)).toBeLessThan(1e-3);
  }, 60_000);

  it('ships 2 RGBY sets with cell masks and labels', () => {
    const dir = resolve(SAMPLES, 'protein');
    const labels = readFileSync(resolve(dir, 'labels.csv'), 'utf8').trim().split('\n');
    expect(labels[0]).toBe('ID,Label');
    const ids = labels.slice(1).map((r) => r.split(',')[0]);
    expect(ids).toHaveLength(2);
    for (const id of ids) {
      for (const ch of ['red', 'green', 'blue', 'yellow', 'cells']) {
        const hdr = pngHeader(resolve(dir, `${id}_${ch}.png`));
        expect(hdr).toEqual({ width: 512, height: 512, bitDepth: 8, colourType: 0 });
      }
    }
    const cells = readFileSync(resolve(dir, 'cell_labels.csv'), 'utf8').trim().split('\n');
    expect(cells[0]).toBe('ID,cell,Label');
    for (const r of cells.slice(1)) expect(r).toMatch(/^sim_protein_\d{3},\d+,\d+( \d+)*$/);
  });
});
