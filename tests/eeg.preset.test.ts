/**
 * The EEG preset on the preset contract (src/core/presets/eeg.ts): its specs (defaults = the values
 * before the specs, validation, the page's link keys, the CLI's flags), its sort, its model check,
 * and its model check. A whole run through the contract (onnxruntime-node) against
 * `voxelbench spectrogram` is in tests/eeg.cli.test.ts.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectModel, type ModelInfo } from '../src/core/onnx/model';
import { paramCliOptions, paramsFromCli, paramsFromShareValues, paramsShareSpec, paramsShareValues } from '../src/core/preset/derive';
import { presetDefaults, presetParamsFromCard, validatePreset } from '../src/core/preset';
import { presetDef } from '../src/core/presets';
import { eegModelProblem, eegParamSpecs, eegPreset, eegPresetDef, validateEegParams, type EegParams } from '../src/core/presets/eeg';
import { decodeLink, encodeLink } from '../src/core/share/query';

const ROOT = resolve(__dirname, '..');
const FIX = resolve(ROOT, 'tests/fixtures/eeg');
const MODEL = resolve(ROOT, 'public/models/eeg_spectrogram.onnx');

/** The preset's values as they were written by hand before the specs. */
const BEFORE: EegParams = {
  classes: ['seizure', 'lpd', 'gpd', 'lrda', 'grda', 'other'],
  window: 'whole',
  windowStart: 0,
  windowRows: 300,
  trainedRows: 300,
  clip: [Math.exp(-4), Math.exp(8)],
  eps: 1e-6,
  size: [512, 512],
  camEps: 1e-5,
  occlusion: true,
  occlusionParams: { patch: [64, 64], stride: [32, 32], fill: 0, batch: 8 },
  klEpsilon: 1e-15,
};

describe('EEG parameter specs', () => {
  it('defaults are the pipeline values; the registry has the preset', () => {
    expect(eegPreset).toEqual(BEFORE);
    expect(presetDefaults(eegPresetDef)).toEqual(BEFORE);
    expect(presetDef('eeg')).toBe(eegPresetDef);
    expect(validateEegParams(eegPreset)).toEqual([]);
    expect(new Set(eegParamSpecs.map((s) => s.key)).size).toBe(eegParamSpecs.length);
  });

  it('validation names the value and the rule; the clip order is a rule across values', () => {
    const bad: EegParams = { ...eegPreset, windowStart: -1, windowRows: 0, size: [512, 4], klEpsilon: 0.5, classes: ['a'] };
    expect(validateEegParams(bad)).toEqual([
      'classes: at least 2 needed',
      'window start must be a whole number >= 0, got -1',
      'window rows must be a positive integer, got 0',
      'input size must be 2 whole numbers >= 8, got 512, 4',
      'KL epsilon must be in (0, 0.5), got 0.5',
    ]);
    expect(validateEegParams({ ...eegPreset, clip: [3, 2] })).toEqual(['clip must be 0 < low < high, got [3, 2]']);
    expect(validatePreset(eegPresetDef, { ...eegPreset, clip: [3, 2] })).toEqual(['clip must be 0 < low < high, got [3, 2]']);
    expect(validateEegParams({ ...eegPreset, occlusionParams: { ...eegPreset.occlusionParams, batch: 0 } })).toEqual(['occlusion batch must be a positive integer, got 0']);
  });

  it("the CLI's flags: --window <row> also chooses the window, --window-rows, --no-occlusion", () => {
    const opts = paramCliOptions(eegParamSpecs);
    expect(opts).toMatchObject({ window: { type: 'string' }, 'window-rows': { type: 'string' }, occlusion: { type: 'boolean' }, 'no-occlusion': { type: 'boolean' } });
    const p = paramsFromCli<EegParams>(eegParamSpecs, { window: '100', 'window-rows': '60', 'no-occlusion': true }, eegPreset);
    expect(p).toEqual({ ...eegPreset, window: 'window', windowStart: 100, windowRows: 60, occlusion: false });
    expect(paramsFromCli<EegParams>(eegParamSpecs, { 'occlusion-patch': '32' }, eegPreset).occlusionParams.patch).toEqual([32, 32]);
    expect(() => paramsFromCli(eegParamSpecs, { window: '-3' }, eegPreset)).toThrow('--window: window start must be a whole number >= 0, got -3');
    expect(eegPreset.window).toBe('whole');
  });

  it("links: the EEG page's keys (window, start, rows, clip, size, occlusion, patch, stride) read as before, one number for a patch", () => {
    const spec = paramsShareSpec(eegParamSpecs, eegPreset);
    // a link written by the page before the specs (patch and stride as one number, clip rounded)
    const old = decodeLink('?v=1&demo=eeg&window=window&start=100&rows=60&clip=0.0183156,2980.96&size=256,256&occlusion=0&patch=32&stride=16', () => spec);
    expect(old.problems).toEqual([]);
    const { params, problems } = paramsFromShareValues<EegParams>(eegParamSpecs, old.state.values, eegPreset);
    expect(problems).toEqual([]);
    expect(params).toEqual({
      ...eegPreset,
      window: 'window',
      windowStart: 100,
      windowRows: 60,
      clip: [0.0183156, 2980.96],
      size: [256, 256],
      occlusion: false,
      occlusionParams: { ...eegPreset.occlusionParams, patch: [32, 32], stride: [16, 16] },
    });
    // and written from the specs: only what differs, and it reads back
    const q = encodeLink({ demo: 'eeg', models: [], data: [], values: paramsShareValues(eegParamSpecs, params) }, spec.defaults);
    expect(q).toBe('?v=1&demo=eeg&window=window&start=100&rows=60&clip=0.0183156,2980.96&size=256,256&occlusion=0&patch=32,32&stride=16,16');
    expect(paramsFromShareValues(eegParamSpecs, decodeLink(q, () => spec).state.values, eegPreset).params).toEqual(params);
  });

  it('a model card gives the classes', () => {
    const card = JSON.parse(readFileSync(resolve(ROOT, 'public/models/eeg_spectrogram.json'), 'utf8'));
    expect(presetParamsFromCard(eegPresetDef, card, eegPreset).classes).toEqual(card.classes);
    expect(presetParamsFromCard(eegPresetDef, { classes: ['a', 'b', 'c'] }, eegPreset)).toEqual({ ...eegPreset, classes: ['a', 'b', 'c'] });
    expect(() => presetParamsFromCard(eegPresetDef, { classes: ['a'] }, eegPreset)).toThrow('model card: classes: classes: at least 2 needed');
  });
});

describe('EEG sort and model check', () => {
  it('parquet files are spectrograms (eeg_id = stem), models, cards, votes; the rest is named', () => {
    const s = eegPresetDef.inputs.sort(['a/x.parquet', 'a/votes.csv', 'm/f0.onnx', 'm/f0.json', 'a/notes.md', 'a/.DS_Store', 'b/x.parquet', 'b/y.PARQUET']);
    expect(s.sources).toEqual([
      { id: 'x', kind: 'parquet', paths: ['a/x.parquet'] },
      { id: 'y', kind: 'parquet', paths: ['b/y.PARQUET'] },
    ]);
    expect([s.models, s.cards, s.labels, s.ignored]).toEqual([['m/f0.onnx'], ['m/f0.json'], ['a/votes.csv'], ['a/notes.md']]);
    expect(s.notes).toEqual(['x: skipped b/x.parquet, kept a/x.parquet (one file per eeg_id)']);
  });

  it("the page's and the CLI's model checks, in core", () => {
    const info = (inputs: number[][], outputs: [string, number[]][]): ModelInfo =>
      ({ inputs: inputs.map((dims, i) => ({ name: `in${i}`, type: 'float32', dims })), outputs: outputs.map(([name, dims]) => ({ name, type: 'float32', dims })) }) as ModelInfo;
    const classes = eegPreset.classes;
    expect(eegModelProblem('m.onnx', inspectModel(new Uint8Array(readFileSync(MODEL))), classes)).toBeNull();
    expect(eegModelProblem('t5.onnx', inspectModel(new Uint8Array(readFileSync(resolve(FIX, 'tiny_eeg_5class.onnx')))), classes)).toBe(
      "t5.onnx: the model gives 5 classes (output 'logits' [batch, 5]); the EEG preset needs 6: seizure, lpd, gpd, lrda, grda, other.",
    );
    expect(eegModelProblem('x', info([[1, 3, 512, 512]], [['logits', [1, 6]]]), classes)).toBe('Cannot use x for EEG spectrograms: its input in0 is [1, 3, 512, 512]; the preset feeds (N, 1, H, W).');
    expect(eegModelProblem('x', info([[1, 1, 8, 8], [1]], [['logits', [1, 6]]]), classes)).toBe('x: the model has 2 inputs; the preset feeds one (N, 1, H, W) spectrogram.');
    expect(eegModelProblem('x', info([[1, 1, 8, 8]], [['maps', [1, 6, 4, 4]]]), classes)).toBe('x: the model has no (N, K) logits output; outputs: maps [1, 6, 4, 4].');
    const role = eegPresetDef.models[0];
    expect([role.role, role.cli, role.min]).toEqual(['model', 'models', 1]);
    expect(role.check(info([[1, 1, 8, 8]], [['logits', [1, 3]]]), 'x', { ...eegPreset, classes: ['a', 'b', 'c'] })).toEqual([]);
  });
});
