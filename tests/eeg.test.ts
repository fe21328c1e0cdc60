/**
 * EEG spectrogram preset (src/core/eeg): every preprocessing step against numpy/PyTorch references
 * (tools/make_eeg_fixtures.py -> tests/fixtures/eeg), parquet edge cases, CAM normalisation, the
 * Kaggle KL metric, and the three samples through onnxruntime-node against PyTorch within 1e-4.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { readNpy } from '../src/core/io/npy';
import { normaliseClassMaps } from '../src/core/cam';
import { sessionOutputsPredictor } from '../src/core/ortPredictor';
import { eegPreset, type EegParams } from '../src/core/presets/eeg';
import {
  camOnSpectrogram,
  chooseWindow,
  classifySpectrogram,
  eegSubmissionCsv,
  hmsColumns,
  kaggleKl,
  logStandardise,
  parseVotesCsv,
  readSpectrogramParquet,
  resizeSpectrogram,
  scoreEeg,
  spectrogramArray,
  type EegModel,
  type Spectrogram,
} from '../src/core/eeg';

const ROOT = resolve(__dirname, '..');
const FIX = resolve(ROOT, 'tests/fixtures/eeg');
const SAMPLES = resolve(ROOT, 'public/samples/eeg');
const FILES = ['sim_seizure_001', 'sim_lpd_002', 'real_eegmmidb_S001R03'] as const;

interface Probe {
  shape: number[];
  sum: number;
  sumsq: number;
  idx: number[];
  values: number[];
}
const steps = JSON.parse(readFileSync(resolve(FIX, 'steps.json'), 'utf8')) as Record<string, { rows: number; time_first: number; time_last: number; nan: number; array: Probe; standardised: Probe; resized: Probe }>;
const modelRef = JSON.parse(readFileSync(resolve(FIX, 'model.json'), 'utf8')) as {
  classes: string[];
  samples: Record<string, { logits: number[]; probabilities: number[]; class_maps: number[]; tiny6_probabilities: number[]; two_fold_mean: number[]; tiny6_class_maps: number[] }>;
};
const klRef = JSON.parse(readFileSync(resolve(FIX, 'kl.json'), 'utf8')) as {
  votes: { eeg_id: string[]; votes: number[][]; submission: number[][]; kl: number; rows: number[] };
  cases: { solution: number[][]; submission: number[][]; kl: number; rows: number[] }[];
};

const bytes = (p: string): Uint8Array => new Uint8Array(readFileSync(p));
const npy = (f: string) => readNpy(readFileSync(resolve(FIX, f)), f);

function expectProbe(a: Float32Array, p: Probe, tol: number): number {
  let m = 0;
  p.idx.forEach((i, k) => {
    m = Math.max(m, Math.abs(a[i] - p.values[k]));
  });
  expect(m).toBeLessThanOrEqual(tol);
  let s = 0;
  let ss = 0;
  for (const v of a) {
    s += v;
    ss += v * v;
  }
  expect(Math.abs(s - p.sum)).toBeLessThanOrEqual(tol * a.length);
  expect(Math.abs(ss - p.sumsq) / p.sumsq).toBeLessThan(1e-5);
  return m;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const specs: Record<string, Spectrogram> = {};
beforeAll(async () => {
  for (const f of FILES) specs[f] = await readSpectrogramParquet(bytes(resolve(SAMPLES, `${f}.parquet`)), `${f}.parquet`);
});

describe('HMS parquet', () => {
  it('builds the 401 Kaggle column names (half-up rounding) exactly as the HMS list', () => {
    const list = readFileSync(resolve(ROOT, 'tests/fixtures/reference/eeg_spectrogram/hms_spectrogram_columns.txt'), 'utf8').split('\n').map((s) => s.trim()).filter(Boolean);
    expect(hmsColumns()).toEqual(list);
  });

  it('reads int64 and float time, NaN, and 62 rows like the Python reader', () => {
    for (const f of FILES) {
      const s = specs[f];
      expect(s.rows).toBe(steps[f].rows);
      expect(s.eegId).toBe(f);
      expect(s.time[0]).toBe(steps[f].time_first);
      expect(s.time[s.rows - 1]).toBe(steps[f].time_last);
      expect(s.nanCount).toBe(steps[f].nan);
    }
    expect(specs.sim_seizure_001.timeType).toBe('INT64');
    expect(specs.sim_lpd_002.timeType).toBe('FLOAT');
    expect(specs.sim_lpd_002.nanCount).toBe(600); // RP chain, rows 120..125
    expect(specs.real_eegmmidb_S001R03.rows).toBe(62);
    expect(specs.real_eegmmidb_S001R03.freqs[0]).toBeCloseTo(0.59, 10);
    expect(specs.real_eegmmidb_S001R03.freqs[99]).toBeCloseTo(19.92, 10);
  });

  it('reads DOUBLE columns with real nulls (definition level 0) and NaN values; both become 0', async () => {
    const s = await readSpectrogramParquet(bytes(resolve(FIX, 'nulls_double.parquet')), 'nulls_double.parquet');
    expect(s.rows).toBe(8);
    expect(s.timeType).toBe('DOUBLE');
    expect(Array.from(s.time)).toEqual([0, 2, 4, 6, 8, 10, 12, 14]);
    expect(s.nanCount).toBe(4); // LL_0.59 rows 1 and 5, RP_19.92 row 7 (nulls), LP_10.16 row 3 (a NaN value)
    expect(Number.isNaN(s.data[1]) && Number.isNaN(s.data[5])).toBe(true);
    const ref = npy('nulls_double.npy');
    // float64 values in the file; the (400, T) array is float32 like the Python reference's astype(float32)
    expect(maxDiff(spectrogramArray(s), ref.data as Float32Array)).toBe(0);
  });

  it('names the wrong and missing columns', async () => {
    const p = readSpectrogramParquet(bytes(resolve(FIX, 'wrong_columns.parquet')), 'wrong_columns.parquet');
    await expect(p).rejects.toThrow(/^wrong_columns\.parquet: not an HMS spectrogram: missing 2 columns: LL_0\.59, RP_19\.92; unexpected column: LL_0\.6/);
  });

  it('says a truncated file is truncated', async () => {
    const b = bytes(resolve(SAMPLES, 'real_eegmmidb_S001R03.parquet'));
    await expect(readSpectrogramParquet(b.slice(0, 70_000), 'cut.parquet')).rejects.toThrow(/^cut\.parquet: the Parquet file is truncated/);
    await expect(readSpectrogramParquet(b.slice(0, 3), 'tiny.parquet')).rejects.toThrow(/^tiny\.parquet: not a Parquet file/);
    await expect(readSpectrogramParquet(new TextEncoder().encode('eeg_id,seizure_vote\n1,2\n'), 'votes.parquet')).rejects.toThrow(/not a Parquet file/);
    // the middle cut out: footer intact, data pages shifted
    const holed = new Uint8Array(b.length - 20_000);
    holed.set(b.subarray(0, 40_000));
    holed.set(b.subarray(60_000), 40_000);
    await expect(readSpectrogramParquet(holed, 'holed.parquet')).rejects.toThrow(/^holed\.parquet: .*(damaged or truncated)/);
  });
});

describe('preprocessing vs numpy / PyTorch', () => {
  it('NaN -> 0 and transpose to (400, T)', () => {
    for (const f of FILES) {
      const a = spectrogramArray(specs[f]);
      expect(a.length).toBe(400 * steps[f].rows);
      expect(expectProbe(a, steps[f].array, 0)).toBe(0);
    }
    expect(maxDiff(spectrogramArray(specs.real_eegmmidb_S001R03), npy('real_array.npy').data as Float32Array)).toBe(0);
    // the LPD file's NaN stretch is 0 after this step
    const lpd = spectrogramArray(specs.sim_lpd_002);
    expect(lpd[300 * 300 + 120]).toBe(0);
    expect(lpd[399 * 300 + 125]).toBe(0);
  });

  it('clip [e^-4, e^8], natural log, standardise (population std, float64) match numpy', () => {
    for (const f of FILES) {
      const s = logStandardise(spectrogramArray(specs[f]), eegPreset.clip, eegPreset.eps);
      expectProbe(s, steps[f].standardised, 2e-6);
    }
    const real = logStandardise(spectrogramArray(specs.real_eegmmidb_S001R03), eegPreset.clip, eegPreset.eps);
    expect(maxDiff(real, npy('real_standardised.npy').data as Float32Array)).toBeLessThan(2e-6);
  });

  it('a 60-row window from row 100 matches numpy', () => {
    const w = chooseWindow(specs.sim_seizure_001, { ...eegPreset, window: 'window', windowStart: 100, windowRows: 60 });
    expect(w).toEqual({ start: 100, rows: 60, warnings: [] });
    const s = logStandardise(spectrogramArray(specs.sim_seizure_001, w.start, w.rows), eegPreset.clip, eegPreset.eps);
    expect(maxDiff(s, npy('window_standardised.npy').data as Float32Array)).toBeLessThan(2e-6);
  });

  it('bilinear resize to 512 x 512 (align_corners False, no antialias) matches F.interpolate', () => {
    for (const f of FILES) {
      const s = logStandardise(spectrogramArray(specs[f]), eegPreset.clip, eegPreset.eps);
      expectProbe(resizeSpectrogram(s, 400, steps[f].rows, [512, 512]), steps[f].resized, 5e-6);
    }
  });

  it('windows: whole file, short file warning, window moved back inside the file', () => {
    const real = chooseWindow(specs.real_eegmmidb_S001R03, eegPreset);
    expect(real.rows).toBe(62);
    expect(real.warnings[0]).toMatch(/^real_eegmmidb_S001R03\.parquet has 62 rows \(2\.1 min\); the model was trained on 300-row \(10 min\) windows/);
    const short = chooseWindow(specs.real_eegmmidb_S001R03, { ...eegPreset, window: 'window' });
    expect(short.warnings[0]).toMatch(/shorter than the 300-row window; the whole file is used/);
    const moved = chooseWindow({ name: 'long.parquet', rows: 500 }, { ...eegPreset, window: 'window', windowStart: 400 });
    expect(moved.start).toBe(200);
    expect(moved.warnings[0]).toMatch(/runs past the end \(500 rows\); using rows 200\.\.499/);
    expect(chooseWindow(specs.sim_seizure_001, eegPreset).warnings).toEqual([]);
    expect(chooseWindow({ name: 'long.parquet', rows: 1800 }, eegPreset).warnings[0]).toMatch(/^long\.parquet has 1800 rows \(60 min\); .*choose a window/);
  });
});

describe('models through onnxruntime-node vs PyTorch', () => {
  const sessions: Record<string, ort.InferenceSession> = {};
  const model = (key: string, name = key): EegModel => ({
    name,
    outputs: sessionOutputsPredictor(sessions[key], (d, dims) => new ort.Tensor('float32', d, dims), 'input'),
  });
  beforeAll(async () => {
    sessions.demo = await ort.InferenceSession.create(readFileSync(resolve(ROOT, 'public/models/eeg_spectrogram.onnx')));
    for (const k of ['tiny_eeg_6class', 'tiny_eeg_logits', 'tiny_eeg_5class', 'tiny_eeg_logits_b1']) sessions[k] = await ort.InferenceSession.create(readFileSync(resolve(FIX, `${k}.onnx`)));
  });
  const demo = () => model('demo', 'eeg_spectrogram.onnx');

  it('gives the PyTorch probabilities and class maps for the three samples (1e-4)', async () => {
    let worst = 0;
    let worstCam = 0;
    for (const f of FILES) {
      const r = await classifySpectrogram(specs[f], [demo()], eegPreset);
      const ref = modelRef.samples[f];
      worst = Math.max(worst, maxDiff(r.probabilities, ref.probabilities), maxDiff(r.folds[0].logits, ref.logits));
      expect(r.cam?.source).toBe('class_maps');
      expect(r.cam?.shape).toEqual([6, 16, 16]);
      worstCam = Math.max(worstCam, maxDiff(r.cam!.data, normaliseClassMaps(Float32Array.from(ref.class_maps), [6, 16, 16])));
    }
    console.log(`eeg: max |probability or logit - PyTorch| ${worst.toExponential(2)}, normalised class maps ${worstCam.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-4);
    expect(worstCam).toBeLessThan(1e-4);
    // the seizure sample is called seizure, the LPD sample LPD
    const s = await classifySpectrogram(specs.sim_seizure_001, [demo()], eegPreset);
    expect(s.probabilities.indexOf(Math.max(...s.probabilities))).toBe(0);
  });

  it('a 60-row window gives the PyTorch probabilities of that window', async () => {
    const r = await classifySpectrogram(specs.sim_seizure_001, [demo()], { ...eegPreset, window: 'window', windowStart: 100, windowRows: 60 });
    expect(r.window).toMatchObject({ start: 100, rows: 60 });
    expect(maxDiff(r.probabilities, (modelRef.samples as unknown as Record<string, { probabilities: number[] }>).window.probabilities)).toBeLessThan(1e-4);
  });

  it('two models (folds): mean of the softmax; each fold kept', async () => {
    for (const f of FILES) {
      const r = await classifySpectrogram(specs[f], [demo(), model('tiny_eeg_6class')], eegPreset);
      expect(r.folds).toHaveLength(2);
      expect(maxDiff(r.folds[1].probabilities, modelRef.samples[f].tiny6_probabilities)).toBeLessThan(1e-4);
      expect(maxDiff(r.probabilities, modelRef.samples[f].two_fold_mean)).toBeLessThan(1e-4);
    }
  });

  it('CAM: relu / per-class max / bilinear to the spectrogram matches PyTorch', async () => {
    const r = await classifySpectrogram(specs.real_eegmmidb_S001R03, [demo()], eegPreset);
    const cam = camOnSpectrogram(r.cam!, 0, 400, 62);
    expect(maxDiff(cam, npy('cam_real_seizure.npy').data as Float32Array)).toBeLessThan(1e-4);
    // normalised: each class's max is ~1, min 0
    for (let k = 0; k < 6; k++) {
      const m = r.cam!.data.subarray(k * 256, (k + 1) * 256);
      expect(Math.max(...m)).toBeGreaterThan(0.99);
      expect(Math.min(...m)).toBe(0);
    }
    // the seizure and LPD maps differ
    expect(maxDiff(r.cam!.data.subarray(0, 256), r.cam!.data.subarray(256, 512))).toBeGreaterThan(0.3);
  });

  it('a wrong class count is named; a logits-only model gets an occlusion map', async () => {
    await expect(classifySpectrogram(specs.sim_lpd_002, [model('tiny_eeg_5class', 'tiny_eeg_5class.onnx')], eegPreset)).rejects.toThrow(
      /^tiny_eeg_5class\.onnx: the model gives 5 classes \(output 'logits' \[1, 5\]\); the EEG preset needs 6: seizure, lpd, gpd, lrda, grda, other/,
    );
    const seen: number[] = [];
    const p: EegParams = { ...eegPreset, occlusionParams: { ...eegPreset.occlusionParams, patch: [128, 128], stride: [128, 128] } };
    const r = await classifySpectrogram(specs.sim_lpd_002, [model('tiny_eeg_logits')], p, { onProgress: (q) => q.stage === 'occlusion' && seen.push(q.done) });
    expect(maxDiff(r.probabilities, modelRef.samples.sim_lpd_002.tiny6_probabilities)).toBeLessThan(1e-4);
    expect(r.cam?.source).toBe('occlusion');
    expect(r.cam?.shape).toEqual([6, 64, 64]);
    expect(seen.at(-1)).toBe(16);
    expect(Math.max(...r.cam!.data)).toBeGreaterThan(0.99);
    // the same model exported with a fixed batch of 1: occlusion falls back to one input per call, same maps
    const b1 = await classifySpectrogram(specs.sim_lpd_002, [model('tiny_eeg_logits_b1', 'tiny_eeg_logits_b1.onnx')], p);
    expect(b1.warnings.join(' ')).toMatch(/tiny_eeg_logits_b1\.onnx: does not take a batch of 8 inputs .*one input at a time/);
    expect(maxDiff(b1.cam!.data, r.cam!.data)).toBeLessThan(1e-5);
    expect(maxDiff(b1.probabilities, r.probabilities)).toBeLessThan(1e-6);
  });
});

describe('KL metric (Kaggle) vs Python', () => {
  it('matches the Python implementation on random cases with 0 and 1 predictions', () => {
    for (const c of klRef.cases) {
      const r = kaggleKl(c.solution, c.submission);
      expect(Math.abs(r.score - c.kl)).toBeLessThan(1e-9 * Math.max(1, c.kl));
      expect(maxDiff(r.rows, c.rows)).toBeLessThan(1e-9 * Math.max(1, ...c.rows));
    }
  });

  it("reproduces the Kaggle metric's own examples", () => {
    // the docstring prints 0.216161... and 0.160531... (truncated)
    const trunc6 = (x: number) => Math.floor(x * 1e6) / 1e6;
    expect(trunc6(kaggleKl([[0, 1], [1, 0], [1, 0], [0, 1]], [[0.1, 0.9], [0.9, 0.1], [0.8, 0.2], [0.35, 0.65]]).score)).toBe(0.216161);
    const sol = [[0, 0.1, 0.9], [0.5, 0.5, 0], [0.5, 0.5, 0]];
    expect(kaggleKl(sol, sol).score).toBe(0);
    expect(trunc6(kaggleKl(sol, [[0.2, 0.1, 0.7], [0.3, 0.5, 0.2], [0.5, 0.5, 0]]).score)).toBe(0.160531);
  });

  it('votes.csv: normalised votes, per-file and overall KL of the demo model', async () => {
    const votes = parseVotesCsv(readFileSync(resolve(SAMPLES, 'votes.csv'), 'utf8'), 'votes.csv', eegPreset.classes);
    expect(votes.rows.get('sim_seizure_001')?.target[0]).toBeCloseTo(11 / 12, 12);
    const preds = FILES.map((f) => ({ eegId: f, probabilities: modelRef.samples[f].probabilities }));
    const s = scoreEeg(preds, votes);
    expect(s.score).toBeCloseTo(klRef.votes.kl, 9);
    expect(s.perFile.map((r) => r.eegId)).toEqual(klRef.votes.eeg_id);
    expect(s.unlabelled).toEqual(['real_eegmmidb_S001R03']);
    expect(() => parseVotesCsv('eeg_id,seizure_vote\n1,2\n', 'v.csv', eegPreset.classes)).toThrow(/^v\.csv: a votes file needs the columns .*missing: lpd_vote, gpd_vote/);
  });

  it('submission.csv has the HMS header and one row per file', () => {
    const csv = eegSubmissionCsv([{ eegId: 'a', probabilities: [0.5, 0.1, 0.1, 0.1, 0.1, 0.1] }], eegPreset.classes);
    expect(csv).toBe('eeg_id,seizure_vote,lpd_vote,gpd_vote,lrda_vote,grda_vote,other_vote\na,0.5,0.1,0.1,0.1,0.1,0.1\n');
  });
});
