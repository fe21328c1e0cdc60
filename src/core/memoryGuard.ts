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
import { cliFlag, getPath, setPath, specOf, type ParamSpec } from './preset/params';
import type { AnyPreset, PresetMemory } from './preset/types';

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

// ---------------------------------------------------------------------------------------------
// presets

/** What one item's run of a preset may take: the page's (pageBudget) or the CLI's (75 % of the machine's memory, or --memory). */
export interface MemoryBudget {
  /** Bytes every buffer together may take, and what that limit is. */
  bytes: number;
  what: string;
  /** 'page': the models live in onnxruntime's heap or on the GPU, so `bytes` bounds the rest; 'cli': one process holds it all. */
  where: 'page' | 'cli';
  /** The page on WASM: onnxruntime's heap, where the models and one call's windows live. */
  heapBytes?: number;
  /** The page on WebGPU: the largest buffer, which one call's windows must fit. */
  gpuBufferBytes?: number;
}

/** The page's budget for a preset's run on `backend`: the JS budget (navigator.deviceMemory), wasm32's heap on WASM, the adapter's largest buffer on WebGPU. */
export function pageBudget(mem: BrowserMemory, backend: 'auto' | 'wasm' | 'webgpu'): MemoryBudget {
  const js = jsBudget(mem.deviceMemoryGb);
  const gpuBuffer = mem.gpu?.maxBufferSize && mem.gpu.maxStorageBufferBindingSize ? Math.min(mem.gpu.maxBufferSize, mem.gpu.maxStorageBufferBindingSize) : null;
  const budget: MemoryBudget = { bytes: js.bytes, what: js.what, where: 'page' };
  if (backend === 'wasm' || gpuBuffer === null) budget.heapBytes = WASM_HEAP_BYTES;
  else if (backend === 'webgpu') budget.gpuBufferBytes = gpuBuffer;
  return budget;
}

/** The CLI's budget: `--memory` GB when given, else 75 % of the machine's memory. */
export function cliBudget(totalBytes: number, memoryGb: number | null): MemoryBudget {
  return memoryGb !== null
    ? { bytes: memoryGb * 1e9, what: `--memory ${memoryGb}`, where: 'cli' }
    : { bytes: 0.75 * totalBytes, what: "75 % of this machine's memory", where: 'cli' };
}

const sum = (parts: Record<string, number>): number => Object.values(parts).reduce((a, b) => a + b, 0);

/** Why an estimate does not fit the budget (empty when it does). */
function memoryProblems(m: PresetMemory, b: MemoryBudget): string[] {
  const out: string[] = [];
  const model = m.parts.model ?? 0;
  const windows = m.parts.windows ?? 0;
  if (m.largestArrayValues > MAX_ARRAY_VALUES) out.push(`one of its buffers would hold ${m.largestArrayValues.toExponential(1)} values, more than a typed array's 2^32`);
  const held = b.where === 'page' ? sum(m.parts) - model : sum(m.parts);
  if (held > b.bytes) out.push(`${b.where === 'page' ? 'its buffers outside the model need' : 'it needs'} ${formatBytes(held)}, more than ${b.what} (${formatBytes(b.bytes)})`);
  if (b.heapBytes !== undefined && model + windows > b.heapBytes) out.push(`the models and one call's input need ${formatBytes(model + windows)} in onnxruntime's WASM heap, more than wasm32's ${formatBytes(b.heapBytes)}`);
  if (b.gpuBufferBytes !== undefined && windows > b.gpuBufferBytes) out.push(`one call's input needs ${formatBytes(windows)}, more than the WebGPU adapter's largest buffer (${formatBytes(b.gpuBufferBytes)})`);
  return out;
}

/** Smaller values of one lever: the largest axis (numbers) or the value (number) halved, down to the spec's minimum. */
function* shrink(spec: ParamSpec, v: unknown): Generator<number | number[]> {
  const floor = Math.max(1, spec.type === 'number' || spec.type === 'numbers' ? (spec.min ?? 1) : 1);
  let cur = v;
  for (let step = 0; step < 40; step++) {
    if (typeof cur === 'number') {
      const next = Math.max(floor, Math.floor(cur / 2));
      if (next >= cur) return;
      cur = next;
    } else if (Array.isArray(cur) && cur.every((x) => typeof x === 'number')) {
      const a = cur as number[];
      const k = a.reduce((best, x, i) => (x > a[best] ? i : best), 0);
      const next = Math.max(floor, Math.floor(a[k] / 2));
      if (next >= a[k]) return;
      cur = a.map((x, i) => (i === k ? next : x));
    } else return;
    yield cur as number | number[];
  }
}

/** One lever's value as the page shows it (500×500×500) or as its CLI flag takes it (--input-size 500,500,500). */
function leverText(spec: ParamSpec, v: number | number[], where: MemoryBudget['where']): string {
  if (where === 'cli') {
    const flag = cliFlag(spec);
    const text = Array.isArray(v) ? v.join(',') : String(v);
    return flag ? `--${flag} ${text}` : `${spec.label} ${text}`;
  }
  return Array.isArray(v) ? v.join('×') : String(v);
}

/**
 * Checks one item's run of a preset (`item` null: what the values alone size, before any input is
 * read) against a budget, before anything is allocated: null when it fits (or the preset does not
 * estimate), else one message with the need by part, the limit, and a suggestion that names the
 * preset's own values (the first lever whose smaller value fits, as the form or the flag writes
 * it), or the CLI (page) / --memory (CLI).
 */
export function checkPresetMemory(preset: AnyPreset, params: unknown, item: unknown, models: Readonly<Record<string, readonly ModelInfo[]>>, budget: MemoryBudget): string | null {
  if (!preset.memory) return null;
  const m = preset.memory(params, item ?? null, models);
  const why = memoryProblems(m, budget);
  if (why.length === 0) return null;
  const parts = Object.entries(m.parts).filter(([, b]) => b > 0).map(([k, b]) => `${k} ${formatBytes(b)}`).join(', ');
  const hints: string[] = [];
  for (const key of m.levers) {
    const spec = specOf(preset.params, key);
    for (const v of shrink(spec, getPath(params, key))) {
      if (memoryProblems(preset.memory(setPath(params, key, v), item ?? null, models), budget).length === 0) {
        hints.push(budget.where === 'cli' ? `use ${leverText(spec, v, 'cli')} (it fits)` : `use a smaller ${spec.label} (${leverText(spec, v, 'page')} fits)`);
        break;
      }
    }
    if (hints.length) break;
  }
  if (hints.length === 0) {
    const names = m.levers.map((k) => specOf(preset.params, k).label);
    hints.push(names.length ? `no smaller ${names.join(' or ')} alone makes it fit` : 'these values do not fit');
  }
  if (budget.where === 'page') hints.push(`or run it with the CLI, which has this machine's memory: voxelbench run ${preset.id} … (--memory GB sets its limit)`);
  else hints.push('or give --memory GB when this machine can hold more');
  const advice = hints.join('; ');
  return `This run would need about ${formatBytes(sum(m.parts))} (${parts}): ${why.join('; ')}. ${advice[0].toUpperCase()}${advice.slice(1)}.`;
}
