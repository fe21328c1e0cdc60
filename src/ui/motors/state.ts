/**
 * State of the "Flagellar motors" preset page: the tomogram queue, the models, the preset values,
 * the labels, per-tomogram results and what the view shows. Big voxel arrays live in the
 * tomogram cache (cache.ts), not here; heatmaps (1/64 of a tomogram at stride 4) do.
 */
import { create } from 'zustand';
import type { ModelInfo } from '../../core/onnx/model';
import type { MotorDetection, MotorsProgress } from '../../core/motors/pipeline';
import type { TomogramLabel } from '../../core/motors/postprocess';
import { motorsPreset, type MotorsParams } from '../../core/presets/motors';
import type { Backend, BackendChoice } from '../../worker/protocol';
import type { TomoSource } from './sources';
import type { SliceView } from '../store';

export type TomoStatus = 'loading' | 'waiting' | 'running' | 'done' | 'error' | 'cancelled';

export interface MotorsResult {
  detection: MotorDetection;
  backend: Backend;
  backendReason: string;
  /** Page wall time for this tomogram (transfer + run). */
  wallMs: number;
  /** The run settings the result was made with (see runKey). */
  key: string;
}

export interface TomoEntry {
  id: string;
  source: TomoSource | null;
  /** "64 JPG slices", "MRC file"… */
  sourceLabel: string;
  status: TomoStatus;
  /** (Z, Y, X) once loaded. */
  shape?: [number, number, number];
  /** Angstrom per voxel from the file, if it gave one. */
  spacing?: number;
  /** Why it failed (loading or running); shown in its row. */
  error?: string;
  /** The error came from reading the input (a run does not retry it). */
  loadFailed?: boolean;
  /** Warnings, e.g. skipped non-image files. */
  note?: string;
  loadProgress?: number;
  progress?: MotorsProgress;
  result?: MotorsResult;
}

export interface MotorModel {
  /** Worker model id (changes when the worker is restarted). */
  workerId: string;
  name: string;
  bytes: Uint8Array;
  info: ModelInfo;
}

export interface Labels {
  name: string;
  rows: TomogramLabel[];
}

export type BatchStatus = 'idle' | 'running' | 'done' | 'cancelled' | 'error';

export interface BatchState {
  status: BatchStatus;
  /** Ids run in this batch, in order. */
  ids: string[];
  startedAt: number;
  elapsedMs: number;
  etaMs: number;
  cancelRequested: boolean;
}

export interface MotorsView {
  showHeatmap: boolean;
  showPoints: boolean;
  opacity: number;
  /** Heatmap values below this fraction of the tomogram's maximum are transparent. */
  heatmapFloor: number;
  /** Slice layout of the view. */
  sliceType: SliceView;
}

export interface MotorsState {
  tomograms: TomoEntry[];
  models: MotorModel[];
  params: MotorsParams;
  /** Where the defaults came from: "motorsPreset" or the model card's file name. */
  paramsFrom: string;
  /** The defaults the reset button goes back to. */
  defaults: MotorsParams;
  labels: Labels | null;
  backend: BackendChoice;
  batch: BatchState;
  selected: string | null;
  view: MotorsView;
  busy: string | null;
}

export const initialBatch: BatchState = { status: 'idle', ids: [], startedAt: 0, elapsedMs: 0, etaMs: 0, cancelRequested: false };

export const useMotors = create<MotorsState>()(() => ({
  tomograms: [],
  models: [],
  params: motorsPreset,
  paramsFrom: 'motorsPreset',
  defaults: motorsPreset,
  labels: null,
  backend: 'auto',
  batch: initialBatch,
  selected: null,
  view: { showHeatmap: true, showPoints: true, opacity: 0.65, heatmapFloor: 0.5, sliceType: 'multiplanar' },
  busy: null,
}));

/** Updates one tomogram's entry. */
export function patchTomo(id: string, patch: Partial<TomoEntry>): void {
  useMotors.setState((s) => ({ tomograms: s.tomograms.map((t) => (t.id === id ? { ...t, ...patch } : t)) }));
}

export function setParams(patch: Partial<MotorsParams>): void {
  useMotors.setState((s) => ({ params: { ...s.params, ...patch } }));
}

/**
 * What a result depends on: the values that change the models' output or the peaks, the models
 * and the backend. Quantile, distance threshold, beta and spacing are applied live.
 */
export function runKey(s: Pick<MotorsState, 'params' | 'models' | 'backend'>): string {
  const p = s.params;
  return JSON.stringify({
    inputSize: p.inputSize,
    roi: p.roi,
    overlap: p.overlap,
    swBatch: p.swBatch,
    weightMargin: p.weightMargin,
    weightFloor: p.weightFloor,
    tta: p.tta,
    maxPeaks: p.maxPeaks,
    minPeakDistance: p.minPeakDistance,
    models: s.models.map((m) => `${m.name}:${m.bytes.length}`),
    backend: s.backend,
  });
}
