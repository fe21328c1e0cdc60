/**
 * The real-architecture test models (tools/make_real_models.py) through whole presets, against
 * PyTorch references of the whole pipelines (tools/make_real_pipeline_refs.py ->
 * tests/fixtures/real_models/pipeline_refs.json), issue 14:
 *  - motors with the BYU U-Net that divides by 255 itself: found by the preset (input scaling
 *    'none', said in one line), the scores and the CSV are the solution's; the up-front line of
 *    windows per tomogram and the estimate; --input-scaling div255 against such a model is a
 *    warning and gives the x / 65025 scores; the card stored in a model (`convert --card`) is read
 *    by `motors`; the fixed-batch export (batch 1) runs with sw batch 2 (motors and infer);
 *  - spine stage 2 as the solution built it: the sequence model (bs, 15, 6, H, W) and its 4D
 *    export with a fixed batch of 15, C_k within 1e-4;
 *  - onnxruntime errors name the model, the input and what was fed; a fixed batch the outputs do
 *    not keep is refused with a line that says why.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { readNpy } from '../src/core/io/npy';
import { inspectModel, type ModelInfo } from '../src/core/onnx/model';
import { sessionOutputsPredictor, sessionPredictor } from '../src/core/ortPredictor';
import { motorsPlan, motorsPreset } from '../src/core/presets/motors';
import { submissionCsv, thresholdDetections } from '../src/core/motors/postprocess';
import { spineParamsFromCard, spinePreset, spinePresetDef, checkSpineModel, type SpineParams } from '../src/core/presets/spine';
import type { ModelHandle } from '../src/core/preset/types';
import { cli, ROOT } from './cliRunner';
import { q64SegLogits } from './spineQ64';
import { maxAbs, realBytes, realNpy, realPath, REAL } from './realModels';

const REFS = JSON.parse(readFileSync(resolve(REAL, 'pipeline_refs.json'), 'utf8'));
const tmp = mkdtempSync(join(tmpdir(), 'voxelbench-realpipe-'));
const makeTensor = (d: Float32Array, dims: readonly number[]) => new ort.Tensor('float32', d, dims);

// ---------------------------------------------------------------------------------------------
// motors

interface MotorRef {
  file: string;
  shape: number[];
  score: number;
  point: [number, number, number];
  index: number[];
}
const M = REFS.motors as { params: { inputSize: number[]; roi: number[]; quantile: number }; rows: Record<string, MotorRef>; cutoff: number; scoresDividedTwice: Record<string, number> };
const IDS = Object.keys(M.rows).sort();

/** The three tomograms as a folder of .npy files named by id. */
function tomogramsDir(): string {
  const dir = join(tmp, 'tomograms');
  mkdirSync(dir, { recursive: true });
  for (const id of IDS) writeFileSync(join(dir, `${id}.npy`), readFileSync(realPath(M.rows[id].file)));
  return dir;
}
const TOMS = tomogramsDir();
/** What the dynamic export cannot say about itself: the pipeline's sizes (a small input size for a test). */
const SIZES = ['--input-size', M.params.inputSize.join(','), '--roi', M.params.roi.join(',')];

/** The submission the reference rows give (the preset's own CSV writer and cutoff). */
const refCsv = (): string => submissionCsv(thresholdDetections(IDS.map((id) => ({ id, score: M.rows[id].score, point: M.rows[id].point })), M.params.quantile));

/** `run motors --shard 1/1`: the rows with full-precision scores. */
async function shardRows(models: string, extra: string[] = []): Promise<{ rows: { id: string; score: number; point: number[] }[]; stderr: string }> {
  const out = join(tmp, `shard-${Math.random().toString(36).slice(2)}`);
  const r = await cli(['run', 'motors', '--inputs', TOMS, '--models', models, '--out', out, '--shard', '1/1', ...extra]);
  expect(r.code, r.stderr).toBe(0);
  const shard = JSON.parse(readFileSync(join(out, 'shard-1-of-1.json'), 'utf8')) as { rows: { row: { id: string; score: number; point: number[] } }[] };
  return { rows: shard.rows.map((x) => x.row), stderr: r.stderr };
}

describe('motors: the BYU U-Net (x / 255 inside) against the PyTorch run of the whole pipeline', () => {
  it('the model is found to divide by 255 itself (one line); scores within 1e-5, points and submission.csv as the reference', async () => {
    const csv = join(tmp, 'byu.csv');
    const r = await cli(['motors', '--models', realPath('byu_unet3d.onnx'), '--tomograms', TOMS, '--out', csv, ...SIZES]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.split(/\r|\n/).filter((l) => l.trim() && !/ step \d+\/\d+/.test(l));
    expect(lines).toContain("byu_unet3d.onnx divides its input by 255 itself (Div '/Div' by 255): input scaling none (0..255 fed as float)");
    // up front: windows per tomogram and in all, and the value that changes it; then the estimate after the first windows
    expect(lines).toContain(
      '60 windows per tomogram: 48×96×96 in windows of 32×64×64 (20 per pass) × 3 TTA passes × 1 model; 3 tomograms: 180 in all (input size 48,96,96 from --input-size; --input-size changes it)',
    );
    expect(lines.some((l) => /^estimate from the first 2 of 60 steps \([\d.]+ s\): about [\d.]+ s per tomogram, [\d.]+ s for the 3 tomograms to run$/.test(l)), lines.join('\n')).toBe(true);
    expect(readFileSync(csv, 'utf8')).toBe(refCsv());
    for (const id of IDS) expect(r.stdout).toContain(`${id}\tscore ${M.rows[id].score.toFixed(4)}\t`);

    const { rows } = await shardRows(realPath('byu_unet3d.onnx'), SIZES);
    for (const row of rows) {
      const ref = M.rows[row.id];
      expect(Math.abs(row.score - ref.score), row.id).toBeLessThan(1e-5);
      row.point.forEach((v, a) => expect(v, `${row.id} axis ${a}`).toBeCloseTo(ref.point[a], 9));
    }
    console.log(`BYU pipeline: scores ${IDS.map((id) => M.rows[id].score.toFixed(5)).join(', ')}; max diff vs PyTorch ${Math.max(...rows.map((x) => Math.abs(x.score - M.rows[x.id].score))).toExponential(1)}`);
  }, 300_000);

  it('--input-scaling div255 against such a model: kept as given with a warning, and the scores are the x / 65025 ones (not the solution\'s)', async () => {
    const { rows, stderr } = await shardRows(realPath('byu_unet3d.onnx'), [...SIZES, '--input-scaling', 'div255', '--quiet']);
    expect(stderr).toContain('voxelbench: byu_unet3d.onnx: kept --input-scaling div255 (the model asks for none) as the flags say');
    for (const row of rows) {
      expect(Math.abs(row.score - M.scoresDividedTwice[row.id])).toBeLessThan(1e-5);
      expect(Math.abs(row.score - M.rows[row.id].score)).toBeGreaterThan(1e-3);
    }
  }, 300_000);

  it('the card stored in the fixed-size export (convert --card) is read by motors; its fixed batch of 1 runs with sw batch 2', async () => {
    const card = join(tmp, 'byu.card.json');
    writeFileSync(card, JSON.stringify({ name: 'byu', preset: 'motors', inference: { inputSize: M.params.inputSize, roi: M.params.roi, swBatch: 2 } }));
    const model = join(tmp, 'byu_fixed_card.onnx');
    const conv = await cli(['convert', realPath('byu_unet3d_fixed.onnx'), '--card', card, '--out', model]);
    expect(conv.code, conv.stderr).toBe(0);
    expect(inspectModel(new Uint8Array(readFileSync(model))).inputs[0].dims).toEqual([1, 1, 32, 64, 64]);
    // no flag beyond the models and the tomograms: the values come from the card inside the model
    const csv = join(tmp, 'byu_fixed.csv');
    const r = await cli(['motors', '--models', model, '--tomograms', TOMS, '--out', csv]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("using the values of the model card byu_fixed_card.onnx (metadata_props 'voxelbench.card')");
    expect(r.stderr).toContain("byu_fixed_card.onnx divides its input by 255 itself (Div '/Div' by 255)");
    expect(r.stderr).toMatch(/input size 48,96,96 from the model card byu_fixed_card\.onnx/);
    expect(readFileSync(csv, 'utf8')).toBe(refCsv());
    for (const id of IDS) expect(r.stdout).toContain(`${id}\tscore ${M.rows[id].score.toFixed(4)}\t`);
  }, 300_000);

  it('motorsPlan: windows per tomogram at the pipeline default (27: the 956 s of the issue) and at a card\'s size', () => {
    const p = motorsPlan(motorsPreset, 1);
    expect(p.steps).toBe(27);
    expect(p.line).toBe('27 windows per tomogram: 128×672×672 in windows of 64×672×672 (9 per pass) × 3 TTA passes × 1 model');
    expect(motorsPlan({ ...motorsPreset, inputSize: [64, 192, 192], roi: [64, 128, 128], overlap: [0, 0.5, 0.5], tta: ['identity'] }, 2).line).toBe(
      '8 windows per tomogram: 64×192×192 in windows of 64×128×128 (4 per pass) × 1 TTA pass × 2 models',
    );
  });
});

describe('infer respects a fixed batch dim', () => {
  it('the fixed BYU export (batch 1) with --sw-batch 2 equals MONAI', async () => {
    const out = join(tmp, 'byu_fixed_sw2.npy');
    const r = await cli(['infer', '--model', realPath('byu_unet3d_fixed.onnx'), '--input', realPath('byu_volume_u8.npy'), '--out', out, '--overlap', '0.5,0.25,0.25', '--sw-batch', '2', '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(maxAbs(readNpy(readFileSync(out)).data as Float32Array, realNpy('byu_monai.npy').data)).toBeLessThan(1e-4);
  }, 120_000);
});

describe('onnxruntime errors name the model, the input and what was fed', () => {
  it('a wrong crop size on the fixed 4D export; a batch the outputs do not keep', async () => {
    const info = inspectModel(realBytes('rsna_cls_b15.onnx'));
    const s = await ort.InferenceSession.create(realPath('rsna_cls_b15.onnx'));
    try {
      const opts = { model: 'rsna_cls_b15.onnx', dims: info.inputs[0].dims };
      const p = sessionOutputsPredictor(s, makeTensor, info.inputs[0].name, opts);
      await expect(p(new Float32Array(15 * 6 * 32 * 32), [15, 6, 32, 32])).rejects.toThrow(
        /^rsna_cls_b15\.onnx: onnxruntime failed on input 'onnx::Unsqueeze_0' \(declared \[15, 6, 224, 224\]\) fed \[15, 6, 32, 32\]: .*invalid dimensions/,
      );
      // 7 crops: one call of 15 (padded), but the outputs are (1, 15) and (1, 1): not one row per crop
      await expect(p(new Float32Array(7 * 6 * 224 * 224), [7, 6, 224, 224])).rejects.toThrow(
        "rsna_cls_b15.onnx fixes its batch at 15 (input 'onnx::Unsqueeze_0' [15, 6, 224, 224]) but its output '292' is [1, 15], not one row per item: a batch of 7 cannot be fed as calls of 15",
      );
    } finally {
      await s.release();
    }
  }, 120_000);

  it('the fixed BYU export fed 3 windows: three calls of 1, rows back in order (as one call each)', async () => {
    const info = inspectModel(realBytes('byu_unet3d_fixed.onnx'));
    const s = await ort.InferenceSession.create(realPath('byu_unet3d_fixed.onnx'));
    try {
      const pred = sessionPredictor(s, makeTensor, info.inputs[0].name, info.outputs[0].name, { model: 'byu', dims: info.inputs[0].dims });
      const n = 32 * 64 * 64;
      const x = Float32Array.from({ length: 3 * n }, (_, i) => (i * 7919) % 256);
      const all = await pred(x, [3, 1, 32, 64, 64]);
      expect(all.shape).toEqual([3, 1, 4, 8, 8]);
      for (let b = 0; b < 3; b++) {
        const one = await pred(x.slice(b * n, (b + 1) * n), [1, 1, 32, 64, 64]);
        expect(maxAbs(all.data.subarray(b * 256, (b + 1) * 256), one.data)).toBe(0);
      }
    } finally {
      await s.release();
    }
  }, 120_000);
});

// ---------------------------------------------------------------------------------------------
// spine stage 2

const SP = REFS.spine as { present: number[]; seq: { C: number[]; head: number[] }; b15: { C: number[]; head: number[] }; patientProduct: number };

/** A ModelHandle over an onnxruntime session, as the CLI and the worker build them. */
async function handle(file: string): Promise<{ h: ModelHandle; release: () => Promise<unknown> }> {
  const info = inspectModel(realBytes(file));
  const s = await ort.InferenceSession.create(realPath(file));
  const opts = { model: file, dims: info.inputs[0].dims };
  return {
    h: { name: file, info, predictor: sessionPredictor(s, makeTensor, info.inputs[0].name, info.outputs[0].name, opts), outputs: sessionOutputsPredictor(s, makeTensor, info.inputs[0].name, opts) },
    release: () => s.release(),
  };
}

/** A stage-1 "model" that gives the quantised probabilities of tests/fixtures/spine as logits (slices last), so that both sides crop from the same numbers. */
function quantisedSeg(): ModelHandle {
  const info = { inputs: [{ name: 'input', type: 'float32', dims: [1, 3, 128, 128, 128] }], outputs: [{ name: 'logits', type: 'float32', dims: [1, 7, 128, 128, 128] }] } as unknown as ModelInfo;
  return { name: 'q64', info, predictor: q64SegLogits, outputs: async () => ({ logits: await q64SegLogits() }) };
}

describe('spine stage 2 as the solution built it, through the spine preset, against PyTorch', () => {
  const dir = resolve(ROOT, 'public/samples/ct/sim_neck');
  const params: SpineParams = { ...spinePreset, ...spineParamsFromCard(JSON.parse(readFileSync(resolve(ROOT, 'public/models/spine_seg.json'), 'utf8'))) };

  async function runWith(file: string) {
    const paths = readdirSync(dir).map((n) => `sim_neck/${n}`);
    const src = spinePresetDef.inputs.sort(paths).sources[0];
    const files = src.paths.map((p) => ({ path: p, bytes: new Uint8Array(readFileSync(resolve(dir, p.slice('sim_neck/'.length)))) }));
    const item = (await spinePresetDef.inputs.read(src, files, params)).items[0];
    const cls = await handle(file);
    try {
      expect(spinePresetDef.models[1].accepts!(cls.h.info)).toBe(true);
      expect(spinePresetDef.models[0].accepts!(cls.h.info)).toBe(false);
      expect(spinePresetDef.models[1].check(cls.h.info, file, params)).toEqual([]);
      const calls: number[][] = [];
      const outputs = cls.h.outputs;
      cls.h.outputs = (b, s) => (calls.push(s), outputs(b, s));
      const r = await spinePresetDef.run(item, { seg: [quantisedSeg()], cls: [cls.h] }, params);
      return { r, calls };
    } finally {
      await cls.release();
    }
  }

  it('the sequence model (bs, 15, 6, H, W): each vertebra one item, 7 in one call; C_k and the vertebra head within 1e-4', async () => {
    const { r, calls } = await runWith('rsna_cls_seq.onnx');
    expect(calls).toEqual([[SP.present.length, 15, 6, 224, 224]]);
    SP.present.forEach((k, i) => {
      expect(Math.abs((r.vertebrae[k].fracture as number) - SP.seq.C[i]), `C${k + 1}`).toBeLessThan(1e-4);
      expect(Math.abs((r.vertebrae[k].fractureHead as number) - SP.seq.head[i]), `C${k + 1} head`).toBeLessThan(1e-4);
    });
    // no patient head: 1 - prod(1 - C_k)
    expect(r.patientSource).toBe('product');
    expect(Math.abs((r.patientOverall as number) - SP.patientProduct)).toBeLessThan(1e-4);
    console.log(`RSNA stage 2 (sequence): C_k ${r.vertebrae.map((v) => v.fracture?.toFixed(5)).join(', ')}`);
  }, 300_000);

  it('the 4D export with a fixed batch of 15: one vertebra per call (15 crops); C_k within 1e-4', async () => {
    const { r, calls } = await runWith('rsna_cls_b15.onnx');
    expect(calls).toEqual(SP.present.map(() => [15, 6, 224, 224]));
    SP.present.forEach((k, i) => {
      expect(Math.abs((r.vertebrae[k].fracture as number) - SP.b15.C[i]), `C${k + 1}`).toBeLessThan(1e-4);
      expect(Math.abs((r.vertebrae[k].fractureHead as number) - SP.b15.head[i]), `C${k + 1} head`).toBeLessThan(1e-4);
    });
  }, 300_000);

  it('model checks: a sequence model is a fracture model; another slice count or crop size is named', () => {
    const seq = inspectModel(realBytes('rsna_cls_seq.onnx'));
    const io = { name: 'seq.onnx', inputs: seq.inputs, outputs: seq.outputs };
    expect(checkSpineModel(io, 'seg', params)).toEqual(['seq.onnx: its input [batch, 15, 6, height, width] is a sequence of 2D crops (N, slices, channels, H, W), a fracture model (stage 2), not a segmentation model']);
    expect(checkSpineModel(io, 'cls', { ...params, cropSlices: 12 })).toEqual(['seq.onnx: the model takes sequences of 15 slices; the preset makes 12 crops per vertebra (crop slices)']);
    const b15 = inspectModel(realBytes('rsna_cls_b15.onnx'));
    expect(checkSpineModel({ name: 'b15.onnx', inputs: b15.inputs, outputs: b15.outputs }, 'cls', { ...params, cropSize: 192 })).toEqual([
      "b15.onnx: the model's input is [15, 6, 224, 224] but the crops are 192 x 192",
    ]);
  });
});
