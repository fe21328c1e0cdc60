/** The contract between the page and the inference worker (comlink). */
import type { ModelInfo } from '../core/onnx/model';
import type { CheckOptions, CheckResult } from '../core/onnx/check';
import type { SlidingWindowParams, SlidingWindowProgress, SlidingWindowStats } from '../core/slidingWindow';
import type { VoxelArray } from '../core/volume';
import type { MotorDetection, MotorsProgress } from '../core/motors/pipeline';
import type { MotorsParams } from '../core/presets/motors';
import type { EegParams } from '../core/presets/eeg';
import type { Spectrogram } from '../core/eeg/parquet';
import type { EegPrediction, EegProgress } from '../core/eeg/pipeline';
import type { SpineParams } from '../core/presets/spine';
import type { SpineProgress, SpineResult } from '../core/spine/pipeline';
import type { DicomFile, DicomSeries, DicomSkip } from '../core/spine/dicom';
import type { ProteinParams } from '../core/presets/protein';
import type { FieldOfView } from '../core/protein/images';
import type { ProteinFovResult, ProteinProgress } from '../core/protein/pipeline';

export type Backend = 'webgpu' | 'wasm';
export type BackendChoice = 'auto' | Backend;

export interface RuntimeInfo {
  crossOriginIsolated: boolean;
  /** WASM threads ORT will use. */
  threads: number;
  hardwareConcurrency: number;
  webgpu: { available: boolean; adapter?: string; reason?: string; maxStorageBufferBindingSize?: number; maxBufferSize?: number; shaderF16?: boolean };
  ortVersion: string;
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

/** One tomogram through the flagellar-motor pipeline (resize, tiles, TTA, models summed). */
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
  run(req: RunRequest, onProgress?: ProgressCallback): Promise<RunResult>;
  runMotors(req: MotorsRequest, onProgress?: (p: MotorsProgress) => void): Promise<MotorsResult>;
  /**
   * Runs `original` and `rewritten` on the same seeded random input on WASM and compares their
   * outputs (checkRewrite): ok when maxRelDiff <= tolerance (default 1e-4).
   */
  compareModels(original: Uint8Array, rewritten: Uint8Array, opts?: CheckOptions): Promise<CheckResult>;
  /** Cancels the run in progress (it rejects with an AbortError). */
  cancel(): void;
  /** Spine preset: stage 1 (segmentation) and optional stage 2 (fracture) on one CT series. */
  runSpine(req: SpineRequest, onProgress?: (p: SpineProgress) => void): Promise<SpineRunResult>;
  /** Spine preset: decodes DICOM files (JPEG 2000 included) off the main thread. */
  readDicom(
    files: DicomFile[],
    order?: 'position' | 'filename',
    onProgress?: (done: number, total: number) => void,
  ): Promise<{ series: DicomSeries[]; skipped: DicomSkip[] }>;
  /** EEG preset: one spectrogram through the models (folds), with CAM or occlusion maps. */
  runSpectrogram(req: SpectrogramRequest, onProgress?: (p: EegProgress) => void): Promise<SpectrogramResult>;
  /** Protein preset: one RGBY field of view through the models (folds), CAM or occlusion, per-cell labels. */
  runProtein(req: ProteinRequest, onProgress?: (p: ProteinProgress) => void): Promise<ProteinRunResult>;
}

// ---- spine preset (helper spine-core) ----
/** One CT series through the cervical-spine pipeline. */
export interface SpineRequest {
  /** Stored pixel values [D, H, W] in the slice order used. */
  stored: VoxelArray;
  shape: [number, number, number];
  /** [sD, sH, sW] in mm (volumes in ml). */
  spacing: number[];
  segModelIds: string[];
  /** Stage-2 classifiers; empty = stage 1 only. */
  clsModelIds: string[];
  params: SpineParams;
  backend: BackendChoice;
}

export type SpineRunResult = SpineResult & { backend: Backend; backendReason: string };

// ---- EEG spectrogram preset (helper eeg) ----
/** One HMS spectrogram (as read by readSpectrogramParquet) through the EEG preset. */
export interface SpectrogramRequest {
  spectrogram: Spectrogram;
  /** Loaded models (folds): softmax probabilities are averaged over them. */
  modelIds: string[];
  params: EegParams;
  backend: BackendChoice;
}

export type SpectrogramResult = EegPrediction & { backend: Backend; backendReason: string };

// ---- protein localisation preset (helper protein) ----
/** One field of view through the protein preset. */
export interface ProteinRequest {
  fov: FieldOfView;
  /** Cell label image [H * W] (0 = background), or null for the simple built-in segmentation. */
  cells: Int32Array | null;
  /** Loaded models (folds): logits and class maps are averaged over them before the sigmoid and the CAM. */
  modelIds: string[];
  params: ProteinParams;
  backend: BackendChoice;
}

export type ProteinRunResult = ProteinFovResult & { backend: Backend; backendReason: string };

/** A side file of an ONNX model with external data: `path` as the model names it (onnxruntime-web's externalData entry). */
export interface ExternalDataFile {
  path: string;
  data: Uint8Array;
}
