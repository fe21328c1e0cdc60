/**
 * Spine preset export and metric:
 * - submission.csv `row_id,fractured` with rows {StudyInstanceUID}_C1..C7 and {StudyInstanceUID}_patient_overall;
 * - the labels CSV of the competition (train.csv): `StudyInstanceUID,patient_overall,C1,...,C7`;
 * - the RSNA 2022 metric: weighted binary log loss over all rows, per-row weight 1 (negative) / 2
 *   (positive) for C1..C7 and 7 / 14 for patient_overall, loss = sum(w * l) / sum(w) (predictions
 *   clipped to [1e-15, 1 - 1e-15] as sklearn's log_loss).
 */
import { InputError } from '../volume';
import { parseCsvRows, parseCsvTable } from '../io/csv';
import { VERTEBRAE } from './vertebrae';
import type { VertebraRow } from './pipeline';

export interface SpineStudyPrediction {
  studyUid: string;
  vertebrae: Pick<VertebraRow, 'name' | 'fracture'>[];
  patientOverall?: number;
}

export interface SpineLabel {
  patient_overall: number;
  /** C1..C7. */
  C: number[];
}

export const SPINE_SUBMISSION_HEADER = 'row_id,fractured';
export const SPINE_LABEL_COLUMNS = ['StudyInstanceUID', 'patient_overall', ...VERTEBRAE] as const;

const fmt = (v: number): string => String(Number(v.toPrecision(6)));

/**
 * The value submission.csv and the metric give a target without a prediction: a vertebra without
 * a fracture value (no mask, or not found on the CT) or a study without stage 2. Every row_id is
 * written, so the file stays a valid submission.
 */
export const SPINE_MISSING = 0.5;

/**
 * What patient_overall was made of, in one line: the model's patient head, or 1 - the product of
 * (1 - C_k) over the vertebrae with a fracture value, naming those left out (not found on the CT, or
 * no mask) — "1 - product of (1 - C_k) over C3, C4, C5, C6, C7; left out: C1, C2 (not found)".
 */
export function patientOverallBasis(vertebrae: readonly Pick<VertebraRow, 'name' | 'present' | 'fracture'>[], source: 'head' | 'product' | undefined): string {
  if (source === 'head') return "the fracture model's patient head (mean over the crops)";
  const used = vertebrae.filter((v) => v.fracture !== undefined).map((v) => v.name);
  const notFound = vertebrae.filter((v) => v.fracture === undefined && !v.present).map((v) => v.name);
  const noValue = vertebrae.filter((v) => v.fracture === undefined && v.present).map((v) => v.name);
  const left = [notFound.length ? `${notFound.join(', ')} (not found)` : '', noValue.length ? `${noValue.join(', ')} (no fracture value)` : ''].filter(Boolean);
  return `1 - product of (1 - C_k) over ${used.length ? used.join(', ') : 'no vertebra'}${left.length ? `; left out: ${left.join(', ')}` : ''}`;
}

/** Predictions of one study by target: C1..C7 then patient_overall (missing -> `missing`). */
export function studyTargets(p: SpineStudyPrediction, missing = SPINE_MISSING): number[] {
  const c = VERTEBRAE.map((name) => p.vertebrae.find((v) => v.name === name)?.fracture ?? missing);
  return [...c, p.patientOverall ?? missing];
}

/** submission.csv: a vertebra without a stage-2 value (no mask, or not found on the CT) gets `missing` (SPINE_MISSING, 0.5). */
export function spineSubmissionCsv(rows: readonly SpineStudyPrediction[], missing = SPINE_MISSING): string {
  const lines = [SPINE_SUBMISSION_HEADER];
  for (const r of rows) {
    const t = studyTargets(r, missing);
    VERTEBRAE.forEach((name, k) => lines.push(`${r.studyUid}_${name},${fmt(t[k])}`));
    lines.push(`${r.studyUid}_patient_overall,${fmt(t[7])}`);
  }
  return lines.join('\n') + '\n';
}

/** Rows of a CSV (core's reader), cells trimmed, lines with nothing on them left out. */
const csvRows = (rows: string[][]): string[][] => rows.map((r) => r.map((c) => c.trim())).filter((r) => r.length > 1 || r[0] !== '');

/** The labels CSV (StudyInstanceUID,patient_overall,C1..C7; other columns ignored), values 0/1. */
export function parseSpineLabelsCsv(text: string, name = 'labels.csv'): Map<string, SpineLabel> {
  const table = parseCsvTable(text);
  const rows = table ? csvRows(table.rows) : [];
  if (!table || (table.header.length === 1 && table.header[0] === '')) throw new InputError(`${name}: the file is empty`);
  const missing = SPINE_LABEL_COLUMNS.filter((c) => table.column(c) < 0);
  if (missing.length) throw new InputError(`${name}: missing column(s) ${missing.join(', ')}; expected ${SPINE_LABEL_COLUMNS.join(',')}`);
  const out = new Map<string, SpineLabel>();
  rows.forEach((cells, r) => {
    const line = r + 2;
    const cell = (c: string): string | undefined => cells[table.column(c)];
    const uid = cell('StudyInstanceUID');
    const num = (c: string) => {
      const v = Number(cell(c));
      if (cell(c) === undefined || cell(c) === '' || !(v === 0 || v === 1)) throw new InputError(`${name}, line ${line}: ${c} must be 0 or 1, got '${cell(c) ?? ''}'`);
      return v;
    };
    if (!uid) throw new InputError(`${name}, line ${line}: empty StudyInstanceUID`);
    if (out.has(uid)) throw new InputError(`${name}, line ${line}: StudyInstanceUID ${uid} appears twice`);
    out.set(uid, { patient_overall: num('patient_overall'), C: VERTEBRAE.map((c) => num(c)) });
  });
  return out;
}

/** Parses submission.csv back into predictions (row_id,fractured). */
export function parseSpineSubmissionCsv(text: string, name = 'submission.csv'): SpineStudyPrediction[] {
  const rows = csvRows(parseCsvRows(text));
  if (rows[0]?.join(',') !== SPINE_SUBMISSION_HEADER) throw new InputError(`${name}: expected the header ${SPINE_SUBMISSION_HEADER}`);
  const map = new Map<string, SpineStudyPrediction>();
  for (let i = 1; i < rows.length; i++) {
    const [rowId, val] = rows[i];
    const m = /^(.*)_(C[1-7]|patient_overall)$/.exec(rowId ?? '');
    const v = Number(val);
    if (!m || !Number.isFinite(v)) throw new InputError(`${name}, line ${i + 1}: expected {StudyInstanceUID}_C1..C7|patient_overall,value`);
    const p = map.get(m[1]) ?? { studyUid: m[1], vertebrae: [] };
    map.set(m[1], p);
    if (m[2] === 'patient_overall') p.patientOverall = v;
    else p.vertebrae.push({ name: m[2], fracture: v });
  }
  return [...map.values()];
}

export interface SpineMetricResult {
  /** sum(w * loss) / sum(w) over all rows of the studies that have both labels and predictions. */
  loss: number;
  /** The same per study. */
  perStudy: { studyUid: string; loss: number }[];
  /** Labelled studies without a prediction (left out of the loss). */
  missing: string[];
  /** Predicted studies without a label (left out). */
  unlabelled: string[];
  rows: number;
}

export const SPINE_WEIGHTS = { vertebra: [1, 2], patient: [7, 14] } as const;

/** The RSNA 2022 weighted log loss. */
export function spineMetric(labels: Map<string, SpineLabel>, predictions: readonly SpineStudyPrediction[], eps = 1e-15): SpineMetricResult {
  let sw = 0;
  let swl = 0;
  let rows = 0;
  const perStudy: { studyUid: string; loss: number }[] = [];
  const seen = new Set<string>();
  const unlabelled: string[] = [];
  for (const p of predictions) {
    const lab = labels.get(p.studyUid);
    if (!lab) {
      unlabelled.push(p.studyUid);
      continue;
    }
    seen.add(p.studyUid);
    const pred = studyTargets(p);
    const y = [...lab.C, lab.patient_overall];
    let w1 = 0;
    let wl1 = 0;
    for (let t = 0; t < 8; t++) {
      const q = Math.min(1 - eps, Math.max(eps, pred[t]));
      const l = -(y[t] * Math.log(q) + (1 - y[t]) * Math.log(1 - q));
      const w = (t < 7 ? SPINE_WEIGHTS.vertebra : SPINE_WEIGHTS.patient)[y[t] ? 1 : 0];
      w1 += w;
      wl1 += w * l;
    }
    sw += w1;
    swl += wl1;
    rows += 8;
    perStudy.push({ studyUid: p.studyUid, loss: wl1 / w1 });
  }
  const missing = [...labels.keys()].filter((k) => !seen.has(k));
  return { loss: sw > 0 ? swl / sw : NaN, perStudy, missing, unlabelled, rows };
}
