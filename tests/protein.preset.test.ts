/**
 * The protein preset on the preset contract (src/core/presets/protein.ts): its specs (defaults =
 * the values before the specs, validation, model cards, the page's link keys, the CLI's --segment
 * and --rle), its sort on bare paths and its read, its model check. Whole runs through the contract
 * (onnxruntime-node) against `voxelbench protein` are in tests/protein.cli.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectModel } from '../src/core/onnx/model';
import { paramsFromCli, paramsFromShareValues, paramsShareSpec } from '../src/core/preset/derive';
import { presetDefaults, presetParamsFromCard } from '../src/core/preset';
import { presetDef } from '../src/core/presets';
import { proteinModelProblem, proteinParamsFromCard, proteinParamSpecs, proteinPreset, proteinPresetDef, validateProteinParams, type ProteinParams } from '../src/core/presets/protein';
import { readProteinSource, type ProteinItem } from '../src/core/protein/sources';
import { decodeLink } from '../src/core/share/query';

const ROOT = resolve(__dirname, '..');
const SAMPLES = resolve(ROOT, 'public/samples/protein');
const MODEL = resolve(ROOT, 'public/models/protein_localisation.onnx');
const CARD = resolve(ROOT, 'public/models/protein_localisation.json');
const FIX = resolve(ROOT, 'tests/fixtures/protein');
const IDS = ['sim_protein_001', 'sim_protein_002'];
const CH = ['red', 'green', 'blue', 'yellow'];

/** The preset's values as they were written by hand before the specs (segment and rle were CLI options). */
const BEFORE = {
  classes: proteinPreset.classes,
  negativeClass: 18,
  inputSize: [512, 512],
  mean: [0.485, 0.456, 0.406, 0.485],
  std: [0.229, 0.224, 0.225, 0.229],
  camEps: 1e-5,
  minProbability: 0.01,
  percentile: 99,
  keepRatio: 0.02,
  iouThreshold: 0.6,
  segmentation: { nucleusThresholdFactor: 1, minNucleusArea: 150, cellThresholdFactor: 0.5 },
  occlusion: { patch: [64, 64], stride: [32, 32], fill: 0, batch: 8 },
  segment: false,
  rle: 'hpa',
};

describe('protein parameter specs', () => {
  it('defaults are the pipeline values (19 HPA classes, Negative last); the registry has the preset', () => {
    expect(proteinPreset).toEqual(BEFORE);
    expect(proteinPreset.classes.length).toBe(19);
    expect(proteinPreset.classes[18]).toBe('Negative');
    expect(presetDefaults(proteinPresetDef)).toEqual(BEFORE);
    expect(presetDef('protein')).toBe(proteinPresetDef);
    expect(validateProteinParams(proteinPreset)).toEqual([]);
  });

  it('validation names the value and the rule; Negative must be a class', () => {
    const bad: ProteinParams = { ...proteinPreset, percentile: 101, std: [0.2, 0, 0.2, 0.2], inputSize: [512, 5000], occlusion: { ...proteinPreset.occlusion, stride: [0, 0] } };
    expect(validateProteinParams(bad)).toEqual([
      'input size must be 2 whole numbers in [8, 4096], got 512, 5000',
      'std must be 4 values > 0, got 0.2, 0, 0.2, 0.2',
      'percentile must be in [0, 100], got 101',
      'occlusion stride must be 2 positive integers, got 0, 0',
    ]);
    expect(validateProteinParams({ ...proteinPreset, negativeClass: 19 })).toEqual(['negativeClass must be a class index 0..18']);
    expect(validateProteinParams({ ...proteinPreset, rle: 'png' as never })).toEqual(['mask encoding must be one of hpa, counts, got png']);
  });

  it('model cards: classes (Negative found by name, else the last), normalisation and size; other forms are not read', () => {
    const card = JSON.parse(readFileSync(CARD, 'utf8'));
    expect(proteinParamsFromCard(card)).toEqual({ ...proteinPreset, classes: card.classes, negativeClass: card.classes.indexOf('Negative') });
    const p = proteinParamsFromCard({ classes: ['a', 'negative', 'b'], preprocessing: { normalise: { mean: [0.1, 0.2, 0.3, 0.4], std: [1, 2] }, resize: { size: [256, 256] } } });
    expect(p).toEqual({ ...proteinPreset, classes: ['a', 'negative', 'b'], negativeClass: 1, mean: [0.1, 0.2, 0.3, 0.4], inputSize: [256, 256] });
    expect(proteinParamsFromCard({ classes: ['a', 'b'] }).negativeClass).toBe(1);
    expect(proteinParamsFromCard({ preprocessing: { resize: { size: [0, 5] } } })).toEqual(proteinPreset);
    expect(presetParamsFromCard(proteinPresetDef, card, proteinPreset)).toEqual(proteinParamsFromCard(card));
  });

  it("links: the protein page's keys (the keys, nested ones dotted) read as before; the CLI's --segment and --rle", () => {
    const spec = paramsShareSpec(proteinParamSpecs, proteinPreset);
    const d = decodeLink('?v=1&demo=protein&keepRatio=0.05&segmentation.minNucleusArea=100&occlusion.patch=32,32&iouThreshold=0.5', () => spec);
    expect(d.problems).toEqual([]);
    const { params, problems } = paramsFromShareValues<ProteinParams>(proteinParamSpecs, d.state.values, proteinPreset);
    expect(problems).toEqual([]);
    expect(params).toEqual({
      ...proteinPreset,
      keepRatio: 0.05,
      iouThreshold: 0.5,
      segmentation: { ...proteinPreset.segmentation, minNucleusArea: 100 },
      occlusion: { ...proteinPreset.occlusion, patch: [32, 32] },
    });
    expect(paramsFromCli<ProteinParams>(proteinParamSpecs, { segment: true, rle: 'counts' }, proteinPreset)).toEqual({ ...proteinPreset, segment: true, rle: 'counts' });
    expect(() => paramsFromCli(proteinParamSpecs, { rle: 'zip' }, proteinPreset)).toThrow('--rle: mask encoding must be one of hpa, counts, got zip');
  });
});

describe('protein sort, read and model check', () => {
  it('RGBY sets by id (channels in order), TIFFs, masks as extra; models, cards, labels; notes and the rest', () => {
    const s = proteinPresetDef.inputs.sort([
      'd/a_yellow.png', 'd/a_red.png', 'd/a_blue.png', 'd/a_green.png', 'masks/a_cells.png',
      'd/b.tif', 'd/c_red.png', 'd/c_blue.png', 'm/model.onnx', 'm/model.json', 'cell_labels.csv',
      'd/notes.txt', 'd/.DS_Store', 'masks/z_cells.png', 'd/e.tif', 'd/e_red.png', 'd/e_green.png', 'd/e_blue.png', 'd/e_yellow.png', 'd2/c_red.png',
    ]);
    expect(s.sources).toEqual([
      { id: 'a', kind: 'rgby', paths: ['d/a_red.png', 'd/a_green.png', 'd/a_blue.png', 'd/a_yellow.png'], extra: { cells: 'masks/a_cells.png' } },
      { id: 'b', kind: 'tiff', paths: ['d/b.tif'] },
      { id: 'c', kind: 'rgby', paths: ['d2/c_red.png', 'd/c_blue.png'] },
      { id: 'e', kind: 'rgby', paths: ['d/e_red.png', 'd/e_green.png', 'd/e_blue.png', 'd/e_yellow.png'] },
    ]);
    expect([s.models, s.cards, s.labels]).toEqual([['m/model.onnx'], ['m/model.json'], ['cell_labels.csv']]);
    expect(s.ignored).toEqual(['d/notes.txt', 'masks/z_cells.png']);
    expect(s.notes).toEqual(['c: two red files (d/c_red.png, d2/c_red.png); d2/c_red.png is used', 'e: d/e.tif is not read (the channel files of e are)']);
  });

  it('read: a set with its mask, a 4-channel TIFF, and an incomplete set named as before', async () => {
    const files = (paths: string[], dir: string) => paths.map((p) => ({ path: p, bytes: new Uint8Array(readFileSync(join(dir, p.slice(p.lastIndexOf('/') + 1)))) }));
    const s = proteinPresetDef.inputs.sort([...CH, 'cells'].map((c) => `x/${IDS[0]}_${c}.png`)).sources[0];
    const r = await proteinPresetDef.inputs.read(s, files([...s.paths, s.extra!.cells], SAMPLES), proteinPreset);
    const item = r.items[0] as ProteinItem;
    expect([item.fov.id, item.fov.width, item.fov.height, item.cellsName]).toEqual([IDS[0], 512, 512, `${IDS[0]}_cells.png`]);
    expect(new Set(item.cells).size).toBe(8); // background + 7 cells
    const t = proteinPresetDef.inputs.sort(['tiff_rgba8.tif']).sources[0];
    const tr = await readProteinSource(t, files(t.paths, FIX));
    expect([tr.fov.id, tr.fov.width, tr.fov.height, tr.cells]).toEqual(['tiff_rgba8', 30, 24, null]);
    const broken = proteinPresetDef.inputs.sort(['b_red.png', 'b_green.png', 'b_blue.png']).sources[0];
    await expect(readProteinSource(broken, [])).rejects.toThrow('b: missing the yellow channel (b_yellow.png); a field of view needs red, green, blue and yellow');
    await expect(readProteinSource(s, [])).rejects.toThrow(`${IDS[0]}: ${IDS[0]}_red.png was not given`);
  });

  it("the page's model check, in core", () => {
    const demo = inspectModel(new Uint8Array(readFileSync(MODEL)));
    const five = inspectModel(new Uint8Array(readFileSync(resolve(FIX, 'tiny_protein_5cls.onnx'))));
    expect(proteinModelProblem(demo, 19)).toBeNull();
    expect(proteinModelProblem(five, 19)).toMatch(/^the model gives 5 classes \(.*\); the protein preset needs 19 \(the HPA classes, Negative last\)$/);
    const role = proteinPresetDef.models[0];
    expect(role.check(demo, 'm.onnx', proteinPreset)).toEqual([]);
    expect(role.check(five, 'five.onnx', proteinPreset)[0]).toMatch(/^Cannot use five\.onnx for protein localisation: the model gives 5 classes/);
  });
});
