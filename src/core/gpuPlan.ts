/**
 * The GPU-resident sliding window's geometry and memory plan (pure: no WebGPU, no DOM).
 *
 * - `slabPlan`: how a volume is uploaded as stored (uint8, int16, float32, ...) in slabs of whole
 *   z planes when one buffer would exceed the adapter's `maxStorageBufferBindingSize` or
 *   `maxBufferSize`.
 * - `windowOrigins` / `outputGeometry`: where each window of `planWindows` (core/slidingWindow) is
 *   read from the image and written to the output grid, and how the output is cropped, with the
 *   same arithmetic as `slidingWindowInference` (zoom = output roi / roi, trunc for the padded
 *   output and window origins, Python round for the crop).
 * - `planGpuRun`: the GPU buffers one run needs (volume, window batch, model output, the model's
 *   largest activation, accumulators, result, preset buffers) against the adapter's limits, and a
 *   proposal (roi, sw batch, slabs) when they do not fit.
 */
import { estimateMemory } from './onnx/memory';
import type { ModelInfo } from './onnx/model';
import { planWindows, roundHalfEven, type WindowPlan } from './slidingWindow';

/** The two WebGPU limits every buffer must respect; `memoryBytes` is a budget for the sum when known. */
export interface GpuLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  /** Total GPU memory the run may use (WebGPU does not expose it; pass it when known). */
  memoryBytes?: number;
}

/** Bytes per element the GPU path uploads a voxel array with (as stored where the kernel reads it, else float32). */
export function gpuVoxelBytes(dtype: string): 1 | 2 | 4 {
  if (dtype === 'uint8' || dtype === 'int8') return 1;
  if (dtype === 'int16' || dtype === 'uint16') return 2;
  return 4;
}

export interface Slab {
  /** First and one-past-last z plane (slowest spatial axis) held. */
  z0: number;
  z1: number;
  /** Buffer size: C * (z1 - z0) * H * W * bytes, rounded up to 4. */
  bytes: number;
}

export interface SlabPlan {
  /** Planes per slab (the last may hold fewer). */
  planes: number;
  slabs: Slab[];
}

const align4 = (n: number): number => Math.ceil(n / 4) * 4;

/**
 * Splits a [C, D, H, W] volume into slabs of whole z planes (all channels of a plane in the same
 * slab), each at most `maxBytes`. Throws when a single plane does not fit.
 */
export function slabPlan(shape: number[], bytesPerElement: number, maxBytes: number, forcePlanes?: number): SlabPlan {
  const [C, D, H, W] = shape.length === 4 ? shape : [1, ...shape];
  const plane = C * H * W * bytesPerElement;
  if (align4(plane) > maxBytes) throw new Error(`one z plane of the volume (${plane} bytes) exceeds the GPU buffer limit (${maxBytes} bytes)`);
  let planes = Math.max(1, Math.min(D, Math.floor(maxBytes / plane)));
  while (planes > 1 && align4(planes * plane) > maxBytes) planes--;
  if (forcePlanes !== undefined) planes = Math.max(1, Math.min(planes, forcePlanes));
  const slabs: Slab[] = [];
  for (let z0 = 0; z0 < D; z0 += planes) {
    const z1 = Math.min(D, z0 + planes);
    slabs.push({ z0, z1, bytes: align4((z1 - z0) * plane) });
  }
  return { planes, slabs };
}

/** The output grid of a run once the model's output roi is known (same arithmetic as slidingWindowInference). */
export interface OutputGeometry {
  /** Output roi as 3D. */
  outRoi: number[];
  /** Output size / roi per dim (3D). */
  zoom: number[];
  /** Padded image size on the output grid: trunc(padded * zoom). */
  outPadded: number[];
  /** Crop of the padding on the output grid: start and size per dim (3D). */
  cropLo: number[];
  cropSize: number[];
  /** True when one window covers the unpadded image (no blending: the output is the prediction). */
  single: boolean;
}

export function outputGeometry(plan: WindowPlan, outRoiSpatial: number[]): OutputGeometry {
  const { imageSize: img, paddedSize: pad, roi, padBefore, starts } = plan;
  const outRoi = [...Array(3 - outRoiSpatial.length).fill(1), ...outRoiSpatial];
  const zoom = outRoi.map((o, i) => o / roi[i]);
  const outPadded = pad.map((s, i) => Math.trunc(s * zoom[i]));
  const lo = padBefore.map((p, i) => roundHalfEven(p * zoom[i]));
  const hi = padBefore.map((p, i) => roundHalfEven((p + img[i]) * zoom[i]));
  const cropSize = lo.map((l, i) => Math.max(0, Math.min(hi[i], outPadded[i]) - l));
  const single = starts.length === 1 && padBefore.every((p) => p === 0) && pad.every((v, i) => v === img[i]);
  return { outRoi, zoom, outPadded, cropLo: lo, cropSize, single };
}

export interface WindowOrigin {
  /** Window start in image coordinates (start - padBefore; negative inside the padding). */
  image: number[];
  /** Window start on the padded output grid: trunc(start * zoom). */
  output: number[];
}

/** Image and output origins of every window, in planWindows order. */
export function windowOrigins(plan: WindowPlan, zoom: number[] = [1, 1, 1]): WindowOrigin[] {
  return plan.starts.map((s) => ({
    image: s.map((v, i) => v - plan.padBefore[i]),
    output: s.map((v, i) => Math.trunc(v * zoom[i])),
  }));
}

/** Slabs (indices) that hold any z plane a window reads, with the TTA flip along z applied. */
export function slabsForWindows(slabs: Slab[], imageZ: number[], roiZ: number, depth: number, flipZ = false): number[] {
  const need = new Set<number>();
  for (const z0 of imageZ) {
    let a = Math.max(0, z0);
    let b = Math.min(depth, z0 + roiZ);
    if (a >= b) continue;
    if (flipZ) [a, b] = [depth - b, depth - a];
    slabs.forEach((s, i) => {
      if (s.z0 < b && s.z1 > a) need.add(i);
    });
  }
  return [...need].sort((x, y) => x - y);
}

// ---------------------------------------------------------------------------------------------
// memory plan

/** The model's own footprint for a roi and batch (core/onnx/memory.ts estimateMemory gives these). */
export interface ModelFootprint {
  weightBytes: number;
  largestActivationBytes: number;
  peakActivationBytes: number;
}

export interface GpuRunRequest {
  /** [C, ...spatial] (1 to 3 spatial dims). */
  shape: number[];
  /** Bytes per stored voxel as uploaded (gpuVoxelBytes). */
  voxelBytes: number;
  roi: number[];
  overlap: number | number[];
  swBatch: number;
  /** Output channels of the model (1 when unknown). */
  outChannels: number;
  /** Output size / roi per spatial dim (e.g. 0.25 for a stride-4 heatmap); default 1. */
  zoom?: number[];
  /** Extra output-sized float buffers of a preset (motors: logits and heatmap = 2). */
  extraOutputBuffers?: number;
  /** Read back a uint8 label map (argmax over channels) instead of the float output. */
  labelsOnly?: boolean;
}

export interface GpuBufferNeed {
  name: string;
  bytes: number;
  /** Must fit one binding (maxStorageBufferBindingSize): false for buffers only copied. */
  bound: boolean;
}

export interface GpuRunPlan {
  buffers: GpuBufferNeed[];
  totalBytes: number;
  slabs: SlabPlan;
  windows: number;
  fits: boolean;
  /** What does not fit, one sentence each. */
  problems: string[];
  /** Values that fit, when the request does not (null when nothing found helps). */
  proposal: { roi: number[]; swBatch: number; slabs: number } | null;
  /** Bytes read back to the CPU at the end (what is shown or exported). */
  readbackBytes: number;
}

const prod = (a: number[]): number => a.reduce((x, y) => x * y, 1);
const mib = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;

function needs(req: GpuRunRequest, limits: GpuLimits, model?: (roi: number[], swBatch: number) => ModelFootprint): Omit<GpuRunPlan, 'proposal'> {
  const [C, ...spatial] = req.shape;
  const cap = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const plan = planWindows(spatial, { roi: req.roi, overlap: req.overlap });
  const roi = plan.roi.slice(3 - spatial.length);
  const zoom = req.zoom ?? spatial.map(() => 1);
  const outRoi = roi.map((r, i) => Math.max(1, Math.trunc(r * zoom[i])));
  const geo = outputGeometry(plan, outRoi);
  const slabs = slabPlan([C, ...plan.imageSize], req.voxelBytes, cap);
  const batch = Math.max(1, Math.trunc(req.swBatch));
  const outN = prod(geo.outPadded);
  const cropN = prod(geo.cropSize);
  const buffers: GpuBufferNeed[] = [
    ...slabs.slabs.map((s, i) => ({ name: slabs.slabs.length > 1 ? `volume slab ${i + 1}` : 'volume', bytes: s.bytes, bound: true })),
    { name: 'window batch (model input)', bytes: batch * C * prod(plan.roi) * 4, bound: true },
    { name: 'model output', bytes: batch * req.outChannels * prod(geo.outRoi) * 4, bound: true },
  ];
  if (model) {
    const m = model(roi, batch);
    buffers.push({ name: 'model weights', bytes: m.weightBytes, bound: false });
    buffers.push({ name: 'model activations (peak)', bytes: Math.max(0, m.peakActivationBytes - m.largestActivationBytes), bound: false });
    buffers.push({ name: 'largest model activation', bytes: m.largestActivationBytes, bound: true });
  }
  if (!geo.single) {
    buffers.push({ name: 'accumulator (pred x weight)', bytes: req.outChannels * outN * 4, bound: true });
    buffers.push({ name: 'weight sum', bytes: outN * 4, bound: true });
    buffers.push({ name: 'importance map', bytes: prod(geo.outRoi) * 4, bound: true });
    if (cropN !== outN) buffers.push({ name: 'cropped result', bytes: req.outChannels * cropN * 4, bound: true });
  }
  for (let i = 0; i < (req.extraOutputBuffers ?? 0); i++) buffers.push({ name: `preset buffer ${i + 1}`, bytes: cropN * 4, bound: true });
  if (req.labelsOnly) buffers.push({ name: 'label map', bytes: align4(cropN), bound: true });
  const readbackBytes = req.labelsOnly ? align4(cropN) : (req.extraOutputBuffers ? 1 : req.outChannels) * cropN * 4;
  const totalBytes = buffers.reduce((a, b) => a + b.bytes, 0);
  const problems: string[] = [];
  for (const b of buffers) {
    if (b.bound && b.bytes > cap) problems.push(`${b.name} needs ${mib(b.bytes)}, over the adapter's ${mib(cap)} buffer limit`);
  }
  if (limits.memoryBytes !== undefined && totalBytes > limits.memoryBytes) {
    problems.push(`the run needs ${mib(totalBytes)} of GPU memory in all, over the ${mib(limits.memoryBytes)} available`);
  }
  return { buffers, totalBytes, slabs, windows: plan.starts.length, fits: problems.length === 0, problems, readbackBytes };
}

/**
 * The GPU buffers of one run against the adapter's limits. When they do not fit, proposes the
 * largest sw batch (down to 1), then the largest roi (each axis shrunk by `roiStep`, largest axis
 * first) that fits; the volume always fits by its slab count. `model` gives the model's footprint
 * for a roi and batch (estimateMemory), when known.
 */
export function planGpuRun(
  req: GpuRunRequest,
  limits: GpuLimits,
  model?: (roi: number[], swBatch: number) => ModelFootprint,
  roiStep = 16,
): GpuRunPlan {
  const first = needs(req, limits, model);
  if (first.fits) return { ...first, proposal: null };
  const spatial = req.shape.slice(1);
  const fullRoi = req.roi.map((r, i) => (r <= 0 ? spatial[i] : Math.trunc(r)));
  let roi = fullRoi.slice();
  let batch = Math.max(1, Math.trunc(req.swBatch));
  for (let guard = 0; guard < 10000; guard++) {
    const n = needs({ ...req, roi, swBatch: batch }, limits, model);
    if (n.fits) return { ...first, proposal: { roi, swBatch: batch, slabs: n.slabs.slabs.length } };
    // only the accumulators (whole output) too large: no roi or batch helps
    const fixable = n.problems.some((p) => /window batch|model output|model activation|in all/.test(p));
    if (!fixable) break;
    if (batch > 1) {
      batch = Math.max(1, Math.floor(batch / 2));
      continue;
    }
    let k = -1;
    for (let i = 0; i < roi.length; i++) if (roi[i] > roiStep && (k < 0 || roi[i] > roi[k])) k = i;
    if (k < 0) break;
    const next = roi[k] % roiStep ? Math.floor(roi[k] / roiStep) * roiStep : roi[k] - roiStep;
    roi = roi.map((v, i) => (i === k ? Math.max(roiStep, next) : v));
  }
  return { ...first, proposal: null };
}

/** One line per buffer and a verdict, for logs and the settings panel. */
export function describeGpuPlan(p: GpuRunPlan): string {
  const lines = p.buffers.map((b) => `${b.name}: ${mib(b.bytes)}`);
  lines.push(`total ${mib(p.totalBytes)} in ${p.buffers.length} buffers, ${p.windows} windows, ${p.slabs.slabs.length} volume slab${p.slabs.slabs.length === 1 ? '' : 's'}, read back ${mib(p.readbackBytes)}`);
  if (p.fits) lines.push('fits the adapter');
  else {
    lines.push(...p.problems);
    lines.push(p.proposal ? `fits with roi ${p.proposal.roi.join('x')}, sw batch ${p.proposal.swBatch}` : 'no roi or batch makes it fit');
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// from a model's graph

/** Output channels and zoom per window as the model's graph tells (estimateMemory), for the plan. */
export function gpuOutputGuess(info: ModelInfo | undefined, roi: number[]): { outChannels: number; zoom?: number[] } {
  const d = info?.outputs[0]?.dims[1];
  const outChannels = typeof d === 'number' && d > 0 ? d : 1;
  if (!info?.nodes || roi.some((r) => r <= 0)) return { outChannels };
  const e = estimateMemory(info, roi, 1);
  const ratio = e.outputBytes / e.bytesPerElement / outChannels / roi.reduce((a, b) => a * b, 1);
  return ratio > 0 ? { outChannels, zoom: roi.map(() => ratio ** (1 / roi.length)) } : { outChannels };
}

/** The model's footprint for planGpuRun from estimateMemory, when the graph is known. */
export function gpuModelFootprint(info: ModelInfo | undefined): ((roi: number[], swBatch: number) => ModelFootprint) | undefined {
  if (!info?.nodes) return undefined;
  return (roi, b) => {
    const e = estimateMemory(info, roi, b);
    return { weightBytes: e.weightBytes, largestActivationBytes: e.largestActivation.bytes, peakActivationBytes: e.peakActivationBytes };
  };
}

/** What a run keeps on the GPU, by kind (bytes), for one line in the settings panel. */
export interface GpuPlanSummary {
  volumeBytes: number;
  /** Window batch and model output. */
  windowBytes: number;
  /** Accumulator, weight sum, importance map, cropped result, preset buffers, label map. */
  accumulatorBytes: number;
  /** Weights and activations (estimated from the graph). */
  modelBytes: number;
  totalBytes: number;
  slabs: number;
  windows: number;
  fits: boolean;
}

export function summarizeGpuPlan(p: GpuRunPlan): GpuPlanSummary {
  const sum = (re: RegExp): number => p.buffers.filter((b) => re.test(b.name)).reduce((a, b) => a + b.bytes, 0);
  return {
    volumeBytes: sum(/^volume/),
    windowBytes: sum(/^window batch|^model output/),
    accumulatorBytes: sum(/^accumulator|^weight sum|^importance map|^cropped result|^preset buffer|^label map/),
    modelBytes: sum(/^model weights|activation/),
    totalBytes: p.totalBytes,
    slabs: p.slabs.slabs.length,
    windows: p.windows,
    fits: p.fits,
  };
}

/** The plan in one line: resident MiB by kind, the adapter's limits, slabs or not, and the verdict. */
export function gpuPlanLine(p: GpuRunPlan, limits: GpuLimits): string {
  const s = summarizeGpuPlan(p);
  const m = (b: number): string => (b / 2 ** 20).toFixed(1);
  const parts = [`volume ${m(s.volumeBytes)}`, `windows ${m(s.windowBytes)}`, `accumulators ${m(s.accumulatorBytes)}`];
  if (s.modelBytes) parts.push(`model ≈ ${m(s.modelBytes)}`);
  const slabs = s.slabs > 1 ? `volume in ${s.slabs} slabs` : 'volume in one buffer (no slabs)';
  const verdict = p.fits ? 'fits' : p.proposal ? `does not fit: try roi ${p.proposal.roi.join('×')}, sw batch ${p.proposal.swBatch}` : 'does not fit';
  return `GPU-resident: ${parts.join(' + ')} = ${m(s.totalBytes)} MiB · adapter limits ${m(limits.maxStorageBufferBindingSize)} MiB per binding, ${m(limits.maxBufferSize)} MiB per buffer · ${slabs} · ${verdict}`;
}
