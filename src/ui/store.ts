/**
 * The page's state: what is loaded, how to run it, what came out and how it is shown (the
 * workbench), the messages every page writes, and the page shown. The workbench keeps nothing in
 * module variables: its worker, run counter and inputs' origins are here too.
 */
import { create } from 'zustand';
export type { IntensityScaling } from './overlay';
import type { BlendMode } from '../core/slidingWindow';
import type { Volume } from '../core/volume';
import type { IntensityScaling } from './overlay';
import type { CheckResult } from '../core/onnx/check';
import type { WorkerClient } from '../worker/client';
import type { BackendChoice, ExternalDataFile, LoadedModel, RunResult, RuntimeInfo } from '../worker/protocol';
import type { ParityStats } from './derived';
import type { Origin } from './share/origins';
import type { EtaClock } from './kit/pure';

export type RunStatus = 'idle' | 'running' | 'done' | 'error' | 'cancelled';
export type OverlayKind = 'heatmap' | 'labels';
export type SliceView = 'axial' | 'coronal' | 'sagittal' | 'multiplanar' | 'render';
export type MessageLevel = 'error' | 'warning' | 'info';
/** Which page the header shows: the generic workbench or a pipeline preset. */
export type PresetId = 'workbench' | 'motors' | 'spine' | 'eeg' | 'protein' | 'brain';
export type { Origin };
/** Actions a message can offer as a button. */
export type MessageAction = 'relax-dims';

export interface Message {
  id: number;
  level: MessageLevel;
  text: string;
  time: number;
  action?: MessageAction;
  /** Messages with the same key replace each other (e.g. one validation message at a time). */
  key?: string;
  /** A button the message offers that no MessageAction names (Re-run after a worker fault: src/ui/kit/recovery.ts). */
  button?: MessageButton;
}

export interface MessageButton {
  label: string;
  testId: string;
  onClick(): void;
}

export interface LoadedVolume {
  volume: Volume;
  fileName: string;
  /** Data range over all channels, for intensity scaling and the window inputs. */
  range: [number, number];
  /** A bundled demo's or a link's file (links name it); absent: opened from this computer. */
  origin?: Origin;
}

export interface ModelState {
  loaded: LoadedModel;
  /** The original file bytes, kept to load again with relaxed dims. */
  bytes: Uint8Array;
  fileName: string;
  /** External data files handed to onnxruntime as they are (large weights, not inlined); reloads pass them again. */
  external?: ExternalDataFile[];
  /** A bundled demo's or a link's file (links name it); absent: opened from this computer or made here (float16, rewrite). */
  origin?: Origin;
}

/** The "Make it run on WebGPU" rewrite of the current model and its numeric check on WASM. */
export type RewriteCheck =
  | { status: 'checking' }
  | { status: 'ok' | 'refused'; result: CheckResult; rewritten: number }
  | { status: 'error'; error: string };

/** A reference output (.npy) compared with the workbench output. */
export interface ParityState {
  name: string;
  /** Reference [C, D, H, W] as float32. */
  data: Float32Array;
  shape: number[];
  /** Show |out - ref| of the selected channel as the overlay. */
  showDiff: boolean;
}

export interface WindowSettings {
  /** Window size [D, H, W]; only H and W are used for 2D models. */
  roi: [number, number, number];
  /** Overlap per axis [D, H, W]; sent as a scalar when `overlapLinked`. */
  overlap: [number, number, number];
  overlapLinked: boolean;
  mode: BlendMode;
  sigmaScale: number;
  swBatch: number;
  cval: number;
  backend: BackendChoice;
  intensity: IntensityScaling;
  /** True once the user edited the roi: loading a new volume/model then keeps it if it still fits. */
  roiTouched: boolean;
}

export interface RunState {
  status: RunStatus;
  done: number;
  total: number;
  elapsedMs: number;
  etaMs: number;
  /** The smoothed ETA of a running run (src/ui/kit/pure.ts nextEta; null ETA: the first window runs). */
  eta?: EtaClock;
  startedAt: number;
  error?: string;
  /** Cancel was asked for and the run has not stopped yet. */
  cancelRequested?: boolean;
}

/** The finished run and what it ran on. */
export interface ResultState {
  run: RunResult;
  /** Page-side wall time from request to result (includes transfers). */
  wallMs: number;
  inputName: string;
  modelName: string;
  /** The input volume the result belongs to (its grid and affine). */
  input: Volume;
  modelLoadMs: number;
  relaxed: boolean;
  /** Output resampled (nearest) onto the input grid: [C, D, H, W]. */
  onInput: Float32Array;
  channels: number;
  /** Values computed from it once (label map, channel ranges, parity): ./derived.ts; not reactive. */
  derived: ResultCache;
}

/** What ./derived.ts computed from a result (filled on first use). */
export interface ResultCache {
  labels?: { threshold: number; map: Uint8Array; counts: number[] };
  /** The threshold a label map is being computed for (in slices, ./derived.ts labelsSoon). */
  labelsPending?: number;
  ranges: Map<number, [number, number]>;
  parity?: { p: ParityState; stats: ParityStats };
}

export const newResultCache = (): ResultCache => ({ ranges: new Map() });

export interface ViewState {
  overlay: OverlayKind;
  colormap: string;
  opacity: number;
  /** Heatmap: values below are transparent (cal_min). */
  threshold: number;
  /** Output channel shown as the heatmap. */
  channel: number;
  showOverlay: boolean;
  sliceType: SliceView;
  /** Base volume window; NaN until the viewer has picked its robust range. */
  baseMin: number;
  baseMax: number;
}

export interface Readout {
  vox: [number, number, number] | null;
  mm: [number, number, number];
  base: number[] | null;
  overlay: number[] | null;
  label: number | null;
}

export interface AppState {
  preset: PresetId;
  volume: LoadedVolume | null;
  model: ModelState | null;
  /** Label names from a model card (index -> name). */
  labelNames: string[] | null;
  settings: WindowSettings;
  runState: RunState;
  result: ResultState | null;
  view: ViewState;
  runtime: RuntimeInfo | null;
  messages: Message[];
  readout: Readout | null;
  rewriteCheck: RewriteCheck | null;
  parity: ParityState | null;
  /** Something is loading (file read, model parse, demo fetch): its description. */
  busy: string | null;
  /** The workbench's worker: created on first use (kit's workerOf), replaced after a hard stop. */
  worker: WorkerClient | null;
  /** Bumped by every run and hard stop: what an older run still reports is ignored. */
  runSeq: number;
  /** Runs started on the workbench since the page loaded. */
  runs: number;
  /** Id of the next message. */
  messageSeq: number;
  /** The page has read its address and started (once per page load). */
  started: boolean;
  /** Moves on when a value computed from the result in the background is ready (./derived.ts). */
  derivedSeq: number;

  setPreset(preset: PresetId): void;
  setSettings(patch: Partial<WindowSettings>): void;
  setView(patch: Partial<ViewState>): void;
  setRunState(patch: Partial<RunState>): void;
  addMessage(level: MessageLevel, text: string, opts?: { action?: MessageAction; key?: string; button?: MessageButton }): void;
  dismissMessage(id: number): void;
  clearMessages(key?: string): void;
}

const MAX_MESSAGES = 50;

export const initialSettings: WindowSettings = {
  roi: [96, 96, 96],
  overlap: [0.25, 0.25, 0.25],
  overlapLinked: true,
  mode: 'gaussian',
  sigmaScale: 0.125,
  swBatch: 1,
  cval: 0,
  backend: 'auto',
  intensity: 'none',
  roiTouched: false,
};

export const initialView: ViewState = {
  overlay: 'heatmap',
  colormap: 'warm',
  opacity: 0.6,
  threshold: 0.5,
  channel: 0,
  showOverlay: true,
  sliceType: 'multiplanar',
  baseMin: NaN,
  baseMax: NaN,
};

export const initialRunState: RunState = { status: 'idle', done: 0, total: 0, elapsedMs: 0, etaMs: 0, startedAt: 0 };

export const useStore = create<AppState>()((set) => ({
  preset: 'workbench',
  volume: null,
  model: null,
  labelNames: null,
  settings: initialSettings,
  runState: initialRunState,
  result: null,
  view: initialView,
  runtime: null,
  messages: [],
  readout: null,
  rewriteCheck: null,
  parity: null,
  busy: null,
  worker: null,
  runSeq: 0,
  runs: 0,
  messageSeq: 1,
  started: false,
  derivedSeq: 0,

  setPreset: (preset) => set({ preset }),
  setSettings: (patch) => set((s) => ({ settings: { ...s.settings, ...patch } })),
  setView: (patch) => set((s) => ({ view: { ...s.view, ...patch } })),
  setRunState: (patch) => set((s) => ({ runState: { ...s.runState, ...patch } })),
  addMessage: (level, text, opts = {}) =>
    set((s) => {
      // a message with the same key, or the same text, replaces the older one
      const kept = s.messages.filter((m) => (opts.key ? m.key !== opts.key : true) && !(m.level === level && m.text === text));
      const msg: Message = { id: s.messageSeq, level, text, time: Date.now(), ...opts };
      return { messages: [...kept, msg].slice(-MAX_MESSAGES), messageSeq: s.messageSeq + 1 };
    }),
  dismissMessage: (id) => set((s) => ({ messages: s.messages.filter((m) => m.id !== id) })),
  clearMessages: (key) => set((s) => ({ messages: key ? s.messages.filter((m) => m.key !== key) : [] })),
}));
