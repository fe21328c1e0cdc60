/**
 * The Brain MRI preset through its contract (src/core/preset/types.ts): values from the demo card,
 * sorting, model checks, a run with a stand-in model on a volume that must be conformed (labels back on
 * its grid, tissue volumes, the CSV and the NIfTI export), and the demo (public/demo/meshnet: MeshNet +
 * the conformed T1) with onnxruntime-node at the card's values, as the workbench runs it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { conform } from '../src/core/brain/conform';
import { labelsToNative } from '../src/core/brain/native';
import { parseCsvRows } from '../src/core/io/csv';
import { readNifti } from '../src/core/io/nifti';
import { labelCounts } from '../src/core/labels';
import { inspectModel, relaxSpatialDims, type ModelInfo } from '../src/core/onnx/model';
import { sessionOutputsPredictor, sessionPredictor } from '../src/core/ortPredictor';
import { missingModels, presetDefaults, presetParamsFromCard, validatePreset, type InputFile, type ModelHandle } from '../src/core/preset';
import { presetDef } from '../src/core/presets';
import { brainPreset, brainPresetDef, type BrainItem, type BrainParams, type BrainResult } from '../src/core/presets/brain';
import type { Predictor } from '../src/core/slidingWindow';

const ROOT = join(import.meta.dirname, '..');
const DEMO = join(ROOT, 'public', 'demo', 'meshnet');
const preset = brainPresetDef;
const card = JSON.parse(readFileSync(join(DEMO, 'card.json'), 'utf8')) as Record<string, unknown>;

async function readItem(path: string, id: string, p: BrainParams): Promise<BrainItem> {
  const file: InputFile = { path: `${id}/${path.slice(path.lastIndexOf('/') + 1)}`, bytes: new Uint8Array(readFileSync(path)) };
  const src = preset.inputs.sort([file.path]).sources[0];
  const { items, warnings } = await preset.inputs.read(src, [file], p);
  expect(warnings).toEqual([]);
  expect(items.map(preset.inputs.itemId)).toEqual([id]);
  return items[0];
}

describe('brain preset: values, inputs, models', () => {
  it('is registered and its defaults are the demo card', () => {
    expect(presetDef('brain')).toBe(preset);
    const d = presetDefaults(preset);
    expect(d).toEqual(brainPreset);
    expect(presetParamsFromCard(preset, card, d)).toEqual(d);
    expect(d).toMatchObject({ conform: 'auto', conformShape: [256, 256, 256], voxelSize: 1, robustRange: [0, 0.999], roi: [192, 192, 192], overlap: [0.5, 0.5, 0.5], mode: 'gaussian', sigmaScale: 0.125, swBatch: 1 });
    expect(d.labels).toEqual(['background', 'white matter', 'grey matter']);
    expect(validatePreset(preset, d)).toEqual([]);
  });

  it('reads other cards and says what is wrong with values', () => {
    const p = presetParamsFromCard(preset, { inference: { roi: [128, 128, 96], overlap: 0.25, swBatch: 2 }, classes: ['bg', 'csf', 'gm', 'wm'] }, brainPreset);
    expect(p).toMatchObject({ roi: [128, 128, 96], overlap: [0.25, 0.25, 0.25], swBatch: 2, labels: ['bg', 'csf', 'gm', 'wm'] });
    expect(() => presetParamsFromCard(preset, { roi: [0, 1, 1] }, brainPreset)).toThrow(/roi/);
    expect(validatePreset(preset, { ...brainPreset, robustRange: [0.9, 0.1] })).toEqual(['robust range must be low < high, got 0.9, 0.1']);
    expect(validatePreset(preset, { ...brainPreset, conform: 'never' as 'auto' })).toEqual(['conform must be one of auto, always, got never']);
  });

  it('sorts volumes, models and cards', () => {
    const s = preset.inputs.sort(['a/t1.nii.gz', 'b/t1.nii', 'model.onnx', 'card.json', 'notes.txt', 'sub/brain_2.NII.GZ']);
    expect(s.sources).toEqual([
      { id: 't1', kind: 'nifti', paths: ['a/t1.nii.gz'] },
      { id: 'brain_2', kind: 'nifti', paths: ['sub/brain_2.NII.GZ'] },
    ]);
    expect(s.models).toEqual(['model.onnx']);
    expect(s.cards).toEqual(['card.json']);
    expect(s.ignored).toEqual(['notes.txt']);
    expect(s.notes).toEqual(['t1: skipped b/t1.nii, kept a/t1.nii.gz (one volume per id)']);
    expect(missingModels(preset, {})).toBe('add a model');
    expect(missingModels(preset, { model: 1 })).toBeNull();
  });

  it('checks models: MeshNet as shipped (fixed 256^3) needs roi 256 or relaxed dims', () => {
    const bytes = new Uint8Array(readFileSync(join(DEMO, 'model.onnx')));
    const check = (info: ModelInfo, p: BrainParams) => preset.models[0].check(info, 'meshnet', p);
    const fixed = inspectModel(bytes);
    expect(check(fixed, brainPreset)).toEqual([
      'its input is fixed at [256, 256, 256] but the roi is [192, 192, 192]: set the roi to that size or load the model with relaxed spatial dims',
    ]);
    expect(check(fixed, { ...brainPreset, roi: [256, 256, 256] })).toEqual([]);
    const relaxed = inspectModel(relaxSpatialDims(bytes));
    expect(check(relaxed, brainPreset)).toEqual([]);
    expect(check(relaxed, { ...brainPreset, labels: ['a', 'b'] })).toEqual(['it gives 3 classes but 2 label names are set']);
  });
});

/** A stand-in model: class k scores -(x - k/4)^2, so the label is the nearest of 0, 0.25, 0.5. */
const standIn: Predictor = async (batch, shape) => {
  const n = batch.length / shape[0];
  const out = new Float32Array(batch.length * 3);
  for (let b = 0; b < shape[0]; b++)
    for (let k = 0; k < 3; k++)
      for (let i = 0; i < n; i++) {
        const x = batch[b * n + i];
        out[(b * 3 + k) * n + i] = -((x - k / 4) ** 2);
      }
  return { data: out, shape: [shape[0], 3, ...shape.slice(2)] };
};
const handle = (predictor: Predictor, info = {} as ModelInfo): ModelHandle => ({ name: 'model', info, predictor, outputs: async () => ({}) });

describe('brain preset: a volume that must be conformed (T1 crop, 64^3, 2 mm, RAS)', () => {
  const p: BrainParams = { ...brainPreset, roi: [256, 256, 256] };

  it('runs conform -> model -> argmax -> labels on the input grid, and writes volumes and the NIfTI', async () => {
    const item = await readItem(join(ROOT, 'tests', 'fixtures', 'brain', 't1_ras_2mm.nii.gz'), 't1_ras_2mm', p);
    const stages: string[] = [];
    const r: BrainResult = await preset.run(item, { model: [handle(standIn)] }, p, { onProgress: (s) => stages.push(s.stage ?? '') });
    expect(stages[0]).toBe('conform');
    expect(stages.at(-1)).toBe('model');

    // what the model saw: the conformed volume's [0, 1] input (one window: no blending)
    const c = conform(item.volume, p);
    expect(c.kept).toBe(false);
    expect(r.conformed).toMatchObject({ shape: [256, 256, 256], kept: false, affine: c.volume.affine, intensity: { srcMin: 0, srcMax: 253, scale: 1 } });
    const expected = c.input.map((x) => (x <= 0.125 ? 0 : x <= 0.375 ? 1 : 2));
    let differ = 0;
    for (let i = 0; i < expected.length; i++) if (expected[i] !== r.conformedLabels[i]) differ++;
    expect(differ).toBe(0);
    // on the input grid
    expect(r.shape).toEqual([64, 64, 64]);
    const native = labelsToNative(Uint8Array.from(expected), { affine: c.volume.affine, shape: [256, 256, 256] }, item.volume);
    expect(Array.from(r.labels)).toEqual(Array.from(native));
    const counts = labelCounts(r.labels, 3);
    expect(counts.reduce((a, b) => a + b)).toBe(64 ** 3);
    expect(counts.every((n) => n > 1000)).toBe(true);

    // the row: voxels and mL (2 mm voxels: 0.008 mL; conformed 1 mm: 0.001 mL)
    const row = preset.row(item, r, p);
    expect(row.tissues.map((t) => t.voxels)).toEqual(counts);
    expect(row.tissues.map((t) => t.name)).toEqual(['background', 'white matter', 'grey matter']);
    row.tissues.forEach((t) => {
      expect(t.ml).toBeCloseTo(t.voxels * 0.008, 9);
      expect(t.conformedMl).toBeCloseTo(t.conformedVoxels * 0.001, 9);
    });
    expect(row.tissues.map((t) => t.conformedVoxels)).toEqual(labelCounts(r.conformedLabels, 3));
    expect(JSON.parse(JSON.stringify(row))).toEqual(row); // plain JSON

    // tissue_volumes.csv
    const csv = preset.exports[0].write([row], p, null);
    const lines = parseCsvRows(csv);
    expect(lines[0]).toEqual(['id', 'label', 'name', 'voxels', 'volume_ml', 'conformed_voxels', 'conformed_volume_ml']);
    expect(lines.slice(1).map((l) => [l[0], l[2], Number(l[3]), Number(l[4])])).toEqual(row.tissues.map((t) => ['t1_ras_2mm', t.name, t.voxels, Number((t.voxels * 0.008).toFixed(3))]));

    // the labels as NIfTI, in the input's space
    const ex = preset.itemExports![0];
    expect(ex.file(item, r)).toBe('t1_ras_2mm_labels.nii.gz');
    const back = readNifti(ex.write(item, r, p), 'labels.nii.gz');
    expect(back.shape).toEqual(item.volume.shape);
    expect(back.affine).toEqual(item.volume.affine);
    expect(back.spacing).toEqual(item.volume.spacing);
    expect(back.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(back.data)).toEqual(Array.from(r.labels));
    expect(preset.transferables!(r)).toHaveLength(2);
  }, 120_000);
});

describe('brain preset: the demo (MeshNet on the conformed T1, onnxruntime-node, the card values)', () => {
  it('gives the workbench tissue volumes and argmax counts', async () => {
    const p = presetParamsFromCard(preset, card, presetDefaults(preset));
    const item = await readItem(join(DEMO, 't1.nii.gz'), 't1', p);
    // the workbench loads the demo with relaxDims (card.relaxDims): the roi is 192, not the declared 256
    const bytes = relaxSpatialDims(new Uint8Array(readFileSync(join(DEMO, 'model.onnx'))));
    const info = inspectModel(bytes);
    expect(preset.models[0].check(info, 'meshnet', p)).toEqual([]);
    const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all' });
    const tensor = (d: Float32Array, dims: readonly number[]) => new ort.Tensor('float32', d, [...dims]);
    const model: ModelHandle = {
      name: 'meshnet',
      info,
      predictor: sessionPredictor(session, tensor, info.inputs[0].name, info.outputs[0].name),
      outputs: sessionOutputsPredictor(session, tensor, info.inputs[0].name),
    };
    const r = await preset.run(item, { model: [model] }, p);
    await session.release();
    expect(r.conformed.kept).toBe(true); // 256^3 LIA: fed as it is, as niivue-onnx
    expect(r.windows).toBe(8);
    expect(r.classes).toBe(3);
    // pinned: MeshNet at roi 192, overlap 0.5, gaussian (sigma 0.125), sw batch 1, onnxruntime-node CPU;
    // MANIFEST: 15.52M / 0.52M / 0.74M. (The whole volume in one window, as niivue-onnx: 15523464 / 518540 / 735212.)
    const counts = labelCounts(r.labels, 3);
    expect(counts).toEqual([15523633, 518557, 735026]);
    const row = preset.row(item, r, p);
    expect(row.tissues.map((t) => [t.name, t.voxels, Number(t.ml.toFixed(3))])).toEqual([
      ['background', 15523633, 15523.633],
      ['white matter', 518557, 518.557],
      ['grey matter', 735026, 735.026],
    ]);
    expect(row.tissues.map((t) => t.conformedVoxels)).toEqual(counts);
    expect(preset.exports[0].write([row], p, null).split('\n').slice(1, 4)).toEqual(['t1,0,background,15523633,15523.633,15523633,15523.633', 't1,1,white matter,518557,518.557,518557,518.557', 't1,2,grey matter,735026,735.026,735026,735.026']);
    // NIfTI in the input's space: shape, affine, the labels
    const back = readNifti(preset.itemExports![0].write(item, r, p), 't1_labels.nii.gz');
    expect(back.shape).toEqual([256, 256, 256]);
    expect(back.affine).toEqual(item.volume.affine);
    expect(back.data).toBeInstanceOf(Uint8Array);
    expect(labelCounts(back.data as Uint8Array, 3)).toEqual(counts);
    // kept: labels and conformedLabels are one array, listed once for transfer
    expect(preset.transferables!(r)).toHaveLength(1);
  }, 600_000);
});
