/**
 * State of the "Cervical spine" preset page: the dropped studies and their series, the models,
 * the preset values, the labels, per-series results and what the view shows. Voxel arrays (the
 * CT, stored values, label maps) live in the cache (cache.ts), not here.
 */
import { create } from 'zustand';
import type { ModelInfo } from '../../core/onnx/model';
import { spinePreset, VERTEBRAE, type SpineParams } from '../../core/presets/spine';
import type { SpineLabel } from '../../core/spine/export';
import type { SpineProgress, VertebraRow } from '../../core/spine/pipeline';
import type { Backend, BackendChoice } from '../../worker/protocol';

export type SeriesStatus = 'loading' | 'ready' | 'running' | 'done' | 'error' | 'cancelled';

export interface SeriesResult {
  vertebrae: VertebraRow[];
  patientOverall?: number;
  timings: { preprocessMs: number; segMs: number; clsMs: number };
  backend: Backend;
  backendReason: string;
  /** Page wall time (transfer + run). */
  wallMs: number;
  /** The run settings the result was made with (see runKey). */
  key: string;
}

/** One CT series (a DICOM series of a dropped folder, or one NIfTI file), or a source that failed to load. */
export interface SeriesEntry {
  /** Unique: `${source}#${seriesUid}` (or the source alone before/without decoding). */
  key: string;
  /** The dropped folder or file it came from ('' for files dropped loose). */
  source: string;
  /** "DICOM" (n files) or "NIfTI". */
  kind: 'dicom' | 'nifti';
  studyUid: string;
  seriesUid: string;
  description: string;
  nFiles: number;
  status: SeriesStatus;
  /** This series is the one its source runs (a source with several series offers a choice). */
  chosen: boolean;
  /** [D, H, W] = [slices, rows, cols]. */
  shape?: [number, number, number];
  /** [sD, sH, sW] mm. */
  spacing?: [number, number, number];
  order?: 'position' | 'filename';
  /** Gaps, uneven spacing, flipped order, skipped files... */
  warnings: string[];
  /** Why it failed (loading or running); shown in its row. */
  error?: string;
  loadFailed?: boolean;
  progress?: SpineProgress;
  result?: SeriesResult;
  /** Voxels changed by the user's edits (corrected labels held in the cache). */
  edited?: number;
}

export interface SpineModel {
  workerId: string;
  name: string;
  bytes: Uint8Array;
  info: ModelInfo;
  stage: 'seg' | 'cls';
}

export interface Labels {
  name: string;
  rows: Map<string, SpineLabel>;
}

export type BatchStatus = 'idle' | 'running' | 'done' | 'cancelled' | 'error';

export interface BatchState {
  status: BatchStatus;
  keys: string[];
  startedAt: number;
  elapsedMs: number;
  etaMs: number;
  cancelRequested: boolean;
}

/** Reading and decoding dropped series (one source at a time). */
export interface LoadingState {
  /** "Reading sim_neck (92 files)", "Decoding sim_neck…". */
  what: string;
  /** Files read of the current source. */
  done: number;
  total: number;
  startedAt: number;
  cancelRequested: boolean;
}

export type SpineSliceView = 'axial' | 'coronal' | 'sagittal' | 'multiplanar' | 'render';

export interface SpineViewState {
  sliceType: SpineSliceView;
  showMasks: boolean;
  /** Per vertebra C1..C7. */
  visible: boolean[];
  opacity: number;
  /** CT window: level and width in HU; `windowId` is the preset they came from ('' = edited). */
  level: number;
  width: number;
  windowId: string;
  /** Drawing mode: the pen value (0 = eraser, k = C_k), or null when not editing. */
  pen: number | null;
}

export interface SpineState {
  series: SeriesEntry[];
  models: SpineModel[];
  params: SpineParams;
  paramsFrom: string;
  defaults: SpineParams;
  labels: Labels | null;
  backend: BackendChoice;
  batch: BatchState;
  loading: LoadingState | null;
  selected: string | null;
  view: SpineViewState;
  busy: string | null;
}

export const initialBatch: BatchState = { status: 'idle', keys: [], startedAt: 0, elapsedMs: 0, etaMs: 0, cancelRequested: false };

export const initialView: SpineViewState = {
  sliceType: 'multiplanar',
  showMasks: true,
  visible: VERTEBRAE.map(() => true),
  opacity: 0.55,
  level: 400,
  width: 1800,
  windowId: 'bone',
  pen: null,
};

export const useSpine = create<SpineState>()(() => ({
  series: [],
  models: [],
  params: spinePreset,
  paramsFrom: 'spinePreset',
  defaults: spinePreset,
  labels: null,
  backend: 'auto',
  batch: initialBatch,
  loading: null,
  selected: null,
  view: initialView,
  busy: null,
}));

export function patchSeries(key: string, patch: Partial<SeriesEntry>): void {
  useSpine.setState((s) => ({ series: s.series.map((t) => (t.key === key ? { ...t, ...patch } : t)) }));
}

export function setParams(patch: Partial<SpineParams>): void {
  useSpine.setState((s) => ({ params: { ...s.params, ...patch } }));
}

export function setView(patch: Partial<SpineViewState>): void {
  useSpine.setState((s) => ({ view: { ...s.view, ...patch } }));
}

/** What a result depends on: every preset value except the order (which changes the loaded series), the models and the backend. */
export function runKey(s: Pick<SpineState, 'params' | 'models' | 'backend'>): string {
  return JSON.stringify({ params: s.params, models: s.models.map((m) => `${m.stage}:${m.name}:${m.bytes.length}`), backend: s.backend });
}

/** The series that run: the chosen one of each source that loaded. */
export function runnable(series: SeriesEntry[]): SeriesEntry[] {
  return series.filter((t) => t.chosen && !t.loadFailed && t.status !== 'loading');
}
