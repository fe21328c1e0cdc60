/**
 * One field of view through the protein localisation pipeline (spec section 4), with the models as
 * OutputsPredictors so that the same code runs in the worker (onnxruntime-web) and in Node (CLI,
 * tests): preprocessing -> every model (folds) -> logits and class maps averaged over the models
 * BEFORE the sigmoid and the CAM -> probabilities = sigmoid -> CAM = relu / per-class max ->
 * per-cell labels (cells.ts) on the given cell mask or the simple built-in segmentation.
 * Models that give logits only get an occlusion map (src/core/occlusion.ts) in place of the CAM.
 */
import { occlusionMap } from '../occlusion';
import type { OutputsPredictor } from '../ortPredictor';
import { AbortError } from '../slidingWindow';
import type { ProteinParams } from '../presets/protein';
import { camAtImage, camFromClassMaps, labelCells, type CellResult } from './cells';
import type { FieldOfView } from './images';
import { preprocessFov } from './preprocess';
import { segmentCells } from './segment';
import { encodeCell, type RleFormat } from './rle';

export interface ProteinModel {
  name: string;
  outputs: OutputsPredictor;
}

export type ProteinStage = 'preprocess' | 'segment' | 'model' | 'occlusion' | 'cells';

export interface ProteinProgress {
  stage: ProteinStage;
  done: number;
  total: number;
  elapsedMs: number;
  etaMs: number;
}

export interface ProteinFovResult {
  id: string;
  width: number;
  height: number;
  /** Model logits averaged over the models [K]. */
  logits: Float32Array;
  probabilities: Float32Array;
  /** Normalised CAM (relu / max per class) [K, h, w] at the class-map (or occlusion) resolution. */
  cam: Float32Array;
  camShape: [number, number, number];
  camSource: 'class_maps' | 'occlusion';
  /** Cell label image [H * W] used for the per-cell rule. */
  cells: Int32Array;
  cellsSource: 'given' | 'segmented';
  cellResults: CellResult[];
  /** 255 or 65535. */
  divisor: number;
  notes: string[];
  timings: { preprocessMs: number; modelMs: number; camMs: number; cellsMs: number; totalMs: number };
}

export class ProteinModelError extends Error {
  override name = 'ProteinModelError';
}

interface PickedOutputs {
  logits: Float32Array | null;
  maps: { data: Float32Array; shape: [number, number, number] } | null;
}

/**
 * The logits (a [1, K] output) and class maps (a [1, K, h, w] output) among a model's outputs; K must
 * be the preset's number of classes. Logits from maps only = their spatial mean (Puzzle-CAM head).
 */
export function pickProteinOutputs(out: Record<string, { data: Float32Array; shape: number[] }>, modelName: string, classes: number): PickedOutputs {
  let logits: Float32Array | null = null;
  let maps: PickedOutputs['maps'] = null;
  const seen: string[] = [];
  for (const [name, o] of Object.entries(out)) {
    seen.push(`${name} [${o.shape.join(', ')}]`);
    if (o.shape.length === 2 && !logits) {
      if (o.shape[1] !== classes) throw new ProteinModelError(`${modelName}: the model gives ${o.shape[1]} classes (${name} [${o.shape.join(', ')}]); the protein preset needs ${classes} (the HPA classes, Negative last)`);
      logits = o.data.subarray(0, classes);
    } else if (o.shape.length === 4 && !maps) {
      if (o.shape[1] !== classes) throw new ProteinModelError(`${modelName}: the class maps have ${o.shape[1]} classes (${name} [${o.shape.join(', ')}]); the protein preset needs ${classes}`);
      const [, k, h, w] = o.shape;
      maps = { data: o.data.subarray(0, k * h * w), shape: [k, h, w] };
    }
  }
  if (!logits && !maps) throw new ProteinModelError(`${modelName}: no [N, ${classes}] logits or [N, ${classes}, h, w] class-map output (outputs: ${seen.join(', ')})`);
  if (!logits && maps) {
    const [k, h, w] = maps.shape;
    logits = new Float32Array(k);
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let i = c * h * w; i < (c + 1) * h * w; i++) s += maps.data[i];
      logits[c] = s / (h * w);
    }
  }
  return { logits, maps };
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());
const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

export interface ProteinRunOptions {
  signal?: AbortSignal;
  onProgress?: (p: ProteinProgress) => void;
}

export async function runProteinFov(
  fov: FieldOfView,
  givenCells: Int32Array | null,
  models: ProteinModel[],
  params: ProteinParams,
  opts: ProteinRunOptions = {},
): Promise<ProteinFovResult> {
  if (models.length === 0) throw new ProteinModelError('add at least one model');
  const t0 = now();
  const K = params.classes.length;
  const check = () => {
    if (opts.signal?.aborted) throw new AbortError();
  };
  const progress = (stage: ProteinStage, done: number, total: number) => {
    const elapsedMs = now() - t0;
    opts.onProgress?.({ stage, done, total, elapsedMs, etaMs: done > 0 ? (elapsedMs / done) * (total - done) : 0 });
  };
  const notes: string[] = [];
  progress('preprocess', 0, models.length);
  const input = preprocessFov(fov, params);
  const preprocessMs = now() - t0;
  check();

  let cells = givenCells;
  let cellsSource: ProteinFovResult['cellsSource'] = 'given';
  if (!cells) {
    progress('segment', 0, models.length);
    cells = segmentCells(fov, params.segmentation);
    cellsSource = 'segmented';
    notes.push('cells from the simple built-in segmentation (no cell mask given)');
  } else if (cells.length !== fov.width * fov.height) throw new Error(`${fov.id}: the cell mask has ${cells.length} pixels; the image has ${fov.width * fov.height}`);
  check();

  // every model on the same input; logits and class maps summed, then averaged
  const tm = now();
  const picked: PickedOutputs[] = [];
  for (const [i, m] of models.entries()) {
    progress('model', i, models.length);
    check();
    const out = await m.outputs(input.data, [...input.shape]);
    picked.push(pickProteinOutputs(out, m.name, K));
  }
  const logits = new Float32Array(K);
  for (const p of picked) for (let k = 0; k < K; k++) logits[k] += p.logits![k] / picked.length;
  const probabilities = logits.map(sigmoid);
  let modelMs = now() - tm;
  progress('model', models.length, models.length);

  const tc = now();
  let cam: Float32Array;
  let camShape: [number, number, number];
  let camSource: ProteinFovResult['camSource'];
  if (picked.every((p) => p.maps)) {
    const shape = picked[0].maps!.shape;
    const bad = picked.find((p) => p.maps!.shape.some((v, i) => v !== shape[i]));
    if (bad) throw new ProteinModelError(`the models give class maps of different sizes (${picked.map((p, i) => `${models[i].name} ${p.maps!.shape.slice(1).join(' x ')}`).join(', ')}); folds must have the same head`);
    const mean = new Float32Array(shape[0] * shape[1] * shape[2]);
    for (const p of picked) for (let i = 0; i < mean.length; i++) mean[i] += p.maps!.data[i] / picked.length;
    cam = camFromClassMaps(mean, shape, params.camEps);
    camShape = shape;
    camSource = 'class_maps';
  } else {
    if (picked.some((p) => p.maps)) notes.push('some models give no class maps: the CAM is an occlusion map of the averaged logits for all of them');
    else notes.push('the model gives logits only: the CAM is an occlusion map (drop of the sigmoid score when a patch is masked)');
    const [, c, H, W] = input.shape;
    const predict = async (batch: Float32Array, shape: number[]) => {
      const n = shape[0];
      const acc = new Float32Array(n * K);
      for (const m of models) {
        const out = await m.outputs(batch, shape);
        // logits of each input in the batch
        const o = Object.values(out).find((t) => t.shape.length === 2);
        if (!o) throw new ProteinModelError(`${m.name}: no [N, ${K}] logits output for the occlusion map`);
        for (let i = 0; i < n * K; i++) acc[i] += o.data[i] / models.length;
      }
      return { data: acc, shape: [n, K] };
    };
    const occ = await occlusionMap(
      { data: input.data, shape: [c, H, W] },
      predict,
      { patch: params.occlusion.patch, stride: params.occlusion.stride, fill: params.occlusion.fill, batch: params.occlusion.batch, activation: 'sigmoid' },
      { signal: opts.signal, onProgress: (p) => progress('occlusion', p.done, p.total) },
    );
    cam = camFromClassMaps(occ.maps, occ.shape, params.camEps);
    camShape = occ.shape;
    camSource = 'occlusion';
    modelMs += occ.ms;
  }
  const camMs = now() - tc;
  check();

  const tcell = now();
  progress('cells', 0, 1);
  const cellResults = labelCells(
    probabilities,
    (k) => camAtImage(cam, k, [camShape[1], camShape[2]], fov.height, fov.width),
    cells,
    fov.width,
    params,
    opts.signal,
  );
  const cellsMs = now() - tcell;
  progress('cells', 1, 1);
  return {
    id: fov.id,
    width: fov.width,
    height: fov.height,
    logits,
    probabilities,
    cam,
    camShape,
    camSource,
    cells,
    cellsSource,
    cellResults,
    divisor: input.divisor,
    notes,
    timings: { preprocessMs, modelMs, camMs, cellsMs, totalMs: now() - t0 },
  };
}

// ---------------------------------------------------------------------------------------------
// export

export interface CellRow {
  imageId: string;
  cellId: number;
  cls: number;
  className: string;
  confidence: number;
  rle: string;
}

/** Per-cell CSV: `ImageID,CellID,Class,ClassName,Confidence,Width,Height,Mask` (one row per cell and class). */
export function cellsCsv(rows: CellRow[], sizes: Map<string, [number, number]>): string {
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = ['ImageID,CellID,Class,ClassName,Confidence,ImageWidth,ImageHeight,Mask'];
  for (const r of rows) {
    const [w, h] = sizes.get(r.imageId) ?? [0, 0];
    lines.push([q(r.imageId), r.cellId, r.cls, q(r.className), r.confidence.toFixed(6), w, h, r.rle].join(','));
  }
  return lines.join('\n') + '\n';
}

/**
 * HPA submission style (one row per image): `ID,ImageWidth,ImageHeight,PredictionString` with
 * `class confidence rle` triples for every cell and class.
 */
export function submissionCsv(rows: CellRow[], sizes: Map<string, [number, number]>): string {
  const by = new Map<string, CellRow[]>();
  for (const r of rows) {
    if (!by.has(r.imageId)) by.set(r.imageId, []);
    by.get(r.imageId)!.push(r);
  }
  const lines = ['ID,ImageWidth,ImageHeight,PredictionString'];
  for (const [id, rs] of by) {
    const [w, h] = sizes.get(id) ?? [0, 0];
    lines.push(`${id},${w},${h},${rs.map((r) => `${r.cls} ${r.confidence.toFixed(6)} ${r.rle}`).join(' ')}`);
  }
  return lines.join('\n') + '\n';
}

/** The rows of one field of view: one per cell and kept class, with the cell's mask encoded. */
export function cellRows(r: Pick<ProteinFovResult, 'id' | 'cells' | 'cellResults' | 'width' | 'height'>, classes: readonly string[], format: RleFormat): CellRow[] {
  const rows: CellRow[] = [];
  for (const c of r.cellResults) {
    const rle = encodeCell(r.cells, c.id, r.height, r.width, format);
    for (const l of c.labels) rows.push({ imageId: r.id, cellId: c.id, cls: l.cls, className: classes[l.cls] ?? String(l.cls), confidence: l.confidence, rle });
  }
  return rows;
}
