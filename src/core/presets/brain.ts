/**
 * The "Brain MRI" preset: grey / white matter segmentation of a T1-weighted brain MRI with the brainchop
 * MeshNet tissue model, as niivue-onnx runs it (public/demo/meshnet): conform the volume (niivue's
 * conform: 256^3, 1 mm, LIA, trilinear, robust 0..0.999 scaling to uint8; src/core/brain/conform.ts
 * has the steps and links), min-max to [0, 1], the model over sliding windows (the demo card: roi 192,
 * overlap 0.5, gaussian), argmax, the labels back on the input's grid (nearest), tissue volumes in mL.
 * Every value is declared once in `brainParamSpecs`.
 */
import { conform, type ConformParams, type IntensityScale } from '../brain/conform';
import { labelsToNative, voxelMl } from '../brain/native';
import { formatCsvRows } from '../io/csv';
import { readNifti, writeNifti } from '../io/nifti';
import { argmax, labelCounts } from '../labels';
import type { ModelInfo } from '../onnx/model';
import { paramDefaults, type ParamSpecs } from '../preset/params';
import { sessionZ } from '../preset/derive';
import { z } from '../zod';
import { robustRange, slicePlane, type InputFacts } from '../preset/expects';
import type { ModelRole, Preset, PresetMemory, RunOptions, SortedInputs } from '../preset/types';
import { estimateRunPeak, modelsPeak } from '../onnx/memory';
import { slidingWindowInference, type Predictor } from '../slidingWindow';
import { type Affine, type Volume, makeVolume, spatialShape } from '../volume';
import { LIMITS } from '../io/limits';

export interface BrainParams extends ConformParams {
  /** Sliding-window size [D, H, W] on the conformed grid. */
  roi: [number, number, number];
  overlap: [number, number, number];
  mode: 'constant' | 'gaussian';
  sigmaScale: number;
  swBatch: number;
  /** Names of the model's output classes, in channel order. */
  labels: string[];
}

const AXES = ['Z', 'Y', 'X'] as const;

/** Every value of the preset, declared once. The inference defaults are the demo card's (public/demo/meshnet/card.json). */
export const brainParamSpecs: ParamSpecs = [
  {
    key: 'conform', label: 'conform', type: 'choice', choices: ['auto', 'always'], default: 'auto', group: 'conform',
    choiceLabels: { auto: 'auto (keep a 256³ LIA volume as it is, as niivue-onnx)', always: 'always (reslice every volume)' },
    help: 'a volume that already is the conformed size and LIA is fed as it is (niivue-onnx); "always" conforms it too',
  },
  {
    key: 'conformShape', label: 'conformed size', type: 'numbers', axes: AXES, default: [256, 256, 256], integer: true, min: 1, limit: LIMITS.maxRoiSide, unit: 'voxels', group: 'conform', advanced: true,
    help: 'the grid the volume is resliced to (FreeSurfer: 256³)',
  },
  { key: 'voxelSize', label: 'voxel size', type: 'number', min: 0, minExclusive: true, default: 1, unit: 'mm', group: 'conform', advanced: true, help: 'conformed voxel size (FreeSurfer: 1 mm)' },
  {
    key: 'interpolation', label: 'interpolation', type: 'choice', choices: ['linear', 'nearest'], default: 'linear', group: 'conform', advanced: true,
    help: 'reslicing: trilinear (niivue conform) or nearest neighbour',
  },
  {
    key: 'robustRange', label: 'robust range', type: 'numbers', axes: ['low', 'high'], default: [0, 0.999], min: 0, max: 1, group: 'conform', advanced: true,
    help: 'histogram fractions mapped to 0 and 255 when the volume is scaled to uint8 (FreeSurfer: 0, 0.999); uint8 volumes are not rescaled',
  },
  { key: 'roi', label: 'roi', type: 'numbers', axes: AXES, default: [192, 192, 192], integer: true, min: 1, limit: LIMITS.maxRoiSide, unit: 'voxels', group: 'inference', help: 'sliding-window size on the conformed grid', card: ['roi', 'inference.roi'] },
  {
    key: 'overlap', label: 'overlap', type: 'numbers', axes: AXES, default: [0.5, 0.5, 0.5], min: 0, max: 1, maxExclusive: true, broadcast: true, group: 'inference',
    help: 'fraction of the roi that neighbouring windows share, per axis', card: ['overlap', 'inference.overlap'],
  },
  {
    key: 'mode', label: 'blend', type: 'choice', choices: ['constant', 'gaussian'], default: 'gaussian', group: 'inference',
    help: 'how overlapping windows are weighted', card: ['mode', 'inference.mode'],
  },
  { key: 'sigmaScale', label: 'sigma scale', type: 'number', min: 0, minExclusive: true, limit: LIMITS.maxSigmaScale, default: 0.125, group: 'inference', advanced: true, help: 'gaussian sigma as a fraction of the roi', card: ['sigmaScale', 'inference.sigmaScale'] },
  { key: 'swBatch', label: 'sw batch', type: 'number', integer: true, min: 1, limit: LIMITS.maxSwBatch, default: 1, group: 'inference', help: 'windows per model call', card: ['swBatch', 'inference.swBatch'] },
  {
    key: 'labels', label: 'label names', type: 'strings', default: ['background', 'white matter', 'grey matter'], minCount: 2, live: true, group: 'output', link: 'names',
    help: "names of the model's classes in channel order (the card's labels)", card: ['labels', 'classes'],
  },
];

export const brainPreset: BrainParams = paramDefaults<BrainParams>(brainParamSpecs);

export const brainPresetInfo = {
  task: 'grey / white matter segmentation of a T1-weighted brain MRI, with tissue volumes in mL',
  source: 'brainchop MeshNet tissue model (model5_gw_ae) as niivue/niivue-onnx runs it',
  input: 'NIfTI volumes (.nii, .nii.gz) of any orientation and voxel size; the first volume of a 4D file',
  model:
    'ONNX (N, 1, D, H, W) in [0, 1] -> class scores (N, classes, D, H, W) on the conformed grid (256³, 1 mm, LIA, voxel x fastest); ' +
    'argmax gives the label; several models: their scores are summed',
  output: 'tissue_volumes.csv (voxels and mL per label, native and conformed grid); <id>_labels.nii.gz (uint8 labels on the input grid, its affine)',
  notes: [
    'conform = niivue conform(): LIA 256³ 1 mm, trilinear, robust 0..0.999 scaling to uint8 (truncated); uint8 volumes are not rescaled',
    'the model input is the conformed volume min-max scaled to [0, 1] (niivue-onnx)',
    'labels go back to the input grid by nearest neighbour through the two affines; volumes use the input spacing',
  ],
} as const;

export interface BrainItem {
  id: string;
  volume: Volume;
}

export interface BrainResult {
  id: string;
  /** Labels on the input's grid [D, H, W] (uint8). */
  labels: Uint8Array;
  shape: [number, number, number];
  /** Labels on the conformed grid (what the model labelled). */
  conformedLabels: Uint8Array;
  conformed: { shape: [number, number, number]; affine: Affine; spacing: [number, number, number]; kept: boolean; intensity: IntensityScale | null };
  /** Output channels of the model. */
  classes: number;
  windows: number;
  timings: { conformMs: number; inferenceMs: number; nativeMs: number; totalMs: number };
}

export interface BrainTissue {
  label: number;
  name: string;
  /** On the input grid. */
  voxels: number;
  ml: number;
  /** On the conformed grid. */
  conformedVoxels: number;
  conformedMl: number;
}

export type BrainRow = Pick<BrainResult, 'id' | 'shape' | 'classes' | 'windows' | 'timings'> & {
  spacing: number[];
  conformed: Omit<BrainResult['conformed'], 'affine'>;
  tissues: BrainTissue[];
};

const NIFTI_EXT = /\.nii(\.gz)?$/i;

/** NIfTI files are volumes (id: the file name without .nii/.nii.gz), .onnx models, .json cards. */
export function sortBrainPaths(paths: readonly string[]): SortedInputs {
  const out: SortedInputs = { sources: [], models: [], cards: [], labels: [], ignored: [], notes: [] };
  const kept = new Map<string, string>();
  for (const path of paths) {
    const name = path.slice(path.lastIndexOf('/') + 1);
    if (NIFTI_EXT.test(name)) {
      const id = name.replace(NIFTI_EXT, '');
      const other = kept.get(id);
      if (other !== undefined) out.notes.push(`${id}: skipped ${path}, kept ${other} (one volume per id)`);
      else {
        kept.set(id, path);
        out.sources.push({ id, kind: 'nifti', paths: [path] });
      }
    } else if (/\.onnx$/i.test(name)) out.models.push(path);
    else if (/\.json$/i.test(name)) out.cards.push(path);
    else out.ignored.push(path);
  }
  return out;
}

/** Problems of a model for the preset: one (N, 1, D, H, W) input, (N, classes, D, H, W) scores. */
export function brainModelProblems(info: ModelInfo, p: BrainParams): string[] {
  const i = info.inputs[0];
  const o = info.outputs[0];
  if (!i || !o) return ['it has no input or no output'];
  if (info.inputs.length !== 1) return [`it has ${info.inputs.length} inputs; the brain preset feeds one (N, 1, D, H, W) volume`];
  const fixed = (d: number | string): d is number => typeof d === 'number' && d > 0;
  if (i.dims.length !== 5 || (fixed(i.dims[1]) && i.dims[1] !== 1)) return [`its input ${i.name} is [${i.dims.join(', ')}]; the brain preset needs (N, 1, D, H, W)`];
  if (o.dims.length !== 5) return [`its output ${o.name} is [${o.dims.join(', ')}]; the brain preset needs class scores (N, classes, D, H, W)`];
  const errs: string[] = [];
  const spatial = i.dims.slice(2);
  if (spatial.some((d, k) => fixed(d) && d !== p.roi[k])) {
    errs.push(`its input is fixed at [${spatial.join(', ')}] but the roi is [${p.roi.join(', ')}]: set the roi to that size or load the model with relaxed spatial dims`);
  }
  const c = o.dims[1];
  if (fixed(c) && c < 2) errs.push(`its output ${o.name} has one channel; the labels are the argmax over at least 2 class channels`);
  else if (fixed(c) && c !== p.labels.length) errs.push(`it gives ${c} classes but ${p.labels.length} label names are set`);
  return errs;
}

const brainModel: ModelRole<BrainParams> = { role: 'model', label: 'model', min: 1, cli: 'models', check: (info, _name, p) => brainModelProblems(info, p) };

const now = (): number => performance.now();
const labelName = (p: BrainParams, k: number): string => p.labels[k] ?? `label ${k}`;

/** Conform, the models over sliding windows (scores summed), argmax, labels back on the input grid. */
export async function runBrain(item: BrainItem, predictors: readonly Predictor[], p: BrainParams, opts: RunOptions = {}): Promise<BrainResult> {
  if (predictors.length === 0) throw new Error('add a model');
  const { signal, onProgress } = opts;
  const t0 = now();
  onProgress?.({ done: 0, total: 1, elapsedMs: 0, etaMs: 0, stage: 'conform' });
  const c = conform(item.volume, p);
  const t1 = now();
  let scores: Float32Array | null = null;
  let scoreShape: number[] = [];
  let windows = 0;
  for (const [m, predictor] of predictors.entries()) {
    const stage = predictors.length > 1 ? `model ${m + 1}` : 'model';
    const r = await slidingWindowInference(
      { data: c.input, shape: [1, ...c.volume.shape] },
      predictor,
      { roi: p.roi, overlap: p.overlap, mode: p.mode, sigmaScale: p.sigmaScale, swBatch: p.swBatch, cval: 0 },
      {
        signal,
        onProgress: onProgress && ((s) => {
          const done = m * s.total + s.done;
          const total = predictors.length * s.total;
          const elapsedMs = now() - t0;
          onProgress({ done, total, elapsedMs, etaMs: ((now() - t1) / done) * (total - done), stage });
        }),
      },
    );
    if (r.shape.slice(1).some((d, k) => d !== c.volume.shape[k])) {
      throw new Error(`the model gives scores of [${r.shape.join(', ')}] for a conformed volume of [${c.volume.shape.join(', ')}]; the brain preset needs them on the same grid`);
    }
    if (!scores) [scores, scoreShape] = [r.data, r.shape];
    else if (r.shape[0] !== scoreShape[0]) throw new Error(`model ${m + 1} gives ${r.shape[0]} classes, model 1 ${scoreShape[0]}`);
    else for (let i = 0; i < scores.length; i++) scores[i] += r.data[i];
    windows += r.stats.windows;
  }
  const conformedLabels = argmax(scores!, scoreShape);
  const t2 = now();
  const shape = spatialShape(item.volume);
  const labels = c.kept ? conformedLabels : labelsToNative(conformedLabels, { affine: c.volume.affine, shape: c.volume.shape }, item.volume);
  const t3 = now();
  return {
    id: item.id,
    labels,
    shape,
    conformedLabels,
    conformed: { shape: spatialShape(c.volume), affine: c.volume.affine, spacing: c.volume.spacing, kept: c.kept, intensity: c.intensity },
    classes: scoreShape[0],
    windows,
    timings: { conformMs: t1 - t0, inferenceMs: t2 - t1, nativeMs: t3 - t2, totalMs: t3 - t0 },
  };
}

/** Voxels and mL per label, on the input grid and on the conformed grid. */
export function brainRow(item: BrainItem, r: BrainResult, p: BrainParams): BrainRow {
  const native = labelCounts(r.labels, r.classes);
  const conformed = labelCounts(r.conformedLabels, r.classes);
  const [ml, conformedMl] = [voxelMl(item.volume.spacing), voxelMl(r.conformed.spacing)];
  const { affine: _affine, ...grid } = r.conformed;
  return {
    id: r.id,
    shape: r.shape,
    spacing: [...item.volume.spacing],
    conformed: grid,
    classes: r.classes,
    tissues: native.map((voxels, k) => ({ label: k, name: labelName(p, k), voxels, ml: voxels * ml, conformedVoxels: conformed[k], conformedMl: conformed[k] * conformedMl })),
    windows: r.windows,
    timings: r.timings,
  };
}

/** tissue_volumes.csv: one line per item and label. */
export function tissueVolumesCsv(rows: readonly BrainRow[], p: BrainParams): string {
  const lines: (string | number)[][] = [['id', 'label', 'name', 'voxels', 'volume_ml', 'conformed_voxels', 'conformed_volume_ml']];
  for (const r of rows) for (const t of r.tissues) lines.push([r.id, t.label, labelName(p, t.label), t.voxels, t.ml.toFixed(3), t.conformedVoxels, t.conformedMl.toFixed(3)]);
  return formatCsvRows(lines);
}

/** What a volume says of itself for the cards' `expects`: intensity range, spacing, shape, slice plane (a NIfTI gives no modality). */
export function brainFacts(item: BrainItem): InputFacts {
  const v = item.volume;
  return {
    intensity: robustRange(v.shape.length > 3 ? v.data.subarray(0, spatialShape(v).reduce((a, b) => a * b, 1)) : v.data),
    spacing: [...v.spacing],
    ...(v.unit === 'mm' ? { spacingUnit: 'mm' } : {}),
    orientation: slicePlane(v.affine),
    shape: spatialShape(v),
  };
}

/**
 * The peak memory of one volume's run (runBrain): the volume as read, the conformed volume (uint8)
 * and its float32 model input, the sliding window's buffers over the conformed grid (windows,
 * importance map, one output accumulator per class, the scores: estimateRunPeak; without
 * a model, one channel per label), the labels on the conformed and the input's grid, and the models.
 */
export function brainMemory(p: BrainParams, item: BrainItem | null, models: readonly ModelInfo[]): PresetMemory {
  const shape = [...p.conformShape];
  const n = shape.reduce((a, b) => a * b, 1);
  const roi = p.roi.map((r, i) => Math.min(r, shape[i]));
  const run = estimateRunPeak(models[0] ?? null, [1, ...shape], roi, p.swBatch, 4);
  const classes = models[0] ? 1 : p.labels.length;
  const m = modelsPeak(models, roi, p.swBatch, 1);
  const native = item ? item.volume.data.length : 0;
  return {
    parts: {
      input: item ? item.volume.data.byteLength : 0,
      conformed: n + run.parts.input,
      windows: run.parts.windows + run.parts.importance,
      accumulators: classes * (run.parts.accumulators + run.parts.result),
      outputs: n + native,
      model: m.weights + m.call,
    },
    largestArrayValues: Math.max(n, native, (classes * run.largestArrayBytes) / 4),
    levers: ['roi', 'swBatch', 'conformShape'],
  };
}

const { num, point3 } = sessionZ;
const brainConformed = { shape: point3, spacing: point3, kept: z.boolean(), intensity: z.object({ srcMin: num, srcMax: num, scale: num }).nullable() };
const brainCommon = { id: z.string(), shape: point3, classes: num, windows: num, timings: z.object({ conformMs: num, inferenceMs: num, nativeMs: num, totalMs: num }) };
/** A brain result and row as a session gives them back. */
export const brainSessionSchemas = {
  result: z.object({
    ...brainCommon,
    labels: sessionZ.typed(Uint8Array),
    conformedLabels: sessionZ.typed(Uint8Array),
    conformed: z.object({ ...brainConformed, affine: z.tuple([sessionZ.nums, sessionZ.nums, sessionZ.nums, sessionZ.nums]) }),
  }),
  row: z.object({
    ...brainCommon,
    spacing: sessionZ.nums,
    conformed: z.object(brainConformed),
    tissues: z.array(z.object({ label: num, name: z.string(), voxels: num, ml: num, conformedVoxels: num, conformedMl: num })),
  }),
};

export const brainPresetDef: Preset<BrainParams, BrainItem, BrainResult, BrainRow, never> = {
  id: 'brain',
  name: 'Brain MRI',
  info: brainPresetInfo,
  params: brainParamSpecs,
  session: brainSessionSchemas,
  validate: (p) => (p.robustRange[0] < p.robustRange[1] ? [] : [`robust range must be low < high, got ${p.robustRange.join(', ')}`]),
  inputs: {
    accept: ['.nii', '.gz', '.onnx', '.json'],
    hint: '.nii / .nii.gz brain MRI (T1) · .onnx tissue model · model card .json',
    sort: sortBrainPaths,
    async read(source, files) {
      const f = files[0];
      if (!f) throw new Error(`${source.id}: no file`);
      const volume = readNifti(f.bytes, f.path.slice(f.path.lastIndexOf('/') + 1));
      const warnings = volume.shape.length > 3 ? [`${source.id}: ${volume.shape[0]} volumes; the first one is segmented`] : [];
      return { items: [{ id: source.id, volume }], warnings, skipped: [] };
    },
    itemId: (item) => item.id,
    facts: brainFacts,
  },
  models: [brainModel],
  memory: (params, item, models) => brainMemory(params, item, models.model ?? []),
  run: (item, models, p, opts) => runBrain(item, (models.model ?? []).map((m) => m.predictor), p, opts),
  row: brainRow,
  exports: [{ file: 'tissue_volumes.csv', label: 'tissue_volumes.csv', mime: 'text/csv', write: (rows, p) => tissueVolumesCsv(rows, p) }],
  itemExports: [
    {
      file: (item) => `${item.id}_labels.nii.gz`,
      label: 'labels (.nii.gz)',
      mime: 'application/gzip',
      write: (item, r) => writeNifti(makeVolume(r.labels, [...r.shape], { spacing: item.volume.spacing, unit: 'mm', affine: item.volume.affine }), { description: 'Voxelbench brain tissue labels' }),
    },
  ],
  // labels and conformedLabels are one array when the volume was kept: a buffer may be listed once
  transferables: (x) => ('volume' in x ? [x.volume.data.buffer as ArrayBuffer] : [...new Set([x.labels.buffer as ArrayBuffer, x.conformedLabels.buffer as ArrayBuffer])]),
};
