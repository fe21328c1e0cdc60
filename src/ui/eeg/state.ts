/**
 * State of the "EEG spectrogram" preset page: the dropped parquet files (read in the page, small),
 * the models (folds) loaded in the worker, the votes, the preset values, per-file results and
 * what the view shows.
 */
import { create } from 'zustand';
import type { ModelInfo } from '../../core/onnx/model';
import type { Spectrogram } from '../../core/eeg/parquet';
import type { EegProgress } from '../../core/eeg/pipeline';
import type { VotesTable } from '../../core/eeg/metric';
import { eegPreset, type EegParams } from '../../core/presets/eeg';
import type { BackendChoice, SpectrogramResult } from '../../worker/protocol';

export type EegFileStatus = 'reading' | 'waiting' | 'running' | 'done' | 'error' | 'cancelled';

export interface EegFile {
  /** eeg_id: the file stem. */
  id: string;
  name: string;
  status: EegFileStatus;
  /** The file's bytes (kept for session files). */
  bytes?: Uint8Array;
  spec?: Spectrogram;
  /** Why it failed (reading or running). */
  error?: string;
  /** The error came from reading the file (a run skips it). */
  readFailed?: boolean;
  warnings: string[];
  progress?: EegProgress;
  result?: SpectrogramResult;
  /** Run settings of the result (runKey). */
  key?: string;
  wallMs?: number;
}

export interface EegModelEntry {
  workerId: string;
  name: string;
  info: ModelInfo;
  /** The file, kept to load it again when the worker is restarted. */
  bytes: Uint8Array;
}

export interface EegBatch {
  status: 'idle' | 'running' | 'done' | 'cancelled' | 'error';
  ids: string[];
  startedAt: number;
  elapsedMs: number;
  cancelRequested: boolean;
}

export interface EegView {
  /** Class whose CAM is shown. */
  cls: number;
  showCam: boolean;
  opacity: number;
}

export interface EegState {
  files: EegFile[];
  models: EegModelEntry[];
  votes: (VotesTable & { name: string }) | null;
  params: EegParams;
  backend: BackendChoice;
  selected: string | null;
  view: EegView;
  batch: EegBatch;
  busy: string | null;
}

export const initialEegBatch: EegBatch = { status: 'idle', ids: [], startedAt: 0, elapsedMs: 0, cancelRequested: false };

export const useEeg = create<EegState>()(() => ({
  files: [],
  models: [],
  votes: null,
  params: eegPreset,
  backend: 'auto',
  selected: null,
  view: { cls: 0, showCam: true, opacity: 0.6 },
  batch: initialEegBatch,
  busy: null,
}));

export function patchFile(id: string, patch: Partial<EegFile>): void {
  useEeg.setState((s) => ({ files: s.files.map((f) => (f.id === id ? { ...f, ...patch } : f)) }));
}

/** What a result depends on: models, preset values, backend choice. */
export function runKey(s: Pick<EegState, 'models' | 'params' | 'backend'>): string {
  return JSON.stringify([s.models.map((m) => m.workerId), s.params, s.backend]);
}
