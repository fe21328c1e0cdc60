/**
 * Batch post-processing and files: the quantile cutoff over a batch of tomograms, the Kaggle
 * submission CSV, and the BYU train-labels CSV.
 *
 * CSV number format (the page and the CLI must write the same bytes): coordinates are written with
 * at most 4 decimals, trailing zeros and a trailing point removed (`196.875`, `100`, `12.3457`),
 * rounded by JavaScript's toFixed(4) (the exact double rounded half up); -0 is written 0; a
 * tomogram without a motor (score <= cutoff) is written `-1,-1,-1`. Rows are sorted by tomo_id
 * (code-unit order), lines end with "\n", and the file ends with a newline.
 */
import { parseCsvRows } from '../io/csv';
import { InputError } from '../volume';
import type { Point3 } from './pipeline';

/**
 * Quantile with linear interpolation, as pandas `Series.quantile(q)` computes it: pandas calls
 * numpy.percentile(values, q * 100), which divides by 100 again; numpy's 'linear' method takes
 * virtual index h = (n - 1) * q and lerps between the neighbours as numpy's `_lerp` does
 * (a + (b - a) * t, or b - (b - a) * (1 - t) when t >= 0.5). NaN values are dropped (pandas skips them).
 */
export function quantileLinear(values: readonly number[], q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be in [0, 1], got ${q}`);
  const a = values.filter((v) => v === v).sort((x, y) => x - y);
  const n = a.length;
  if (n === 0) return NaN;
  const qq = (q * 100) / 100;
  const h = (n - 1) * qq;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  const t = h - lo;
  const x = a[lo];
  const y = a[hi];
  const d = y - x;
  return t >= 0.5 ? y - d * (1 - t) : x + d * t;
}

export interface ScoredPoint {
  id: string;
  score: number;
  point: Point3;
  peaks?: { score: number; point: Point3 }[];
}

export interface ThresholdedRow extends ScoredPoint {
  /** score > cutoff. */
  passes: boolean;
  cutoff: number;
  /** Peaks with score > cutoff (when peaks were given). */
  passingPeaks?: { score: number; point: Point3 }[];
}

/** The batch cutoff: quantileLinear(scores, q); with q = null no cutoff (-Infinity: everything passes). */
export function scoreCutoff(scores: readonly number[], q: number | null): number {
  return q === null ? -Infinity : quantileLinear(scores, q);
}

/**
 * cutoff = quantile(scores, q) over the batch; a tomogram passes when score > cutoff (the pipeline
 * gives tomograms with score <= cutoff no motor, (-1, -1, -1)). Note that with q > 0 the lowest
 * score never passes, so a batch of one tomogram gets no motor (as in the pipeline); q = null
 * disables the cutoff.
 */
export function thresholdDetections(dets: readonly ScoredPoint[], q: number | null): ThresholdedRow[] {
  return thresholdAt(dets, scoreCutoff(dets.map((d) => d.score), q));
}

/** Every detection at a given cutoff: it passes when score > cutoff (a fixed score threshold, or the batch's quantile). */
export function thresholdAt(dets: readonly ScoredPoint[], cutoff: number): ThresholdedRow[] {
  return dets.map((d) => {
    const row: ThresholdedRow = { ...d, passes: d.score > cutoff, cutoff };
    if (d.peaks) row.passingPeaks = d.peaks.filter((p) => p.score > cutoff);
    return row;
  });
}

/** A coordinate as written in the CSV: toFixed(4) with trailing zeros removed; -0 -> 0. */
export function formatCoordinate(v: number): string {
  if (!Number.isFinite(v)) throw new RangeError(`coordinate ${v} is not finite`);
  let s = v.toFixed(4);
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s === '-0' ? '0' : s;
}

export const SUBMISSION_HEADER = 'tomo_id,Motor axis 0,Motor axis 1,Motor axis 2';

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * The Kaggle submission: header `tomo_id,Motor axis 0,Motor axis 1,Motor axis 2`, one row per
 * tomogram sorted by id, (z, y, x) in original voxels, -1,-1,-1 for rows that do not pass.
 */
export function submissionCsv(rows: readonly { id: string; point: Point3 | readonly number[]; passes: boolean }[]): string {
  const sorted = [...rows].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const lines = [SUBMISSION_HEADER];
  for (const r of sorted) {
    const c = r.passes ? r.point.map(formatCoordinate) : ['-1', '-1', '-1'];
    lines.push([csvField(r.id), ...c].join(','));
  }
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// CSV reading

/** Splits CSV text into rows of fields (RFC 4180 quotes, CRLF or LF, a leading BOM dropped): core's one CSV reader. */
export const parseCsv = parseCsvRows;

/** One tomogram of a labels file: its motors (empty when none) and metadata. */
export interface TomogramLabel {
  id: string;
  /** True motors (z, y, x) in voxels; empty when the tomogram has none. */
  motors: Point3[];
  /** Voxel spacing in Angstrom. */
  spacing: number;
  shape?: Point3;
  /** The file's "Number of motors" column, when present. */
  count?: number;
}

export const LABEL_COLUMNS = {
  id: 'tomo_id',
  axes: ['Motor axis 0', 'Motor axis 1', 'Motor axis 2'],
  shape: ['Array shape (axis 0)', 'Array shape (axis 1)', 'Array shape (axis 2)'],
  spacing: 'Voxel spacing',
  count: 'Number of motors',
} as const;

/**
 * Parses labels in the BYU train-labels format
 * `row_id,tomo_id,Motor axis 0,Motor axis 1,Motor axis 2,Array shape (axis 0),(axis 1),(axis 2),Voxel spacing,Number of motors`
 * (row_id, the shapes and the count are optional; the column order is free). Several rows per
 * tomogram = several motors; -1 coordinates = no motor. Errors (InputError) name the missing column
 * or the line and the bad value.
 */
export function parseLabelsCsv(text: string, name = 'labels.csv'): TomogramLabel[] {
  const rows = parseCsv(text);
  if (rows.length === 0) throw new InputError(`${name}: the file is empty`);
  const header = rows[0].map((h) => h.trim());
  const col = (c: string) => header.findIndex((h) => h.toLowerCase() === c.toLowerCase());
  const need = [LABEL_COLUMNS.id, ...LABEL_COLUMNS.axes, LABEL_COLUMNS.spacing];
  const missing = need.filter((c) => col(c) < 0);
  if (missing.length) {
    throw new InputError(`${name}: missing column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')}; expected the BYU train-labels header (tomo_id, Motor axis 0/1/2, Voxel spacing, ...), got '${header.join(',')}'`);
  }
  const iId = col(LABEL_COLUMNS.id);
  const iAx = LABEL_COLUMNS.axes.map(col);
  const iSh = LABEL_COLUMNS.shape.map(col);
  const iSp = col(LABEL_COLUMNS.spacing);
  const iN = col(LABEL_COLUMNS.count);
  const byId = new Map<string, TomogramLabel>();
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r];
    const line = r + 1;
    const num = (i: number, what: string): number => {
      const v = Number((row[i] ?? '').trim());
      if ((row[i] ?? '').trim() === '' || !Number.isFinite(v)) throw new InputError(`${name}, line ${line}: ${what} is '${row[i] ?? ''}', not a number`);
      return v;
    };
    const id = (row[iId] ?? '').trim();
    if (!id) throw new InputError(`${name}, line ${line}: empty tomo_id`);
    const p = iAx.map((i, k) => num(i, LABEL_COLUMNS.axes[k])) as Point3;
    const spacing = num(iSp, LABEL_COLUMNS.spacing);
    if (!(spacing > 0)) throw new InputError(`${name}, line ${line}: ${LABEL_COLUMNS.spacing} must be > 0, got ${spacing}`);
    let t = byId.get(id);
    if (!t) {
      t = { id, motors: [], spacing };
      if (iSh.every((i) => i >= 0)) t.shape = iSh.map((i, k) => num(i, LABEL_COLUMNS.shape[k])) as Point3;
      if (iN >= 0) t.count = num(iN, LABEL_COLUMNS.count);
      byId.set(id, t);
    } else if (t.spacing !== spacing) {
      throw new InputError(`${name}, line ${line}: ${id} has voxel spacing ${spacing} here but ${t.spacing} on an earlier line`);
    }
    const none = p.some((v) => v === -1);
    if (!none) t.motors.push(p);
  }
  return [...byId.values()];
}
