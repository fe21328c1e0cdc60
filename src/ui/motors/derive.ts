/**
 * What the results panel shows, computed from the finished detections without running anything:
 * the cutoff (batch quantile or fixed score), pass/fail per tomogram, the metric against labels, histogram bins and ticks.
 */
import { motorMetric, type MetricResult, type Outcome } from '../../core/motors/metric';
import type { Point3 } from '../../core/motors/pipeline';
import { thresholdAt, type TomogramLabel } from '../../core/motors/postprocess';
import { motorsCutoff, motorsPreset, type MotorsParams } from '../../core/presets/motors';

export interface ResultRow {
  id: string;
  score: number;
  /** Detected point (z, y, x), original voxels. */
  point: Point3;
  passes: boolean;
  /** Label of this tomogram, when the labels have it. */
  label: TomogramLabel | null;
  /** Distance (voxels) of the detected point to the nearest true motor, pass or not; null without both. */
  distance: number | null;
  /** Distance threshold (voxels) from the label's voxel spacing. */
  threshold: number | null;
  outcome: Outcome | null;
}

export interface Results {
  rows: ResultRow[];
  cutoff: number;
  /** Metric over the labelled tomograms that have a result (null without labels or results). */
  metric: MetricResult | null;
}

const NO_MOTOR: Point3 = [-1, -1, -1];

function nearest(p: readonly number[], motors: readonly Point3[]): number | null {
  if (motors.length === 0) return null;
  return Math.min(...motors.map((m) => Math.hypot(m[0] - p[0], m[1] - p[1], m[2] - p[2])));
}

export function computeResults(
  dets: readonly { id: string; score: number; point: Point3 }[],
  params: Pick<MotorsParams, 'quantile' | 'beta' | 'distanceThresholdAngstrom'> & Partial<Pick<MotorsParams, 'cutoff' | 'scoreThreshold'>>,
  labels: readonly TomogramLabel[] | null,
): Results {
  const plain = dets.map((d) => ({ id: d.id, score: d.score, point: d.point }));
  const thr = thresholdAt(plain, motorsCutoff(plain.map((d) => d.score), { cutoff: params.cutoff ?? 'quantile', quantile: params.quantile, scoreThreshold: params.scoreThreshold ?? motorsPreset.scoreThreshold }));
  const cutoff = thr.length > 0 ? thr[0].cutoff : NaN;
  let metric: MetricResult | null = null;
  const byId = new Map((labels ?? []).map((l) => [l.id, l]));
  if (labels && thr.some((r) => byId.has(r.id))) {
    metric = motorMetric(
      labels,
      thr.map((r) => ({ id: r.id, point: r.passes ? r.point : NO_MOTOR })),
      { beta: params.beta, distanceThresholdAngstrom: params.distanceThresholdAngstrom, missing: 'skip' },
    );
  }
  const perTomo = new Map((metric?.perTomogram ?? []).map((m) => [m.id, m]));
  const rows = thr.map((r): ResultRow => {
    const label = byId.get(r.id) ?? null;
    const m = perTomo.get(r.id);
    return {
      id: r.id,
      score: r.score,
      point: r.point,
      passes: r.passes,
      label,
      distance: label ? nearest(r.point, label.motors) : null,
      threshold: m ? m.threshold : null,
      outcome: m ? m.outcome : null,
    };
  });
  return { rows, cutoff, metric };
}

/** Round numbers for an axis from lo to hi: about `n` ticks at 1, 2 or 5 x 10^k. */
export function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

export interface Histogram {
  lo: number;
  hi: number;
  edges: number[];
  counts: number[];
}

/** Scores binned over a padded range around them (and the cutoff); `bins` equal-width bins. */
export function histogram(scores: readonly number[], cutoff: number, bins = 20): Histogram {
  const vals = scores.filter((v) => Number.isFinite(v));
  const all = Number.isFinite(cutoff) ? [...vals, cutoff] : vals;
  let lo = all.length ? Math.min(...all) : 0;
  let hi = all.length ? Math.max(...all) : 1;
  const pad = hi > lo ? (hi - lo) * 0.08 : Math.max(Math.abs(hi) * 0.05, 0.05);
  lo -= pad;
  hi += pad;
  const width = (hi - lo) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => lo + i * width);
  const counts = new Array<number>(bins).fill(0);
  for (const v of vals) counts[Math.min(bins - 1, Math.max(0, Math.floor((v - lo) / width)))]++;
  return { lo, hi, edges, counts };
}
