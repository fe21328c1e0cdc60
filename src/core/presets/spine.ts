/**
 * The "Cervical spine CT" preset: C1..C7 segmentation and fracture detection as in the RSNA 2022
 * Cervical Spine Fracture Detection first-place pipeline (spec `pipelines.md` section 2). Every value
 * is declared once in `spineParamSpecs`; defaults, validation, model cards, links, sessions, the form
 * and the CLI flags come from there. `spinePresetDef` is the pipeline on the preset contract
 * (src/core/preset/types.ts): DICOM study folders and NIfTI CTs in, masks in the CT's space and
 * submission.csv out, the RSNA 2022 weighted log loss against train.csv.
 */
import { paramDefaults, paramsFromCard, validateParams, type ParamSpecs, type ParamValue } from '../preset/params';
import { sessionZ } from '../preset/derive';
import { z } from '../zod';
import { robustRange, slicePlane, type InputFacts } from '../preset/expects';
import type { MetricReport, ModelRole, Preset, PresetMemory, RunProgress } from '../preset/types';
import { modelsPeak } from '../onnx/memory';
import type { ModelInfo } from '../onnx/model';
import { inputLayout } from '../onnx/detect';
import { InputError } from '../volume';
import { LIMITS } from '../io/limits';
import { parseSpineLabelsCsv, spineMetric, spineSubmissionCsv, type SpineLabel, type SpineStudyPrediction } from '../spine/export';
import { readSpineSource, resultInItemSpace, safeFileName, spineMasksNifti, type SpineItem } from '../spine/item';
import { runSpinePipeline, spineClassifier, spineProgressFraction, type SpineProgress, type SpineResult, type VertebraRow } from '../spine/pipeline';
import { sortSpinePaths } from '../spine/sources';

export { VERTEBRAE, type Vertebra } from '../spine/vertebrae';

export type SpineOrder = 'position' | 'filename';
export type SpineLayout = 'slices-last' | 'slices-first';

export interface SpineParams {
  /**
   * Slice order: 'position' sorts by ImagePositionPatient along the slice normal, head first (what the
   * model expects); 'filename' uses the number in the file name (the original solution).
   */
  order: SpineOrder;
  /** Slices sampled for stage 1: round(quantile(range(n), linspace(0, 1, sliceCount))). */
  sliceCount: number;
  /** In-plane size each sampled slice is resized to (cv2.INTER_AREA). */
  size: number;
  /** Tensor layout of stage 1: slices-last (N, C, rows, cols, slices) as the original, or slices-first (N, C, slices, rows, cols). */
  layout: SpineLayout;
  /** Channels the normalised volume is repeated to. */
  channels: number;
  /** Mask threshold on the sigmoid probability per vertebra. */
  threshold: number;
  /** Used for a vertebra with no voxel above `threshold`. */
  fallbackThreshold: number;
  /** Stage 2: slices per vertebra. */
  cropSlices: number;
  /** Stage 2: neighbouring stored slices per crop slice (ind - 2 .. ind + 2). */
  cropChannels: number;
  /** Stage 2: crop size (cv2.INTER_LINEAR). */
  cropSize: number;
  /** Stage 2: models per call (slices x vertebrae batch). */
  cropBatch: number;
  /** C_k = clamp(mean sigmoid, clampLow, clampHigh). */
  clampLow: number;
  clampHigh: number;
  /**
   * patient_overall: 'head' uses a model's second output (patient logit) when it has one, else falls back
   * to 1 - prod(1 - C_k); 'product' always uses 1 - prod(1 - C_k).
   */
  patient: 'head' | 'product';
}

const ORDERS: readonly SpineOrder[] = ['position', 'filename'];
const LAYOUTS: readonly SpineLayout[] = ['slices-last', 'slices-first'];

type Card = Record<string, unknown>;
/** A stage-2 card (preset 'spine-fracture') gives the crop values; every other card is read as a stage-1 card. */
const isFractureCard = (card: Card): boolean => card.preset === 'spine-fracture';
type CardRead = (v: unknown, card: Card) => ParamValue | undefined;
const segCard = (read: CardRead): CardRead => (v, card) => (isFractureCard(card) ? undefined : read(v, card));
const fractureCard = (read: CardRead): CardRead => (v, card) => (isFractureCard(card) ? read(v, card) : undefined);
const positiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;

/** A stage-1 card's tensor layout: preprocessing.layout '(N, C, rows, cols, slices)' or '(N, C, slices, rows, cols)'. */
function cardLayout(card: Card): SpineLayout | undefined {
  const prep = card.preprocessing;
  const layout = typeof prep === 'object' && prep !== null && !Array.isArray(prep) ? (prep as Card).layout : undefined;
  if (typeof layout !== 'string') return undefined;
  const l = layout.replace(/\s+/g, '').toLowerCase();
  if (l.includes('rows,cols,slices')) return 'slices-last';
  if (l.includes('slices,rows,cols')) return 'slices-first';
  throw new Error(`model card: unknown preprocessing.layout ${JSON.stringify(layout)}`);
}

/** inference.inputSize as (slices, rows) in the card's layout (slices-last: (rows, cols, slices); slices-first: (slices, rows, cols)); rows must equal cols. */
function cardInputSize(v: unknown, card: Card): { slices: number; rows: number } | undefined {
  if (!Array.isArray(v) || v.length !== 3 || !v.every(positiveInt)) return undefined;
  const slicesLast = (cardLayout(card) ?? 'slices-last') === 'slices-last';
  const [slices, rows, cols] = slicesLast ? [v[2], v[0], v[1]] : [v[0], v[1], v[2]];
  if (cols !== rows) throw new Error(`model card: inference.inputSize ${v.join(' x ')} must have rows = cols`);
  return { slices, rows };
}

/**
 * Every value of the preset, declared once. Model cards: a stage-1 card (preset 'spine-seg') sets the
 * layout, sliceCount/size (inference.inputSize in the card's layout), the thresholds
 * (inference.maskThreshold / maskFallbackThreshold) and the slice order (sliceOrder 'head first' ->
 * position); a stage-2 card ('spine-fracture') sets cropSize (inference.roi) and cropBatch (inference.swBatch).
 */
export const spineParamSpecs: ParamSpecs = [
  {
    key: 'order', label: 'order', type: 'choice', choices: ORDERS, choiceLabels: { position: 'ImagePositionPatient (head first)', filename: 'number in the file name (the original)' },
    default: 'position', group: 'input', help: 'DICOM slice order: along the slice normal, head first (what the model expects), or by the number in the file name',
    card: { path: 'preprocessing.sliceOrder', read: segCard((v) => (typeof v === 'string' && /head first|ImagePositionPatient/i.test(v) ? 'position' : undefined)) },
  },
  {
    key: 'sliceCount', label: 'slice count', type: 'number', integer: true, min: 1, limit: LIMITS.maxRoiSide, default: 128, unit: 'slices', group: 'segmentation',
    help: 'slices sampled for stage 1: round(quantile(range(n), linspace(0, 1, count)))',
    card: { path: 'inference.inputSize', read: segCard((v, card) => cardInputSize(v, card)?.slices) },
  },
  {
    key: 'size', label: 'size', type: 'number', integer: true, min: 1, limit: LIMITS.maxRoiSide, default: 128, unit: 'pixels', group: 'segmentation',
    help: 'in-plane size each sampled slice is resized to (area interpolation)',
    card: { path: 'inference.inputSize', read: segCard((v, card) => cardInputSize(v, card)?.rows) },
  },
  {
    key: 'layout', label: 'layout', type: 'choice', choices: LAYOUTS, choiceLabels: { 'slices-last': 'N, C, rows, cols, slices (the original)', 'slices-first': '(N, C, slices, rows, cols)' },
    default: 'slices-last', group: 'segmentation', help: 'axis order of the stage-1 tensor',
    card: { path: 'preprocessing.layout', read: segCard((_v, card) => cardLayout(card)) },
  },
  { key: 'channels', label: 'channels', type: 'number', integer: true, min: 1, limit: 64, default: 3, group: 'segmentation', advanced: true, help: 'channels the normalised volume is repeated to' },
  {
    key: 'threshold', label: 'threshold', type: 'number', min: 0, minExclusive: true, max: 1, maxExclusive: true, default: 0.2, step: 0.05, group: 'masks',
    help: 'mask threshold on the sigmoid probability per vertebra',
    card: { path: 'inference.maskThreshold', read: segCard((v) => (typeof v === 'number' ? v : undefined)) },
  },
  {
    key: 'fallbackThreshold', label: 'fallback threshold', type: 'number', min: 0, minExclusive: true, max: 1, maxExclusive: true, default: 0.05, step: 0.01, group: 'masks', cli: 'fallback',
    help: 'used for a vertebra with no voxel above the threshold; at most the threshold',
    card: { path: 'inference.maskFallbackThreshold', read: segCard((v) => (typeof v === 'number' ? v : undefined)) },
  },
  { key: 'cropSlices', label: 'crop slices', type: 'number', integer: true, min: 1, limit: LIMITS.maxRoiSide, default: 15, unit: 'slices', group: 'fracture', help: 'stage 2: slices per vertebra, evenly spaced over its z range' },
  { key: 'cropChannels', label: 'crop channels', type: 'number', integer: true, min: 1, limit: 64, default: 5, unit: 'slices', group: 'fracture', advanced: true, help: 'stage 2: neighbouring stored slices per crop slice (ind - 2 .. ind + 2); the mask is one more channel' },
  {
    key: 'cropSize', label: 'crop size', type: 'number', integer: true, min: 1, limit: LIMITS.maxRoiSide, default: 224, unit: 'pixels', group: 'fracture', help: 'stage 2: crop size (bilinear)',
    card: { path: 'inference.roi', read: fractureCard((v) => (Array.isArray(v) && v.length === 2 && v[0] === v[1] && positiveInt(v[0]) ? v[0] : undefined)) },
  },
  {
    key: 'cropBatch', label: 'crop batch', type: 'number', integer: true, min: 1, limit: LIMITS.maxSwBatch, default: 105, group: 'fracture', help: 'stage 2: crops per model call',
    card: { path: 'inference.swBatch', read: fractureCard((v) => (positiveInt(v) ? v : undefined)) },
  },
  { key: 'clampLow', label: 'clamp low', type: 'number', min: 0, minExclusive: true, max: 1, maxExclusive: true, default: 1e-4, group: 'fracture', advanced: true, help: 'C_k = clamp(mean sigmoid, low, high)' },
  { key: 'clampHigh', label: 'clamp high', type: 'number', min: 0, minExclusive: true, max: 1, maxExclusive: true, default: 0.9999, group: 'fracture', advanced: true, help: 'C_k = clamp(mean sigmoid, low, high)' },
  {
    key: 'patient', label: 'patient', type: 'choice', choices: ['head', 'product'], choiceLabels: { head: "the models' patient head (else the product)", product: '1 - prod(1 - C_k)' },
    default: 'head', group: 'fracture', help: 'where patient_overall comes from',
  },
];

export const spinePreset: SpineParams = paramDefaults<SpineParams>(spineParamSpecs);

export const spinePresetInfo = {
  id: 'spine',
  name: 'Cervical spine CT',
  task: 'C1..C7 segmentation (stage 1) and per-vertebra fracture probability (stage 2)',
  source: 'RSNA 2022 Cervical Spine Fracture Detection, 1st place',
  input: 'a DICOM series (folder; uncompressed or JPEG 2000) or a NIfTI volume',
  model:
    'stage 1: ONNX (1, 3, 128, 128, 128) in [0, 1] -> (1, 7, 128, 128, 128) logits C1..C7 (sigmoid, mean over models); ' +
    'stage 2 (optional): ONNX (n, 6, 224, 224) -> per-slice fracture logits (+ an optional patient logit as second output), ' +
    'or a sequence model (n, 15, 6, 224, 224) as the solution built it (2.5D CNN + LSTM: one vertebra per item) -> per-slice logits (n, 15) (+ a per-vertebra logit (n, 1)); ' +
    'a 4D export with a fixed batch of 15 takes one vertebra per call',
  output: 'submission.csv: row_id,fractured with {StudyInstanceUID}_C1..C7 and _patient_overall; label masks as NIfTI in the CT space',
  metric: 'RSNA 2022 weighted log loss (weights negative/positive 1/2 for C1..C7, 7/14 for patient_overall)',
  derived: [] as string[],
} as const;

/**
 * The preset values a model card gives (only those: a stage-1 and a stage-2 card add up); see
 * `spineParamSpecs` for which card paths set which value. Throws an Error naming the card path
 * for a value in a wrong form.
 */
export function spineParamsFromCard(card: unknown): Partial<SpineParams> {
  return paramsFromCard<Partial<SpineParams>>(spineParamSpecs, card, {});
}

/** The rules across values (each applies when its values are fine on their own). */
export function spineCrossRules(p: SpineParams): string[] {
  const errs: string[] = [];
  const ok = (v: number) => v > 0 && v < 1;
  if (ok(p.threshold) && ok(p.fallbackThreshold) && !(p.fallbackThreshold <= p.threshold)) errs.push(`fallback threshold must be in (0, threshold], got ${p.fallbackThreshold}`);
  if (ok(p.clampLow) && ok(p.clampHigh) && !(p.clampLow < p.clampHigh)) errs.push(`clamp must satisfy 0 < low < high < 1, got ${p.clampLow}, ${p.clampHigh}`);
  return errs;
}

/** Checks the values a user can edit; returns a list of problems (empty when fine): each value's, then the rules across values. */
export function validateSpineParams(p: SpineParams): string[] {
  return [...validateParams(spineParamSpecs, p), ...spineCrossRules(p)];
}

/** A model's declared input/output dims (numbers fixed, strings symbolic), e.g. from inspectModel. */
export interface SpineModelIo {
  name: string;
  inputs: { name: string; dims: (number | string)[] }[];
  outputs: { name: string; dims: (number | string)[] }[];
}

/**
 * A 5D input that is a sequence of 2D crops (N, slices, channels, H, W) rather than a volume
 * (N, C, D, H, W): the stage-2 model as the solution built it (detect.ts inputLayout 'NSCHW').
 */
export const isSequenceInput = (dims: readonly (number | string)[]): boolean => dims.length === 5 && inputLayout({ name: '', type: 'float32', dims: [...dims] }) === 'NSCHW';

/**
 * Problems (empty when fine) of a stage-1 ('seg') or stage-2 ('cls') model against the preset:
 * seg: one 5D input (N, channels, ...) whose fixed spatial dims match the layout's (rows, cols, slices)
 * or (slices, rows, cols), output (N, 7, ...); cls: one 4D input (N, cropChannels + 1, cropSize,
 * cropSize), or a 5D sequence input (N, cropSlices, cropChannels + 1, cropSize, cropSize).
 */
export function checkSpineModel(m: SpineModelIo, role: 'seg' | 'cls', p: SpineParams): string[] {
  const errs: string[] = [];
  const fixed = (d: number | string): d is number => typeof d === 'number' && d > 0;
  if (m.inputs.length !== 1) return [`${m.name}: the model has ${m.inputs.length} inputs; one image tensor is needed`];
  const dims = m.inputs[0].dims;
  if (role === 'seg') {
    if (dims.length !== 5) return [`${m.name}: a segmentation model needs a 5D input (N, C, D, H, W); this one has [${dims.join(', ')}]`];
    if (isSequenceInput(dims)) return [`${m.name}: its input [${dims.join(', ')}] is a sequence of 2D crops (N, slices, channels, H, W), a fracture model (stage 2), not a segmentation model`];
    const want = p.layout === 'slices-last' ? [p.size, p.size, p.sliceCount] : [p.sliceCount, p.size, p.size];
    if (fixed(dims[1]) && dims[1] !== p.channels) errs.push(`${m.name}: the model takes ${dims[1]} channel(s); the preset repeats the volume to ${p.channels}`);
    const bad = dims.slice(2).some((d, i) => fixed(d) && d !== want[i]);
    if (bad) errs.push(`${m.name}: the model's input is [${dims.join(', ')}] but the preset feeds [1, ${p.channels}, ${want.join(', ')}] (${p.layout}); check the layout, slice count and size`);
    const out = m.outputs[0]?.dims ?? [];
    if (out.length !== 5 || (fixed(out[1]) && out[1] !== 7)) errs.push(`${m.name}: the output must be (N, 7, ...) = C1..C7 on the input grid; this one is [${out.join(', ')}]`);
  } else {
    const seq = dims.length === 5;
    if (dims.length !== 4 && !(seq && isSequenceInput(dims))) {
      return [
        `${m.name}: a fracture model needs a 4D input of crops (N, ${p.cropChannels + 1}, ${p.cropSize}, ${p.cropSize}) or a 5D input of each vertebra's crops (N, ${p.cropSlices}, ${p.cropChannels + 1}, ${p.cropSize}, ${p.cropSize}); this one has [${dims.join(', ')}]`,
      ];
    }
    const c = seq ? 2 : 1;
    if (seq && fixed(dims[1]) && dims[1] !== p.cropSlices) errs.push(`${m.name}: the model takes sequences of ${dims[1]} slices; the preset makes ${p.cropSlices} crops per vertebra (crop slices)`);
    if (fixed(dims[c]) && dims[c] !== p.cropChannels + 1) errs.push(`${m.name}: the model takes ${dims[c]} channel(s); the crops have ${p.cropChannels + 1} (${p.cropChannels} slices + the mask)`);
    if (dims.slice(c + 1).some((d) => fixed(d) && d !== p.cropSize)) errs.push(`${m.name}: the model's input is [${dims.join(', ')}] but the crops are ${p.cropSize} x ${p.cropSize}`);
  }
  return errs;
}

// ---------------------------------------------------------------------------------------------
// the preset contract

/** What a run reports: the stage's own counts (done of total), and the run's clock over all stages. */
export interface SpineRunProgress extends RunProgress {
  stage: SpineProgress['stage'];
  /** Fraction (0..1) of the series' run. */
  fraction: number;
}

/**
 * The result of one series: the pipeline's, with the labels (0 = background, k = C_k) and the
 * vertebra rows in the CT's own voxel order (a NIfTI's flips undone); no grid probabilities.
 */
export type SpineItemResult = SpineResult;

/** A batch row: one series' vertebra table and fracture values (plain JSON); `id` is the study id that submission.csv's row ids use. */
export type SpineRow = Pick<SpineItem, 'id' | 'source' | 'kind' | 'studyUid' | 'seriesUid' | 'description' | 'seriesIndex' | 'shape' | 'spacing' | 'order' | 'warnings'> & {
  /** C1..C7 in the CT's voxel order. */
  vertebrae: VertebraRow[];
  patientOverall?: number;
  patientSource?: 'head' | 'product';
  timings: SpineResult['timings'];
};

/** One prediction per study, in batch order: the first row of each study (a source's largest series comes first). */
export function spineStudyPredictions(rows: readonly SpineRow[]): SpineStudyPrediction[] {
  const seen = new Set<string>();
  const out: SpineStudyPrediction[] = [];
  for (const r of rows) {
    if (seen.has(r.id)) continue;
    seen.add(r.id);
    out.push({ studyUid: r.id, vertebrae: r.vertebrae, patientOverall: r.patientOverall });
  }
  return out;
}

/** The fracture stage ran for every row (submission.csv and the metric need it). */
export const hasFractureStage = (rows: readonly SpineRow[]): boolean => rows.length > 0 && rows.every((r) => r.patientOverall !== undefined);

/** The RSNA 2022 weighted log loss of the rows (one per study) against train.csv labels, with the CLI's line. */
export function spinePresetMetric(rows: readonly SpineRow[], labels: Map<string, SpineLabel>): MetricReport {
  if (!hasFractureStage(rows)) throw new InputError('the weighted log loss needs fracture probabilities: add a fracture model (stage 2)');
  const preds = spineStudyPredictions(rows);
  const m = spineMetric(labels, preds);
  if (m.rows === 0) throw new InputError(`none of the ${preds.length} studies is in the labels`);
  const line = `RSNA 2022 weighted log loss: ${m.loss.toFixed(4)} (${m.perStudy.length} studies, ${m.rows} rows${m.missing.length ? `; ${m.missing.length} labelled studies not predicted` : ''})`;
  return { name: 'RSNA 2022 weighted log loss', score: m.loss, lowerIsBetter: true, lines: [line] };
}

const inputRank = (info: ModelInfo): number => (info.inputs.length === 1 ? info.inputs[0].dims.length : -1);

/** Which stage a dropped model is: a 5D volume input is stage 1, a 4D input or a 5D sequence of crops is stage 2. */
function spineRoleOf(info: ModelInfo): 'seg' | 'cls' | null {
  const rank = inputRank(info);
  if (rank === 4) return 'cls';
  if (rank === 5) return isSequenceInput(info.inputs[0].dims) ? 'cls' : 'seg';
  return null;
}

/** A model role: stage 1 ('seg') takes a 5D volume, stage 2 ('cls') 4D crops or a 5D sequence of crops; checked against the values by checkSpineModel. */
const spineModel = (role: 'seg' | 'cls', label: string, min: number): ModelRole<SpineParams> => ({
  role,
  label,
  min,
  cli: role,
  check: (info, name, p) => checkSpineModel({ name, inputs: info.inputs, outputs: info.outputs }, role, p),
  accepts: (info) => spineRoleOf(info) === role,
});

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/**
 * A vertebra that is not found on the CT (no voxel of its mask; the table says "(not found)") gets
 * no fracture value: its C_k, made from crops of a low-probability box, is not reported, and
 * submission.csv gives it the value of a missing vertebra (SPINE_MISSING, 0.5). patient_overall
 * from the product then leaves it out too; a patient head's value stays the model's.
 */
export function withoutNotFound(r: SpineResult, p: Pick<SpineParams, 'clampLow' | 'clampHigh'>): SpineResult {
  if (!r.vertebrae.some((v) => !v.present && v.fracture !== undefined)) return r;
  const vertebrae = r.vertebrae.map((v): VertebraRow => {
    if (v.present || v.fracture === undefined) return v;
    const { fracture: _dropped, ...rest } = v;
    return rest;
  });
  if (r.patientSource !== 'product') return { ...r, vertebrae };
  const prod = vertebrae.reduce((a, v) => (v.fracture === undefined ? a : a * (1 - v.fracture)), 1);
  return { ...r, vertebrae, patientOverall: Math.min(p.clampHigh, Math.max(p.clampLow, 1 - prod)) };
}

/** What a series says of itself for the cards' `expects`: modality (DICOM), HU range, spacing, slices, slice plane. */
export function spineFacts(item: SpineItem): InputFacts {
  return {
    ...(item.modality ? { modality: item.modality } : {}),
    intensity: robustRange(item.volume.data),
    ...(item.kind === 'dicom' ? { intensityUnit: 'HU' } : {}),
    spacing: [...item.spacing],
    spacingUnit: 'mm',
    orientation: slicePlane(item.volume.affine),
    shape: [...item.shape],
    slices: item.shape[0],
  };
}

/**
 * The peak memory of one series' run (runSpinePipeline): the CT as read, the sampled slices (uint8)
 * and the stage-1 input (float32, `channels` of them), the 7 vertebrae's sigmoid sum and the model's
 * output on the grid, the labels in the CT's space and on the grid, the stage-2 crops (uint8, 7
 * vertebrae) and one call's crops (float32), and the models (weights of all, one call's activations).
 */
export function spineMemory(p: SpineParams, item: Pick<SpineItem, 'volume'> | null, seg: readonly ModelInfo[], cls: readonly ModelInfo[]): PresetMemory {
  const K = 7;
  const grid = p.sliceCount * p.size * p.size;
  const voxels = item ? item.volume.data.length : 0;
  const chans = p.cropChannels + 1;
  const crop = chans * p.cropSize * p.cropSize;
  const segInput = p.channels * grid * 4;
  const cropInput = cls.length > 0 ? p.cropBatch * crop * 4 : 0;
  const segSpatial = p.layout === 'slices-last' ? [p.size, p.size, p.sliceCount] : [p.sliceCount, p.size, p.size];
  const s = modelsPeak(seg, segSpatial, 1, p.channels);
  const c = modelsPeak(cls, [p.cropSize, p.cropSize], p.cropBatch, chans);
  return {
    parts: {
      input: item ? item.volume.data.byteLength : 0,
      resized: grid,
      windows: Math.max(segInput, cropInput),
      accumulators: 2 * K * grid * 4 + grid,
      outputs: voxels,
      crops: cls.length > 0 ? K * p.cropSlices * crop : 0,
      model: s.weights + c.weights + Math.max(s.call, c.call),
    },
    largestArrayValues: Math.max(K * grid, p.channels * grid, voxels, p.cropBatch * crop),
    levers: ['size', 'sliceCount', 'cropBatch'],
  };
}

const { num, point3 } = sessionZ;
const spineVertebraSchema = z.object({
  name: z.string(),
  present: z.boolean(),
  voxels: num,
  volumeMl: num,
  sliceRange: z.tuple([num, num]).nullable(),
  meanProb: num,
  fracture: num.optional(),
  fractureHead: num.optional(),
  centre: point3.optional(),
  threshold: num.optional(),
});
const spineFracture = { vertebrae: z.array(spineVertebraSchema), patientOverall: num.optional(), patientSource: z.enum(['head', 'product']).optional(), timings: z.object({ preprocessMs: num, segMs: num, clsMs: num }) };
/** A spine result and row as a session gives them back. */
export const spineSessionSchemas = {
  result: z.object({
    labels: sessionZ.typed(Uint8Array),
    probs: sessionZ.typed(Float32Array).optional(),
    gridProbs: sessionZ.typed(Float32Array).optional(),
    gridShape: z.tuple([num, num, num, num]).optional(),
    sliceIndices: sessionZ.nums.optional(),
    ...spineFracture,
  }),
  row: z.object({
    id: z.string(),
    source: z.string(),
    kind: z.enum(['dicom', 'nifti']),
    studyUid: z.string(),
    seriesUid: z.string(),
    description: z.string(),
    seriesIndex: num,
    shape: point3,
    spacing: sessionZ.nums,
    order: z.enum(['position', 'filename']).nullable(),
    warnings: sessionZ.strs,
    ...spineFracture,
  }),
};

export const spinePresetDef: Preset<SpineParams, SpineItem, SpineItemResult, SpineRow, Map<string, SpineLabel>, SpineRunProgress> = {
  id: 'spine',
  name: 'Cervical spine CT',
  info: spinePresetInfo,
  params: spineParamSpecs,
  session: spineSessionSchemas,
  validate: spineCrossRules,
  inputs: {
    // DICOM files often have no extension: the picker takes any file
    accept: [],
    hint: 'DICOM study folders (one per study) · .nii / .nii.gz CT · .onnx models (stage 1: 5D volume input, stage 2: 4D crops or 5D sequences of crops) · model cards .json · train.csv labels',
    sort: sortSpinePaths,
    read: (source, files, params, opts) => readSpineSource(source, files, params.order, opts),
    itemId: (item) => item.id,
    facts: spineFacts,
  },
  models: [spineModel('seg', 'segmentation model', 1), spineModel('cls', 'fracture model', 0)],
  memory: (params, item, models) => spineMemory(params, item, models.seg ?? [], models.cls ?? []),
  async run(item, models, params, opts = {}) {
    const seg = (models.seg ?? []).map((m) => m.predictor);
    const cls = (models.cls ?? []).map((m) => spineClassifier(m.info.inputs[0].dims, m.outputs, params, m.name));
    const t0 = now();
    const onProgress = opts.onProgress;
    const r = await runSpinePipeline(item.stored, item.shape, item.spacing, seg, cls, params, {
      signal: opts.signal,
      keepGridProbs: false,
      onProgress: onProgress
        ? (p) => {
            const fraction = spineProgressFraction(p, cls.length > 0);
            const elapsedMs = now() - t0;
            onProgress({ stage: p.stage, done: p.done, total: p.total, fraction, elapsedMs, etaMs: fraction > 0 ? (elapsedMs * (1 - fraction)) / fraction : 0 });
          }
        : undefined,
    });
    return resultInItemSpace(item, withoutNotFound(r, params));
  },
  row: (item, r) => ({
    id: item.id,
    source: item.source,
    kind: item.kind,
    studyUid: item.studyUid,
    seriesUid: item.seriesUid,
    description: item.description,
    seriesIndex: item.seriesIndex,
    shape: [...item.shape],
    spacing: [...item.spacing],
    order: item.order,
    vertebrae: r.vertebrae.map((v) => ({ ...v })),
    ...(r.patientOverall !== undefined ? { patientOverall: r.patientOverall, patientSource: r.patientSource } : {}),
    timings: { ...r.timings },
    warnings: [...item.warnings],
  }),
  exports: [
    {
      file: 'submission.csv',
      label: 'submission.csv',
      mime: 'text/csv',
      write: (rows) => spineSubmissionCsv(spineStudyPredictions(rows)),
      available: (rows) => hasFractureStage(rows),
    },
  ],
  itemExports: [
    {
      // the CLI's name; a source's other series get their SeriesInstanceUID added
      file: (item) => `${safeFileName(item.id)}${item.seriesIndex > 0 ? `_${safeFileName(item.seriesUid)}` : ''}.nii.gz`,
      label: 'masks (.nii.gz)',
      mime: 'application/gzip',
      write: (item, r) => spineMasksNifti(item, r.labels),
    },
  ],
  labels: {
    label: 'labels',
    cli: 'labels',
    parse: (text, name) => parseSpineLabelsCsv(text, name),
    metric: (rows, labels) => spinePresetMetric(rows, labels),
  },
  transferables: (x) => {
    const arrays = 'stored' in x ? [x.volume.data, x.stored] : [x.labels, x.gridProbs, x.probs];
    return [...new Set(arrays.filter((a) => a !== undefined).map((a) => a.buffer as ArrayBuffer))];
  },
};
