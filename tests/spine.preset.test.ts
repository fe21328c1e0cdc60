/**
 * The spine preset on the preset contract (src/core/presets/spine.ts): its parameter specs
 * (defaults = the old preset object, messages), model cards, the file sorting (study folders,
 * nested series, NIfTI, notes, junk), and a whole run through the contract's functions with
 * onnxruntime-node on the bundled simulated DICOM study, the same CT as NIfTI and a folder without
 * DICOM, against what `voxelbench spine` writes today: the same submission.csv text, the same mask
 * NIfTI bytes and the same metric line.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { inspectModel } from '../src/core/onnx/model';
import { sessionOutputsPredictor, sessionPredictor } from '../src/core/ortPredictor';
import { missingModels, paramCliUsage, paramsFromCli, presetDefaults, presetParamsFromCard, validatePreset, type ModelHandle, type ReadResult } from '../src/core/preset';
import { presetDef, PRESET_DEFS } from '../src/core/presets';
import { spineParamsFromCard, spineParamSpecs, spinePreset, spinePresetDef, validateSpineParams, type SpineParams, type SpineRow, type SpineRunProgress } from '../src/core/presets/spine';
import type { SpineItem } from '../src/core/spine/item';
import { sortSpineFiles, sortSpinePaths } from '../src/core/spine/sources';
import { readVolume, writeNifti } from '../src/core/io';
import { flip3 } from '../src/core/spine/orient';
import type { Affine } from '../src/core/volume';
import { cli } from './cliRunner';

const ROOT = resolve(__dirname, '..');
const CT = resolve(ROOT, 'public/samples/ct');
const MODELS = resolve(ROOT, 'public/models');
const SEG = resolve(MODELS, 'spine_seg.onnx');
const CLS = resolve(MODELS, 'spine_fracture.onnx');
const REF = JSON.parse(readFileSync(resolve(ROOT, 'tests/fixtures/spine/reference.json'), 'utf8'));
const UID = REF.sim_neck.studyUid as string;
const card = (name: string): unknown => JSON.parse(readFileSync(resolve(MODELS, name), 'utf8'));

/** The preset object before the specs (src/core/presets/spine.ts as it was). */
const OLD_PRESET: SpineParams = {
  order: 'position',
  sliceCount: 128,
  size: 128,
  layout: 'slices-last',
  channels: 3,
  threshold: 0.2,
  fallbackThreshold: 0.05,
  cropSlices: 15,
  cropChannels: 5,
  cropSize: 224,
  cropBatch: 105,
  clampLow: 1e-4,
  clampHigh: 0.9999,
  patient: 'head',
};

describe('spine parameter specs', () => {
  it('declare every value once; the defaults are the old preset object', () => {
    expect(spinePreset).toEqual(OLD_PRESET);
    expect(Object.keys(spinePreset)).toEqual(Object.keys(OLD_PRESET));
    expect(spineParamSpecs.map((s) => s.key)).toEqual(Object.keys(OLD_PRESET));
    expect(presetDefaults(spinePresetDef)).toEqual(OLD_PRESET);
    expect(presetDefaults(spinePresetDef)).not.toBe(spinePreset);
    expect(validateSpineParams(spinePreset)).toEqual([]);
    expect(validatePreset(spinePresetDef, spinePreset)).toEqual([]);
  });

  it('messages: each value, then the rules across values', () => {
    expect(validateSpineParams({ ...spinePreset, threshold: 0.01, sliceCount: 0 })).toEqual([
      'slice count must be a positive integer, got 0',
      'fallback threshold must be in (0, threshold], got 0.05',
    ]);
    expect(validateSpineParams({ ...spinePreset, size: 1.5, cropBatch: -1, threshold: 1 })).toEqual([
      'size must be a positive integer, got 1.5',
      'threshold must be in (0, 1), got 1',
      'crop batch must be a positive integer, got -1',
    ]);
    expect(validateSpineParams({ ...spinePreset, clampLow: 0.5, clampHigh: 0.4 })).toEqual(['clamp must satisfy 0 < low < high < 1, got 0.5, 0.4']);
    expect(validateSpineParams({ ...spinePreset, clampHigh: 1 })).toEqual(['clamp high must be in (0, 1), got 1']);
    expect(validateSpineParams({ ...spinePreset, layout: 'rows-first' as SpineParams['layout'] })).toEqual(['layout must be one of slices-last, slices-first, got rows-first']);
    // the contract: the cross rules run once every value is fine on its own
    expect(validatePreset(spinePresetDef, { ...spinePreset, threshold: 0.01, sliceCount: 0 })).toEqual(['slice count must be a positive integer, got 0']);
    expect(validatePreset(spinePresetDef, { ...spinePreset, threshold: 0.01 })).toEqual(['fallback threshold must be in (0, threshold], got 0.05']);
  });

  it("the CLI's flags (--order, --threshold, --fallback, --layout) come from the specs", () => {
    const p = paramsFromCli(spineParamSpecs, { order: 'filename', threshold: '0.3', fallback: '0.1', layout: 'slices-first' }, spinePreset);
    expect(p).toEqual({ ...spinePreset, order: 'filename', threshold: 0.3, fallbackThreshold: 0.1, layout: 'slices-first' });
    expect(() => paramsFromCli(spineParamSpecs, { order: 'random' }, spinePreset)).toThrow('--order: order must be one of position, filename, got random');
    const usage = paramCliUsage(spineParamSpecs, spinePreset).join('\n');
    expect(usage).toMatch(/--fallback x +fallback threshold: .* \[default 0\.05\]/);
    expect(usage).toMatch(/--slice-count n +slice count \(slices\): .* \[default 128\]/);
  });
});

describe('spine model cards', () => {
  it('the thin wrapper gives only what a card says; the contract applies it over the defaults', () => {
    const seg = card('spine_seg.json');
    const cls = card('spine_fracture.json');
    expect(spineParamsFromCard(seg)).toEqual({ layout: 'slices-last', sliceCount: 128, size: 128, threshold: 0.2, fallbackThreshold: 0.05, order: 'position' });
    expect(spineParamsFromCard(cls)).toEqual({ cropSize: 224, cropBatch: 105 });
    let p = presetParamsFromCard(spinePresetDef, seg, presetDefaults(spinePresetDef));
    p = presetParamsFromCard(spinePresetDef, cls, p);
    expect(p).toEqual({ ...spinePreset, ...spineParamsFromCard(seg), ...spineParamsFromCard(cls) });
  });

  it('inputSize follows the card layout; stage-2 cards set only the crops; bad cards are named', () => {
    const slicesFirst = { preprocessing: { layout: '(N, C, slices, rows, cols)' }, inference: { inputSize: [96, 128, 128] } };
    expect(spineParamsFromCard(slicesFirst)).toEqual({ layout: 'slices-first', sliceCount: 96, size: 128 });
    expect(presetParamsFromCard(spinePresetDef, slicesFirst, spinePreset)).toEqual({ ...spinePreset, layout: 'slices-first', sliceCount: 96, size: 128 });
    // no layout in the card: (rows, cols, slices) as the original, whatever the current layout
    expect(presetParamsFromCard(spinePresetDef, { inference: { inputSize: [160, 160, 64] } }, { ...spinePreset, layout: 'slices-first' })).toMatchObject({ sliceCount: 64, size: 160, layout: 'slices-first' });
    expect(spineParamsFromCard({ preset: 'spine-fracture', preprocessing: { layout: '(N, C, slices, rows, cols)' }, inference: { roi: [256, 256], swBatch: 7, maskThreshold: 0.3 } })).toEqual({ cropSize: 256, cropBatch: 7 });
    expect(spineParamsFromCard({ preset: 'spine-seg', inference: { roi: [256, 256], swBatch: 7, inputSize: [128, 128] } })).toEqual({});
    expect(() => spineParamsFromCard({ preprocessing: { layout: '(N, rows)' } })).toThrow(/unknown preprocessing.layout/);
    expect(() => spineParamsFromCard({ inference: { inputSize: [128, 96, 64] } })).toThrow('model card: inference.inputSize 128 x 96 x 64 must have rows = cols');
    expect(() => spineParamsFromCard({ inference: { maskThreshold: 1.5 } })).toThrow('model card: inference.maskThreshold: threshold must be in (0, 1), got 1.5');
    expect(() => spineParamsFromCard([1])).toThrow('model card: expected a JSON object');
  });
});

describe('spine sort', () => {
  const ids = (paths: string[], empty: string[] = []) => sortSpinePaths(paths, empty).sources.map((s) => [s.kind, s.id, s.paths.length]);

  it("a folder of studies as the CLI's --studies DIR: one source per study folder, NIfTI per file, notes with their folder", () => {
    const s = sortSpinePaths(['neck/2.dcm', 'neck/10.dcm', 'neck/1.dcm', 'neck/ATTRIBUTION.md', 'neck_nifti.nii.gz', 'broken/readme.txt', 'labels.csv', 'seg.onnx', 'seg.json', 'notes.md']);
    expect(s.sources).toEqual([
      { id: 'broken', kind: 'dicom', paths: ['broken/readme.txt'] },
      { id: 'neck', kind: 'dicom', paths: ['neck/1.dcm', 'neck/2.dcm', 'neck/10.dcm', 'neck/ATTRIBUTION.md'] },
      { id: 'neck_nifti', kind: 'nifti', paths: ['neck_nifti.nii.gz'] },
    ]);
    expect([s.models, s.cards, s.labels, s.ignored, s.notes]).toEqual([['seg.onnx'], ['seg.json'], ['labels.csv'], ['notes.md'], []]);
  });

  it('nested studies: a study folder with one subfolder per series is one source; a dropped folder of studies keeps its name in the ids', () => {
    expect(ids(['studies/s1/series_a/1.dcm', 'studies/s1/series_a/2.dcm', 'studies/s1/series_b/1.dcm', 'studies/s2/IM0001', 'studies/s2/IM0002'])).toEqual([
      ['dicom', 'studies/s1', 3],
      ['dicom', 'studies/s2', 2],
    ]);
    // one study dropped on its own: its series folders are the sources (as --studies study)
    expect(ids(['study/a/1.dcm', 'study/b/1.dcm'])).toEqual([
      ['dicom', 'study/a', 1],
      ['dicom', 'study/b', 1],
    ]);
    // one series folder: the folder itself
    expect(ids(['sim_neck/1.dcm', 'sim_neck/2.dcm', 'README.md'])).toEqual([['dicom', 'sim_neck', 2]]);
    // loose files
    expect(ids(['1.dcm', '2.dcm'])).toEqual([['dicom', 'dropped files', 2]]);
    // loose files next to study folders: one more source
    expect(ids(['studies/a/1.dcm', 'studies/x.dcm'])).toEqual([
      ['dicom', 'studies', 1],
      ['dicom', 'studies/a', 1],
    ]);
  });

  it('NIfTI files with the same name keep their folder; junk is dropped; empty folders keep a source', () => {
    const s = sortSpinePaths(['s0001/ct.nii.gz', 's0002/ct.nii.gz', 'other.nii', '.DS_Store', 'studies/a/.hidden', 'studies/a/Thumbs.db', 'studies/a/DICOMDIR', 'studies/a/1.dcm'], ['studies/empty', 'studies/a/sub']);
    expect(s.sources.map((x) => [x.kind, x.id, x.paths])).toEqual([
      ['nifti', 'other', ['other.nii']],
      ['nifti', 's0001/ct', ['s0001/ct.nii.gz']],
      ['nifti', 's0002/ct', ['s0002/ct.nii.gz']],
      ['dicom', 'studies/a', ['studies/a/1.dcm']],
      ['dicom', 'studies/empty', []],
    ]);
    expect(s.ignored).toEqual([]);
    // a NIfTI named like a study folder: both kept, the file by its name
    const n = sortSpinePaths(['neck/1.dcm', 'neck.nii.gz']);
    expect(n.sources.map((x) => [x.kind, x.id])).toEqual([
      ['dicom', 'neck'],
      ['nifti', 'neck.nii.gz'],
    ]);
    expect(n.notes).toEqual([]);
  });

  it('the page keeps its handles: the same rules over opaque files', () => {
    const s = sortSpineFiles([{ path: 'a/1.dcm', file: 1 }, { path: 'a/2.dcm', file: 2 }, { path: 'b.nii.gz', file: 3 }]);
    expect(s.sources.map((x) => (x.kind === 'dicom' ? x.files.map((f) => f.file) : [x.file.file]))).toEqual([[1, 2], [3]]);
  });
});

// ---------------------------------------------------------------------------------------------
// a whole run through the contract vs `voxelbench spine`

const tmp = mkdtempSync(join(tmpdir(), 'voxelbench-spine-preset-'));
const STUDIES = join(tmp, 'studies');
const OUT = join(tmp, 'out');
const LABELS = join(tmp, 'labels.csv');

/** gzip bytes with the header's MTIME (bytes 4..7, the time of writing) zeroed: two runs of the same writer differ only there. */
function withoutGzipTime(b: Uint8Array): Uint8Array {
  expect([b[0], b[1]]).toEqual([0x1f, 0x8b]);
  const c = b.slice();
  c.fill(0, 4, 8);
  return c;
}

function walk(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = prefix ? `${prefix}/${name}` : name;
    if (statSync(join(dir, name)).isDirectory()) out.push(...walk(join(dir, name), p));
    else out.push(p);
  }
  return out;
}

async function handle(path: string): Promise<ModelHandle> {
  // as the CLI makes them (src/cli/spine.ts)
  const s = await ort.InferenceSession.create(path, { intraOpNumThreads: 2 });
  const makeTensor = (d: Float32Array, dims: readonly number[]) => new ort.Tensor('float32', d, dims);
  return {
    name: path.slice(path.lastIndexOf('/') + 1),
    info: inspectModel(new Uint8Array(readFileSync(path))),
    predictor: sessionPredictor(s, makeTensor, s.inputNames[0], s.outputNames[0]),
    outputs: sessionOutputsPredictor(s, makeTensor, s.inputNames[0]),
  };
}

interface Ran {
  item: SpineItem;
  row: SpineRow;
  masks: { file: string; bytes: Uint8Array };
  labels: Uint8Array;
}

let cliRun: Awaited<ReturnType<typeof cli>>;
let reads: (ReadResult<SpineItem> | Error)[];
let ran: Ran[];
let progress: SpineRunProgress[];
let readProgress: number;
let models: { seg: ModelHandle[]; cls: ModelHandle[] };
let params: SpineParams;

beforeAll(async () => {
  mkdirSync(join(STUDIES, 'neck'), { recursive: true });
  for (const f of readdirSync(join(CT, 'sim_neck'))) copyFileSync(join(CT, 'sim_neck', f), join(STUDIES, 'neck', f));
  copyFileSync(join(CT, 'sim_neck.nii.gz'), join(STUDIES, 'neck_nifti.nii.gz'));
  mkdirSync(join(STUDIES, 'broken'));
  writeFileSync(join(STUDIES, 'broken', 'readme.txt'), 'not a scan');
  writeFileSync(LABELS, readFileSync(join(CT, 'sim_neck_labels.csv'), 'utf8') + 'neck_nifti,1,0,0,0,0,1,0,0\n');
  const cliDone = cli(['spine', '--seg', SEG, '--cls', CLS, '--studies', STUDIES, '--out', OUT, '--labels', LABELS, '--quiet']);

  const def = presetDef('spine') as typeof spinePresetDef;
  params = presetParamsFromCard(def, card('spine_seg.json'), presetDefaults(def));
  params = presetParamsFromCard(def, card('spine_fracture.json'), params);
  models = { seg: [await handle(SEG)], cls: [await handle(CLS)] };
  const sorted = def.inputs.sort(walk(STUDIES));
  reads = [];
  ran = [];
  progress = [];
  readProgress = 0;
  for (const src of sorted.sources) {
    const files = src.paths.map((p) => ({ path: p, bytes: new Uint8Array(readFileSync(join(STUDIES, p))) }));
    const r = await def.inputs.read(src, files, params, { onProgress: (p) => (readProgress = Math.max(readProgress, p.done)) }).catch((e: Error) => e);
    reads.push(r);
    if (r instanceof Error) continue;
    for (const item of r.items) {
      const result = await def.run(item, models, params, { onProgress: (p) => progress.push(p) });
      const row = def.row(item, result, params);
      const x = def.itemExports![0];
      ran.push({ item, row: JSON.parse(JSON.stringify(row)) as SpineRow, masks: { file: x.file(item, result), bytes: x.write(item, result, params) }, labels: result.labels });
    }
  }
  cliRun = await cliDone;
}, 300_000);

describe('the spine preset through the contract = voxelbench spine', () => {
  it('is registered; its model roles take the models by input rank and check them against the values', () => {
    expect(PRESET_DEFS.spine).toBe(spinePresetDef);
    const [seg, cls] = spinePresetDef.models;
    expect([seg.role, seg.min, seg.cli, cls.role, cls.min, cls.cli]).toEqual(['seg', 1, 'seg', 'cls', 0, 'cls']);
    expect([seg.accepts!(models.seg[0].info), seg.accepts!(models.cls[0].info), cls.accepts!(models.cls[0].info), cls.accepts!(models.seg[0].info)]).toEqual([true, false, true, false]);
    expect(seg.check(models.seg[0].info, 'spine_seg.onnx', params)).toEqual([]);
    expect(cls.check(models.cls[0].info, 'spine_fracture.onnx', params)).toEqual([]);
    expect(seg.check(models.cls[0].info, 'spine_fracture.onnx', params)).toEqual(['spine_fracture.onnx: a segmentation model needs a 5D input (N, C, D, H, W); this one has [n, 6, h, w]']);
    expect(seg.check(models.seg[0].info, 'spine_seg.onnx', { ...params, channels: 1 })).toEqual(['spine_seg.onnx: the model takes 3 channel(s); the preset repeats the volume to 1']);
    expect(missingModels(spinePresetDef, { cls: 1 })).toBe('add a segmentation model');
    expect(missingModels(spinePresetDef, { seg: 1 })).toBeNull();
  });

  it('reads the study folder (DICOM), the NIfTI and names the folder without DICOM', () => {
    expect(cliRun.code).toBe(1); // the broken study
    expect(reads).toHaveLength(3);
    expect(reads[0]).toBeInstanceOf(Error);
    expect((reads[0] as Error).message).toBe('broken/: no DICOM files here (only readme.txt)');
    const [dicom, nifti] = reads.slice(1) as ReadResult<SpineItem>[];
    expect(dicom.items.map((i) => [i.id, i.kind, i.studyUid, i.seriesIndex, i.shape])).toEqual([[UID, 'dicom', UID, 0, [92, 160, 160]]]);
    expect(dicom.items[0].seriesUid).toBe(REF.sim_neck.seriesUid);
    expect(dicom.skipped).toEqual([]);
    expect(readProgress).toBe(92);
    expect(nifti.items.map((i) => [i.id, i.kind, i.studyUid, i.shape, i.order])).toEqual([['neck_nifti', 'nifti', 'neck_nifti', [92, 160, 160], null]]);
    // the sample NIfTI is stored in DICOM order already
    expect(nifti.items[0].flips).toEqual([false, false, false]);
    expect(spinePresetDef.inputs.itemId(nifti.items[0])).toBe('neck_nifti');
  });

  it('writes the same masks, byte for byte (but the gzip time stamp), under the same names', () => {
    const written = readdirSync(OUT).filter((f) => f.endsWith('.nii.gz')).sort();
    expect(ran.map((r) => r.masks.file).sort()).toEqual(written);
    expect(written).toEqual([`${UID}.nii.gz`, 'neck_nifti.nii.gz']);
    for (const r of ran) {
      const cliBytes = new Uint8Array(readFileSync(join(OUT, r.masks.file)));
      expect(r.masks.bytes.length).toBe(cliBytes.length);
      expect(Buffer.from(withoutGzipTime(r.masks.bytes)).equals(Buffer.from(withoutGzipTime(cliBytes)))).toBe(true);
      const v = readVolume(r.masks.bytes, r.masks.file);
      expect(v.shape).toEqual([92, 160, 160]);
      expect(Math.max(...new Set(v.data))).toBe(7);
    }
  });

  it('writes the same submission.csv and prints the same metric line', () => {
    const rows = ran.map((r) => r.row);
    const sub = spinePresetDef.exports[0];
    expect(sub.file).toBe('submission.csv');
    expect(sub.available!(rows, params)).toBe(true);
    const text = sub.write(rows, params, null);
    expect(text).toBe(readFileSync(join(OUT, 'submission.csv'), 'utf8'));
    expect(text.split('\n')).toHaveLength(18);
    const labels = spinePresetDef.labels!.parse(readFileSync(LABELS, 'utf8'), 'labels.csv', params);
    const m = spinePresetDef.labels!.metric(rows, labels, params);
    const cliLine = cliRun.stdout.split('\n').find((l) => l.startsWith('RSNA 2022 weighted log loss'));
    expect(m.lines).toEqual([cliLine]);
    expect(m.lowerIsBetter).toBe(true);
    expect(m.score).toBeGreaterThan(0);
    expect(m.lines[0]).toMatch(/^RSNA 2022 weighted log loss: \d\.\d{4} \(2 studies, 16 rows\)$/);
  });

  it('rows are plain JSON in the CT voxel order; the progress reaches the end of stage 2', () => {
    const [dicom, nifti] = ran.map((r) => r.row);
    expect(dicom.vertebrae.map((v) => v.name)).toEqual(['C1', 'C2', 'C3', 'C4', 'C5', 'C6', 'C7']);
    expect(dicom.patientSource).toBe('product');
    expect(dicom.patientOverall).toBeGreaterThan(0);
    // the NIfTI is the same CT flipped: same counts, slice ranges in its own (reversed) order
    // the same CT as NIfTI (HU, DICOM order): the same masks and rows
    nifti.vertebrae.forEach((v, k) => {
      const d = dicom.vertebrae[k];
      expect([v.voxels, v.sliceRange, v.centre]).toEqual([d.voxels, d.sliceRange, d.centre]);
      expect(v.volumeMl).toBeCloseTo(d.volumeMl, 4); // NIfTI spacing is float32
      expect(v.fracture).toBeCloseTo(d.fracture!, 6);
    });
    expect(new Set(progress.map((p) => p.stage))).toEqual(new Set(['preprocess', 'segment', 'crops', 'classify']));
    expect(progress.at(-1)!.fraction).toBe(1);
    expect(progress.every((p) => p.fraction >= 0 && p.fraction <= 1 && p.elapsedMs >= 0 && p.etaMs >= 0)).toBe(true);
  });

  it('a NIfTI stored feet first with flipped rows and columns: run in head-first order, masks and rows back in its own voxel order', async () => {
    const nii = readVolume(new Uint8Array(readFileSync(join(CT, 'sim_neck.nii.gz'))), 'sim_neck.nii.gz');
    const shape = nii.shape as [number, number, number];
    const axes: [boolean, boolean, boolean] = [true, true, true];
    const a = nii.affine.map((r) => [...r]) as Affine;
    axes.forEach((_, ax) => {
      const c = 2 - ax; // shape axis 0 = k (column 2), 1 = j, 2 = i
      for (let r = 0; r < 3; r++) {
        a[r][3] += a[r][c] * (shape[ax] - 1);
        a[r][c] = -a[r][c];
      }
    });
    const bytes = writeNifti({ ...nii, data: flip3(nii.data, shape, axes), affine: a });
    const src = spinePresetDef.inputs.sort(['feet_first.nii.gz']).sources[0];
    const { items } = await spinePresetDef.inputs.read(src, [{ path: 'feet_first.nii.gz', bytes }], params);
    expect(items[0].flips).toEqual(axes);
    expect(items[0].warnings).toContain('slices run feet first: reversed to head first (the model expects head first)');
    const r = await spinePresetDef.run(items[0], { seg: models.seg }, params);
    const dicom = ran[0];
    expect(Buffer.from(r.labels).equals(Buffer.from(flip3(dicom.labels, shape, axes)))).toBe(true);
    const row = spinePresetDef.row(items[0], r, params);
    row.vertebrae.forEach((v, k) => {
      const d = dicom.row.vertebrae[k];
      expect(v.voxels).toBe(d.voxels);
      expect(v.sliceRange).toEqual(d.sliceRange ? [91 - d.sliceRange[1], 91 - d.sliceRange[0]] : null);
      if (v.centre) v.centre.forEach((c, i) => expect(c).toBeCloseTo(shape[i] - 1 - d.centre![i], 9));
    });
    expect(row.patientOverall).toBeUndefined();
    const m = readVolume(spinePresetDef.itemExports![0].write(items[0], r, params), 'm.nii.gz');
    expect(m.affine.flat().map((x) => Number(x.toFixed(4)))).toEqual(a.flat().map((x) => Number(x.toFixed(4))));
    expect(Buffer.from(m.data as Uint8Array).equals(Buffer.from(r.labels))).toBe(true);
  }, 120_000);

  it('no fracture stage: no submission.csv, and the metric says why', () => {
    const rows = ran.map((r) => ({ ...r.row, patientOverall: undefined, vertebrae: r.row.vertebrae.map(({ fracture: _f, ...v }) => v) }));
    expect(spinePresetDef.exports[0].available!(rows, params)).toBe(false);
    const labels = spinePresetDef.labels!.parse(readFileSync(LABELS, 'utf8'), 'labels.csv', params);
    expect(() => spinePresetDef.labels!.metric(rows, labels, params)).toThrow(/needs fracture probabilities/);
    const none = spinePresetDef.labels!.parse('StudyInstanceUID,patient_overall,C1,C2,C3,C4,C5,C6,C7\nx,0,0,0,0,0,0,0,0\n', 'l.csv', params);
    expect(() => spinePresetDef.labels!.metric(ran.map((r) => r.row), none, params)).toThrow('none of the 2 studies is in the labels');
  });
});

describe('several series in one study folder', () => {
  it('come out as several items, largest first; the study keeps one submission row and the other series its own mask name', async () => {
    const dir = join(CT, 'sim_neck');
    const names = readdirSync(dir);
    const files = names.map((n) => ({ path: `study/${n}`, bytes: new Uint8Array(readFileSync(join(dir, n))) }));
    // a second, shorter series: 10 of the slices with another SeriesInstanceUID (same length)
    const uid = REF.sim_neck.seriesUid as string;
    const other = uid.slice(0, -1) + (uid.endsWith('1') ? '2' : '1');
    for (const n of names.slice(0, 10)) {
      const b = Buffer.from(readFileSync(join(dir, n)));
      let at = b.indexOf(uid, 0, 'latin1');
      expect(at).toBeGreaterThan(0);
      while (at >= 0) {
        b.write(other, at, 'latin1');
        at = b.indexOf(uid, at + 1, 'latin1');
      }
      files.push({ path: `study/b_${n}`, bytes: new Uint8Array(b) });
    }
    const sorted = spinePresetDef.inputs.sort(files.map((f) => f.path));
    expect(sorted.sources.map((s) => [s.id, s.paths.length])).toEqual([['study', 102]]);
    const r = await spinePresetDef.inputs.read(sorted.sources[0], files, spinePreset);
    expect(r.items.map((i) => [i.id, i.seriesUid, i.seriesIndex, i.shape[0]])).toEqual([
      [UID, uid, 0, 92],
      [UID, other, 1, 10],
    ]);
    expect(r.warnings[0]).toMatch(/^2 series in this folder, largest first: /);
    const x = spinePresetDef.itemExports![0];
    const fake = { labels: new Uint8Array(0), vertebrae: [], timings: { preprocessMs: 0, segMs: 0, clsMs: 0 } };
    expect(r.items.map((i) => x.file(i, fake))).toEqual([`${UID}.nii.gz`, `${UID}_${other}.nii.gz`]);
    const rows = r.items.map((i) => spinePresetDef.row(i, { ...fake, vertebrae: [{ name: 'C1', present: true, voxels: 1, volumeMl: 1, sliceRange: [0, 0], meanProb: 1, fracture: i.seriesIndex ? 0.9 : 0.1 }], patientOverall: 0.5 }, spinePreset));
    const csv = spinePresetDef.exports[0].write(rows, spinePreset, null).split('\n');
    expect(csv).toHaveLength(10);
    expect(csv[1]).toBe(`${UID}_C1,0.1`);
    // transfers: the item's two arrays (HU and stored), each once
    expect(spinePresetDef.transferables!(r.items[0])).toHaveLength(2);
    // cancel: an aborted signal stops the decoding
    const ac = new AbortController();
    const cancelled = spinePresetDef.inputs.read(sorted.sources[0], files, spinePreset, { signal: ac.signal, onProgress: (p) => p.done === 20 && ac.abort() });
    await expect(cancelled).rejects.toMatchObject({ name: 'AbortError' });
  }, 60_000);
});
