/**
 * The "EEG spectrogram" preset: six-class HMS spectrogram classification as in the HMS 2024
 * ResNet34d baseline (spec `pipelines.md` section 3). Plain data, JSON-serialisable; every value
 * is editable. The CAM / occlusion values are workbench features, not part of the original.
 */
import type { OcclusionParams } from '../occlusion';

export interface EegParams {
  /** Class names in the model's output order (the submission's `<name>_vote` columns). */
  classes: string[];
  /** 'whole': the whole file (the inference pipeline); 'window': `windowRows` rows from `windowStart`. */
  window: 'whole' | 'window';
  /** First row of the window (0-based; one row every 2 s). */
  windowStart: number;
  /** Rows per window: 300 = 10 minutes (the training window). */
  windowRows: number;
  /** Rows the model was trained on; shorter inputs run with a warning. */
  trainedRows: number;
  /** Power is clipped to [lo, hi] before the natural log: [e^-4, e^8]. */
  clip: [number, number];
  /** (x - mean) / (std + eps), population std over the whole (400, T) image. */
  eps: number;
  /** Model input size [H, W]: bilinear, align_corners False, no antialias. */
  size: [number, number];
  /** CAM normalisation: relu(f - camEps) / (max relu(f) + camEps) per class. */
  camEps: number;
  /** Occlusion maps for models without a class-map output (re-runs the models; slow). */
  occlusion: boolean;
  occlusionParams: Pick<OcclusionParams, 'patch' | 'stride' | 'fill' | 'batch'>;
  /** The Kaggle KL metric clips predictions to [klEpsilon, 1 - klEpsilon]. */
  klEpsilon: number;
}

export const EEG_CLASSES = ['seizure', 'lpd', 'gpd', 'lrda', 'grda', 'other'] as const;
export const EEG_CHAINS = ['LL', 'RL', 'LP', 'RP'] as const;

export const eegPreset: EegParams = {
  classes: [...EEG_CLASSES],
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

export const eegPresetInfo = {
  id: 'eeg',
  name: 'EEG spectrogram',
  task: 'six-class EEG pattern classification from HMS spectrograms (seizure, LPD, GPD, LRDA, GRDA, other)',
  source: 'HMS - Harmful Brain Activity Classification 2024, ResNet34d spectrogram baseline',
  input: 'parquet: time + 400 columns LL_0.59 .. RP_19.92 (4 chains x 100 bins), one row every 2 s; 300 rows = 10 minutes',
  model: 'one or several ONNX models (folds) (N, 1, 512, 512) -> logits (N, 6) [+ class_maps (N, 6, h, w)]; softmax, mean over models',
  output: 'submission.csv: eeg_id,seizure_vote,lpd_vote,gpd_vote,lrda_vote,grda_vote,other_vote',
  metric: 'KL divergence of the predictions from the normalised expert votes (Kaggle metric, predictions clipped at 1e-15)',
} as const;

/** Problems with the parameters, as messages (empty when valid). */
export function validateEegParams(p: EegParams): string[] {
  const out: string[] = [];
  if (p.classes.length < 2) out.push('at least two classes are needed');
  if (!Number.isInteger(p.windowStart) || p.windowStart < 0) out.push(`window start must be a whole row number >= 0, got ${p.windowStart}`);
  if (!Number.isInteger(p.windowRows) || p.windowRows < 1) out.push(`window rows must be a whole number >= 1, got ${p.windowRows}`);
  if (!(p.clip[0] > 0 && p.clip[1] > p.clip[0])) out.push(`clip must be 0 < low < high, got [${p.clip.join(', ')}]`);
  if (!(p.eps >= 0)) out.push(`eps must be >= 0, got ${p.eps}`);
  if (!p.size.every((s) => Number.isInteger(s) && s >= 8)) out.push(`input size must be whole numbers >= 8, got ${p.size.join(' x ')}`);
  if (!(p.klEpsilon > 0 && p.klEpsilon < 0.5)) out.push(`KL epsilon must be in (0, 0.5), got ${p.klEpsilon}`);
  return out;
}
