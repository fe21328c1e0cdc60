/**
 * `voxelbench protein`: the protein localisation preset (HPA 2021, pipeline 4) over a folder of RGBY
 * fields of view with onnxruntime-node (the same core as the page): per-image probabilities, per-cell
 * labels with the CAM rule, a per-cell CSV (HPA RLE masks), optionally the HPA-style submission and
 * the cell-level mAP at IoU 0.6. A bad field of view is reported with its file name and skipped; the
 * others still run.
 *
 *   npm run --silent cli -- protein --models m1.onnx[,m2.onnx] --inputs DIR [--cells DIR] --out cells.csv
 *                           [--rle hpa|counts] [--submission sub.csv] [--labels cell_labels.csv]
 *                           [--segment] [--card model.json] [--quiet]
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { inspectModel } from '../core/onnx/model';
import { sessionOutputsPredictor } from '../core/ortPredictor';
import { proteinParamsFromCard, proteinPreset, validateProteinParams, type ProteinModelCard, type ProteinParams } from '../core/presets/protein';
import { classifyProteinFile, groupProteinFiles, readFovFiles, type FovFiles } from '../core/protein/images';
import { cellMap, parseCellLabelsCsv, type MetricImage } from '../core/protein/metric';
import { cellRows, cellsCsv, runProteinFov, submissionCsv, type CellRow, type ProteinModel } from '../core/protein/pipeline';
import type { RleFormat } from '../core/protein/rle';
import { InputError } from '../core/volume';

export const PROTEIN_USAGE = `  voxelbench protein --models m1.onnx[,m2.onnx...] --inputs DIR [--cells DIR] --out cells.csv
                     [--rle hpa|counts] [--submission submission.csv] [--labels cell_labels.csv]
                     [--segment] [--card model.json] [--quiet]`;

function readBytes(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new InputError(`cannot read ${what} '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function listFiles(dir: string, what: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new InputError(`cannot read ${what} folder '${dir}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return names
    .sort()
    .map((n) => join(dir, n))
    .filter((p) => statSync(p).isFile());
}

/** The model's static class count from its outputs ([N, K] or [N, K, h, w]), if declared. */
function declaredClasses(bytes: Uint8Array): number | null {
  const info = inspectModel(bytes);
  for (const o of info.outputs) if ((o.dims.length === 2 || o.dims.length === 4) && typeof o.dims[1] === 'number' && o.dims[1] > 0) return o.dims[1];
  return null;
}

export async function protein(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      models: { type: 'string' },
      inputs: { type: 'string' },
      cells: { type: 'string' },
      out: { type: 'string' },
      rle: { type: 'string', default: 'hpa' },
      submission: { type: 'string' },
      labels: { type: 'string' },
      segment: { type: 'boolean', default: false },
      card: { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (!values.models || !values.inputs || !values.out) throw new InputError('protein needs --models, --inputs and --out');
  const rle = values.rle as RleFormat;
  if (rle !== 'hpa' && rle !== 'counts') throw new InputError(`--rle must be hpa or counts, got '${values.rle}'`);
  const quiet = values.quiet;
  const warn = (m: string) => process.stderr.write(`voxelbench: ${m}\n`);
  const note = (m: string) => {
    if (!quiet) process.stderr.write(`${m}\n`);
  };
  const modelPaths = values.models.split(',').map((m) => m.trim()).filter(Boolean);

  // parameters: preset <- model card (--card, or <first model>.json next to it)
  let params: ProteinParams = proteinPreset;
  const cardPath = values.card ?? modelPaths[0].replace(/\.onnx$/i, '') + '.json';
  if (values.card || existsSync(cardPath)) {
    let card: ProteinModelCard;
    try {
      card = JSON.parse(new TextDecoder().decode(readBytes(cardPath, 'model card'))) as ProteinModelCard;
    } catch (e) {
      throw new InputError(e instanceof InputError ? e.message : `model card '${cardPath}' is not JSON: ${(e as Error).message}`);
    }
    params = proteinParamsFromCard(card, params);
    note(`using the classes and preprocessing of ${basename(cardPath)}`);
  }
  const problems = validateProteinParams(params);
  if (problems.length) throw new InputError(problems[0]);
  const K = params.classes.length;

  // models
  const sessions: ort.InferenceSession[] = [];
  const models: ProteinModel[] = [];
  for (const path of modelPaths) {
    const bytes = readBytes(path, 'model');
    const name = basename(path);
    let k: number | null;
    try {
      k = declaredClasses(bytes);
    } catch (e) {
      throw new InputError(`${name}: not an ONNX model (${(e as Error).message})`);
    }
    if (k !== null && k !== K) throw new InputError(`${name}: the model gives ${k} classes; the protein preset needs ${K} (the HPA classes, Negative last)`);
    const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all' }).catch((e: Error) => {
      throw new InputError(`${name}: onnxruntime could not load the model: ${e.message.split('\n')[0]}`);
    });
    sessions.push(session);
    models.push({ name, outputs: sessionOutputsPredictor(session, (d, dims) => new ort.Tensor('float32', d, dims), session.inputNames[0]) });
  }

  // fields of view (+ masks from --cells)
  const files = listFiles(values.inputs, 'inputs');
  const { sets, ignored } = groupProteinFiles(files, (f) => basename(f));
  if (ignored.length) note(`ignored ${ignored.length} file${ignored.length > 1 ? 's' : ''} that are no channel image, TIFF or cell mask: ${ignored.slice(0, 4).map((f) => basename(f)).join(', ')}${ignored.length > 4 ? ', …' : ''}`);
  if (values.cells) {
    const byId = new Map(sets.map((s) => [s.id, s]));
    for (const f of listFiles(values.cells, 'cells')) {
      const c = classifyProteinFile(basename(f));
      const s = c && byId.get(c.id);
      if (c && s && (c.role === 'cells' || c.role === 'tiff')) s.cells = f;
    }
  }
  if (sets.length === 0) throw new InputError(`no fields of view in '${values.inputs}' (<id>_red.png, _green, _blue, _yellow or <id>.tif)`);

  const rows: CellRow[] = [];
  const sizes = new Map<string, [number, number]>();
  const metricImages: MetricImage[] = [];
  const gt = values.labels ? parseCellLabelsCsv(new TextDecoder().decode(readBytes(values.labels, 'labels')), basename(values.labels)) : null;
  let failed = 0;
  const out: string[] = [];
  for (const [i, s] of sets.entries()) {
    try {
      const read = await readFovFiles(s as FovFiles<string>, async (f) => readBytes(f, 'image'), (f) => basename(f));
      const useCells = values.segment ? null : read.cells;
      const r = await runProteinFov(read.fov, useCells, models, params, {
        onProgress: quiet ? undefined : (p) => process.stderr.write(`\r[${i + 1}/${sets.length}] ${s.id}: ${p.stage} ${p.done}/${p.total}   `),
      });
      if (!quiet) process.stderr.write('\n');
      sizes.set(r.id, [r.width, r.height]);
      const rs = cellRows(r, params.classes, rle);
      rows.push(...rs);
      for (const n of r.notes) note(`${s.id}: ${n}`);
      if (!quiet) {
        const top = Array.from(r.probabilities, (p, k) => [p, k] as const)
          .sort((a, b) => b[0] - a[0])
          .slice(0, 3)
          .map(([p, k]) => `${params.classes[k]} ${p.toFixed(4)}`)
          .join(', ');
        out.push(`${r.id}\t${r.cellResults.length} cells (${r.cellsSource})\t${rs.length} cell labels\ttop: ${top}`);
      }
      if (gt && read.cells) {
        const g = gt.get(r.id);
        if (g) metricImages.push({ id: r.id, gt: read.cells, gtClasses: g, pred: r.cells, preds: r.cellResults.flatMap((c) => c.labels.map((l) => ({ cell: c.id, cls: l.cls, confidence: l.confidence }))) });
        else warn(`${r.id} is not in ${basename(values.labels!)}; left out of the score`);
      } else if (gt) warn(`${r.id}: no ground-truth cell mask (<id>_cells.png); left out of the score`);
    } catch (e) {
      if (!quiet) process.stderr.write('\n');
      failed++;
      const msg = ((e as Error).message ?? String(e)).split('\n')[0];
      warn(msg.startsWith(s.id) ? msg : `${s.id}: ${msg}`);
    }
  }
  for (const s of sessions) await s.release();
  if (sizes.size === 0) {
    warn(`none of the ${sets.length} fields of view could be processed; nothing written`);
    return 1;
  }
  writeFileSync(values.out, cellsCsv(rows, sizes));
  if (values.submission) writeFileSync(values.submission, submissionCsv(rows, sizes));
  if (!quiet) out.push(`wrote ${values.out}: ${rows.length} rows for ${sizes.size} field${sizes.size > 1 ? 's' : ''} of view (${rle === 'hpa' ? 'HPA RLE' : 'uncompressed RLE counts'})${failed ? `; ${failed} failed` : ''}`);
  if (gt && metricImages.length) {
    const m = cellMap(metricImages, params.iouThreshold);
    const per = [...m.ap.entries()].map(([k, v]) => `${params.classes[k] ?? k} ${v.toFixed(4)}`).join(', ');
    out.push(`cell mAP at IoU ${params.iouThreshold}: ${m.mAP.toFixed(4)} over ${m.ap.size} classes (${metricImages.length} images): ${per}`);
  }
  if (out.length) process.stdout.write(out.join('\n') + '\n');
  return 0;
}
