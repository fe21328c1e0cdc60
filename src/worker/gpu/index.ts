/**
 * The GPU-resident path's entry points for the worker (and the Node benchmark, which runs the
 * same code on Dawn): one sliding-window run, and one tomogram through the motor pipeline. Each
 * returns the result or throws; `whyNotGpuResident` says up front when the path does not apply,
 * and the caller falls back to the CPU-stitching path with that reason (or the error's message).
 */
import { describeGpuPlan, gpuModelFootprint, gpuOutputGuess, gpuVoxelBytes, planGpuRun, type GpuRunPlan, type GpuRunRequest } from '../../core/gpuPlan';
import type { ModelInfo } from '../../core/onnx/model';
import { dtypeOf } from '../../core/volume';
import type { MotorDetection, MotorsProgress } from '../../core/motors/pipeline';
import type { MotorsParams } from '../../core/presets/motors';
import type { Tomogram } from '../../core/motors/tomogram';
import type { SlidingWindowParams, SlidingWindowProgress, SlidingWindowStats } from '../../core/slidingWindow';
import type { VoxelArray } from '../../core/volume';
import { kernelsFor } from './kernels';
import { detectMotorsGpu } from './motors';
import { OrtGpuModel, type GpuModelSource, type Ort } from './ortGpu';
import { gpuLabels, gpuSlidingWindow, readFloat32, uploadVolume } from './slidingWindow';

export type { GpuModelSource, Ort } from './ortGpu';

export interface GpuPathOptions {
  signal?: AbortSignal;
  /** Record the model once and replay it for every batch (static window shapes). */
  graphCapture?: boolean;
  /** Wait for the GPU after each model run so that predictMs is the model's GPU time (benchmarks). */
  syncTiming?: boolean;
  /** Largest volume slab in bytes (default: the adapter's buffer limits; tests force several slabs). */
  maxSlabBytes?: number;
}

export interface GpuRunOutput {
  data: Float32Array;
  shape: number[];
  /** Argmax over channels (uint8), when asked for. */
  labels?: Uint8Array;
  stats: SlidingWindowStats;
  /** Bytes copied GPU -> CPU in this run. */
  readbackBytes: number;
  sessionMs: number;
  notes: string[];
}

/** Why the GPU-resident path cannot run this model, or null. */
export function whyNotGpuResident(info: ModelInfo, shaderF16: boolean | undefined): string | null {
  const i = info.inputs[0];
  const o = info.outputs[0];
  if (!i || !o) return 'the model has no input or no output';
  if (i.type !== 'float32') return `the model's input is ${i.type}; the GPU-resident path feeds float32`;
  if (o.type !== 'float32') return `the model's output is ${o.type}; the GPU-resident path stitches float32`;
  if ((info.initializers ?? []).some((t) => t.dataType === 10) && !shaderF16) return "the model has float16 weights and the adapter has no 'shader-f16'";
  return null;
}

/**
 * The memory plan of a run on this device (core/gpuPlan.ts), with the model's activations from
 * estimateMemory when the graph is known. Throws, with the proposal, when it does not fit.
 */
export function checkGpuPlan(device: GPUDevice, req: GpuRunRequest, info?: ModelInfo): GpuRunPlan {
  const plan = planGpuRun(req, { maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize, maxBufferSize: device.limits.maxBufferSize }, gpuModelFootprint(info));
  if (!plan.fits) throw new Error(`the GPU buffers do not fit the adapter: ${describeGpuPlan(plan).split('\n').slice(-2).join('; ')}`);
  return plan;
}

/** A note for the backend reason: float16 weights run because the adapter has shader-f16 (checked, not assumed). */
function f16Note(info: ModelInfo | null): string[] {
  return (info?.initializers ?? []).some((t) => t.dataType === 10) ? ["float16 weights on an adapter with 'shader-f16'"] : [];
}

const models = new WeakMap<Uint8Array, Map<boolean, Promise<OrtGpuModel>>>();

/** The GPU session of a model (created once per model bytes and graph-capture setting). */
function gpuModel(ort: Ort, src: GpuModelSource, graphCapture: boolean): Promise<OrtGpuModel> {
  let byCapture = models.get(src.bytes);
  if (!byCapture) {
    byCapture = new Map();
    models.set(src.bytes, byCapture);
  }
  let m = byCapture.get(graphCapture);
  if (!m) {
    m = OrtGpuModel.create(ort, src, graphCapture);
    byCapture.set(graphCapture, m);
    m.catch(() => byCapture!.delete(graphCapture));
  }
  return m;
}

/** Releases the GPU sessions of a model (call when the model is unloaded). */
export async function releaseGpuModel(bytes: Uint8Array): Promise<void> {
  const byCapture = models.get(bytes);
  models.delete(bytes);
  for (const m of byCapture?.values() ?? []) await (await m.catch(() => null))?.release();
}

export interface GpuRunInput {
  data: VoxelArray;
  /** [C, ...spatial] */
  shape: number[];
  scale?: number;
  offset?: number;
  params: SlidingWindowParams;
  /** Also return the argmax label map (computed on the GPU). */
  labels?: boolean;
}

/** One sliding-window run on the GPU: upload once, windows, model, stitching on the GPU; the result is read back. */
export async function gpuResidentRun(
  ort: Ort,
  src: GpuModelSource,
  req: GpuRunInput,
  opts: GpuPathOptions & { onProgress?: (p: SlidingWindowProgress) => void } = {},
): Promise<GpuRunOutput> {
  const t0 = performance.now();
  const model = await gpuModel(ort, src, !!opts.graphCapture);
  const k = kernelsFor(model.device);
  const rb0 = k.readbackBytes;
  const out = gpuOutputGuess(src.info, req.params.roi);
  checkGpuPlan(model.device, { shape: req.shape, voxelBytes: gpuVoxelBytes(dtypeOf(req.data)), roi: req.params.roi, overlap: req.params.overlap, swBatch: req.params.swBatch, ...out, labelsOnly: req.labels }, src.info);
  const volume = uploadVolume(k, req.data, req.shape, opts.maxSlabBytes);
  try {
    const r = await gpuSlidingWindow(k, model, { volume, scale: req.scale, offset: req.offset }, req.params, opts);
    try {
      const n = r.shape.reduce((a, b) => a * b, 1);
      const labels = req.labels ? await gpuLabels(k, r.buffer, r.shape) : undefined;
      const data = await readFloat32(k, r.buffer, n);
      const totalMs = performance.now() - t0;
      return {
        data,
        shape: r.shape,
        labels,
        stats: { ...r.stats, totalMs, overheadMs: totalMs - r.stats.predictMs },
        readbackBytes: k.readbackBytes - rb0,
        sessionMs: model.sessionMs,
        notes: [...model.notes, ...f16Note(src.info ?? null)],
      };
    } finally {
      r.buffer.destroy();
    }
  } finally {
    volume.destroy();
  }
}

/** One tomogram through the motor pipeline on the GPU (see motors.ts). */
export async function gpuResidentMotors(
  ort: Ort,
  srcs: GpuModelSource[],
  tomo: Tomogram,
  params: MotorsParams,
  opts: GpuPathOptions & { onProgress?: (p: MotorsProgress) => void } = {},
): Promise<MotorDetection & { readbackBytes: number; notes: string[] }> {
  const ms = [];
  for (const s of srcs) ms.push(await gpuModel(ort, s, !!opts.graphCapture));
  const k = kernelsFor(ms[0].device);
  const rb0 = k.readbackBytes;
  const out = gpuOutputGuess(srcs[0].info, params.roi);
  checkGpuPlan(k.device, { shape: [1, ...params.inputSize], voxelBytes: 1, roi: params.roi, overlap: params.overlap, swBatch: params.swBatch, ...out, extraOutputBuffers: 2 }, srcs[0].info);
  const det = await detectMotorsGpu(k, ms, tomo, params, opts);
  return { ...det, readbackBytes: k.readbackBytes - rb0, notes: [...new Set(ms.flatMap((m, i) => [...m.notes, ...f16Note(srcs[i].info ?? null)]))] };
}
