/**
 * The "Flagellar motors" preset: cryo-ET flagellar motor detection as in the BYU 2025 first-place
 * pipeline (spec `pipelines.md` section 1). Plain data, JSON-serialisable; every value is editable.
 * Values marked (derived) come from public copies of the original code, not the original itself.
 */

export type MotorsTta = 'identity' | 'flipD' | 'flipH' | 'flipW';

export const MOTORS_TTA: readonly MotorsTta[] = ['identity', 'flipD', 'flipH', 'flipW'];

export interface MotorsParams {
  /** Size (D, H, W) every tomogram is resized to, order-1 corner-aligned (scipy zoom), uint8. (derived) */
  inputSize: [number, number, number];
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
  /** Batch quantile of the scores used as cutoff: a tomogram passes when its score > cutoff. */
  quantile: number;
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

export const motorsPreset: MotorsParams = {
  inputSize: [128, 672, 672],
  roi: [64, 672, 672],
  overlap: [0.875, 0.25, 0.25],
  swBatch: 2,
  weightMargin: 0.3,
  weightFloor: 1e-3,
  tta: ['identity', 'flipD', 'flipH'],
  quantile: 0.545,
  maxPeaks: 1,
  minPeakDistance: 32,
  distanceThresholdAngstrom: 1000,
  beta: 2,
  defaultVoxelSpacing: 10,
};

export const motorsPresetInfo = {
  id: 'motors',
  name: 'Flagellar motors',
  task: 'cryo-ET flagellar motor detection (one point per tomogram)',
  source: 'BYU - Locating Bacterial Flagellar Motors 2025, 1st place',
  input: 'tomograms: folders of slice_%04d.jpg/png, MRC/REC files or multi-page TIFF stacks (uint8 Z, Y, X)',
  model: 'one or several ONNX models (N, 1, D, H, W) in [0, 1] -> (N, 1, d, h, w) logits; several models are summed after the sigmoid',
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
    roi?: number[];
    overlap?: number[] | number;
    swBatch?: number;
    tta?: string[];
    postprocess?: { quantile?: number };
  };
}

function triple(v: unknown, what: string): [number, number, number] | undefined {
  if (v === undefined) return undefined;
  const a = typeof v === 'number' ? [v, v, v] : v;
  if (!Array.isArray(a) || a.length !== 3 || !a.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new Error(`model card: ${what} must be 3 numbers, got ${JSON.stringify(v)}`);
  }
  return [a[0], a[1], a[2]];
}

/** The preset with the values a model card gives (inference.inputSize/roi/overlap/swBatch/tta, postprocess.quantile). */
export function motorsParamsFromCard(card: MotorsModelCard, base: MotorsParams = motorsPreset): MotorsParams {
  const inf = card.inference ?? {};
  const p: MotorsParams = { ...base, inputSize: [...base.inputSize], roi: [...base.roi], overlap: [...base.overlap], tta: [...base.tta] };
  const size = triple(inf.inputSize ?? card.preprocessing?.resize?.to, 'inference.inputSize');
  if (size) p.inputSize = size;
  const roi = triple(inf.roi, 'inference.roi');
  if (roi) p.roi = roi;
  const overlap = triple(inf.overlap, 'inference.overlap');
  if (overlap) p.overlap = overlap;
  if (typeof inf.swBatch === 'number') p.swBatch = inf.swBatch;
  if (Array.isArray(inf.tta)) {
    const bad = inf.tta.filter((t) => !MOTORS_TTA.includes(t as MotorsTta));
    if (bad.length) throw new Error(`model card: unknown TTA ${bad.join(', ')}; known: ${MOTORS_TTA.join(', ')}`);
    p.tta = inf.tta as MotorsTta[];
  }
  if (typeof inf.postprocess?.quantile === 'number') p.quantile = inf.postprocess.quantile;
  return p;
}

/** Checks the values a user can edit; returns a list of problems (empty when fine). */
export function validateMotorsParams(p: MotorsParams): string[] {
  const errs: string[] = [];
  const pos = (a: number[], what: string) => {
    if (a.length !== 3 || a.some((x) => !Number.isInteger(x) || x < 1)) errs.push(`${what} must be 3 positive integers, got ${a.join(', ')}`);
  };
  pos(p.inputSize, 'input size');
  pos(p.roi, 'roi');
  if (p.overlap.length !== 3 || p.overlap.some((o) => !(o >= 0 && o < 1))) errs.push(`overlap must be 3 values in [0, 1), got ${p.overlap.join(', ')}`);
  if (!Number.isInteger(p.swBatch) || p.swBatch < 1) errs.push(`sw batch must be a positive integer, got ${p.swBatch}`);
  if (!(p.weightMargin >= 0 && p.weightMargin <= 0.5)) errs.push(`weight margin must be in [0, 0.5], got ${p.weightMargin}`);
  if (!(p.weightFloor > 0 && p.weightFloor <= 1)) errs.push(`weight floor must be in (0, 1], got ${p.weightFloor}`);
  if (p.tta.length === 0) errs.push('at least one TTA pass is needed (identity)');
  const badTta = p.tta.filter((t) => !MOTORS_TTA.includes(t));
  if (badTta.length) errs.push(`unknown TTA ${badTta.join(', ')}; known: ${MOTORS_TTA.join(', ')}`);
  if (!(p.quantile >= 0 && p.quantile <= 1)) errs.push(`quantile must be in [0, 1], got ${p.quantile}`);
  if (!Number.isInteger(p.maxPeaks) || p.maxPeaks < 1) errs.push(`max peaks must be a positive integer, got ${p.maxPeaks}`);
  if (!(p.minPeakDistance >= 0)) errs.push(`min peak distance must be >= 0, got ${p.minPeakDistance}`);
  if (!(p.distanceThresholdAngstrom > 0)) errs.push(`distance threshold must be > 0, got ${p.distanceThresholdAngstrom}`);
  if (!(p.beta > 0)) errs.push(`beta must be > 0, got ${p.beta}`);
  if (!(p.defaultVoxelSpacing > 0)) errs.push(`default voxel spacing must be > 0, got ${p.defaultVoxelSpacing}`);
  return errs;
}
