/**
 * The kit's state, generic over a Preset (src/core/preset/types.ts): one zustand store per page
 * holds everything the page knows (items, models, labels, values, batch, view, worker) — no page
 * module keeps state of its own. See ./README.md.
 */
import type { ZodType } from 'zod';
import type { StoreApi, UseBoundStore } from 'zustand';
import type { ModelInfo } from '../../core/onnx/model';
import type { InputExpects, InputFacts } from '../../core/preset/expects';
import type { AnyPreset, ItemSource, Preset, RunProgress } from '../../core/preset/types';
import type { WorkerClient } from '../../worker/client';
import type { Backend, BackendChoice } from '../../worker/protocol';
import type { ItemCache, ReadQueue } from './cache';
import type { Origin, PickedFile } from './files';
import type { EtaClock } from './pure';

/* eslint-disable @typescript-eslint/no-explicit-any */
export type ParamsOf<Pr> = Pr extends Preset<infer P, any, any, any, any, any> ? P : never;
export type ItemOf<Pr> = Pr extends Preset<any, infer I, any, any, any, any> ? I : never;
export type ResultOf<Pr> = Pr extends Preset<any, any, infer R, any, any, any> ? R : never;
export type RowOf<Pr> = Pr extends Preset<any, any, any, infer W, any, any> ? W : never;
export type LabelsOf<Pr> = Pr extends Preset<any, any, any, any, infer L, any> ? L : never;
export type ProgressOf<Pr> = Pr extends Preset<any, any, any, any, any, infer G> ? G : RunProgress;
/* eslint-enable @typescript-eslint/no-explicit-any */

export type ItemStatus = 'loading' | 'waiting' | 'running' | 'done' | 'error' | 'cancelled';

/** An item source with its files as the page has them (read through the worker's readInputs). */
export interface PageSource {
  source: ItemSource;
  files: PickedFile[];
}

/** One row of the page's queue: an item, from its source to its result. */
export interface ItemEntry<Result = unknown, Row = unknown, Progress = RunProgress, Meta = unknown> {
  /** The item's id (the source's id; a source that reads into several items gives each its own). */
  id: string;
  source: PageSource | null;
  /** Where the item's files came from (links and sessions read it). */
  origin: Origin;
  /** For a source that reads into several items: which one this is (its itemId). */
  part?: string;
  /** "64 JPG slices", "MRC file"… */
  sourceLabel: string;
  status: ItemStatus;
  /** Fraction read, while it is read for the first time. */
  loadProgress?: number;
  /** What the page shows of the item once read (the page's `meta(item)`: shape, spacing…). */
  meta?: Meta;
  /** Why it failed (reading or running); shown in its row. */
  error?: string;
  /** The error came from reading the source (a run does not retry it). */
  loadFailed?: boolean;
  /** Read warnings (skipped files…), shown in its row. */
  warnings: string[];
  /** What the read item says of itself (modality, intensity, spacing, shape…), checked against the cards' `expects`. */
  facts?: InputFacts | null;
  progress?: Progress;
  /** The preset's result (heavy: heatmaps, masks, CAMs). */
  result?: Result;
  /** preset.row(item, result): what tables, exports and the metric use. */
  row?: Row;
  /** The run key the result was made with (see runKey). */
  runKey?: string;
  backend?: Backend;
  backendReason?: string;
  /** Page wall time of its run (transfer + run). */
  wallMs?: number;
  /**
   * Left out of runs and exports: one of a source's several items that is not the one chosen to
   * run (a page with `onePerSource`; `choosePart` picks another).
   */
  excluded?: boolean;
  /** The user's corrections of the result (spine: corrected masks), kept in sessions; a new run drops them. */
  edits?: unknown;
  /** Progress steps its run took (the last RunProgress.total): with wallMs, the time per step of the next run's estimate. */
  steps?: number;
}

/** A model the page holds, loaded in its worker. */
export interface KitModel {
  name: string;
  /** The preset's model role it fills ('model'; spine: 'seg', 'cls'). */
  role: string;
  /** The file, kept to load it again after a restart and for sessions. */
  bytes: Uint8Array;
  info: ModelInfo;
  /** Worker model id (changes when the worker is restarted). */
  workerId: string;
  origin: Origin;
}

/** A model card whose values the page took (links name it after the models; sessions keep it). */
export interface KitCard {
  name: string;
  origin: Origin;
  /** What the card says its model expects of the input (src/core/preset/expects.ts). */
  expects?: InputExpects;
}

export interface KitLabels<Labels = unknown> {
  name: string;
  /** The file's text (sessions keep it and parse it again). */
  text: string;
  parsed: Labels;
  origin: Origin;
}

/** A model card whose values are the page's defaults (links name its URL after the models). */
export interface KitCard {
  name: string;
  origin: Origin;
}

export type BatchStatus = 'idle' | 'running' | 'done' | 'cancelled' | 'error';

export interface BatchState {
  status: BatchStatus;
  /** Ids run in this batch, in order. */
  ids: string[];
  startedAt: number;
  elapsedMs: number;
  etaMs: number;
  /** The smoothed ETA of a running batch (null ETA: nothing done yet). */
  eta?: EtaClock;
  cancelRequested: boolean;
}

export interface PresetState<Pr extends AnyPreset = AnyPreset, View = unknown, Meta = unknown, Ui = unknown> {
  items: ItemEntry<ResultOf<Pr>, RowOf<Pr>, ProgressOf<Pr>, Meta>[];
  models: KitModel[];
  labels: KitLabels<LabelsOf<Pr>> | null;
  /** The model cards applied, in the order they were applied (the last one gave the values). */
  cards: KitCard[];
  params: ParamsOf<Pr>;
  /** The values Reset goes back to (the preset's defaults or a model card's). */
  defaults: ParamsOf<Pr>;
  /** Where the defaults came from: 'preset' or the model card's file name. */
  paramsFrom: string;
  backend: BackendChoice;
  selected: string | null;
  /** The page's view values (links and sessions carry them). */
  view: View;
  /** The page's own passing state (where the viewer looks…): never in links or sessions. */
  ui: Ui;
  batch: BatchState;
  /** What the page is busy with ('Downloading the demo…'), or null. */
  busy: string | null;
  /** Batches started on this page since it loaded. */
  runs: number;
  /** The page's own worker: created on first use, replaced after a hard stop. */
  worker: WorkerClient | null;
  /** Bumped by every batch and hard stop: what an older batch still reports is ignored. */
  runSeq: number;
  /** The item the worker runs now. */
  currentId: string | null;
  /** Decoded items, least recently used out first (not reactive). */
  cache: ItemCache<ItemOf<Pr>>;
  /** Reads waiting or in progress (not reactive). */
  reads: ReadQueue<ItemOf<Pr>>;
}

/** Nouns and texts of a page (the kit's messages use them). */
export interface PageTexts {
  /** 'tomogram' / 'tomograms'. */
  item: string;
  items: string;
  /** Said of several models of one role: 'summed after the sigmoid'. */
  modelsCombined?: string;
  /** Summary of parsed labels for the message and the inputs panel ('4 tomograms, 2 motors'). */
  labelsSummary?(labels: unknown): string;
  /** What reading a source is called in the run panel and in a cancelled row ('Decoding'); default 'Reading'. */
  reading?: string;
}

/** What a page tells the kit (createPresetStore). */
export interface PageConfig<Pr extends AnyPreset, View, Meta, Ui> {
  /** Message keys and messages: 'motors' (keys 'motors-model', 'motors-validate'…). */
  key: string;
  texts: PageTexts;
  view: View;
  ui: Ui;
  /** What the queue and the view show of a read item (kept in its entry). */
  meta(item: ItemOf<Pr>): Meta;
  /** What a session's saved `meta` of an item must be (declared next to `meta`): checked before the page changes. */
  metaSchema: ZodType<Meta>;
  /**
   * What a session's saved `edits` of an item must be, given the item's saved result (declared next
   * to the page's edits type); a page without one keeps no edits, and a session's edits are refused.
   */
  editsSchema?(result: ResultOf<Pr> | undefined): ZodType;
  /** What the queue says of a source before it is read ("64 JPG slices"); default: its file count. */
  sourceLabel?(source: ItemSource): string;
  /** Bytes of decoded items kept in memory (default 1 GiB). */
  cacheBytes?: number;
  /**
   * A source that reads into several items (a study folder with several series) runs one of them:
   * the first, unless the user picks another (`choosePart`); the others are `excluded`.
   */
  onePerSource?: boolean;
  /** The id of the `index`-th item of a source that reads into several (default: the preset's itemId). */
  partId?(source: ItemSource, item: ItemOf<Pr>, index: number): string;
  /** Model cards add up (a stage-1 and a stage-2 card each give some of the values); default: a card replaces the one before. */
  cardsAddUp?: boolean;
  /** Values the reading of a source depends on (spine: the slice order): a change drops the decoded items, which are read again when needed. */
  readParams?: readonly string[];
  /** Fraction (0..1) of an item's run from its progress (default done / total). */
  progressFraction?(p: ProgressOf<Pr>): number;
  /**
   * Load models with their fixed spatial dims made symbolic (a fully convolutional model declared
   * at one size, like MeshNet at 256³, then runs at any roi); default false.
   */
  relaxDims?: boolean;
}

export type PresetStore<Pr extends AnyPreset = AnyPreset, View = unknown, Meta = unknown, Ui = unknown> = UseBoundStore<StoreApi<PresetState<Pr, View, Meta, Ui>>> & {
  preset: Pr;
  config: PageConfig<Pr, View, Meta, Ui>;
};

/** Any page's store, for the kit's generic functions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyStore = PresetStore<AnyPreset, any, any, any>;
