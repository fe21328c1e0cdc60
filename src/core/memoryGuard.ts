/**
 * The page's memory guard: before a run allocates anything, its peak (estimateRunPeak: input,
 * windows, importance map, model, accumulators, result) is compared with what this browser can
 * give, and a run that would not fit is refused with one message that gives the numbers and what
 * to change. What a browser can give:
 * - WASM: onnxruntime-web's heap is one wasm32 memory (4 GiB): the model (weights, activations,
 *   its output for a batch) and the batch of windows fed to it live there.
 * - the sliding-window buffers live in JavaScript: `navigator.deviceMemory` (GB, capped at 8 by
 *   browsers) is a hint: under 8 it is the device's memory, at 8 it means "8 or more" and the
 *   budget is JS_BUDGET_BYTES; one typed array holds at most 2^32 values.
 * - WebGPU: every tensor is one buffer (maxBufferSize, maxStorageBufferBindingSize): the GPU
 *   path's memory plan (planGpuRun) says what does not fit and proposes a roi / sw batch.
 * Pure (no DOM): the page passes what it read from `navigator` and the adapter.
 */
import { formatBytes } from './onnx/externalData';
import { estimateMemory, estimateRunPeak, type RunPeak } from './onnx/memory';
import type { ModelInfo } from './onnx/model';
import { planGpuRun } from './gpuPlan';

/** onnxruntime-web's WASM heap: one wasm32 memory. */
export const WASM_HEAP_BYTES = 4 * 2 ** 30;
/** What one tab's JavaScript may hold when the device says it has 8 GB or more (Chromium's heap cage is 16 GiB). */
export const JS_BUDGET_BYTES = 16 * 2 ** 30;
/** Values one typed array may hold. */
export const MAX_ARRAY_VALUES = 2 ** 32;

/** What the page knows about this browser's memory. */
export interface BrowserMemory {
  /** navigator.deviceMemory (GB), when the browser tells. */
  deviceMemoryGb?: number;
  /** The WebGPU adapter's limits, when there is one. */
  gpu?: { maxBufferSize?: number; maxStorageBufferBindingSize?: number } | null;
}

export interface RunMemoryRequest {
  info: ModelInfo;
  /** [C, ...spatial] */
  shape: number[];
  /** Spatial roi (no -1). */
  roi: number[];
  swBatch: number;
  overlap: number | number[];
  /** Bytes per input value. */
  inputBytes: number;
  backend: 'auto' | 'wasm' | 'webgpu';
}

export interface RunMemoryVerdict {
  peak: RunPeak;
  /** Why the run is refused (one message with the numbers and a suggestion), or null when it fits. */
  refusal: string | null;
}

/** The JavaScript budget of a device that says it has `gb` GB (undefined: not told). */
export function jsBudget(gb: number | undefined): { bytes: number; what: string } {
  if (gb !== undefined && gb > 0 && gb < 8) return { bytes: gb * 2 ** 30, what: `this device's memory (navigator.deviceMemory: ${gb} GB)` };
  return { bytes: JS_BUDGET_BYTES, what: "what one browser tab's JavaScript may hold" };
}

/**
 * The largest cube-ish roi (halving the largest axis) whose run fits `fits`, for the suggestion;
 * null when even 16 per axis does not.
 */
function smallerRoi(req: RunMemoryRequest, fits: (roi: number[], swBatch: number) => boolean): number[] | null {
  let roi = req.roi.slice();
  for (let guard = 0; guard < 64; guard++) {
    const k = roi.reduce((best, v, i) => (v > roi[best] ? i : best), 0);
    if (roi[k] <= 16) return null;
    roi = roi.map((v, i) => (i === k ? Math.max(16, Math.floor(v / 2 / 16) * 16 || 16) : v));
    if (fits(roi, 1)) return roi;
  }
  return null;
}

/**
 * Checks a sliding-window run against this browser before anything is allocated. The message
 * names the need and the limit, by part, and suggests a smaller roi or sw batch, slabs on the GPU
 * path, or the CLI (`voxelbench infer`, which has the machine's memory).
 */
export function checkRunMemory(req: RunMemoryRequest, mem: BrowserMemory): RunMemoryVerdict {
  const { info, shape, swBatch, inputBytes } = req;
  const spatial = shape.slice(1);
  const peakOf = (roi: number[], batch: number) => estimateRunPeak(info, shape, roi, batch, inputBytes);
  const peak = peakOf(req.roi, swBatch);
  const js = jsBudget(mem.deviceMemoryGb);
  const problems = (p: RunPeak, backend: RunMemoryRequest['backend']): string[] => {
    const out: string[] = [];
    if (p.largestArrayBytes / 4 > MAX_ARRAY_VALUES) out.push(`one of its buffers would hold ${Math.round(p.largestArrayBytes / 4).toExponential(1)} values, more than a typed array's 2^32`);
    const jsBytes = p.totalBytes - p.parts.model;
    if (jsBytes > js.bytes) out.push(`its sliding-window buffers need ${formatBytes(jsBytes)}, more than ${js.what} (${formatBytes(js.bytes)})`);
    if (backend === 'wasm' && p.parts.model + p.parts.windows > WASM_HEAP_BYTES) {
      out.push(`the model and a batch of windows need ${formatBytes(p.parts.model + p.parts.windows)} in onnxruntime's WASM heap, more than wasm32's ${formatBytes(WASM_HEAP_BYTES)}`);
    }
    return out;
  };
  // 'auto' runs on WebGPU when the model's tensors fit the adapter's buffers, else on WASM
  const gpu = mem.gpu?.maxBufferSize && mem.gpu.maxStorageBufferBindingSize ? { maxBufferSize: mem.gpu.maxBufferSize, maxStorageBufferBindingSize: mem.gpu.maxStorageBufferBindingSize } : null;
  const gpuProblems = (roi: number[], batch: number): string[] => {
    if (!gpu) return ['no WebGPU adapter'];
    const footprint = (r: number[], b: number) => {
      const m = estimateMemory(info, r, b, { channels: shape[0] });
      return { weightBytes: m.weightBytes, largestActivationBytes: m.largestActivation.bytes, peakActivationBytes: m.peakActivationBytes };
    };
    try {
      const plan = planGpuRun({ shape, voxelBytes: 4, roi, overlap: req.overlap, swBatch: batch, outChannels: 1 }, gpu, footprint);
      // the volume goes in slabs and a too-large accumulator sends the stitching to the CPU: only the model's buffers refuse
      return plan.problems.filter((x) => /window batch|model output|model activation/.test(x));
    } catch {
      return [];
    }
  };
  const onGpu = req.backend !== 'wasm' && gpu !== null && gpuProblems(req.roi, swBatch).length === 0;
  const backendOf = (roi: number[], batch: number): RunMemoryRequest['backend'] => (req.backend === 'webgpu' || (req.backend === 'auto' && gpu && gpuProblems(roi, batch).length === 0) ? 'webgpu' : 'wasm');
  let why = problems(peak, onGpu ? 'webgpu' : 'wasm');
  if (req.backend === 'webgpu') why = [...why, ...gpuProblems(req.roi, swBatch).filter((p) => p !== 'no WebGPU adapter')];
  if (why.length === 0) return { peak, refusal: null };
  const fits = (roi: number[], batch: number): boolean => {
    const b = backendOf(roi, batch);
    return problems(peakOf(roi, batch), b).length === 0 && (b !== 'webgpu' || gpuProblems(roi, batch).length === 0);
  };
  const p = peak.parts;
  const parts = `input ${formatBytes(p.input)}, windows ${formatBytes(p.windows)}, model ${formatBytes(p.model)}, accumulators ${formatBytes(p.accumulators)}, result ${formatBytes(p.result)}`;
  const hints: string[] = [];
  if (req.roi.some((r, i) => r > spatial[i])) hints.push(`the roi ${req.roi.join('×')} is larger than the volume ${spatial.join('×')}: use at most ${spatial.map((s, i) => Math.min(s, req.roi[i])).join('×')}`);
  else {
    if (swBatch > 1 && fits(req.roi, 1)) hints.push('use sw batch 1');
    const r = swBatch > 1 && fits(req.roi, 1) ? null : smallerRoi(req, fits);
    if (r) hints.push(`use a smaller roi (${r.join('×')} fits)`);
    else if (hints.length === 0) hints.push('use a smaller roi or sw batch');
  }
  if (req.backend !== 'wasm') hints.push('on WebGPU the volume is cut in slabs, so only the roi and sw batch count there');
  hints.push(`or run it with the CLI, which has this machine's memory: voxelbench infer --model M.onnx --input X.npy --out Y.npy --roi ${req.roi.join(',')} --sw-batch ${swBatch}`);
  const advice = hints.join('; ');
  return { peak, refusal: `This run would need about ${formatBytes(peak.totalBytes)} (${parts}): ${why.join('; ')}. ${advice[0].toUpperCase()}${advice.slice(1)}.` };
}
