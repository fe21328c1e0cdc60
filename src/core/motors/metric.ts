/**
 * The BYU 2025 competition metric (F-beta, beta 2), reproduced from its definition:
 * - truth: a tomogram has a motor when its label's "Motor axis 0" is not -1;
 * - prediction: has a motor unless any predicted axis is -1;
 * - prediction is set to 0 when both have a motor and the Euclidean distance (voxels) from the
 *   predicted point to the true motor (the nearest one when there are several) is greater than
 *   threshold = distanceThresholdAngstrom / voxel spacing (distance == threshold still counts);
 * - then sklearn `fbeta_score(truth, prediction, beta)`, binary: (1 + b^2) tp / (b^2 (tp + fn) + tp + fp),
 *   0 when that denominator is 0 (sklearn's zero_division default).
 * So a motor found at the wrong place counts as a false negative (not also a false positive).
 */
import { InputError } from '../volume';
import type { Point3 } from './pipeline';
import type { TomogramLabel } from './postprocess';

export type Outcome = 'TP' | 'FP' | 'FN' | 'TN';

export interface MetricRow {
  id: string;
  /** Distance (voxels) to the nearest true motor; null when either side has no motor. */
  distance: number | null;
  /** Distance threshold in voxels for this tomogram. */
  threshold: number;
  truth: 0 | 1;
  /** The prediction after the distance rule. */
  prediction: 0 | 1;
  outcome: Outcome;
}

export interface MetricResult {
  fbeta: number;
  beta: number;
  tp: number;
  fp: number;
  fn: number;
  tn: number;
  precision: number;
  recall: number;
  perTomogram: MetricRow[];
  /** Labelled tomograms without a prediction (only with missing: 'skip'). */
  missing: string[];
  /** Predicted tomograms that are not in the labels (ignored). */
  unlabelled: string[];
}

export interface MetricOptions {
  beta?: number;
  distanceThresholdAngstrom?: number;
  /** 'error' (default, like the competition): a labelled tomogram without a prediction is an error; 'skip': leave it out and list it. */
  missing?: 'error' | 'skip';
}

export function fbetaFromCounts(tp: number, fp: number, fn: number, beta: number): number {
  const b2 = beta * beta;
  const denom = b2 * (tp + fn) + (tp + fp);
  return denom === 0 ? 0 : ((1 + b2) * tp) / denom;
}

/** Scores predictions ((-1, -1, -1) = no motor) against labels. */
export function motorMetric(
  labels: readonly TomogramLabel[],
  predictions: readonly { id: string; point: Point3 | readonly number[] }[],
  opts: MetricOptions = {},
): MetricResult {
  const beta = opts.beta ?? 2;
  const radius = opts.distanceThresholdAngstrom ?? 1000;
  const preds = new Map<string, readonly number[]>();
  for (const p of predictions) {
    if (preds.has(p.id)) throw new InputError(`two predictions for tomogram ${p.id}`);
    preds.set(p.id, p.point);
  }
  const labelIds = new Set(labels.map((l) => l.id));
  const missing = labels.filter((l) => !preds.has(l.id)).map((l) => l.id);
  if (missing.length && (opts.missing ?? 'error') === 'error') {
    throw new InputError(`no prediction for ${missing.length} labelled tomogram${missing.length > 1 ? 's' : ''}: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`);
  }
  const rows: MetricRow[] = [];
  const sorted = [...labels].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const l of sorted) {
    const p = preds.get(l.id);
    if (!p) continue;
    const truth: 0 | 1 = l.motors.length > 0 ? 1 : 0;
    const hasPred: 0 | 1 = p.some((v) => v === -1) ? 0 : 1;
    const threshold = radius / l.spacing;
    let distance: number | null = null;
    let prediction = hasPred;
    if (truth && hasPred) {
      distance = Math.min(...l.motors.map((m) => Math.sqrt((m[0] - p[0]) ** 2 + (m[1] - p[1]) ** 2 + (m[2] - p[2]) ** 2)));
      if (distance > threshold) prediction = 0;
    }
    const outcome: Outcome = truth ? (prediction ? 'TP' : 'FN') : prediction ? 'FP' : 'TN';
    rows.push({ id: l.id, distance, threshold, truth, prediction, outcome });
  }
  const count = (o: Outcome) => rows.filter((r) => r.outcome === o).length;
  const tp = count('TP');
  const fp = count('FP');
  const fn = count('FN');
  const tn = count('TN');
  return {
    fbeta: fbetaFromCounts(tp, fp, fn, beta),
    beta,
    tp,
    fp,
    fn,
    tn,
    precision: tp + fp ? tp / (tp + fp) : 0,
    recall: tp + fn ? tp / (tp + fn) : 0,
    perTomogram: rows,
    missing,
    unlabelled: predictions.map((p) => p.id).filter((id) => !labelIds.has(id)),
  };
}
