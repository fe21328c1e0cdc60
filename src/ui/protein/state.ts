/**
 * State of the "Protein localisation" preset page: the fields of view (files, decoded channels,
 * results), the models (folds), the preset values, the ground truth, and what the view shows.
 */
import { create } from 'zustand';
import type { ModelInfo } from '../../core/onnx/model';
import { proteinPreset, type ProteinChannel, type ProteinParams } from '../../core/presets/protein';
import type { FieldOfView, FovFiles } from '../../core/protein/images';
import type { ProteinProgress } from '../../core/protein/pipeline';
import type { RleFormat } from '../../core/protein/rle';
import type { BackendChoice, ProteinRunResult } from '../../worker/protocol';
import type { PickedFile } from '../motors/sources';

export type FovStatus = 'loading' | 'waiting' | 'running' | 'done' | 'error' | 'cancelled';

export interface FovEntry {
  id: string;
  files: FovFiles<PickedFile>;
  status: FovStatus;
  /** Decoded channels and the given cell mask (null = the simple segmentation runs). */
  fov?: FieldOfView;
  cells?: Int32Array | null;
  cellsName?: string;
  error?: string;
  /** The error came from reading the files (a run does not retry it). */
  loadFailed?: boolean;
  progress?: ProteinProgress;
  result?: ProteinRunResult & { wallMs: number; key: string };
}

export interface ProteinModelEntry {
  workerId: string;
  name: string;
  bytes: Uint8Array;
  info: ModelInfo;
}

export interface ChannelView {
  on: boolean;
  /** Display maximum as a fraction of the channel's own maximum (contrast). */
  max: number;
}

export interface ProteinViewState {
  channels: Record<ProteinChannel, ChannelView>;
  showCam: boolean;
  /** Class whose CAM is shown; null = the selected image's most probable class. */
  camClass: number | null;
  camOpacity: number;
  showOutlines: boolean;
  selectedCell: number | null;
}

export type BatchStatus = 'idle' | 'running' | 'done' | 'cancelled' | 'error';

export interface ProteinState {
  fovs: FovEntry[];
  models: ProteinModelEntry[];
  params: ProteinParams;
  paramsFrom: string;
  backend: BackendChoice;
  rle: RleFormat;
  batch: { status: BatchStatus; ids: string[]; startedAt: number; elapsedMs: number; cancelRequested: boolean };
  selected: string | null;
  view: ProteinViewState;
  /** Ground truth `ID,cell,Label` (cell_labels.csv): image -> cell -> classes. */
  groundTruth: { name: string; cells: Map<string, Map<number, number[]>> } | null;
  busy: string | null;
}

export const initialView: ProteinViewState = {
  channels: { red: { on: true, max: 1 }, green: { on: true, max: 1 }, blue: { on: true, max: 1 }, yellow: { on: true, max: 1 } },
  showCam: true,
  camClass: null,
  camOpacity: 0.5,
  showOutlines: true,
  selectedCell: null,
};

export const useProtein = create<ProteinState>()(() => ({
  fovs: [],
  models: [],
  params: proteinPreset,
  paramsFrom: 'proteinPreset',
  backend: 'auto',
  rle: 'hpa',
  batch: { status: 'idle', ids: [], startedAt: 0, elapsedMs: 0, cancelRequested: false },
  selected: null,
  view: initialView,
  groundTruth: null,
  busy: null,
}));

export function patchFov(id: string, patch: Partial<FovEntry>): void {
  useProtein.setState((s) => ({ fovs: s.fovs.map((f) => (f.id === id ? { ...f, ...patch } : f)) }));
}

export function patchView(patch: Partial<ProteinViewState>): void {
  useProtein.setState((s) => ({ view: { ...s.view, ...patch } }));
}

export function setChannel(c: ProteinChannel, patch: Partial<ChannelView>): void {
  useProtein.setState((s) => ({ view: { ...s.view, channels: { ...s.view.channels, [c]: { ...s.view.channels[c], ...patch } } } }));
}

/** What a result depends on: the preset values (all of them change the cells), the models and the backend. */
export function runKey(s: Pick<ProteinState, 'params' | 'models' | 'backend'>): string {
  return JSON.stringify({ params: s.params, models: s.models.map((m) => `${m.name}:${m.bytes.length}`), backend: s.backend });
}

/** The CAM class shown: the chosen one, or the most probable class of the result. */
export function effectiveCamClass(camClass: number | null, probabilities: ArrayLike<number> | undefined): number {
  if (camClass !== null) return camClass;
  if (!probabilities || probabilities.length === 0) return 0;
  let best = 0;
  for (let k = 1; k < probabilities.length; k++) if (probabilities[k] > probabilities[best]) best = k;
  return best;
}
