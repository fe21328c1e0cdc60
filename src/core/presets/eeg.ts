/**
 * The "EEG spectrogram" preset: six-class HMS spectrogram classification as in the HMS 2024
 * ResNet34d baseline (spec `pipelines.md` section 3). Every value is declared once in
 * `eegParamSpecs`; defaults, validation, model cards, links, sessions, the form and the CLI flags
 * come from there. The CAM / occlusion values are workbench features, not part of the original.
 */
import { EEG_CHAINS, readSpectrogramParquet, type Spectrogram } from '../eeg/parquet';
import { LIMITS } from '../io/limits';
import { eegSubmissionCsv, parseVotesCsv, scoreEeg, type VotesTable } from '../eeg/metric';
import { classifySpectrogram, type EegCam, type EegFold, type EegPrediction, type EegProgress } from '../eeg/pipeline';
import { sortSpectrogramPaths } from '../eeg/sources';
import type { ModelInfo } from '../onnx/model';
import type { OcclusionParams } from '../occlusion';
import { paramDefaults, validateParams, type ParamSpecs } from '../preset/params';
import { sessionZ } from '../preset/derive';
import { z } from '../zod';
import { robustRange } from '../preset/expects';
import type { MetricReport, ModelRole, Preset, PresetMemory } from '../preset/types';
import { modelsPeak } from '../onnx/memory';

export { EEG_CHAINS };

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
  occlusionParams: Pick<OcclusionParams, 'patch' | 'stride' | 'batch'> & { fill: number };
  /** The Kaggle KL metric clips predictions to [klEpsilon, 1 - klEpsilon]. */
  klEpsilon: number;
}

export const EEG_CLASSES = ['seizure', 'lpd', 'gpd', 'lrda', 'grda', 'other'] as const;

const HW = ['H', 'W'] as const;

/**
 * Every value of the preset, declared once. Link keys and CLI flags are the EEG page's and
 * `voxelbench spectrogram`'s (`start`, `rows`, `patch`, `stride`; `--window <start row>`,
 * `--window-rows`, `--no-occlusion`); a link's `patch=32` still means 32 x 32.
 */
export const eegParamSpecs: ParamSpecs = [
  {
    key: 'classes', label: 'classes', type: 'strings', default: [...EEG_CLASSES], minCount: 2, group: 'model', card: 'classes',
    help: "class names in the model's output order (the submission's <name>_vote columns)",
  },
  {
    key: 'window', label: 'window', type: 'choice', choices: ['whole', 'window'], choiceLabels: { whole: 'the whole file', window: 'a window of rows' }, default: 'whole',
    group: 'preprocessing', cli: false, help: 'the whole file (the inference pipeline) or a window of rows',
  },
  {
    key: 'windowStart', label: 'window start', type: 'number', integer: true, min: 0, default: 0, unit: 'rows', group: 'preprocessing', link: 'start', cli: 'window', cliSets: { window: 'window' },
    help: 'first row of the window (0-based, one row every 2 s); on the command line it also chooses the window',
  },
  { key: 'windowRows', label: 'window rows', type: 'number', integer: true, min: 1, limit: LIMITS.maxTableRows, default: 300, unit: 'rows', group: 'preprocessing', link: 'rows', help: 'rows per window (300 = 10 minutes)' },
  {
    key: 'trainedRows', label: 'trained rows', type: 'number', integer: true, min: 1, limit: LIMITS.maxTableRows, default: 300, unit: 'rows', group: 'preprocessing', advanced: true,
    help: 'rows the model was trained on; other lengths run with a warning',
  },
  {
    key: 'clip', label: 'clip', type: 'numbers', axes: ['low', 'high'], min: 0, minExclusive: true, default: [Math.exp(-4), Math.exp(8)], group: 'preprocessing',
    help: 'power is clipped to [low, high] before the natural log',
  },
  { key: 'eps', label: 'eps', type: 'number', min: 0, default: 1e-6, group: 'preprocessing', advanced: true, help: '(x - mean) / (std + eps), population std over the image' },
  { key: 'size', label: 'input size', type: 'numbers', axes: HW, integer: true, min: 8, limit: LIMITS.maxRoiSide, default: [512, 512], unit: 'pixels', group: 'preprocessing', help: 'model input (bilinear resize, no antialias)' },
  { key: 'camEps', label: 'CAM eps', type: 'number', min: 0, default: 1e-5, group: 'explanation', advanced: true, help: 'relu(f - eps) / (max + eps) per class' },
  { key: 'occlusion', label: 'occlusion', type: 'boolean', default: true, group: 'explanation', help: 'occlusion maps for models without class maps (re-runs the models; slow)' },
  {
    key: 'occlusionParams.patch', label: 'occlusion patch', type: 'numbers', axes: HW, integer: true, min: 1, limit: LIMITS.maxRoiSide, broadcast: true, default: [64, 64], unit: 'pixels', group: 'explanation',
    link: 'patch', cli: 'occlusion-patch', help: 'masked patch in model-input pixels',
  },
  {
    key: 'occlusionParams.stride', label: 'occlusion stride', type: 'numbers', axes: HW, integer: true, min: 1, limit: LIMITS.maxRoiSide, broadcast: true, default: [32, 32], unit: 'pixels', group: 'explanation',
    link: 'stride', cli: 'occlusion-stride', help: 'step between masked patches',
  },
  {
    key: 'occlusionParams.fill', label: 'occlusion fill', type: 'number', default: 0, group: 'explanation', advanced: true, link: 'occlusionFill', cli: 'occlusion-fill',
    help: 'value of the masked patch in the standardised input',
  },
  {
    key: 'occlusionParams.batch', label: 'occlusion batch', type: 'number', integer: true, min: 1, limit: LIMITS.maxSwBatch, default: 8, group: 'explanation', advanced: true, link: 'occlusionBatch', cli: 'occlusion-batch',
    help: 'masked inputs per model call',
  },
  {
    key: 'klEpsilon', label: 'KL epsilon', type: 'number', min: 0, minExclusive: true, max: 0.5, maxExclusive: true, default: 1e-15, live: true, group: 'metric', advanced: true,
    help: 'the Kaggle KL metric clips predictions to [eps, 1 - eps]',
  },
];

export const eegPreset: EegParams = paramDefaults<EegParams>(eegParamSpecs);

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

/** Rules across values (the per-value rules come from the specs). */
function eegCrossProblems(p: EegParams): string[] {
  return p.clip[1] > p.clip[0] ? [] : [`clip must be 0 < low < high, got [${p.clip.join(', ')}]`];
}

/** Problems with the parameters, as messages (empty when valid). */
export function validateEegParams(p: EegParams): string[] {
  const own = validateParams(eegParamSpecs, p);
  return own.length ? own : eegCrossProblems(p);
}

/**
 * The problem with a model for the EEG preset (one (N, 1, H, W) input; a logits output with one
 * value per class), as a message naming the model, or null.
 */
export function eegModelProblem(name: string, info: ModelInfo, classes: readonly string[]): string | null {
  if (info.inputs.length !== 1) return `${name}: the model has ${info.inputs.length} inputs; the preset feeds one (N, 1, H, W) spectrogram.`;
  const i = info.inputs[0];
  if (i.dims.length !== 4 || (typeof i.dims[1] === 'number' && i.dims[1] !== 1)) {
    return `Cannot use ${name} for EEG spectrograms: its input ${i.name} is [${i.dims.join(', ')}]; the preset feeds (N, 1, H, W).`;
  }
  const lg = info.outputs.find((o) => o.name === 'logits') ?? info.outputs.find((o) => o.dims.length === 2);
  const k = lg?.dims[1];
  if (!lg || (typeof k === 'number' && k !== classes.length)) {
    return lg
      ? `${name}: the model gives ${k} classes (output '${lg.name}' [${lg.dims.join(', ')}]); the EEG preset needs ${classes.length}: ${classes.join(', ')}.`
      : `${name}: the model has no (N, K) logits output; outputs: ${info.outputs.map((o) => `${o.name} [${o.dims.join(', ')}]`).join(', ')}.`;
  }
  return null;
}

/** A batch row: one spectrogram's prediction without its maps (JSON). */
export interface EegRow {
  eegId: string;
  /** File name as given. */
  name: string;
  /** Rows of the file, and the window that went into the model. */
  rows: number;
  window: { start: number; rows: number };
  /** Mean over the models of the softmax probabilities, in class order. */
  probabilities: number[];
  /** The class with the highest probability. */
  top: string;
  folds: EegFold[];
  /** Where the explanation map came from (null: none). */
  camSource: EegCam['source'] | null;
  /** The run's warnings (short file, window moved, occlusion one input at a time); reading warnings come with `read`. */
  warnings: string[];
}

/** The votes as the metric takes them: the table and the file's name (for messages). */
export type EegVotes = VotesTable & { name: string };

export function eegRow(pred: EegPrediction, classes: readonly string[]): EegRow {
  const top = pred.probabilities.indexOf(Math.max(...pred.probabilities));
  return {
    eegId: pred.eegId,
    name: pred.name,
    rows: pred.rows,
    window: { start: pred.window.start, rows: pred.window.rows },
    probabilities: [...pred.probabilities],
    top: classes[top] ?? String(top),
    folds: pred.folds.map((f) => ({ ...f, logits: [...f.logits], probabilities: [...f.probabilities] })),
    camSource: pred.cam?.source ?? null,
    warnings: [...pred.warnings],
  };
}

/** The Kaggle KL of the rows against the votes; the last line is the score line of `voxelbench spectrogram`. */
export function eegMetric(rows: readonly EegRow[], votes: EegVotes, p: EegParams): MetricReport {
  const score = scoreEeg(rows, votes, p.klEpsilon);
  const lines = score.perFile.map((r) => `${r.eegId}\tKL ${r.kl.toFixed(4)}`);
  if (score.unlabelled.length) lines.push(`no votes for ${score.unlabelled.join(', ')}; left out of the KL`);
  if (score.missing.length) lines.push(`${score.missing.length} eeg_id${score.missing.length > 1 ? 's' : ''} in ${votes.name} without a file: ${score.missing.join(', ')}`);
  const n = score.perFile.length;
  lines.push(n ? `KL divergence: ${score.score.toFixed(6)} (mean over ${n} file${n > 1 ? 's' : ''} with votes)` : 'KL divergence: - (no file has votes)');
  return { name: 'KL divergence', score: score.score, lowerIsBetter: true, lines };
}

const eegModel: ModelRole<EegParams> = {
  role: 'model',
  label: 'model',
  min: 1,
  cli: 'models',
  check: (info, name, p) => {
    const problem = eegModelProblem(name, info, p.classes);
    return problem ? [problem] : [];
  },
};

/**
 * The peak memory of one spectrogram's run (classifySpectrogram): the file's values as read, the
 * montage image at the model's input size and its normalised copy, one call's input (the occlusion
 * batch when occlusion maps are made), the class maps, and the models.
 */
export function eegMemory(p: EegParams, spec: Pick<Spectrogram, 'rows'> | null, models: readonly ModelInfo[]): PresetMemory {
  const [h, w] = p.size;
  const hw = h * w;
  const d1 = models[0]?.inputs[0]?.dims[1];
  const ch = typeof d1 === 'number' && d1 > 0 ? d1 : 1;
  const batch = p.occlusion ? p.occlusionParams.batch : 1;
  const K = p.classes.length;
  const m = modelsPeak(models, [h, w], batch, ch);
  return {
    parts: {
      input: spec ? spec.rows * (400 * 4 + 8) : 0,
      resized: 2 * ch * hw * 4,
      windows: batch * ch * hw * 4,
      accumulators: 2 * K * hw * 4 * Math.max(1, models.length),
      model: m.weights + m.call,
    },
    largestArrayValues: Math.max(batch * ch * hw, K * hw, spec ? spec.rows * 400 : 0),
    levers: ['size', 'occlusionParams.batch'],
  };
}

const eegFoldSchema = z.object({ model: z.string(), logits: sessionZ.nums, probabilities: sessionZ.nums, classMaps: z.boolean() });
const eegCamSource = z.enum(['class_maps', 'occlusion']);
/** An EEG result and row as a session gives them back. */
export const eegSessionSchemas = {
  result: z.object({
    name: z.string(),
    eegId: z.string(),
    rows: sessionZ.num,
    window: z.object({ start: sessionZ.num, rows: sessionZ.num, warnings: sessionZ.strs }),
    probabilities: sessionZ.nums,
    folds: z.array(eegFoldSchema),
    cam: z.object({ data: sessionZ.typed(Float32Array), shape: sessionZ.point3, source: eegCamSource }).nullable(),
    warnings: sessionZ.strs,
    ms: sessionZ.num,
  }),
  row: z.object({
    eegId: z.string(),
    name: z.string(),
    rows: sessionZ.num,
    window: z.object({ start: sessionZ.num, rows: sessionZ.num }),
    probabilities: sessionZ.nums,
    top: z.string(),
    folds: z.array(eegFoldSchema),
    camSource: eegCamSource.nullable(),
    warnings: sessionZ.strs,
  }),
};

export const eegPresetDef: Preset<EegParams, Spectrogram, EegPrediction, EegRow, EegVotes, EegProgress> = {
  id: 'eeg',
  name: 'EEG spectrogram',
  info: eegPresetInfo,
  params: eegParamSpecs,
  session: eegSessionSchemas,
  validate: eegCrossProblems,
  inputs: {
    accept: ['.parquet', '.onnx', '.json', '.csv'],
    hint: 'HMS spectrogram .parquet files (eeg_id = file name) · .onnx models (folds) · votes .csv · model card .json',
    sort: sortSpectrogramPaths,
    async read(source, files) {
      const f = files[0];
      if (!f) throw new Error(`${source.id}: no file`);
      const spec = await readSpectrogramParquet(f.bytes, f.path.slice(f.path.lastIndexOf('/') + 1));
      return { items: [spec], warnings: [...spec.warnings], skipped: [] };
    },
    itemId: (s) => s.eegId,
    // the power values (before the clip and the log) and the rows
    facts: (spec) => ({ intensity: robustRange(spec.data), shape: [spec.data.length / Math.max(1, spec.rows), spec.rows] }),
  },
  models: [eegModel],
  memory: (params, spec, models) => eegMemory(params, spec, models.model ?? []),
  run: (spec, models, params, opts) => classifySpectrogram(spec, (models.model ?? []).map((m) => ({ name: m.name, outputs: m.outputs })), params, opts),
  row: (_spec, pred, p) => eegRow(pred, p.classes),
  exports: [
    {
      file: 'submission.csv',
      label: 'submission.csv',
      mime: 'text/csv',
      write: (rows, p) => eegSubmissionCsv(rows, p.classes),
    },
  ],
  labels: {
    label: 'votes',
    cli: 'votes',
    parse: (text, name, p) => ({ ...parseVotesCsv(text, name, p.classes), name }),
    metric: eegMetric,
  },
  transferables: (x) => ('cam' in x ? (x.cam ? [x.cam.data.buffer as ArrayBuffer] : []) : [x.data.buffer as ArrayBuffer, x.time.buffer as ArrayBuffer]),
};
