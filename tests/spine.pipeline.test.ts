/**
 * The spine pipeline against Python (tools/make_spine_fixtures.py, which reuses the preprocessing
 * and crop code the demo models were trained with in tools/models/spine.py, and runs the ONNX graphs
 * op by op in PyTorch): z-sampling, INTER_AREA resize, min-max uint8, layout, stage-1 logits (1e-4),
 * Dice against the sample's labels, stage-2 crops and C_k, progress and cancel, the preset card.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { readNpy } from '../src/core/io/npy';
import { readVolume } from '../src/core/io';
import { sessionOutputsPredictor, sessionPredictor } from '../src/core/ortPredictor';
import { AbortError } from '../src/core/slidingWindow';
import { checkSpineModel, spineParamsFromCard, spinePreset, validateSpineParams, type SpineParams } from '../src/core/presets/spine';
import { readDicomSeries, type DicomSeries } from '../src/core/spine/dicom';
import { areaWeights, linspace, normaliseU8, preprocessSpine, resizeSeparable, sampleSliceIndices, toInputTensor } from '../src/core/spine/preprocess';
import { bilinearU8, linspaceInt, vertebraCrops, type ProbGrid } from '../src/core/spine/crops';
import { runSpinePipeline, type SpineProgress } from '../src/core/spine/pipeline';
import { q64SegLogits } from './spineQ64';

const ROOT = resolve(__dirname, '..');
const CT = resolve(ROOT, 'public/samples/ct');
const FIX = resolve(ROOT, 'tests/fixtures/spine');
const MODELS = resolve(ROOT, 'public/models');
const REF = JSON.parse(readFileSync(resolve(FIX, 'reference.json'), 'utf8'));
const npyGz = (name: string) => readNpy(gunzipSync(readFileSync(resolve(FIX, name))), name);
const sha = (a: ArrayBufferView): string => createHash('sha256').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex');
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const makeTensor = (d: Float32Array, dims: readonly number[]) => new ort.Tensor('float32', d, dims);

let series: DicomSeries;
let params: SpineParams;
beforeAll(async () => {
  const dir = resolve(CT, 'sim_neck');
  series = (await readDicomSeries(readdirSync(dir).map((n) => ({ name: n, bytes: new Uint8Array(readFileSync(resolve(dir, n))) })))).series[0];
  params = { ...spinePreset, ...spineParamsFromCard(JSON.parse(readFileSync(resolve(MODELS, 'spine_seg.json'), 'utf8'))) };
});
const shape = () => series.volume.shape as [number, number, number];

describe('preset card', () => {
  it('spine_seg.json gives the trained layout, size, thresholds and order; spine_fracture.json the crop size', () => {
    const seg = spineParamsFromCard(JSON.parse(readFileSync(resolve(MODELS, 'spine_seg.json'), 'utf8')));
    expect(seg).toEqual({ layout: 'slices-last', sliceCount: 128, size: 128, threshold: 0.2, fallbackThreshold: 0.05, order: 'position' });
    const cls = spineParamsFromCard(JSON.parse(readFileSync(resolve(MODELS, 'spine_fracture.json'), 'utf8')));
    expect(cls).toEqual({ cropSize: 224, cropBatch: 105 });
    expect(spineParamsFromCard({ preprocessing: { layout: '(N, C, slices, rows, cols)' }, inference: { inputSize: [96, 128, 128] } })).toEqual({ layout: 'slices-first', sliceCount: 96, size: 128 });
    expect(() => spineParamsFromCard({ preprocessing: { layout: '(N, rows)' } })).toThrow(/unknown preprocessing.layout/);
    expect(validateSpineParams(spinePreset)).toEqual([]);
    const io = (inp: (number | string)[], out: (number | string)[]) => ({ name: 'm.onnx', inputs: [{ name: 'x', dims: inp }], outputs: [{ name: 'y', dims: out }] });
    expect(checkSpineModel(io(['n', 3, 128, 128, 128], ['n', 7, 128, 128, 128]), 'seg', spinePreset)).toEqual([]);
    expect(checkSpineModel(io([1, 1, 128, 128, 64], [1, 5, 128, 128, 64]), 'seg', spinePreset)).toEqual([
      'm.onnx: the model takes 1 channel(s); the preset repeats the volume to 3',
      "m.onnx: the model's input is [1, 1, 128, 128, 64] but the preset feeds [1, 3, 128, 128, 128] (slices-last); check the layout, slice count and size",
      'm.onnx: the output must be (N, 7, ...) = C1..C7 on the input grid; this one is [1, 5, 128, 128, 64]',
    ]);
    expect(checkSpineModel(io(['n', 6, 224, 224], ['n', 1]), 'cls', spinePreset)).toEqual([]);
    expect(checkSpineModel(io(['n', 5, 256, 256], ['n', 1]), 'cls', spinePreset)).toEqual([
      'm.onnx: the model takes 5 channel(s); the crops have 6 (5 slices + the mask)',
      "m.onnx: the model's input is [n, 5, 256, 256] but the crops are 224 x 224",
    ]);
    expect(validateSpineParams({ ...spinePreset, threshold: 0.01, sliceCount: 0 })).toEqual([
      'slice count must be a positive integer, got 0',
      'fallback threshold must be in (0, threshold], got 0.05',
    ]);
  });
});

describe('stage-1 preprocessing vs tools/models/spine.py', () => {
  it('z-sampling: round(quantile(range(n), linspace(0, 1, 128))) equals numpy for many n', () => {
    for (const [n, idx] of Object.entries(REF.sampleIndices as Record<string, number[]>)) expect(sampleSliceIndices(Number(n), 128)).toEqual(idx);
    expect(linspace(0, 1, 5)).toEqual([0, 0.25, 0.5, 0.75, 1]);
  });

  it('INTER_AREA resize (integer and non-integer factors) equals the numpy area matrices', () => {
    for (const r of REF.area as { shape: [number, number]; out: [number, number]; sum: number; sample: number[] }[]) {
      const [h, w] = r.shape;
      const img = new Float64Array(h * w);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) img[y * w + x] = (y * 131 + x * 71 + ((y * x) % 97)) % 4096;
      const out = new Float64Array(r.out[0] * r.out[1]);
      resizeSeparable(img, h, w, areaWeights(h, r.out[0]), areaWeights(w, r.out[1]), out, new Float64Array(r.out[0] * w));
      let sum = 0;
      for (const v of out) sum += v;
      expect(Math.abs(sum - r.sum) / r.sum).toBeLessThan(1e-12);
      r.sample.forEach((v, k) => expect(out[k * 97]).toBeCloseTo(v, 9));
    }
  });

  it('INTER_AREA upscale follows cv2 (linear with area coefficients): 2 -> 4 pixels', () => {
    const w = areaWeights(2, 4);
    // cv2.resize(np.array([[0, 100]], np.float32), (4, 1), interpolation=cv2.INTER_AREA) = [0, 0, 100, 100]
    const out = new Float64Array(4);
    resizeSeparable([0, 100], 1, 2, areaWeights(1, 1), w, out, new Float64Array(2));
    expect(Array.from(out)).toEqual([0, 0, 100, 100]);
  });

  it('min-max to uint8 truncates like numpy astype(uint8)', () => {
    expect(Array.from(normaliseU8([10, 11, 12]))).toEqual([0, 127, 254]); // 2 / 2.0001 * 255 = 254.99 -> 254
    expect(Array.from(normaliseU8([-5, 5]))).toEqual([0, 254]);
  });

  it('sim_neck: the uint8 128^3 volume equals the reference (SHA-256, slice sums, three full slices)', () => {
    const pre = preprocessSpine(series.stored, shape(), params);
    expect(pre.indices).toEqual(REF.preprocess.indices);
    // u8 (slices, rows, cols)
    const sums = Array.from({ length: 128 }, (_, z) => pre.u8.subarray(z * 128 * 128, (z + 1) * 128 * 128).reduce((a, b) => a + b, 0));
    expect(sums).toEqual(REF.preprocess.sliceSums);
    expect(sha(pre.u8)).toBe(REF.preprocess.u8Sha256);
    const ref = npyGz('sim_neck_u8_slices.npy.gz');
    (REF.preprocess.slices as number[]).forEach((z, k) => expect(sha(pre.u8.subarray(z * 16384, (z + 1) * 16384))).toBe(sha((ref.data as Uint8Array).subarray(k * 16384, (k + 1) * 16384))));
  });

  it('layout: slices last (1, 3, rows, cols, slices) by default, slices first as an option; channels repeated', () => {
    const u8 = new Uint8Array(2 * 3 * 4).map((_, i) => i * 10);
    const last = toInputTensor(u8, [2, 3, 4], 3, 'slices-last');
    expect(last.shape).toEqual([1, 3, 3, 4, 2]);
    // voxel (slice 1, row 2, col 3) -> index (row, col, slice)
    expect(last.data[(2 * 4 + 3) * 2 + 1]).toBe(Math.fround(u8[(1 * 3 + 2) * 4 + 3] / 255));
    expect(last.data[24 * 2 + (2 * 4 + 3) * 2 + 1]).toBe(last.data[(2 * 4 + 3) * 2 + 1]);
    const first = toInputTensor(u8, [2, 3, 4], 1, 'slices-first');
    expect(first.shape).toEqual([1, 1, 2, 3, 4]);
    expect(first.data[(1 * 3 + 2) * 4 + 3]).toBe(Math.fround(230 / 255));
  });
});

describe('stage 1 with onnxruntime-node vs PyTorch on the same tensor', () => {
  it('logits match PyTorch (1e-4); voxels above 0.2 per vertebra match', async () => {
    const session = await ort.InferenceSession.create(resolve(MODELS, 'spine_seg.onnx'), { intraOpNumThreads: 2 });
    const pre = preprocessSpine(series.stored, shape(), params);
    const t0 = performance.now();
    const out = await session.run({ input: makeTensor(pre.input.data, pre.input.shape) });
    const ms = performance.now() - t0;
    const logits = out.logits.data as Float32Array; // (7, rows, cols, slices)
    const ref = npyGz('sim_neck_logits_sub.npy.gz'); // [:, ::4, ::4, ::8]
    let maxDiff = 0;
    let i = 0;
    for (let k = 0; k < 7; k++)
      for (let y = 0; y < 128; y += 4)
        for (let x = 0; x < 128; x += 4)
          for (let z = 0; z < 128; z += 8) maxDiff = Math.max(maxDiff, Math.abs(logits[((k * 128 + y) * 128 + x) * 128 + z] - (ref.data as Float32Array)[i++]));
    expect(maxDiff).toBeLessThan(1e-4);
    const n = 128 ** 3;
    const sums = Array.from({ length: 7 }, (_, k) => logits.subarray(k * n, (k + 1) * n).reduce((a, b) => a + b, 0));
    sums.forEach((s, k) => expect(Math.abs(s - REF.stage1.logitSum[k]) / Math.abs(REF.stage1.logitSum[k])).toBeLessThan(1e-4));
    console.log(`stage 1 onnxruntime-node: ${ms.toFixed(0)} ms; max |logit diff| vs PyTorch ${maxDiff.toExponential(2)}; PyTorch grid Dice at 0.5: ${REF.stage1.diceGrid05.map((d: number) => d.toFixed(3)).join(' ')}`);
    for (let k = 0; k < 7; k++) {
      let above = 0;
      for (let v = k * n; v < (k + 1) * n; v++) if (sigmoid(logits[v]) > 0.2) above++;
      expect(Math.abs(above - REF.stage1.above02[k])).toBeLessThanOrEqual(2);
    }
  }, 120_000);
});

describe('the whole pipeline on sim_neck', () => {
  it('labels on the original CT grid reach Dice > 0.75 per vertebra against sim_neck_labels.nii.gz; rows; C_k close to PyTorch', async () => {
    const seg = await ort.InferenceSession.create(resolve(MODELS, 'spine_seg.onnx'), { intraOpNumThreads: 2 });
    const cls = await ort.InferenceSession.create(resolve(MODELS, 'spine_fracture.onnx'), { intraOpNumThreads: 2 });
    const progress: SpineProgress[] = [];
    const r = await runSpinePipeline(
      series.stored,
      shape(),
      series.volume.spacing,
      [sessionPredictor(seg, makeTensor, 'input', 'logits')],
      [sessionOutputsPredictor(cls, makeTensor, 'input')],
      params,
      { onProgress: (p) => progress.push(p) },
    );
    const gt = readVolume(new Uint8Array(readFileSync(resolve(CT, 'sim_neck_labels.nii.gz'))), 'sim_neck_labels.nii.gz');
    expect(gt.shape).toEqual(series.volume.shape);
    const dice = Array.from({ length: 7 }, (_, k) => {
      let a = 0;
      let b = 0;
      let ab = 0;
      for (let i = 0; i < r.labels.length; i++) {
        const p = r.labels[i] === k + 1;
        const t = gt.data[i] === k + 1;
        if (p) a++;
        if (t) b++;
        if (p && t) ab++;
      }
      return (2 * ab) / (a + b);
    });
    const mean = dice.reduce((x, y) => x + y, 0) / 7;
    console.log(`sim_neck Dice on the CT grid (threshold ${params.threshold}): ${dice.map((d) => d.toFixed(3)).join(' ')} mean ${mean.toFixed(3)}; timings ${JSON.stringify(r.timings)}`);
    for (const d of dice) expect(d).toBeGreaterThan(0.75);
    expect(mean).toBeGreaterThan(0.8);
    expect(r.vertebrae.map((v) => v.name)).toEqual(['C1', 'C2', 'C3', 'C4', 'C5', 'C6', 'C7']);
    for (const v of r.vertebrae) {
      expect(v.present).toBe(true);
      expect(v.volumeMl).toBeCloseTo((v.voxels * 1.5 * 0.920499 ** 2) / 1000, 6);
      expect(v.meanProb).toBeGreaterThan(0.5);
      expect(v.fracture).toBeGreaterThan(0);
    }
    // head first: C1 above C7
    expect((r.vertebrae[0].sliceRange as number[])[0]).toBeLessThan((r.vertebrae[6].sliceRange as number[])[0]);
    // C_k from the real (not quantised) probabilities: close to PyTorch's on the quantised ones
    r.vertebrae.forEach((v, k) => expect(Math.abs((v.fracture as number) - REF.stage2.C[k])).toBeLessThan(0.03));
    expect(r.patientSource).toBe('product');
    let prod = 1;
    for (const v of r.vertebrae) prod *= 1 - (v.fracture as number);
    expect(r.patientOverall).toBeCloseTo(1 - prod, 12);
    expect(progress.map((p) => p.stage)).toEqual(expect.arrayContaining(['preprocess', 'segment', 'crops', 'classify']));
    expect(progress[progress.length - 1]).toEqual({ stage: 'classify', done: 1, total: 1 });
  }, 180_000);

  it('cancel: an aborted signal stops the run between stages with an AbortError', async () => {
    const ac = new AbortController();
    let calls = 0;
    const seg = async (x: Float32Array) => {
      calls++;
      return { data: new Float32Array(7 * x.length / 3).fill(-5), shape: [1, 7, 128, 128, 128] };
    };
    const run = runSpinePipeline(series.stored, shape(), series.volume.spacing, [seg, seg, seg], [], params, {
      signal: ac.signal,
      onProgress: (p) => {
        if (p.stage === 'segment' && p.done === 1) ac.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(AbortError);
    expect(calls).toBe(1);
  });

  it('a model with the wrong output shape gets a clear message', async () => {
    const seg = async () => ({ data: new Float32Array(10), shape: [1, 10] });
    await expect(runSpinePipeline(series.stored, shape(), series.volume.spacing, [seg], [], params)).rejects.toThrow(/the segmentation model returned shape \[1, 10\]; expected \[1, 7, 128, 128, 128\]/);
  });
});

describe('stage-2 crops vs tools/models/spine.py vertebra_crops (same quantised probabilities)', () => {
  const probGrid = (): ProbGrid => {
    const q = npyGz('sim_neck_prob_q64.npy.gz'); // (7, slices, rows, cols) uint8 counts of 1/64
    const data = new Float32Array(q.data.length);
    for (let i = 0; i < data.length; i++) data[i] = (q.data[i] as number) / 64;
    return { data, shape: [7, 128, 128, 128] };
  };

  it('indices, boxes and the uint8 crops of all 7 vertebrae are identical; C_k from onnxruntime matches PyTorch (1e-4)', async () => {
    const prob = probGrid();
    const cls = await ort.InferenceSession.create(resolve(MODELS, 'spine_fracture.onnx'), { intraOpNumThreads: 2 });
    const all: Uint8Array[] = [];
    for (let k = 0; k < 7; k++) {
      const c = vertebraCrops(series.stored, shape(), prob, k, params);
      const ref = REF.crops[k];
      expect(c).not.toBeNull();
      if (!c) continue;
      expect(c.indices).toEqual(ref.indices);
      const sums = Array.from({ length: 15 }, (_, s) => Array.from({ length: 6 }, (_, ch) => c.data.subarray((s * 6 + ch) * 224 * 224, (s * 6 + ch + 1) * 224 * 224).reduce((a, b) => a + b, 0)));
      expect(sums).toEqual(ref.sums);
      expect(sha(c.data)).toBe(ref.sha256);
      all.push(c.data);
    }
    const one = npyGz('sim_neck_crop_c4_s7.npy.gz');
    expect(sha(all[3].subarray(7 * 6 * 224 * 224, 8 * 6 * 224 * 224))).toBe(sha(one.data as Uint8Array));
    // the classifier on these crops
    const x = new Float32Array(105 * 6 * 224 * 224);
    all.forEach((c, k) => {
      for (let i = 0; i < c.length; i++) x[k * c.length + i] = c[i] / 255;
    });
    const out = await cls.run({ input: makeTensor(x, [105, 6, 224, 224]) });
    const logits = out.logits.data as Float32Array;
    let maxDiff = 0;
    logits.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - REF.stage2.logits[i]))));
    expect(maxDiff).toBeLessThan(1e-4);
    for (let k = 0; k < 7; k++) {
      let s = 0;
      for (let j = 0; j < 15; j++) s += sigmoid(logits[k * 15 + j]);
      expect(Math.abs(Math.min(0.9999, Math.max(1e-4, s / 15)) - REF.stage2.C[k])).toBeLessThan(1e-5);
    }
    console.log(`stage 2: max |logit diff| vs PyTorch ${maxDiff.toExponential(2)}`);
  }, 120_000);

  it('linspace(...).astype(int) truncates toward zero; bilinear follows half-pixel centres', () => {
    expect(linspaceInt(0, -1, 3)).toEqual([0, 0, -1]);
    expect(linspaceInt(10, 24, 15)).toEqual(Array.from({ length: 15 }, (_, i) => 10 + i));
    // 2 -> 4: centres at -0.25 (clamped), 0.25, 0.75, 1.25 -> 0, 25, 75, 100
    expect(Array.from(bilinearU8(new Uint8Array([0, 100]), 1, 1, 2, 4).subarray(0, 4))).toEqual([0, 25, 75, 100]);
  });
});

describe('relabel with other thresholds (no model run)', () => {
  it('a synthetic probability grid: threshold, fallback, overlap by the highest probability, mapping to the CT grid', async () => {
    const { relabelSpine } = await import('../src/core/spine/pipeline');
    // grid 2 x 2 x 2 per class, CT 4 x 4 x 4: slices sampled [0, 3]
    const S = 2;
    const n = S * S * S;
    const probs = new Float32Array(7 * n);
    probs[0 * n + 0] = 0.9; // C1 at grid (0, 0, 0)
    probs[1 * n + 0] = 0.95; // C2 overlaps C1 there with a higher probability
    probs[1 * n + 7] = 0.3; // and at (1, 1, 1)
    probs[2 * n + 5] = 0.1; // C3 only above the fallback
    const r = relabelSpine({ gridProbs: probs, gridShape: [7, S, S, S], sliceIndices: [0, 3] }, [4, 4, 4], [2, 1, 1], 0.2, 0.05);
    const at = (d: number, h: number, w: number) => r.labels[(d * 4 + h) * 4 + w];
    expect(at(0, 0, 0)).toBe(2);
    expect(at(1, 1, 1)).toBe(2); // slice 1 is nearest to sampled slice 0; rows/cols 0..1 -> grid 0
    expect(at(3, 3, 3)).toBe(2);
    expect(at(3, 0, 3)).toBe(3); // grid (1, 0, 1) = index 5: C3 through the fallback
    expect(r.vertebrae[0]).toMatchObject({ name: 'C1', present: false, voxels: 0, threshold: 0.2 });
    expect(r.vertebrae[1]).toMatchObject({ name: 'C2', present: true, voxels: 16, volumeMl: 0.032, sliceRange: [0, 3] });
    expect(r.vertebrae[2]).toMatchObject({ name: 'C3', threshold: 0.05, voxels: 8 });
    expect(r.vertebrae[3]).toMatchObject({ name: 'C4', present: false, threshold: undefined });
    const stricter = relabelSpine({ gridProbs: probs, gridShape: [7, S, S, S], sliceIndices: [0, 3] }, [4, 4, 4], [2, 1, 1], 0.5, 0.05);
    expect(stricter.vertebrae[1].voxels).toBe(8);
  });
});

describe('runSpinePipeline stage 2 with a patient head (a tiny two-output model) vs PyTorch', () => {
  it('C_k and patient_overall from the second output equal PyTorch on the same crops; product when asked', async () => {
    // a stage-1 "model" that returns the quantised probabilities as logits, in the slices-last layout
    const seg = q64SegLogits;
    const tiny = await ort.InferenceSession.create(resolve(FIX, 'tiny_patient.onnx'));
    const cls = sessionOutputsPredictor(tiny, makeTensor, 'input');
    const r = await runSpinePipeline(series.stored, shape(), series.volume.spacing, [seg], [cls], params);
    r.vertebrae.forEach((v, k) => expect(v.fracture as number).toBeCloseTo(REF.tinyPatient.C[k], 5));
    expect(r.patientSource).toBe('head');
    expect(r.patientOverall as number).toBeCloseTo(REF.tinyPatient.patient, 5);
    const p = await runSpinePipeline(series.stored, shape(), series.volume.spacing, [seg], [cls], { ...params, patient: 'product' });
    expect(p.patientSource).toBe('product');
    expect(p.patientOverall as number).toBeCloseTo(Math.min(0.9999, 1 - REF.tinyPatient.C.reduce((a: number, c: number) => a * (1 - c), 1)), 5);
  }, 120_000);
});

describe('layout option', () => {
  it('a model that thresholds its input gives the same labels in slices-last and slices-first layouts', async () => {
    // C1 where the (first-channel) input is bright, C2 where it is mid grey: layout-independent per voxel
    const fake = async (x: Float32Array, dims: number[]) => {
      const n = dims[2] * dims[3] * dims[4];
      const out = new Float32Array(7 * n).fill(-10);
      for (let i = 0; i < n; i++) {
        if (x[i] > 0.6) out[i] = 10;
        else if (x[i] > 0.4) out[n + i] = 10;
      }
      return { data: out, shape: [1, 7, dims[2], dims[3], dims[4]] };
    };
    const last = await runSpinePipeline(series.stored, shape(), series.volume.spacing, [fake], [], { ...params, layout: 'slices-last' });
    const first = await runSpinePipeline(series.stored, shape(), series.volume.spacing, [fake], [], { ...params, layout: 'slices-first' });
    expect(last.vertebrae[0].voxels).toBeGreaterThan(1000);
    expect(last.vertebrae[1].voxels).toBeGreaterThan(1000);
    expect(Buffer.from(first.labels).equals(Buffer.from(last.labels))).toBe(true);
    expect(Buffer.from((first.gridProbs as Float32Array).buffer).equals(Buffer.from((last.gridProbs as Float32Array).buffer))).toBe(true);
  }, 60_000);
});
