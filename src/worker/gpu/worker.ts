/**
 * The worker's hook into the GPU-resident path: one call per run method. Each returns the result
 * when the GPU-resident path ran, or `{ note }` when it did not: note is null when it does not
 * apply (WASM chosen or no WebGPU adapter), else the reason it fell back, which the worker appends
 * to the backend reason of its CPU-stitching run. A cancelled run rethrows.
 */
import type * as OrtWeb from 'onnxruntime-web';
import type { ModelInfo } from '../../core/onnx/model';
import type { MotorsProgress } from '../../core/motors/pipeline';
import { AbortError, type SlidingWindowProgress } from '../../core/slidingWindow';
import type { MotorsParams } from '../../core/presets/motors';
import type { Tomogram } from '../../core/motors/tomogram';
import type { RunProgress } from '../../core/preset/types';
import type { BackendChoice, MotorsRequest, MotorsResult, PresetRunRequest, PresetRunResult, RunRequest, RunResult, RuntimeInfo } from '../protocol';
import { gpuResidentMotors, gpuResidentRun, whyNotGpuResident, type Ort } from './index';

/** What the worker knows of a loaded model. */
export interface GpuEntry {
  loaded: { name: string; info: ModelInfo };
  bytes: Uint8Array;
  externalData?: { path: string; data: Uint8Array }[];
}

type Outcome<T> = { result: T } | { note: string | null };

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

function applies(choice: BackendChoice, wanted: boolean | undefined, gpu: RuntimeInfo['webgpu']): boolean {
  return choice !== 'wasm' && wanted !== false && gpu.available;
}

function rethrowAbort(e: unknown, signal: AbortSignal): void {
  if (e instanceof AbortError || signal.aborted || (e instanceof Error && e.name === 'AbortError')) throw e;
}

const mib = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;

/** Appends the GPU-resident path's fallback note (if any) to a backend reason. */
export function withGpuNote(reason: string, note: string | null): string {
  return note ? `${reason}; GPU-resident path not used: ${note}` : reason;
}

/** One sliding-window run (worker method `run`) on the GPU-resident path. */
export async function tryGpuRun(
  ort: typeof OrtWeb,
  entry: GpuEntry,
  req: RunRequest,
  gpu: RuntimeInfo['webgpu'],
  signal: AbortSignal,
  onProgress?: (p: SlidingWindowProgress) => void,
): Promise<Outcome<RunResult>> {
  if (!applies(req.backend, req.gpuResident, gpu)) return { note: null };
  const why = whyNotGpuResident(entry.loaded.info, gpu.shaderF16);
  if (why) return { note: why };
  try {
    const shape = req.shape.length === req.params.roi.length ? [1, ...req.shape] : req.shape;
    const r = await gpuResidentRun(
      ort as unknown as Ort,
      { name: entry.loaded.name, bytes: entry.bytes, externalData: entry.externalData, info: entry.loaded.info },
      { data: req.data, shape, scale: req.scale, offset: req.offset, params: req.params },
      { signal, onProgress },
    );
    return {
      result: {
        data: r.data,
        shape: r.shape,
        backend: 'webgpu',
        backendReason: [`WebGPU adapter: ${gpu.adapter}`, `GPU-resident sliding window (read back ${mib(r.readbackBytes)})`, ...r.notes].join('; '),
        stats: r.stats,
        sessionMs: r.sessionMs,
        perWindowMs: r.stats.totalMs / r.stats.windows,
      },
    };
  } catch (e) {
    rethrowAbort(e, signal);
    if (req.backend === 'webgpu' && req.gpuResident === true) throw e;
    return { note: `it failed (${message(e)}); windows were stitched on the CPU` };
  }
}

/** One tomogram (worker method `runMotors`) on the GPU-resident path. */
export async function tryGpuMotors(
  ort: typeof OrtWeb,
  entries: GpuEntry[],
  req: MotorsRequest,
  gpu: RuntimeInfo['webgpu'],
  signal: AbortSignal,
  onProgress?: (p: MotorsProgress) => void,
): Promise<Outcome<MotorsResult>> {
  if (!applies(req.backend, req.gpuResident, gpu)) return { note: null };
  for (const e of entries) {
    const why = whyNotGpuResident(e.loaded.info, gpu.shaderF16);
    if (why) return { note: `${e.loaded.name}: ${why}` };
  }
  try {
    const d = await gpuResidentMotors(
      ort as unknown as Ort,
      entries.map((e) => ({ name: e.loaded.name, bytes: e.bytes, externalData: e.externalData, info: e.loaded.info })),
      req.tomogram,
      req.params,
      { signal, onProgress },
    );
    const { readbackBytes, notes, ...det } = d;
    return {
      result: { ...det, backend: 'webgpu', backendReason: [`WebGPU adapter: ${gpu.adapter}`, `GPU-resident sliding window (read back ${mib(readbackBytes)})`, ...notes].join('; ') },
    };
  } catch (e) {
    rethrowAbort(e, signal);
    if (req.backend === 'webgpu' && req.gpuResident === true) throw e;
    return { note: `it failed (${message(e)}); windows were stitched on the CPU` };
  }
}

/** A preset's GPU-resident run over its models by role (the worker's `runPreset`). */
type GpuPresetRun = (
  ort: typeof OrtWeb,
  models: Record<string, GpuEntry[]>,
  req: PresetRunRequest,
  gpu: RuntimeInfo['webgpu'],
  signal: AbortSignal,
  onProgress?: (p: RunProgress) => void,
) => Promise<Outcome<PresetRunResult>>;

/** The presets that have a GPU-resident path, by id; the others run as their preset says (stitched on the CPU). */
const GPU_PRESET_RUNS: Partial<Record<string, GpuPresetRun>> = {
  motors: async (ort, models, req, gpu, signal, onProgress) => {
    const r = await tryGpuMotors(
      ort,
      models.model ?? [],
      { tomogram: req.item as Tomogram, modelIds: [], params: req.params as MotorsParams, backend: req.backend, gpuResident: req.gpuResident },
      gpu,
      signal,
      onProgress as ((p: MotorsProgress) => void) | undefined,
    );
    if (!('result' in r)) return r;
    const { backend, backendReason, ...result } = r.result;
    return { result: { result, backend, backendReason } };
  },
};

/** The preset's GPU-resident run when it has one and it applies; `{ note }` otherwise (see tryGpuRun). */
export function gpuPresetRun(
  ort: typeof OrtWeb,
  presetId: string,
  models: Record<string, GpuEntry[]>,
  req: PresetRunRequest,
  gpu: RuntimeInfo['webgpu'],
  signal: AbortSignal,
  onProgress?: (p: RunProgress) => void,
): Promise<Outcome<PresetRunResult>> {
  const run = GPU_PRESET_RUNS[presetId];
  return run ? run(ort, models, req, gpu, signal, onProgress) : Promise.resolve({ note: null });
}
