/** The contract between the page and the inference worker (comlink). */
import type { ModelInfo } from '../core/onnx/model';
import type { CheckOptions, CheckResult } from '../core/onnx/check';
import type { SlidingWindowParams, SlidingWindowProgress, SlidingWindowStats } from '../core/slidingWindow';
import type { VoxelArray } from '../core/volume';
import type { MotorDetection, MotorsProgress } from '../core/motors/pipeline';
import type { MotorsParams } from '../core/presets/motors';
import type { InputFile, ItemSource, ReadProgress, ReadResult, RunProgress } from '../core/preset/types';

/** A file for readInputs: its bytes, or (a preset that reads on demand: `inputs.readsOnDemand`) the File, read in the worker. */
export type WorkerInputFile = InputFile | { path: string; file: Blob };

export type Backend = 'webgpu' | 'wasm';
export type BackendChoice = 'auto' | Backend;

export interface RuntimeInfo {
  crossOriginIsolated: boolean;
  /** WASM threads ORT will use. */
  threads: number;
  hardwareConcurrency: number;
  webgpu: {
    available: boolean;
    adapter?: string;
    reason?: string;
    /** Why the adapter is a software (CPU) one, which auto avoids (src/worker/backendChoice.ts); absent on a hardware adapter. */
    software?: string;
    maxStorageBufferBindingSize?: number;
    maxBufferSize?: number;
    shaderF16?: boolean;
  };
  ortVersion: string;
}

/** The worker's options (configure). */
export interface WorkerOptions {
  /**
   * Auto takes a software WebGPU adapter like a hardware one. For tests of auto's WebGPU
   * fallbacks on a machine whose only adapter is SwiftShader: a page sets
   * `window.__voxelbenchAutoUsesSoftwareAdapter = true` before it starts (client.ts).
   */
  autoUsesSoftwareAdapter?: boolean;
  /** A Web Lock the worker holds for its life (client.ts: the page notices the worker's death when it is granted the lock). */
  lockName?: string;
}

export interface LoadedModel {
  id: string;
  name: string;
  info: ModelInfo;
  /** True when the graph was edited on load to make fixed spatial dims symbolic. */
  relaxed: boolean;
  loadMs: number;
}

export interface RunRequest {
  modelId: string;
  /** [C, D, H, W] or [D, H, W] (then C = 1); data is converted window by window. */
  data: VoxelArray;
  shape: number[];
  /** Linear intensity map applied when windows are fed to the model. */
  scale?: number;
  offset?: number;
  params: SlidingWindowParams;
  backend: BackendChoice;
  /** WebGPU: cut, run and stitch the windows on the GPU (default); false stitches on the CPU (src/worker/gpu). */
  gpuResident?: boolean;
}

export interface RunResult {
  /** Stitched raw model output [C_out, D', H', W'] (no activation). */
  data: Float32Array;
  shape: number[];
  backend: Backend;
  /** Why this backend ran (e.g. 'WebGPU adapter: swiftshader' or 'WebGPU failed at run time: ...'). */
  backendReason: string;
  stats: SlidingWindowStats;
  /** Session creation time for the backend that ran. */
  sessionMs: number;
  perWindowMs: number;
}

export type ProgressCallback = (p: SlidingWindowProgress) => void;

/**
 * One item through a preset (src/core/presets/index.ts) in the worker: the item as the page holds
 * it (copied in: the page keeps it for its view), the loaded models' worker ids by role, the values
 * and the backend choice.
 */
export interface PresetRunRequest<P = unknown, Item = unknown> {
  item: Item;
  /** Worker model ids by role ('model'; spine: 'seg', 'cls'), in the order the run uses them. */
  models: Record<string, string[]>;
  params: P;
  backend: BackendChoice;
  /** WebGPU only: cut, run and stitch the windows on the GPU where the preset has such a path (src/worker/gpu); default true, false forces CPU stitching. */
  gpuResident?: boolean;
  /** The item's buffers were transferred (lent, src/ui/kit/lend.ts): the result gives the item back, its buffers transferred again. */
  lend?: boolean;
}

/** The preset's result (its typed arrays transferred) and the backend that ran it. */
export interface PresetRunResult<Result = unknown> {
  result: Result;
  /** The lent item, given back (only when the request lent it). */
  item?: unknown;
  backend: Backend;
  /** Why this backend (adapter name, or why WebGPU was left). */
  backendReason: string;
}

/** One tomogram through the flagellar-motor pipeline (e2e/harness.ts and `npm run bench`; the page uses runPreset). */
export interface MotorsRequest {
  tomogram: { id: string; shape: [number, number, number]; data: Uint8Array; spacing?: number };
  /** Loaded models (folds/seeds): sigmoid maps are summed over them. */
  modelIds: string[];
  params: MotorsParams;
  backend: BackendChoice;
  /** WebGPU: windows, stitching, TTA sums and reductions on the GPU (default); false runs them on the CPU. */
  gpuResident?: boolean;
}

export interface MotorsResult extends MotorDetection {
  backend: Backend;
  backendReason: string;
}

export interface WorkerApi {
  runtime(): Promise<RuntimeInfo>;
  /**
   * Parses and registers a model. relaxDims: make fixed spatial dims symbolic first. externalData:
   * the side files of a model whose weights stay external (onnxruntime-web's session option).
   */
  loadModel(bytes: Uint8Array, name: string, relaxDims?: boolean, externalData?: ExternalDataFile[]): Promise<LoadedModel>;
  /** Fetches a model (same origin or CORS-enabled URL) and loads it. */
  loadModelUrl(url: string, relaxDims?: boolean): Promise<LoadedModel>;
  unloadModel(id: string): Promise<void>;
  /**
   * What failed on WebGPU in this worker, or null: after a failure onnxruntime-web's WebGPU backend
   * may be unusable for every later session here, so the page replaces the worker (and loads its
   * models again) before a run that may use WebGPU.
   */
  webgpuHealth(): { failed: string | null } | Promise<{ failed: string | null }>;
  run(req: RunRequest, onProgress?: ProgressCallback): Promise<RunResult>;
  runMotors(req: MotorsRequest, onProgress?: (p: MotorsProgress) => void): Promise<MotorsResult>;
  /**
   * Reads one item source with its preset's `inputs.read` (the bytes transferred in, or for a
   * preset that reads on demand the files unread, the items' typed arrays transferred out). Image
   * slices decode here or on the page decode pool. Reads do not stop a run and a run does not stop
   * them; `readId` names the read for cancelRead. `modelOnly`: the items are for a run only
   * (ReadOptions.modelOnly; the preset's `inputs.modelOnly` says what they are fit for).
   */
  readInputs(presetId: string, source: ItemSource, files: WorkerInputFile[], params: unknown, onProgress?: (p: ReadProgress) => void, readId?: string, modelOnly?: boolean): Promise<ReadResult<unknown>>;
  /** Aborts the read started with this id (it rejects with an AbortError). */
  cancelRead(readId: string): void;
  /**
   * Runs one item through its preset's `run` with ModelHandles built from the loaded models
   * (WebGPU or WASM as chosen, with fallback); the result's typed arrays are transferred. It is
   * the one run in progress: cancel() aborts it.
   */
  runPreset(presetId: string, req: PresetRunRequest, onProgress?: (p: RunProgress) => void): Promise<PresetRunResult>;
  /**
   * Runs `original` and `rewritten` on the same seeded random input on WASM and compares their
   * outputs (checkRewrite): ok when maxRelDiff <= tolerance (default 1e-4).
   */
  compareModels(original: Uint8Array, rewritten: Uint8Array, opts?: CheckOptions): Promise<CheckResult>;
  /** Cancels the run in progress (it rejects with an AbortError). */
  cancel(): void;
  /** Answers at once (the page's liveness check while a call is pending). */
  ping(): 'pong';
  /** Test hook: kills the worker (or its WebGPU device) as a crash would; see CrashMode. */
  crash(how: CrashMode): Promise<void> | void;
}

/**
 * How a test kills the worker: 'close' (it closes itself), 'throw' (an uncaught error at its top
 * level), 'terminate' (the page terminates it as the browser would, without telling the client),
 * 'device' (destroys onnxruntime-web's WebGPU device: its `lost` promise resolves).
 */
export type CrashMode = 'close' | 'throw' | 'terminate' | 'device';

/** The key of a message the worker posts outside comlink to say it cannot go on (`{ [FAULT_MESSAGE]: reason }`). */
export const FAULT_MESSAGE = 'voxelbenchFault';

/** A side file of an ONNX model with external data: `path` as the model names it (onnxruntime-web's externalData entry). */
export interface ExternalDataFile {
  path: string;
  data: Uint8Array;
}
