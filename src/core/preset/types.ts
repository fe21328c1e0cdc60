/**
 * The preset contract: one `Preset` per pipeline, as plain data plus pure functions, written once
 * and used by the worker (readInputs / runPreset), the page (the kit in src/ui/kit derives the
 * store, batch runner, parameter form, links and sessions from it), and the command line
 * (`voxelbench run <preset>`, shards and merge). No DOM, no React, no onnxruntime here.
 *
 * A run is: sort the dropped or listed files into item sources, models, labels and cards
 * (`inputs.sort`); read each source into items (`inputs.read`, in the worker or in Node); run each
 * item through the models (`run`); reduce each result to a small JSON row (`row`); apply the batch
 * step over all rows (`finish`, e.g. the motors quantile cutoff); write the exports (`exports`) and
 * score them against labels (`labels.metric`). `row` and `finish` are what make shards and merge
 * byte-identical to one run: a shard writes rows, merge finishes them.
 */
import type { ZodType } from 'zod';
import type { ModelInfo } from '../onnx/model';
import type { OutputsPredictor } from '../ortPredictor';
import type { Predictor } from '../slidingWindow';
import type { GrayTarget } from '../io/jpeg';
import type { ByteRange, SliceFile } from '../motors/tomogram';
import type { InputFacts } from './expects';
import type { ParamSpecs } from './params';

/** Presets known to this version (the page registry and the CLI list them in this order). */
export type PresetKey = 'motors' | 'spine' | 'eeg' | 'protein' | 'brain';

export interface PresetInfo {
  /** One line: what the pipeline does. */
  task: string;
  /** The public solution it reproduces. */
  source: string;
  input: string;
  model: string;
  output: string;
  metric?: string;
  notes?: readonly string[];
}

/** A file as the preset sees it: its path inside the drop or the folder ('tomo_1/slice_0000.jpg'). */
export interface InputFile {
  path: string;
  bytes: Uint8Array;
  /**
   * Optional random access (CLI: fs.readSync; page: Blob.slice) for readers that stream a large file
   * slab by slab instead of taking `bytes` (motors: MRC tomograms), so that only one slab is held.
   */
  range?: ByteRange;
  /** The file on this machine's disk (the CLI), for readers that hand it to worker threads to read (slice folders). */
  localPath?: string;
  /** The bytes read asynchronously, where that is cheaper than `bytes` (the page's worker: Blob.arrayBuffer, several in flight). */
  load?(): Promise<Uint8Array>;
  /** The file itself (the page's worker), for readers that hand it to workers to read (slice folders). */
  blob?: Blob;
}

/** A group of files that reads into one or more items (a slice folder, a DICOM study, an RGBY set). */
export interface ItemSource {
  /** Item id (a tomogram id, a study folder, an eeg_id); unique in a batch. */
  id: string;
  /** What kind of source it is ('slices', 'mrc', 'tiff', 'dicom', 'nifti', 'parquet', 'rgby'…). */
  kind: string;
  /** Its files' paths, in reading order. */
  paths: string[];
  /** Secondary files that belong to this item (protein cell masks). */
  extra?: Record<string, string>;
}

/**
 * Secondary files given apart from the inputs and matched to sources by id (protein: `--cells DIR`,
 * cell masks `<id>_cells.png` or `<id>.tif`): a file whose `idOf` names a source becomes that
 * source's `extra[key]`, in place of what the sort found.
 */
export interface ExtraInputs {
  /** The key in the source's `extra` (protein: 'cells'). */
  key: string;
  /** 'cell masks'. */
  label: string;
  /** CLI flag (without dashes) that lists the files or folders. */
  cli: string;
  /** The id of the source a file belongs to, or null when it is not such a file. */
  idOf(path: string): string | null;
}

/** What `inputs.sort` makes of a list of paths. */
export interface SortedInputs {
  sources: ItemSource[];
  models: string[];
  /** Model cards (.json). */
  cards: string[];
  /** Labels / votes / ground truth (.csv). */
  labels: string[];
  /** Paths that are none of these, for a message. */
  ignored: string[];
  /** Notes on what was left out (duplicate ids…), for a message. */
  notes: string[];
}

export interface ReadProgress {
  done: number;
  total: number;
}

export interface ReadOptions {
  signal?: AbortSignal;
  onProgress?: (p: ReadProgress) => void;
  /**
   * Decodes one image file (JPEG/PNG/TIFF) to 8-bit gray elsewhere: the CLI's worker threads
   * (src/cli/decodePool.ts), the page's decode pool (src/worker/decodePool.ts). Readers of image
   * stacks use it when given, with up to `decodeConcurrency` decodes in flight; else they decode
   * one image at a time on the calling thread.
   */
  decodeImage?: (bytes: Uint8Array, name: string) => { width: number; height: number; gray: Uint8Array } | Promise<{ width: number; height: number; gray: Uint8Array }>;
  decodeConcurrency?: number;
  /**
   * Like decodeImage, but the decoder writes the gray pixels straight into `into.data` (on a
   * SharedArrayBuffer, at `into.offset`) when the image is `into.width` x `into.height`, and returns
   * only its size (the CLI's worker threads): no copy of each slice back to the caller. Readers then
   * allocate the volume on a SharedArrayBuffer.
   */
  decodeInto?: (file: SliceFile, into: GrayTarget) => Promise<{ width: number; height: number }>;
  /**
   * Like decodeImage, but given the file (a pool's workers read it themselves, from its `blob`) and
   * a spare slice buffer (`spare.data`, on an ArrayBuffer of its own, handed over: the decoder may
   * write the pixels there when the image has its size and return that memory as `gray`): readers
   * copy each slice into the volume and hand its buffer back as the next spare, so that a folder
   * read makes no slice-sized garbage per slice (the page's decode pool).
   */
  decodeFile?: (file: SliceFile, spare?: GrayTarget) => Promise<{ width: number; height: number; gray: Uint8Array }>;
  /**
   * The items are only run through the preset's models, never shown or saved (the CLI): a reader
   * may leave out what the run never reads (motors: the slices of a folder that the resize to the
   * input size does not read stay zero, undecoded).
   */
  modelOnly?: boolean;
}

/** The items a source reads into, with warnings (shown with the item) and skipped files. */
export interface ReadResult<Item> {
  items: Item[];
  warnings: string[];
  skipped: { path: string; reason: string }[];
  /** What each item says of itself (`inputs.facts`), when the reader's caller adds it (the worker does, for the page). */
  facts?: (InputFacts | null)[];
}

/** One model as a run gets it: its name, its declared inputs/outputs, and how to call it. */
export interface ModelHandle {
  name: string;
  info: ModelInfo;
  /** The model's first output for a batch. */
  predictor: Predictor;
  /** Every output for a batch, by name. */
  outputs: OutputsPredictor;
}

/** A kind of model a preset takes (motors: 'model'; spine: 'seg' and 'cls'). */
export interface ModelRole<P> {
  role: string;
  /** 'model', 'segmentation model', 'fracture model'. */
  label: string;
  /** At least this many are needed to run (0 = optional). */
  min: number;
  /** CLI flag (without dashes) that lists them, comma-separated. */
  cli: string;
  /** Problems of a model for this role with these values (empty when it can be used). */
  check(info: ModelInfo, name: string, params: P): string[];
  /** Which role a model with this info takes when it is dropped (spine: by input rank); default: the first role that accepts it. */
  accepts?(info: ModelInfo): boolean;
}

/** What `fromModel` found: the values, and what it set and why (one line each). */
export interface ModelValues<P> {
  params: P;
  notes: string[];
}

/** The work of one item before it runs, said before a run (the page's run panel, the CLI's stderr). */
export interface RunPlan {
  /** Progress steps per item (what RunProgress.total of an item's run will be). */
  steps: number;
  /** One line: '27 windows per tomogram: 128×672×672 in windows of 64×672×672 (9 per pass) × 3 TTA passes × 1 model'. */
  line: string;
  /** The value that sets most of the work (motors: 'inputSize'): the page and the CLI say how to change it. */
  lever?: string;
}

/**
 * The estimated peak memory of one item's run, by part, before anything is allocated (the memory
 * guard, src/core/memoryGuard.ts checkPresetMemory, compares it with what the page or the machine
 * can give). Parts by name: 'input' (the item as the preset holds it), then the preset's own
 * ('resized', 'conformed', 'crops'…), 'windows' (one model call's input), 'accumulators' /
 * 'outputs', 'model' (weights of every model and one call's activations: modelsPeak).
 */
export interface PresetMemory {
  /** Bytes by part; 'model' and 'windows' are what onnxruntime holds (the page's WASM heap). */
  parts: Record<string, number>;
  /** Values in the largest single typed array (one holds at most 2^32). */
  largestArrayValues: number;
  /** The values that size it most, the one to change first first ('inputSize', 'roi', 'swBatch'). */
  levers: readonly string[];
}

/** Common progress fields; presets add their own (model, pass, stage…). */
export interface RunProgress {
  done: number;
  total: number;
  elapsedMs: number;
  etaMs: number;
  /** What runs now, for the progress line ('model 1, flip Z', 'stage 2: crops'). */
  stage?: string;
}

export interface RunOptions<Progress extends RunProgress = RunProgress> {
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

/** An export written from the batch's rows (submission.csv, cells.csv). */
export interface BatchExport<P, Row, Labels> {
  file: string;
  /** What the page's download button says. */
  label: string;
  mime: string;
  write(rows: readonly Row[], params: P, labels: Labels | null): string;
  /** Only some batches have it (spine's submission needs the fracture stage); default true. */
  available?(rows: readonly Row[], params: P): boolean;
}

/** A file per item (spine masks, brain labels), written in the item's own space. */
export interface ItemExport<P, Item, Result> {
  /** File name for an item ('<StudyUID>.nii.gz'). */
  file(item: Item, result: Result): string;
  label: string;
  mime: string;
  write(item: Item, result: Result, params: P): Uint8Array;
}

export interface MetricReport {
  /** The metric's name ('F-beta (beta 2)', 'weighted log loss'). */
  name: string;
  score: number;
  /** Lower is better (log loss, KL). */
  lowerIsBetter: boolean;
  /** Lines for the CLI and the page (counts, per-class values). */
  lines: string[];
}

export interface PresetLabels<P, Row, Labels> {
  /** What the labels file is called on the page ('labels', 'votes', 'cell labels'). */
  label: string;
  /** CLI flag (without dashes). */
  cli: string;
  parse(text: string, name: string, params: P): Labels;
  metric(rows: readonly Row[], labels: Labels, params: P): MetricReport;
}

/**
 * A pipeline. `Item` is what a source reads into (a tomogram, a CT series, a spectrogram, a field of
 * view), `Result` what a run gives for an item (kept by the page, heavy: heatmaps, masks, CAMs),
 * `Row` its JSON summary (what tables, CSVs, shards and the metric use).
 */
export interface Preset<P = unknown, Item = unknown, Result = unknown, Row = unknown, Labels = unknown, Progress extends RunProgress = RunProgress> {
  id: PresetKey;
  name: string;
  info: PresetInfo;
  /** Every editable value, declared once. */
  params: ParamSpecs;
  /** Rules across values ('fallback threshold must be in (0, threshold]'); the per-value rules come from `params`. */
  validate?(params: P): string[];
  /** A card's values beyond what the specs' `card` paths say (e.g. a layout-dependent size). */
  fromCard?(card: Record<string, unknown>, params: P): P;
  /**
   * Values a model says about itself, applied when it is loaded, after the cards (motors: a model
   * that divides its input by 255 itself gets input scaling 'none'); with one line per value it
   * set, for the page and the CLI. Null when the model says nothing.
   */
  fromModel?(info: ModelInfo, name: string, role: string, params: P): ModelValues<P> | null;
  /** How much work one item is with these values and models (motors: windows per tomogram), said before a run. */
  plan?(params: P, models: Readonly<Record<string, number>>): RunPlan | null;
  /**
   * The peak memory of one item's run with these values and models (by role), pure: `item` null
   * gives what the values alone size (checked before any input is read).
   */
  memory?(params: P, item: Item | null, models: Readonly<Record<string, readonly ModelInfo[]>>): PresetMemory;
  inputs: {
    /** File name patterns the page's file picker offers ('.mrc', '.parquet'…). */
    accept: readonly string[];
    /** One line for the drop hint. */
    hint: string;
    /** `emptyFolders`: folders a directory walk found with nothing in them (a file input never reports those). */
    sort(paths: readonly string[], emptyFolders?: readonly string[]): SortedInputs;
    read(source: ItemSource, files: readonly InputFile[], params: P, opts?: ReadOptions): Promise<ReadResult<Item>>;
    /**
     * `read` takes each file's `bytes` at most once and uses `range` where it can (motors: slices one
     * at a time, MRC slab by slab): the page then hands the worker its files unread, and the worker
     * reads them on demand (a getter and Blob.slice), so that a folder's or a file's bytes are never
     * all held at once. Presets without it get every file's bytes read up front.
     */
    readsOnDemand?: boolean;
    /** The id an item is shown and exported under (usually the source id; a DICOM series has its own). */
    itemId(item: Item): string;
    /** Secondary files given apart from the inputs (protein: cell masks); default none. */
    extras?: readonly ExtraInputs[];
    /**
     * What a read item says of itself (modality from its header, intensity range, spacing, shape,
     * slices, slice plane), checked against what the model cards declare (`expects`, ./expects.ts).
     */
    facts?(item: Item, params: P): InputFacts;
    /**
     * Items read for a run only (ReadOptions.modelOnly) that leave out what the run never reads
     * (motors: the slices of a folder the resize to the input size does not read): `of(item)` names
     * the values such an item was read for (null: read whole, good for anything), `key(params)` those
     * a run with these values needs. The page reads the items its runs need again this way (an item
     * the cache let go of), never one it shows.
     */
    modelOnly?: { key(params: P): string; of(item: Item): string | null };
  };
  models: readonly ModelRole<P>[];
  run(item: Item, models: Readonly<Record<string, readonly ModelHandle[]>>, params: P, opts?: RunOptions<Progress>): Promise<Result>;
  /** The JSON row of a result (no typed arrays). */
  row(item: Item, result: Result, params: P): Row;
  /** The batch step over all rows, in batch order (motors: the quantile cutoff); default: rows as they are. */
  finish?(rows: readonly Row[], params: P): Row[];
  exports: readonly BatchExport<P, Row, Labels>[];
  itemExports?: readonly ItemExport<P, Item, Result>[];
  labels?: PresetLabels<P, Row, Labels>;
  /** Typed arrays of an Item / Result, for transfers between the worker and the page. */
  transferables?(x: Item | Result): ArrayBuffer[];
  /**
   * What a result and a row are, as zod schemas typed by `Result` and `Row` (pieces: sessionZ in
   * ./derive.ts): a session file's saved results and rows are checked against them before a page
   * takes them.
   */
  session: { result: ZodType<Result>; row: ZodType<Row> };
}

/** Any preset, for registries and generic code. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyPreset = Preset<any, any, any, any, any, any>;
