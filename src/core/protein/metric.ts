/**
 * Cell-level mean average precision at mask IoU >= 0.6 (HPA 2021, the Open Images challenge
 * instance-segmentation metric): per class, predictions (cell mask, confidence) over all images in
 * descending confidence; each matches the not yet matched ground-truth cell of that class in its image
 * with the highest IoU >= the threshold (true positive) or none (false positive); AP = area under the
 * precision envelope over recall (VOC 2010+); mAP = mean over classes with ground truth.
 * Reference: tools/make_protein_fixtures.py (average_precision_cells).
 */
import { formatCsvRows, parseCsvRows } from '../io/csv';
import { InputError } from '../volume';

export interface MetricImage {
  id: string;
  /** Ground-truth cell label image [H * W] and each cell's classes. */
  gt: ArrayLike<number>;
  gtClasses: Map<number, number[]>;
  /** Predicted cell label image [H * W] and predictions on its cells. */
  pred: ArrayLike<number>;
  preds: { cell: number; cls: number; confidence: number }[];
}

export interface CellMapResult {
  mAP: number;
  /** AP per class with at least one ground-truth cell. */
  ap: Map<number, number>;
  positives: Map<number, number>;
  iouThreshold: number;
}

/** IoU of every (pred cell, gt cell) pair that overlaps, from one pass over the label images. */
export function pairIous(pred: ArrayLike<number>, gt: ArrayLike<number>): Map<number, Map<number, number>> {
  const inter = new Map<number, Map<number, number>>();
  const pa = new Map<number, number>();
  const ga = new Map<number, number>();
  for (let i = 0; i < pred.length; i++) {
    const p = pred[i];
    const g = gt[i];
    if (p) pa.set(p, (pa.get(p) ?? 0) + 1);
    if (g) ga.set(g, (ga.get(g) ?? 0) + 1);
    if (p && g) {
      let m = inter.get(p);
      if (!m) inter.set(p, (m = new Map()));
      m.set(g, (m.get(g) ?? 0) + 1);
    }
  }
  const out = new Map<number, Map<number, number>>();
  for (const [p, m] of inter) {
    const row = new Map<number, number>();
    for (const [g, n] of m) row.set(g, n / (pa.get(p)! + ga.get(g)! - n));
    out.set(p, row);
  }
  return out;
}

function envelopeAp(tp: number[], npos: number): number {
  const prec: number[] = [];
  const rec: number[] = [];
  let c = 0;
  tp.forEach((t, i) => {
    c += t;
    prec.push(c / (i + 1));
    rec.push(c / npos);
  });
  const mprec = [0, ...prec, 0];
  const mrec = [0, ...rec, 1];
  for (let i = mprec.length - 2; i >= 0; i--) mprec[i] = Math.max(mprec[i], mprec[i + 1]);
  let ap = 0;
  for (let i = 0; i + 1 < mrec.length; i++) if (mrec[i + 1] !== mrec[i]) ap += (mrec[i + 1] - mrec[i]) * mprec[i + 1];
  return ap;
}

export function cellMap(images: MetricImage[], iouThreshold = 0.6): CellMapResult {
  return cellMapFromIous(
    images.map((im) => ({ id: im.id, ious: pairIous(im.pred, im.gt), gtClasses: im.gtClasses, preds: im.preds })),
    iouThreshold,
  );
}

/** One image for the metric with its mask IoUs already computed (pairIous(pred, gt)): what a batch row keeps. */
export interface MetricIous {
  id: string;
  /** IoU by predicted cell, then ground-truth cell (pairs that overlap). */
  ious: Map<number, Map<number, number>>;
  gtClasses: Map<number, number[]>;
  preds: { cell: number; cls: number; confidence: number }[];
}

/** cellMap on IoUs computed before (the same numbers: cellMap calls this). */
export function cellMapFromIous(images: readonly MetricIous[], iouThreshold = 0.6): CellMapResult {
  const ious = new Map(images.map((im) => [im.id, im.ious]));
  const classes = new Set<number>();
  for (const im of images) {
    for (const cl of im.gtClasses.values()) cl.forEach((c) => classes.add(c));
    im.preds.forEach((p) => classes.add(p.cls));
  }
  const ap = new Map<number, number>();
  const positives = new Map<number, number>();
  for (const k of [...classes].sort((a, b) => a - b)) {
    const gtOf = new Map<string, number[]>();
    let npos = 0;
    for (const im of images) {
      const cells = [...im.gtClasses.entries()].filter(([, cl]) => cl.includes(k)).map(([id]) => id);
      gtOf.set(im.id, cells);
      npos += cells.length;
    }
    if (npos === 0) continue;
    positives.set(k, npos);
    const preds = images.flatMap((im) => im.preds.filter((p) => p.cls === k).map((p) => ({ im: im.id, cell: p.cell, s: p.confidence })));
    // stable order by descending confidence (ties keep the input order, as Python's sorted)
    const order = preds.map((_, i) => i).sort((a, b) => preds[b].s - preds[a].s || a - b);
    const used = new Map(images.map((im) => [im.id, new Set<number>()]));
    const tp = order.map((i) => {
      const p = preds[i];
      const row = ious.get(p.im)!.get(p.cell);
      let best = iouThreshold;
      let bj = -1;
      for (const g of gtOf.get(p.im)!) {
        if (used.get(p.im)!.has(g)) continue;
        const v = row?.get(g) ?? 0;
        if (v >= best) {
          best = v;
          bj = g;
        }
      }
      if (bj < 0) return 0;
      used.get(p.im)!.add(bj);
      return 1;
    });
    ap.set(k, envelopeAp(tp, npos));
  }
  const vals = [...ap.values()];
  return { mAP: vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : NaN, ap, positives, iouThreshold };
}

/** `ID,cell,Label` ground truth (public/samples/protein/cell_labels.csv): image id -> cell -> classes. Read with core's CSV reader. */
export function parseCellLabelsCsv(text: string, name = 'cell_labels.csv'): Map<string, Map<number, number[]>> {
  const rows = parseCsvRows(text).filter((r) => r.some((f) => f.trim() !== ''));
  const head = rows[0]?.map((s) => s.trim().toLowerCase()) ?? [];
  const iId = head.indexOf('id');
  const iCell = head.indexOf('cell');
  const iLab = head.indexOf('label');
  if (iId < 0 || iCell < 0 || iLab < 0) throw new InputError(`${name}: needs the columns ID, cell, Label (got ${rows[0] ? formatCsvRows([rows[0]]).trimEnd() : 'an empty file'})`);
  const out = new Map<string, Map<number, number[]>>();
  rows.slice(1).forEach((f, i) => {
    const cell = Number(f[iCell]);
    const labels = (f[iLab] ?? '').trim().split(/[ |]+/).filter(Boolean).map(Number);
    if (!Number.isInteger(cell) || labels.some((v) => !Number.isInteger(v))) throw new InputError(`${name}: line ${i + 2} is not 'ID,cell,Label' with whole numbers: ${formatCsvRows([f]).trimEnd()}`);
    const id = (f[iId] ?? '').trim();
    if (!out.has(id)) out.set(id, new Map());
    out.get(id)!.set(cell, labels);
  });
  return out;
}
