/**
 * The "Flagellar motors" preset: cryo-ET flagellar motor detection as in the BYU 2025 first-place
 * pipeline (spec `pipelines.md` section 1). Every value is declared once in `motorsParamSpecs`;
 * defaults, validation, model cards, links, sessions, the form and the CLI flags come from there.
 * Values marked (derived) come from public copies of the original code, not the original itself.
 */
import { readVolume } from '../io';
import { LIMITS } from '../io/limits';
import { motorMetric } from '../motors/metric';
import { detectMotors, type MotorDetection, type MotorsProgress } from '../motors/pipeline';
import { detectInputScaling } from '../onnx/detect';
import { planWindows } from '../slidingWindow';
import { parseLabelsCsv, scoreCutoff, submissionCsv, thresholdAt, type ThresholdedRow, type TomogramLabel } from '../motors/postprocess';
import { decodeGrayImage, readTiffStack, type GrayImage } from '../motors/decode';
import { sortTomogramPaths } from '../motors/sources';
import { readMrcTomogram, stackSliceFiles, tomogramFromVolume, type Tomogram } from '../motors/tomogram';
import { zoomSourcePlanes } from '../motors/resize';
import { paramDefaults, paramsFromCard, validateParams, type ParamSpecs } from '../preset/params';
import { sessionZ } from '../preset/derive';
import { z } from '../zod';
import type { InputFacts } from '../preset/expects';
import type { MetricReport, ModelRole, ModelValues, Preset, PresetMemory, ReadOptions, RunPlan } from '../preset/types';
import { estimateRunPeak, modelsPeak } from '../onnx/memory';
import type { ModelInfo } from '../onnx/model';

export type MotorsTta = 'identity' | 'flipD' | 'flipH' | 'flipW';

export const MOTORS_TTA: readonly MotorsTta[] = ['identity', 'flipD', 'flipH', 'flipW'];

/**
 * How the uint8 windows are scaled as they are fed to the model: 'none' = 0..255 as float (the
 * solution divides by 255 inside the model), 'div255' = x / 255, 'minmax' = (x - min) / (max - min)
 * over the resized tomogram, 'meanstd' = (x - inputMean) / inputStd.
 */
export type MotorsInputScaling = 'none' | 'div255' | 'minmax' | 'meanstd';

export const MOTORS_INPUT_SCALINGS: readonly MotorsInputScaling[] = ['none', 'div255', 'minmax', 'meanstd'];

export interface MotorsParams {
  /** Size (D, H, W) every tomogram is resized to, order-1 corner-aligned (scipy zoom), uint8. (derived) */
  inputSize: [number, number, number];
  /** How the uint8 windows are scaled as they are fed to the model (the solution: 'none', x / 255 inside the model). */
  inputScaling: MotorsInputScaling;
  /** 'meanstd': the mean subtracted (uint8 units). */
  inputMean: number;
  /** 'meanstd': the std divided by (uint8 units). */
  inputStd: number;
  /** Sliding-window roi (D, H, W) in resized voxels. */
  roi: [number, number, number];
  /** Sliding-window overlap per axis, each in [0, 1). */
  overlap: [number, number, number];
  /** Windows per model call. */
  swBatch: number;
  /** Fraction of the roi on each side of each axis that gets `weightFloor` in the importance map. */
  weightMargin: number;
  /** Weight of the margins (the centre is 1). */
  weightFloor: number;
  /** Test-time flips; logits are averaged over them (per model) before the sigmoid. */
  tta: MotorsTta[];
  /**
   * 'quantile': a tomogram passes when its score > the batch quantile (relative to the batch: the
   * same score may pass in one batch and not in another); 'score': when its score > scoreThreshold
   * (the same for every batch); 'none': every tomogram passes.
   */
  cutoff: MotorsCutoff;
  /** Batch quantile of the scores used as cutoff: a tomogram passes when its score > cutoff. */
  quantile: number;
  /** The fixed score threshold of cutoff 'score'. */
  scoreThreshold: number;
  /** Peaks reported per tomogram; 1 = the argmax only (the pipeline). */
  maxPeaks: number;
  /** Minimum distance between peaks in original voxels (used when maxPeaks > 1). */
  minPeakDistance: number;
  /** Metric: a detection is a true positive within this distance (Angstrom) of the true motor. */
  distanceThresholdAngstrom: number;
  /** Metric: F-beta's beta. */
  beta: number;
  /** Voxel spacing in Angstrom used when neither the file nor the labels give one. */
  defaultVoxelSpacing: number;
}

const AXES = ['Z', 'Y', 'X'] as const;

export type MotorsCutoff = 'quantile' | 'none' | 'score';

/** The workbench card's `intensity` ('none', 'div255', 'minmax': what `voxelbench card` writes) as the input scaling. */
function workbenchIntensity(v: unknown): MotorsInputScaling | undefined {
  return typeof v === 'string' && (MOTORS_INPUT_SCALINGS as readonly string[]).includes(v) ? (v as MotorsInputScaling) : undefined;
}

/** Every value of the preset, declared once. */
export const motorsParamSpecs: ParamSpecs = [
  {
    key: 'inputSize', label: 'input size', type: 'numbers', axes: AXES, default: [128, 672, 672], integer: true, min: 1, limit: LIMITS.maxRoiSide, unit: 'voxels', group: 'inference',
    help: 'every tomogram is resized to this (order-1 zoom) before the windows are cut',
    card: ['inference.inputSize', 'preprocessing.resize.to'],
  },
  {
    key: 'inputScaling', label: 'input scaling', type: 'choice', choices: MOTORS_INPUT_SCALINGS,
    choiceLabels: { none: 'none (0..255 as float: the model divides)', div255: 'divide by 255', minmax: 'min-max per tomogram (to 0..1)', meanstd: '(x - mean) / std' },
    default: 'none', group: 'inference',
    help: "how the uint8 windows are scaled as they are fed to the model; the solution's model divides by 255 itself (none)",
    card: ['inference.inputScaling', { path: 'inference.intensity', read: workbenchIntensity }, { path: 'intensity', read: workbenchIntensity }],
  },
  { key: 'inputMean', label: 'input mean', type: 'number', default: 0, group: 'inference', advanced: true, help: 'mean-std scaling: the mean subtracted (uint8 units)', card: 'inference.inputMean' },
  {
    key: 'inputStd', label: 'input std', type: 'number', min: 0, minExclusive: true, default: 1, group: 'inference', advanced: true, help: 'mean-std scaling: the std divided by (uint8 units)',
    card: 'inference.inputStd',
  },
  { key: 'roi', label: 'roi', type: 'numbers', axes: AXES, default: [64, 672, 672], integer: true, min: 1, limit: LIMITS.maxRoiSide, unit: 'voxels', group: 'inference', help: 'sliding-window size in resized voxels', card: 'inference.roi' },
  {
    key: 'overlap', label: 'overlap', type: 'numbers', axes: AXES, default: [0.875, 0.25, 0.25], min: 0, max: 1, maxExclusive: true, broadcast: true, group: 'inference',
    help: 'fraction of the roi that neighbouring windows share, per axis', card: 'inference.overlap',
  },
  { key: 'swBatch', label: 'sw batch', type: 'number', integer: true, min: 1, limit: LIMITS.maxSwBatch, default: 2, group: 'inference', help: 'windows per model call', card: 'inference.swBatch' },
  { key: 'weightMargin', label: 'weight margin', type: 'number', min: 0, max: 0.5, default: 0.3, group: 'inference', advanced: true, help: 'fraction of the roi on each side that gets the weight floor' },
  { key: 'weightFloor', label: 'weight floor', type: 'number', min: 0, minExclusive: true, max: 1, default: 1e-3, group: 'inference', advanced: true, help: 'weight of the window margins (the centre is 1)' },
  {
    key: 'tta', label: 'TTA', type: 'choices', choices: MOTORS_TTA, choiceLabels: { identity: 'identity', flipD: 'flip Z', flipH: 'flip Y', flipW: 'flip X' }, minCount: 1,
    default: ['identity', 'flipD', 'flipH'], group: 'inference', help: 'test-time flips; logits are averaged over them', card: 'inference.tta',
  },
  {
    key: 'cutoff', label: 'cutoff', type: 'choice', choices: ['quantile', 'none', 'score'],
    choiceLabels: { quantile: 'batch quantile (relative to the batch)', none: 'none (every tomogram passes)', score: 'fixed score threshold' },
    default: 'quantile', live: true, group: 'post-processing',
    help: 'how the score cutoff is chosen: a quantile of this batch\'s scores (the pipeline; it moves with the batch), a fixed score threshold, or none',
  },
  {
    key: 'quantile', label: 'quantile', type: 'number', min: 0, max: 1, default: 0.545, live: true, group: 'post-processing',
    help: 'a tomogram passes when its score > this quantile of the batch scores', card: 'inference.postprocess.quantile',
  },
  {
    key: 'scoreThreshold', label: 'score threshold', type: 'number', min: 0, default: 0.5, step: 0.01, live: true, group: 'post-processing',
    help: "with cutoff 'score': a tomogram passes when its score > this, whatever the batch", card: 'inference.postprocess.scoreThreshold',
  },
  { key: 'maxPeaks', label: 'max peaks', type: 'number', integer: true, min: 1, default: 1, group: 'post-processing', help: 'peaks reported per tomogram (1 = the argmax)' },
  { key: 'minPeakDistance', label: 'min peak distance', type: 'number', min: 0, default: 32, unit: 'voxels', group: 'post-processing', advanced: true, help: 'minimum distance between peaks (original voxels)' },
  {
    key: 'distanceThresholdAngstrom', label: 'distance threshold', type: 'number', min: 0, minExclusive: true, default: 1000, unit: 'Å', live: true, group: 'metric', link: 'distance', cli: 'distance',
    help: 'a detection within this distance of the true motor is a true positive',
  },
  { key: 'beta', label: 'beta', type: 'number', min: 0, minExclusive: true, default: 2, live: true, group: 'metric', help: "F-beta's beta" },
  {
    key: 'defaultVoxelSpacing', label: 'default voxel spacing', type: 'number', min: 0, minExclusive: true, default: 10, unit: 'Å', live: true, group: 'metric', link: 'spacing', cli: 'spacing',
    advanced: true, help: 'used when neither the file nor the labels give one',
  },
];

export const motorsPreset: MotorsParams = paramDefaults<MotorsParams>(motorsParamSpecs);

export const motorsPresetInfo = {
  id: 'motors',
  name: 'Flagellar motors',
  task: 'cryo-ET flagellar motor detection (one point per tomogram)',
  source: 'BYU - Locating Bacterial Flagellar Motors 2025, 1st place',
  input: 'tomograms: folders of slice_%04d.jpg/png, MRC/REC files or multi-page TIFF stacks (uint8 Z, Y, X)',
  model:
    'one or several ONNX models (N, 1, D, H, W) float, 0..255 as the solution feeds them (or scaled as --input-scaling says; a model that divides by 255 itself is found) -> (N, 1, d, h, w) logits; several models are summed after the sigmoid',
  output: 'submission.csv: tomo_id,Motor axis 0,Motor axis 1,Motor axis 2 (original voxels; -1 = no motor)',
  metric: 'F-beta (beta 2), true positive within 1000 Angstrom of the true motor',
  derived: ['inputSize'],
} as const;

/** The subset of a model card (public/models/*.json) that the preset reads. */
export interface MotorsModelCard {
  preset?: string;
  preprocessing?: { resize?: { to?: number[] } };
  inference?: {
    inputSize?: number[];
    inputScaling?: MotorsInputScaling;
    inputMean?: number;
    inputStd?: number;
    /** The workbench card's name of the scaling ('none', 'div255', 'minmax'). */
    intensity?: string;
    roi?: number[];
    overlap?: number[] | number;
    swBatch?: number;
    tta?: string[];
    postprocess?: { quantile?: number; scoreThreshold?: number };
  };
}

/** The preset with the values a model card gives (inference.inputSize/inputScaling/roi/overlap/swBatch/tta, postprocess.quantile). */
export function motorsParamsFromCard(card: MotorsModelCard, base: MotorsParams = motorsPreset): MotorsParams {
  return paramsFromCard(motorsParamSpecs, card, base);
}

/**
 * The score cutoff of a batch: the quantile of its scores ('quantile', relative to the batch), the
 * fixed score threshold ('score'), or -Infinity ('none'); a tomogram passes when its score > cutoff.
 */
export function motorsCutoff(scores: readonly number[], p: Pick<MotorsParams, 'cutoff' | 'quantile' | 'scoreThreshold'>): number {
  return p.cutoff === 'score' ? p.scoreThreshold : scoreCutoff(scores, p.cutoff === 'none' ? null : p.quantile);
}

/** What the cutoff means, in one line ("passes: score > 0.8557, the 0.545 quantile of this batch's 4 scores (…)"). */
export function motorsCutoffText(cutoff: number, n: number, p: Pick<MotorsParams, 'cutoff' | 'quantile' | 'scoreThreshold'>): string {
  const v = Number.isFinite(cutoff) ? cutoff.toFixed(4) : '-';
  if (p.cutoff === 'none') return 'passes: every tomogram (no cutoff)';
  if (p.cutoff === 'score') return `passes: score > ${v}, a fixed score threshold (the same for every batch)`;
  return `passes: score > ${v}, the ${p.quantile} quantile of this batch's ${n} score${n === 1 ? '' : 's'} (relative to the batch: another batch moves it; a fixed score threshold does not)`;
}

/** Checks the values a user can edit; returns a list of problems (empty when fine). */
export function validateMotorsParams(p: MotorsParams): string[] {
  return validateParams(motorsParamSpecs, p);
}

/** Checks that a model takes (N, 1, D, H, W) and gives (N, 1, d, h, w); returns the problem or null. */
export function motorModelProblem(info: ModelInfo): string | null {
  const i = info.inputs[0];
  const o = info.outputs[0];
  if (!i || !o) return 'it has no input or no output';
  if (info.inputs.length !== 1) return `it has ${info.inputs.length} inputs; the motor preset feeds one (N, 1, D, H, W) tensor`;
  const fixed = (d: number | string, v: number) => typeof d !== 'number' || d === v;
  if (i.dims.length !== 5 || !fixed(i.dims[1], 1)) return `its input ${i.name} is [${i.dims.join(', ')}]; the motor preset needs (N, 1, D, H, W)`;
  if (o.dims.length !== 5 || !fixed(o.dims[1], 1)) {
    return `the output '${o.name}' has shape [${o.dims.join(', ')}]; the motor preset needs a single-channel 3D map (N, 1, d, h, w)`;
  }
  return null;
}

/** What a batch row of the motors preset is: the detection without its heatmap, with the cutoff once the batch is finished. */
export type MotorsRow = Omit<MotorDetection, 'heatmap'> & Partial<Pick<ThresholdedRow, 'passes' | 'cutoff' | 'passingPeaks'>>;

/**
 * A model whose input declares fixed spatial dims takes windows of that size only: the problem when
 * the roi is another size (the windows are cut at the roi), or null.
 */
export function motorModelRoiProblem(info: ModelInfo, roi: readonly number[]): string | null {
  const dims = info.inputs[0]?.dims.slice(2) ?? [];
  const fixed = (d: number | string): d is number => typeof d === 'number' && d > 0;
  if (!dims.some((d, k) => fixed(d) && d !== roi[k])) return null;
  const fits = dims.map((d, k) => (fixed(d) ? d : roi[k]));
  return `the model declares a fixed input size ${dims.join('x')} but the roi is ${roi.join('x')}; pass --roi ${fits.join(',')} or --relax-dims to make the spatial dims symbolic`;
}

const motorsModel: ModelRole<MotorsParams> = {
  role: 'model',
  label: 'model',
  min: 1,
  cli: 'models',
  check: (info, _name, params) => {
    const p = motorModelProblem(info) ?? motorModelRoiProblem(info, params.roi);
    return p ? [p] : [];
  },
};

/**
 * A model that divides its input by 255 itself (a leading Div by 255 or Mul by 1/255, as the BYU
 * solution's forward does) gets input scaling 'none'; the note says so (and what it replaced).
 */
export function motorsFromModel(info: ModelInfo, name: string, p: MotorsParams): ModelValues<MotorsParams> | null {
  const found = detectInputScaling(info);
  if (!found) return null;
  const how = `${found.op} '${found.node}' by ${found.op === 'Div' ? found.value : '1/255'}`;
  if (p.inputScaling === 'none') return { params: p, notes: [`${name} divides its input by 255 itself (${how}): input scaling none (0..255 fed as float)`] };
  return {
    params: { ...p, inputScaling: 'none' },
    notes: [`${name} divides its input by 255 itself (${how}): input scaling set to none (0..255 fed as float) instead of ${p.inputScaling}`],
  };
}

const plural = (n: number, one: string, many = `${one}es`): string => `${n} ${n === 1 ? one : many}`;

/** Windows per tomogram with these values and this many models, and the line that says it. */
export function motorsPlan(p: MotorsParams, models: number): RunPlan {
  const perPass = planWindows([...p.inputSize], { roi: [...p.roi], overlap: [...p.overlap] }).starts.length;
  const m = Math.max(1, models);
  const steps = perPass * p.tta.length * m;
  const line =
    `${steps} window${steps === 1 ? '' : 's'} per tomogram: ${p.inputSize.join('×')} in windows of ${p.roi.join('×')} (${perPass} per pass)` +
    ` × ${plural(p.tta.length, 'TTA pass')} × ${m} model${m === 1 ? '' : 's'}`;
  return { steps, line, lever: 'inputSize' };
}

/**
 * The peak memory of one tomogram's run (detectMotors): the tomogram as read (uint8), its resize to
 * the input size (uint8) and the flipped copy the TTA passes share, the sliding window's buffers
 * over the resized tomogram (windows, importance map, output accumulator, its result:
 * estimateRunPeak, at the model's output resolution), the TTA sum and its flipped copy and the
 * heatmap (the result's size each), and the models (every one's weights, one call's activations).
 */
export function motorsMemory(p: Pick<MotorsParams, 'inputSize' | 'roi' | 'swBatch' | 'tta'>, tomo: Pick<Tomogram, 'shape'> | null, models: readonly ModelInfo[]): PresetMemory {
  const size = [...p.inputSize];
  const roi = p.roi.map((r, i) => Math.min(r, size[i]));
  const n = size.reduce((a, b) => a * b, 1);
  const flips = p.tta.some((t) => t !== 'identity');
  const run = estimateRunPeak(models[0] ?? null, [1, ...size], roi, p.swBatch, 1);
  const m = modelsPeak(models, roi, p.swBatch, 1);
  const input = tomo ? tomo.shape.reduce((a, b) => a * b, 1) : 0;
  const same = tomo !== null && tomo.shape.every((s, i) => s === size[i]);
  const heatmap = run.parts.result;
  return {
    parts: {
      input,
      resized: (same ? 0 : n) + (flips ? n : 0),
      windows: run.parts.windows + run.parts.importance,
      accumulators: run.parts.accumulators + run.parts.result + heatmap * (flips ? 3 : 2),
      model: m.weights + m.call,
    },
    largestArrayValues: Math.max(n, run.largestArrayBytes / 4),
    levers: ['inputSize', 'roi', 'swBatch'],
  };
}

/** Decodes one image slice: by default core's pure-JS decoders; the page passes the browser's. */
export type SliceDecoder = (bytes: Uint8Array, name: string) => GrayImage | Promise<GrayImage>;

export interface MotorsReadOptions extends ReadOptions {
  decodeImage?: SliceDecoder;
}

/** MRC-family files read slab by slab when the reader has random access (not gzipped: .gz is read whole). */
const MRC_NAME = /\.(mrc|mrcs|rec|map|st|ali)$/i;

/** The F-beta of finished rows against BYU labels (tomograms without labels are left out). */
export function motorsMetric(rows: readonly MotorsRow[], labels: readonly TomogramLabel[], p: MotorsParams): MetricReport {
  const m = motorMetric(labels, rows.map((r) => ({ id: r.id, point: r.passes === false ? [-1, -1, -1] : r.point })), {
    beta: p.beta,
    distanceThresholdAngstrom: p.distanceThresholdAngstrom,
    missing: 'skip',
  });
  const lines = m.perTomogram.map((r) => `${r.id}\t${r.outcome}\tdistance ${r.distance === null ? '-' : r.distance.toFixed(1)}\tthreshold ${r.threshold.toFixed(1)} voxels`);
  if (m.missing.length) lines.push(`${m.missing.length} labelled tomogram${m.missing.length > 1 ? 's have' : ' has'} no prediction and ${m.missing.length > 1 ? 'are' : 'is'} left out of the score: ${m.missing.join(', ')}`);
  if (m.unlabelled.length) lines.push(`${m.unlabelled.length} tomogram${m.unlabelled.length > 1 ? 's are' : ' is'} not in the labels and left out of the score: ${m.unlabelled.join(', ')}`);
  lines.push(
    `F-beta (beta ${m.beta}): ${m.fbeta.toFixed(4)}  TP ${m.tp}  FP ${m.fp}  FN ${m.fn}  TN ${m.tn}  precision ${m.precision.toFixed(4)}  recall ${m.recall.toFixed(4)}  (${m.perTomogram.length} tomograms, ${p.distanceThresholdAngstrom} A threshold)`,
  );
  return { name: `F-beta (beta ${m.beta})`, score: m.fbeta, lowerIsBetter: false, lines };
}

/**
 * What a tomogram says of itself for the cards' `expects`: its shape, and (when the file gives a
 * voxel spacing) the spacing of the voxels the model sees, after the resize to the input size.
 */
export function motorsFacts(t: Tomogram, p: Pick<MotorsParams, 'inputSize'>): InputFacts {
  const facts: InputFacts = { shape: [...t.shape] };
  if (t.spacing && t.spacing > 0) {
    facts.spacing = t.shape.map((n, k) => (t.spacing! * n) / p.inputSize[k]);
    facts.spacingUnit = 'Å';
    facts.spacingOf = `after the resize to ${p.inputSize.join(' x ')}`;
  }
  return facts;
}

const { num, point3 } = sessionZ;
const motorsPeakSchema = z.object({ score: num, point: point3 });
const motorsDetectionFields = {
  id: z.string(),
  heatmapShape: point3,
  score: num,
  point: point3,
  peaks: z.array(motorsPeakSchema.extend({ index: point3 })),
  originalShape: point3,
  inputShape: point3,
  spacing: num.optional(),
  timings: z.object({ totalMs: num, predictMs: num, resizeMs: num, windows: num }),
};
/** A motors result and row as a session gives them back. */
export const motorsSessionSchemas = {
  result: z.object({ ...motorsDetectionFields, heatmap: sessionZ.typed(Float32Array) }),
  row: z.object({ ...motorsDetectionFields, passes: z.boolean().optional(), cutoff: num.optional(), passingPeaks: z.array(motorsPeakSchema).optional() }),
};

export const motorsPresetDef: Preset<MotorsParams, Tomogram, MotorDetection, MotorsRow, TomogramLabel[], MotorsProgress> = {
  id: 'motors',
  name: 'Flagellar motors',
  info: motorsPresetInfo,
  params: motorsParamSpecs,
  session: motorsSessionSchemas,
  inputs: {
    accept: ['.mrc', '.mrcs', '.rec', '.map', '.st', '.ali', '.tif', '.tiff', '.nii', '.gz', '.npy', '.jpg', '.jpeg', '.png', '.onnx', '.json', '.csv'],
    hint: 'folders of slices (one per tomogram) · .mrc / .rec / .tif · .onnx models · labels .csv · model card .json',
    sort: sortTomogramPaths,
    readsOnDemand: true,
    async read(source, files, params, opts: MotorsReadOptions = {}) {
      const decode = opts.decodeImage ?? decodeGrayImage;
      if (source.kind === 'slices') {
        // modelOnly (the CLI; the page's runs of tomograms it does not hold): only the slices the resize reads (the submission is the same)
        let partial = false;
        const { tomogram, skipped } = await stackSliceFiles(source.id, files.map((f) => ({ name: f.path, read: () => (f.load ? f.load() : f.bytes), localPath: f.localPath, blob: f.blob })), decode, {
          signal: opts.signal,
          onSlice: opts.onProgress ? (done, total) => opts.onProgress!({ done, total }) : undefined,
          concurrency: opts.decodeConcurrency,
          decodeInto: opts.decodeInto,
          decodeFile: opts.decodeFile,
          planes: opts.modelOnly
            ? (depth) => {
                const used = zoomSourcePlanes(depth, params.inputSize[0]);
                partial = used.includes(0);
                return used;
              }
            : undefined,
        });
        if (partial) tomogram.planesFor = params.inputSize[0];
        return { items: [tomogram], warnings: [], skipped: skipped.map((path) => ({ path, reason: 'not an image slice' })) };
      }
      const f = files[0];
      if (!f) throw new Error(`${source.id}: no file`);
      const name = f.path.slice(f.path.lastIndexOf('/') + 1);
      // an MRC file with random access is converted slab by slab (the volume plus one slab held)
      const streamed = source.kind === 'volume' && f.range && MRC_NAME.test(name) ? await readMrcTomogram(f.range, source.id, name, opts) : null;
      const tomogram = streamed ?? (source.kind === 'tiff' ? readTiffStack(f.bytes, source.id, name) : tomogramFromVolume(readVolume(f.bytes, name), source.id));
      return { items: [tomogram], warnings: [], skipped: [] };
    },
    itemId: (t) => t.id,
    facts: motorsFacts,
    modelOnly: { key: (p) => String(p.inputSize[0]), of: (t) => (t.planesFor === undefined ? null : String(t.planesFor)) },
  },
  models: [motorsModel],
  fromModel: (info, name, _role, params) => motorsFromModel(info, name, params),
  plan: (params, models) => motorsPlan(params, models.model ?? 0),
  memory: (params, tomo, models) => motorsMemory(params, tomo, models.model ?? []),
  run: (tomo, models, params, opts) => detectMotors(tomo, (models.model ?? []).map((m) => m.predictor), params, opts),
  row: (_tomo, det) => {
    const { heatmap: _heatmap, ...row } = det;
    return row;
  },
  finish: (rows, p) => thresholdAt(rows, motorsCutoff(rows.map((r) => r.score), p)) as MotorsRow[],
  exports: [
    {
      file: 'submission.csv',
      label: 'submission.csv',
      mime: 'text/csv',
      write: (rows) => submissionCsv(rows.map((r) => ({ id: r.id, point: r.point, passes: r.passes ?? true }))),
    },
  ],
  labels: {
    label: 'labels',
    cli: 'labels',
    parse: (text, name) => parseLabelsCsv(text, name),
    metric: motorsMetric,
  },
  transferables: (x) => ('heatmap' in x ? [x.heatmap.buffer as ArrayBuffer] : [x.data.buffer as ArrayBuffer]),
};
