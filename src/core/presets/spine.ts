/**
 * The "Cervical spine CT" preset: C1..C7 segmentation and fracture detection as in the RSNA 2022
 * Cervical Spine Fracture Detection first-place pipeline (spec `pipelines.md` section 2). Plain data,
 * JSON-serialisable; every value is editable.
 */

export const VERTEBRAE = ['C1', 'C2', 'C3', 'C4', 'C5', 'C6', 'C7'] as const;
export type Vertebra = (typeof VERTEBRAE)[number];

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

export const spinePreset: SpineParams = {
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

export const spinePresetInfo = {
  id: 'spine',
  name: 'Cervical spine CT',
  task: 'C1..C7 segmentation (stage 1) and per-vertebra fracture probability (stage 2)',
  source: 'RSNA 2022 Cervical Spine Fracture Detection, 1st place',
  input: 'a DICOM series (folder; uncompressed or JPEG 2000) or a NIfTI volume',
  model:
    'stage 1: ONNX (1, 3, 128, 128, 128) in [0, 1] -> (1, 7, 128, 128, 128) logits C1..C7 (sigmoid, mean over models); ' +
    'stage 2 (optional): ONNX (n, 6, 224, 224) -> per-slice fracture logits (+ an optional patient logit as second output)',
  output: 'submission.csv: row_id,fractured with {StudyInstanceUID}_C1..C7 and _patient_overall; label masks as NIfTI in the CT space',
  metric: 'RSNA 2022 weighted log loss (weights negative/positive 1/2 for C1..C7, 7/14 for patient_overall)',
  derived: [] as string[],
} as const;

/** The subset of a model card (public/models/spine_*.json) that the preset reads. */
export interface SpineModelCard {
  preset?: string;
  inputs?: { shape?: (number | string)[] }[];
  preprocessing?: { layout?: string; sliceOrder?: string };
  inference?: { inputSize?: number[]; maskThreshold?: number; maskFallbackThreshold?: number; swBatch?: number; roi?: number[] };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The preset values a model card gives: a stage-1 card (preset 'spine-seg') sets layout (from
 * preprocessing.layout: '(N, C, rows, cols, slices)' = slices-last, '(N, C, slices, rows, cols)' =
 * slices-first), sliceCount/size (inference.inputSize), thresholds (inference.maskThreshold /
 * maskFallbackThreshold) and the slice order (sliceOrder 'head first' -> position); a stage-2 card
 * ('spine-fracture') sets cropSize (inference.roi) and cropBatch (inference.swBatch).
 */
export function spineParamsFromCard(card: unknown): Partial<SpineParams> {
  if (!isObject(card)) throw new Error('model card: expected a JSON object');
  const c = card as SpineModelCard;
  const out: Partial<SpineParams> = {};
  const inf = isObject(c.inference) ? c.inference : {};
  const prep = isObject(c.preprocessing) ? c.preprocessing : {};
  if (c.preset === 'spine-fracture') {
    const roi = inf.roi;
    if (Array.isArray(roi) && roi.length === 2 && roi[0] === roi[1] && Number.isInteger(roi[0]) && roi[0] > 0) out.cropSize = roi[0];
    if (typeof inf.swBatch === 'number' && Number.isInteger(inf.swBatch) && inf.swBatch > 0) out.cropBatch = inf.swBatch;
    return out;
  }
  if (typeof prep.layout === 'string') {
    const l = prep.layout.replace(/\s+/g, '').toLowerCase();
    if (l.includes('rows,cols,slices')) out.layout = 'slices-last';
    else if (l.includes('slices,rows,cols')) out.layout = 'slices-first';
    else throw new Error(`model card: unknown preprocessing.layout ${JSON.stringify(prep.layout)}`);
  }
  const size = inf.inputSize;
  if (Array.isArray(size) && size.length === 3 && size.every((s) => Number.isInteger(s) && s > 0)) {
    // slices-last: (rows, cols, slices); slices-first: (slices, rows, cols)
    const slicesLast = (out.layout ?? 'slices-last') === 'slices-last';
    out.sliceCount = slicesLast ? size[2] : size[0];
    out.size = slicesLast ? size[0] : size[1];
    if ((slicesLast ? size[1] : size[2]) !== out.size) throw new Error(`model card: inference.inputSize ${size.join(' x ')} must have rows = cols`);
  }
  if (typeof inf.maskThreshold === 'number') out.threshold = inf.maskThreshold;
  if (typeof inf.maskFallbackThreshold === 'number') out.fallbackThreshold = inf.maskFallbackThreshold;
  if (typeof prep.sliceOrder === 'string' && /head first|ImagePositionPatient/i.test(prep.sliceOrder)) out.order = 'position';
  return out;
}

/** Checks the values a user can edit; returns a list of problems (empty when fine). */
export function validateSpineParams(p: SpineParams): string[] {
  const errs: string[] = [];
  const posInt = (v: number, what: string) => {
    if (!Number.isInteger(v) || v < 1) errs.push(`${what} must be a positive integer, got ${v}`);
  };
  posInt(p.sliceCount, 'slice count');
  posInt(p.size, 'size');
  posInt(p.channels, 'channels');
  posInt(p.cropSlices, 'crop slices');
  posInt(p.cropChannels, 'crop channels');
  posInt(p.cropSize, 'crop size');
  posInt(p.cropBatch, 'crop batch');
  if (p.order !== 'position' && p.order !== 'filename') errs.push(`order must be position or filename, got ${String(p.order)}`);
  if (p.layout !== 'slices-last' && p.layout !== 'slices-first') errs.push(`layout must be slices-last or slices-first, got ${String(p.layout)}`);
  if (!(p.threshold > 0 && p.threshold < 1)) errs.push(`threshold must be in (0, 1), got ${p.threshold}`);
  if (!(p.fallbackThreshold > 0 && p.fallbackThreshold <= p.threshold)) {
    errs.push(`fallback threshold must be in (0, threshold], got ${p.fallbackThreshold}`);
  }
  if (!(p.clampLow > 0 && p.clampLow < p.clampHigh && p.clampHigh < 1)) errs.push(`clamp must satisfy 0 < low < high < 1, got ${p.clampLow}, ${p.clampHigh}`);
  if (p.patient !== 'head' && p.patient !== 'product') errs.push(`patient must be head or product, got ${String(p.patient)}`);
  return errs;
}

/** A model's declared input/output dims (numbers fixed, strings symbolic), e.g. from inspectModel. */
export interface SpineModelIo {
  name: string;
  inputs: { name: string; dims: (number | string)[] }[];
  outputs: { name: string; dims: (number | string)[] }[];
}

/**
 * Problems (empty when fine) of a stage-1 ('seg') or stage-2 ('cls') model against the preset:
 * seg: one 5D input (N, channels, ...) whose fixed spatial dims match the layout's (rows, cols, slices)
 * or (slices, rows, cols), output (N, 7, ...); cls: one 4D input (N, cropChannels + 1, cropSize, cropSize).
 */
export function checkSpineModel(m: SpineModelIo, role: 'seg' | 'cls', p: SpineParams): string[] {
  const errs: string[] = [];
  const fixed = (d: number | string): d is number => typeof d === 'number' && d > 0;
  if (m.inputs.length !== 1) return [`${m.name}: the model has ${m.inputs.length} inputs; one image tensor is needed`];
  const dims = m.inputs[0].dims;
  if (role === 'seg') {
    if (dims.length !== 5) return [`${m.name}: a segmentation model needs a 5D input (N, C, D, H, W); this one has [${dims.join(', ')}]`];
    const want = p.layout === 'slices-last' ? [p.size, p.size, p.sliceCount] : [p.sliceCount, p.size, p.size];
    if (fixed(dims[1]) && dims[1] !== p.channels) errs.push(`${m.name}: the model takes ${dims[1]} channel(s); the preset repeats the volume to ${p.channels}`);
    const bad = dims.slice(2).some((d, i) => fixed(d) && d !== want[i]);
    if (bad) errs.push(`${m.name}: the model's input is [${dims.join(', ')}] but the preset feeds [1, ${p.channels}, ${want.join(', ')}] (${p.layout}); check the layout, slice count and size`);
    const out = m.outputs[0]?.dims ?? [];
    if (out.length !== 5 || (fixed(out[1]) && out[1] !== 7)) errs.push(`${m.name}: the output must be (N, 7, ...) = C1..C7 on the input grid; this one is [${out.join(', ')}]`);
  } else {
    if (dims.length !== 4) return [`${m.name}: a fracture model needs a 4D input (N, ${p.cropChannels + 1}, ${p.cropSize}, ${p.cropSize}); this one has [${dims.join(', ')}]`];
    if (fixed(dims[1]) && dims[1] !== p.cropChannels + 1) errs.push(`${m.name}: the model takes ${dims[1]} channel(s); the crops have ${p.cropChannels + 1} (${p.cropChannels} slices + the mask)`);
    if (dims.slice(2).some((d) => fixed(d) && d !== p.cropSize)) errs.push(`${m.name}: the model's input is [${dims.join(', ')}] but the crops are ${p.cropSize} x ${p.cropSize}`);
  }
  return errs;
}
