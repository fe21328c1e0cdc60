/**
 * The "Protein localisation" preset: HPA 2021 single-cell classification with class activation
 * maps (Puzzle-CAM style), spec `pipelines.md` section 4. Every value is declared once in
 * `proteinParamSpecs`; defaults, validation, model cards, links, sessions, the form and the CLI
 * flags come from there. The per-cell rule is the pipeline's; the Negative confidence of an
 * unlabelled cell and the simple built-in segmentation are this workbench's own choices (see the notes).
 */
import type { ModelInfo } from '../onnx/model';
import { LIMITS } from '../io/limits';
import { paramDefaults, validateParams, type ParamSpecs } from '../preset/params';
import { sessionZ } from '../preset/derive';
import { z } from '../zod';
import { presetParamsFromCard } from '../preset';
import { robustRange, type InputFacts } from '../preset/expects';
import type { MetricReport, ModelRole, Preset, PresetMemory } from '../preset/types';
import { modelsPeak } from '../onnx/memory';
import { classifyProteinFile, PROTEIN_CHANNELS, type ProteinChannel } from '../protein/images';
import { cellMapFromIous, pairIous, parseCellLabelsCsv, type MetricIous } from '../protein/metric';
import { cellRows, cellsCsv, runProteinFov, submissionCsv, type CellRow, type ProteinFovResult, type ProteinProgress } from '../protein/pipeline';
import type { RleFormat } from '../protein/rle';
import { readProteinSource, sortProteinPaths, type ProteinItem } from '../protein/sources';

export { PROTEIN_CHANNELS, type ProteinChannel };

export const HPA_CLASSES: readonly string[] = [
  'Nucleoplasm',
  'Nuclear membrane',
  'Nucleoli',
  'Nucleoli fibrillar center',
  'Nuclear speckles',
  'Nuclear bodies',
  'Endoplasmic reticulum',
  'Golgi apparatus',
  'Intermediate filaments',
  'Actin filaments',
  'Microtubules',
  'Mitotic spindle',
  'Centrosome',
  'Plasma membrane',
  'Mitochondria',
  'Aggresome',
  'Cytosol',
  'Vesicles and punctate cytosolic patterns',
  'Negative',
];

export interface ProteinSegmentationParams {
  /** Nuclei: blue above this fraction of Otsu's threshold (after a 5 x 5 box blur). */
  nucleusThresholdFactor: number;
  /** Nuclei smaller than this (pixels at 512 x 512; scaled with the image area) are dropped. */
  minNucleusArea: number;
  /** Cell area: (red + yellow + blue, each scaled by its 99th percentile) above this fraction of Otsu's threshold. */
  cellThresholdFactor: number;
}

export interface ProteinOcclusionParams {
  /** Patch [h, w] in model-input pixels (512 x 512). */
  patch: [number, number];
  stride: [number, number];
  /** Value of the masked patch in the normalised input (0 = the channel mean of the training data). */
  fill: number;
  /** Masked inputs per model call. */
  batch: number;
}

export interface ProteinParams {
  /** Class names in model-output order; the model must give exactly this many. */
  classes: string[];
  /** Index of Negative: cells that no class keeps get it. */
  negativeClass: number;
  /** Model input size [H, W]: anti-aliased bilinear resize (PyTorch antialias=True), skipped when equal. */
  inputSize: [number, number];
  /** Per channel (red, green, blue, yellow), after scaling to [0, 1]: (x - mean) / std. */
  mean: [number, number, number, number];
  std: [number, number, number, number];
  /** CAM: relu(f - eps) / (max + eps) per class. */
  camEps: number;
  /** Classes with an image probability above this are tested per cell. */
  minProbability: number;
  /** Percentile (numpy 'linear') of the CAM over the image (Q) and inside a cell (q). */
  percentile: number;
  /** Keep a class for a cell when conf / p > keepRatio, conf = clip(q p / Q, 0, p). */
  keepRatio: number;
  /** Metric: a predicted cell matches a ground-truth cell at mask IoU >= this. */
  iouThreshold: number;
  segmentation: ProteinSegmentationParams;
  /** Used for models with logits only (no class-map output). */
  occlusion: ProteinOcclusionParams;
  /** Cells from the simple built-in segmentation even where a cell mask is given (the mask is then the metric's ground truth only). */
  segment: boolean;
  /** Cell masks in cells.csv / submission.csv: 'hpa' (the HPA 2021 encode_binary_mask) or 'counts' (uncompressed column-major run lengths). */
  rle: RleFormat;
}

const HW = ['H', 'W'] as const;
const RGBY = PROTEIN_CHANNELS;

/** A card value that is a list of `n` numbers passing `ok`; other forms are not read (as before the specs). */
const listOf =
  (n: number, ok: (x: number) => boolean) =>
  (v: unknown): number[] | undefined =>
    Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && ok(x)) ? [...(v as number[])] : undefined;

/**
 * Every value of the preset, declared once. Link keys are the protein page's (the keys, nested ones
 * dotted: `segmentation.minNucleusArea`); the CLI flags of `voxelbench protein` (`--segment`,
 * `--rle hpa|counts`) are two of them.
 */
export const proteinParamSpecs: ParamSpecs = [
  {
    key: 'classes', label: 'classes', type: 'strings', default: [...HPA_CLASSES], minCount: 1, group: 'model',
    card: { path: 'classes', read: (v) => (Array.isArray(v) && v.length > 0 ? v.map(String) : undefined) },
    help: 'class names in model-output order; the model must give exactly this many',
  },
  { key: 'negativeClass', label: 'negative class', type: 'number', integer: true, min: 0, default: 18, group: 'model', advanced: true, help: 'index of Negative: cells that no class keeps get it' },
  {
    key: 'inputSize', label: 'input size', type: 'numbers', axes: HW, integer: true, min: 8, max: 4096, default: [512, 512], unit: 'pixels', group: 'preprocessing',
    card: { path: 'preprocessing.resize.size', read: listOf(2, (x) => Number.isInteger(x) && x > 0) }, help: 'anti-aliased bilinear resize (skipped when equal)',
  },
  {
    key: 'mean', label: 'mean', type: 'numbers', axes: RGBY, default: [0.485, 0.456, 0.406, 0.485], group: 'preprocessing', advanced: true,
    card: { path: 'preprocessing.normalise.mean', read: listOf(4, () => true) }, help: 'per channel, after scaling to [0, 1]: (x - mean) / std',
  },
  {
    key: 'std', label: 'std', type: 'numbers', axes: RGBY, min: 0, minExclusive: true, default: [0.229, 0.224, 0.225, 0.229], group: 'preprocessing', advanced: true,
    card: { path: 'preprocessing.normalise.std', read: listOf(4, () => true) }, help: 'per channel, after scaling to [0, 1]: (x - mean) / std',
  },
  { key: 'camEps', label: 'CAM eps', type: 'number', min: 0, default: 1e-5, group: 'cells', advanced: true, help: 'relu(f - eps) / (max + eps) per class' },
  { key: 'minProbability', label: 'minimum probability', type: 'number', min: 0, max: 1, maxExclusive: true, default: 0.01, group: 'cells', help: 'classes with an image probability above this are tested per cell' },
  { key: 'percentile', label: 'percentile', type: 'number', min: 0, max: 100, default: 99, group: 'cells', help: 'of the CAM over the image (Q) and inside a cell (q)' },
  { key: 'keepRatio', label: 'keep ratio', type: 'number', min: 0, max: 1, default: 0.02, group: 'cells', help: 'a cell keeps a class when conf / p > this, conf = clip(q p / Q, 0, p)' },
  {
    key: 'iouThreshold', label: 'IoU threshold', type: 'number', min: 0, minExclusive: true, max: 1, default: 0.6, live: true, group: 'metric',
    help: 'a predicted cell matches a ground-truth cell at mask IoU >= this',
  },
  {
    key: 'segmentation.nucleusThresholdFactor', label: 'nucleus threshold factor', type: 'number', min: 0, default: 1, group: 'segmentation', advanced: true,
    help: "nuclei: blue above this fraction of Otsu's threshold",
  },
  {
    key: 'segmentation.minNucleusArea', label: 'minimum nucleus area', type: 'number', min: 0, default: 150, unit: 'pixels at 512 x 512', group: 'segmentation', advanced: true,
    help: 'smaller nuclei are dropped (scaled with the image area)',
  },
  {
    key: 'segmentation.cellThresholdFactor', label: 'cell threshold factor', type: 'number', min: 0, default: 0.5, group: 'segmentation', advanced: true,
    help: "cell area: red + yellow + blue above this fraction of Otsu's threshold",
  },
  {
    key: 'occlusion.patch', label: 'occlusion patch', type: 'numbers', axes: HW, integer: true, min: 1, limit: LIMITS.maxRoiSide, broadcast: true, default: [64, 64], unit: 'pixels', group: 'explanation', advanced: true,
    help: 'masked patch in model-input pixels (models without class maps)',
  },
  { key: 'occlusion.stride', label: 'occlusion stride', type: 'numbers', axes: HW, integer: true, min: 1, limit: LIMITS.maxRoiSide, broadcast: true, default: [32, 32], unit: 'pixels', group: 'explanation', advanced: true, help: 'step between masked patches' },
  { key: 'occlusion.fill', label: 'occlusion fill', type: 'number', default: 0, group: 'explanation', advanced: true, help: 'value of the masked patch in the normalised input (0 = the channel mean)' },
  { key: 'occlusion.batch', label: 'occlusion batch', type: 'number', integer: true, min: 1, limit: LIMITS.maxSwBatch, default: 8, group: 'explanation', advanced: true, help: 'masked inputs per model call' },
  {
    key: 'segment', label: 'built-in segmentation', type: 'boolean', default: false, group: 'segmentation',
    help: 'segment the cells with the simple built-in segmentation even where a cell mask is given (the mask is then only the ground truth of the metric)',
  },
  {
    key: 'rle', label: 'mask encoding', type: 'choice', choices: ['hpa', 'counts'], choiceLabels: { hpa: 'HPA RLE (zlib, base64)', counts: 'uncompressed RLE counts' }, default: 'hpa',
    group: 'export', help: 'how cells.csv and submission.csv write each cell mask (the masks are encoded when a field of view runs, so a change needs a new run)',
  },
];

export const proteinPreset: ProteinParams = paramDefaults<ProteinParams>(proteinParamSpecs);

export const proteinPresetInfo = {
  id: 'protein',
  name: 'Protein localisation',
  task: 'per-cell protein localisation (19 HPA classes, multi-label) from RGBY fields of view',
  source: 'Human Protein Atlas - Single Cell Classification 2021 (Puzzle-CAM style solution)',
  input: 'fields of view: <id>_red.png, _green, _blue, _yellow (8- or 16-bit) or one 4-channel TIFF <id>.tif; cell masks <id>_cells.png (label images)',
  model: 'one or several ONNX models (N, 4, 512, 512) -> logits (N, 19) [+ class_maps (N, 19, h, w)]; logits and maps averaged before the sigmoid and the CAM',
  output: 'cells.csv: ImageID,CellID,Class,ClassName,Confidence,ImageWidth,ImageHeight,Mask; submission.csv: ID,ImageWidth,ImageHeight,PredictionString (HPA style)',
  metric: 'cell-level mAP at mask IoU 0.6',
  notes: [
    'Scale: divide by 65535 if the maximum over the four channels is above 255, else by 255 (float32).',
    'Folds: logits and class maps are averaged over the models before the sigmoid and the CAM.',
    'Per cell: for each class with p > minProbability, Q = percentile of the CAM over the image, q = the same percentile inside the cell, conf = clip(q p / Q, 0, p) (0 when Q = 0); kept when conf / p > keepRatio.',
    'A cell that keeps no class is Negative with confidence 1 - (its largest conf over the tested classes), or 1 when no class was tested (a workbench choice: the pipeline gives no value).',
    'Models that give logits only get an occlusion map instead of the CAM (patches of the normalised input set to `fill`, drop of the sigmoid score).',
    'The built-in segmentation is simple (Otsu nuclei from blue, connected components, cells grown inside a red + yellow + blue foreground mask by nearest nucleus, geodesic); use a real cell segmenter (e.g. the HPA cell segmentator) and drop its label image for real work.',
  ],
};

/** Rules across values (the per-value rules come from the specs). */
function proteinCrossProblems(p: ProteinParams): string[] {
  return p.negativeClass < p.classes.length ? [] : [`negativeClass must be a class index 0..${p.classes.length - 1}`];
}

export function validateProteinParams(p: ProteinParams): string[] {
  const own = validateParams(proteinParamSpecs, p);
  return own.length ? own : proteinCrossProblems(p);
}

/** Preset values from a model card (`classes`, `preprocessing.normalise`, `preprocessing.resize.size`). */
export interface ProteinModelCard {
  classes?: string[];
  preprocessing?: { normalise?: { mean?: number[]; std?: number[] }; resize?: { size?: number[] } };
}

/** A card's classes also place Negative: the class named so, else the last one. */
function negativeFromCard(card: Record<string, unknown>, p: ProteinParams): ProteinParams {
  if (!Array.isArray(card.classes) || card.classes.length === 0) return p;
  const neg = p.classes.findIndex((c) => /^negative$/i.test(c));
  return { ...p, negativeClass: neg >= 0 ? neg : p.classes.length - 1 };
}

export function proteinParamsFromCard(card: ProteinModelCard, base: ProteinParams = proteinPreset): ProteinParams {
  return presetParamsFromCard(proteinPresetDef, card, base);
}

/** The problem with a model for this preset (wrong number of classes, inputs), or null. */
export function proteinModelProblem(info: ModelInfo, classes: number): string | null {
  if (info.inputs.length !== 1) return `it has ${info.inputs.length} inputs; the protein preset feeds one (N, 4, H, W) tensor`;
  const i = info.inputs[0];
  if (i.dims.length !== 4 || (typeof i.dims[1] === 'number' && i.dims[1] !== 4)) return `its input ${i.name} is [${i.dims.join(', ')}]; the protein preset needs (N, 4, H, W) (red, green, blue, yellow)`;
  const outs = info.outputs.filter((o) => o.dims.length === 2 || o.dims.length === 4);
  if (outs.length === 0) return `none of its outputs is [N, K] logits or [N, K, h, w] class maps (${info.outputs.map((o) => `${o.name} [${o.dims.join(', ')}]`).join(', ')})`;
  for (const o of outs) {
    if (typeof o.dims[1] === 'number' && o.dims[1] !== classes) return `the model gives ${o.dims[1]} classes (${o.name} [${o.dims.join(', ')}]); the protein preset needs ${classes} (the HPA classes, Negative last)`;
  }
  return null;
}

/** A batch row: one field of view's results without its maps and masks (JSON). */
export interface ProteinRow {
  id: string;
  width: number;
  height: number;
  /** Image-level probabilities (sigmoid of the mean logits), in class order. */
  probabilities: number[];
  cellsSource: ProteinFovResult['cellsSource'];
  /** Cells in the cell image (labelled or not). */
  cellCount: number;
  /** One per cell and kept class, the mask encoded as `rle` says (cells.csv rows). */
  cells: CellRow[];
  /**
   * IoU of the predicted cells with the given mask's cells, [predicted cell, given cell, IoU] for the
   * pairs that overlap: what the metric needs of the masks. Null when no mask was given.
   */
  maskIous: [number, number, number][] | null;
  notes: string[];
}

/** The labels as the metric takes them: the cells' classes by image and cell id, and the file's name. */
export interface ProteinLabels {
  name: string;
  cells: Map<string, Map<number, number[]>>;
}

export function proteinRow(item: ProteinItem, r: ProteinFovResult, p: ProteinParams): ProteinRow {
  const ious = item.cells ? pairIous(r.cells, item.cells) : null;
  return {
    id: r.id,
    width: r.width,
    height: r.height,
    probabilities: Array.from(r.probabilities),
    cellsSource: r.cellsSource,
    cellCount: r.cellResults.length,
    cells: cellRows(r, p.classes, p.rle),
    maskIous: ious ? [...ious].flatMap(([pred, m]) => [...m].map(([gt, v]): [number, number, number] => [pred, gt, v])) : null,
    notes: [...r.notes],
  };
}

const sizesOf = (rows: readonly ProteinRow[]): Map<string, [number, number]> => new Map(rows.map((r) => [r.id, [r.width, r.height]]));

/** Cell mAP of the rows against cell labels; the last line is `voxelbench protein`'s metric line. */
export function proteinMetric(rows: readonly ProteinRow[], labels: ProteinLabels, p: ProteinParams): MetricReport {
  const images: MetricIous[] = [];
  const lines: string[] = [];
  for (const r of rows) {
    if (!r.maskIous) {
      lines.push(`${r.id}: no ground-truth cell mask (<id>_cells.png); left out of the score`);
      continue;
    }
    const gtClasses = labels.cells.get(r.id);
    if (!gtClasses) {
      lines.push(`${r.id} is not in ${labels.name}; left out of the score`);
      continue;
    }
    const ious = new Map<number, Map<number, number>>();
    for (const [pred, gt, v] of r.maskIous) {
      if (!ious.has(pred)) ious.set(pred, new Map());
      ious.get(pred)!.set(gt, v);
    }
    images.push({ id: r.id, ious, gtClasses, preds: r.cells.map((c) => ({ cell: c.cellId, cls: c.cls, confidence: c.confidence })) });
  }
  const name = `cell mAP at IoU ${p.iouThreshold}`;
  if (images.length === 0) {
    lines.push(`${name}: - (no field of view has both a cell mask and labels)`);
    return { name, score: NaN, lowerIsBetter: false, lines };
  }
  const m = cellMapFromIous(images, p.iouThreshold);
  const per = [...m.ap.entries()].map(([k, v]) => `${p.classes[k] ?? k} ${v.toFixed(4)}`).join(', ');
  lines.push(`${name}: ${m.mAP.toFixed(4)} over ${m.ap.size} classes (${images.length} images): ${per}`);
  return { name, score: m.mAP, lowerIsBetter: false, lines };
}

const proteinModel: ModelRole<ProteinParams> = {
  role: 'model',
  label: 'model',
  min: 1,
  cli: 'models',
  check: (info, name, p) => {
    const problem = proteinModelProblem(info, p.classes.length);
    return problem ? [`Cannot use ${name} for protein localisation: ${problem}.`] : [];
  },
};

/** What a field of view says of itself for the cards' `expects`: its size (H, W) and the range of its four channels' values. */
export function proteinFacts(item: ProteinItem): InputFacts {
  const ranges = item.fov.channels.map((c) => robustRange(c)).filter((r): r is [number, number] => r !== undefined);
  return {
    shape: [item.fov.height, item.fov.width],
    ...(ranges.length ? { intensity: [Math.min(...ranges.map((r) => r[0])), Math.max(...ranges.map((r) => r[1]))] as [number, number], intensityUnit: `(${item.fov.bits}-bit)` } : {}),
  };
}

/**
 * The peak memory of one field of view's run (runProteinFov): the four channels and the cell mask as
 * read, the normalised RGBY input at the model's size (and the resize's intermediate), the built-in
 * segmentation's float maps, one call's input (the occlusion batch), the class maps, and the models.
 */
export function proteinMemory(p: ProteinParams, item: ProteinItem | null, models: readonly ModelInfo[]): PresetMemory {
  const [h, w] = p.inputSize;
  const hw = h * w;
  const fov = item ? item.fov.width * item.fov.height : 0;
  const K = p.classes.length;
  const batch = p.occlusion.batch;
  const m = modelsPeak(models, [h, w], batch, 4);
  return {
    parts: {
      input: item ? item.fov.channels.reduce((a, c) => a + c.byteLength, 0) + (item.cells?.byteLength ?? 0) : 0,
      resized: 2 * 4 * Math.max(hw, fov) * 4,
      segmentation: p.segment ? 4 * Math.max(fov, hw) * 4 : 0,
      windows: batch * 4 * hw * 4,
      accumulators: 2 * K * hw * 4,
      model: m.weights + m.call,
    },
    largestArrayValues: Math.max(4 * Math.max(hw, fov), batch * 4 * hw, K * hw),
    levers: ['inputSize', 'occlusion.batch'],
  };
}

const proteinCellsSource = z.enum(['given', 'segmented']);
/** A protein result and row as a session gives them back. */
export const proteinSessionSchemas = {
  result: z.object({
    id: z.string(),
    width: sessionZ.num,
    height: sessionZ.num,
    logits: sessionZ.typed(Float32Array),
    probabilities: sessionZ.typed(Float32Array),
    cam: sessionZ.typed(Float32Array),
    camShape: sessionZ.point3,
    camSource: z.enum(['class_maps', 'occlusion']),
    cells: sessionZ.typed(Int32Array),
    cellsSource: proteinCellsSource,
    cellResults: z.array(
      z.object({
        id: sessionZ.num,
        area: sessionZ.num,
        bbox: z.tuple([sessionZ.num, sessionZ.num, sessionZ.num, sessionZ.num]),
        labels: z.array(z.object({ cls: sessionZ.num, confidence: sessionZ.num, q: sessionZ.num.nullable() })),
      }),
    ),
    divisor: sessionZ.num,
    notes: sessionZ.strs,
    timings: z.object({ preprocessMs: sessionZ.num, modelMs: sessionZ.num, camMs: sessionZ.num, cellsMs: sessionZ.num, totalMs: sessionZ.num }),
  }),
  row: z.object({
    id: z.string(),
    width: sessionZ.num,
    height: sessionZ.num,
    probabilities: sessionZ.nums,
    cellsSource: proteinCellsSource,
    cellCount: sessionZ.num,
    cells: z.array(z.object({ imageId: z.string(), cellId: sessionZ.num, cls: sessionZ.num, className: z.string(), confidence: sessionZ.num, rle: z.string() })),
    maskIous: z.array(sessionZ.point3).nullable(),
    notes: sessionZ.strs,
  }),
};

export const proteinPresetDef: Preset<ProteinParams, ProteinItem, ProteinFovResult, ProteinRow, ProteinLabels, ProteinProgress> = {
  id: 'protein',
  name: 'Protein localisation',
  info: proteinPresetInfo,
  params: proteinParamSpecs,
  session: proteinSessionSchemas,
  validate: proteinCrossProblems,
  fromCard: negativeFromCard,
  inputs: {
    accept: ['.png', '.tif', '.tiff', '.onnx', '.json', '.csv'],
    hint: '<id>_red/_green/_blue/_yellow.png or a 4-channel .tif per field of view · <id>_cells.png masks · .onnx models · model card .json · cell_labels.csv',
    sort: sortProteinPaths,
    async read(source, files) {
      return { items: [await readProteinSource(source, files)], warnings: [], skipped: [] };
    },
    itemId: (item) => item.fov.id,
    facts: proteinFacts,
    // cell masks given apart from the images (`--cells DIR`): `<id>_cells.png` or a label TIFF `<id>.tif`
    extras: [
      {
        key: 'cells',
        label: 'cell masks',
        cli: 'cells',
        idOf: (path) => {
          const c = classifyProteinFile(path);
          return c && (c.role === 'cells' || c.role === 'tiff') ? c.id : null;
        },
      },
    ],
  },
  models: [proteinModel],
  memory: (params, item, models) => proteinMemory(params, item, models.model ?? []),
  run: (item, models, p, opts) => runProteinFov(item.fov, p.segment ? null : item.cells, (models.model ?? []).map((m) => ({ name: m.name, outputs: m.outputs })), p, opts),
  row: proteinRow,
  exports: [
    { file: 'cells.csv', label: 'cells.csv', mime: 'text/csv', write: (rows) => cellsCsv(rows.flatMap((r) => r.cells), sizesOf(rows)) },
    { file: 'submission.csv', label: 'submission.csv', mime: 'text/csv', write: (rows) => submissionCsv(rows.flatMap((r) => r.cells), sizesOf(rows)) },
  ],
  labels: {
    label: 'cell labels',
    cli: 'labels',
    parse: (text, name) => ({ name, cells: parseCellLabelsCsv(text, name) }),
    metric: proteinMetric,
  },
  transferables: (x) => ('fov' in x ? [...x.fov.channels.map((c) => c.buffer as ArrayBuffer), ...(x.cells ? [x.cells.buffer as ArrayBuffer] : [])] : [x.cam.buffer as ArrayBuffer]),
};
