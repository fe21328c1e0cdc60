/**
 * Memory estimate of one model run (weights + activations) for a roi and sliding-window batch,
 * and the largest roi whose buffers fit a WebGPU adapter's limits.
 *
 * How: the activations' shapes are propagated node by node from the input (swBatch, C, ...roi)
 * with simple per-op rules (Conv/ConvTranspose/pools from their kernel, stride, pads and weight
 * shapes; Resize from constant scales/sizes; Concat, Split, Slice, Pad, Reshape, Transpose, ...
 * from constant attributes and inputs; everything else keeps its first input's shape, and ops
 * whose output shape could not be told are listed in `guessed`). A tensor is live from the node
 * that makes it to its last consumer; the peak of the live sum is `peakActivationBytes`.
 *
 * What it leaves out, honestly: kernel workspaces (e.g. transposed weights, matmul tiles), the
 * runtime's allocator rounding and caching (onnxruntime-web's WebGPU buffer manager rounds sizes up
 * to buckets and keeps freed buffers for reuse), copies to and from the CPU, and ORT's own memory
 * planning. So the real footprint is higher, typically within a factor of 2; the largest single
 * tensor (which must fit `maxStorageBufferBindingSize`, one buffer per tensor) is estimated well.
 */
import type { ModelInfo, NodeInfo } from './model';

export interface MemoryEstimate {
  roi: number[];
  swBatch: number;
  bytesPerElement: number;
  /** All initializers, external data included. */
  weightBytes: number;
  largestWeight: { name: string; bytes: number };
  largestActivation: { name: string; op: string; dims: number[]; bytes: number };
  /** Largest sum of activations alive at the same time (inputs and outputs included). */
  peakActivationBytes: number;
  inputBytes: number;
  outputBytes: number;
  /** weightBytes + peakActivationBytes. */
  totalBytes: number;
  /** Largest downsampling of any activation per spatial axis (roi / its size), e.g. 16 for 4 pooling levels. */
  totalStride: number[];
  /** Ops whose output shape was guessed (kept the first input's shape). */
  guessed: string[];
}

export interface MemoryOptions {
  /** Bytes per activation element (default: 2 for a float16 input, else 4). */
  bytesPerElement?: number;
  /** Input channels when the model declares them symbolically (default 1). */
  channels?: number;
}

type Shape = number[];

const ELEM_BYTES: Record<string, number> = { float16: 2, float32: 4, float64: 8, int64: 8, int32: 4 };

const list = (v: NodeInfo['attrs'][string] | undefined): number[] | null => (Array.isArray(v) && v.length && typeof v[0] === 'number' ? (v as number[]) : null);
const num = (v: NodeInfo['attrs'][string] | undefined, d: number): number => (typeof v === 'number' ? v : d);
const prod = (s: Shape): number => s.reduce((a, b) => a * b, 1);

function broadcast(shapes: (Shape | undefined)[]): Shape | undefined {
  const known = shapes.filter((s): s is Shape => !!s);
  if (!known.length) return undefined;
  const r = Math.max(...known.map((s) => s.length));
  const out: Shape = Array(r).fill(1);
  for (const s of known) for (let i = 0; i < s.length; i++) out[r - s.length + i] = Math.max(out[r - s.length + i], s[i]);
  return out;
}

/** Output spatial size of a Conv/pool along one axis. */
function windowOut(L: number, k: number, s: number, d: number, pb: number, pe: number, autoPad: string, ceil: boolean): number {
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return Math.ceil(L / s);
  const ke = (k - 1) * d + 1;
  const span = L + (autoPad === 'VALID' ? 0 : pb + pe) - ke;
  return Math.max(0, (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1);
}

interface Walk {
  shapes: Map<string, Shape>;
  guessed: Set<string>;
}

/** Propagates shapes through the graph for one input shape. */
function walk(info: ModelInfo, inputShapes: Record<string, Shape>): Walk {
  const shapes = new Map<string, Shape>();
  // values of small int/float tensors: constants from the model, and shape arithmetic on the input
  const values = new Map<string, number[]>(Object.entries(info.constants ?? {}));
  const guessed = new Set<string>();
  for (const [k, s] of Object.entries(inputShapes)) shapes.set(k, s);
  for (const t of info.initializers ?? []) shapes.set(t.name, t.dims);
  const nodes = info.nodes ?? [];
  const constVals = (name: string): number[] | undefined => values.get(name);
  for (const n of nodes) {
    const sh = (i: number) => (n.inputs[i] ? shapes.get(n.inputs[i]) : undefined);
    const x = sh(0);
    let out: (Shape | undefined)[] = [x];
    const autoPad = typeof n.attrs.auto_pad === 'string' ? n.attrs.auto_pad : 'NOTSET';
    switch (n.domain ? '' : n.op) {
      case 'Constant': {
        const v = n.attrs.value;
        out = [v && typeof v === 'object' && 'tensor' in v ? v.tensor.dims : []];
        break;
      }
      case 'Conv':
      case 'ConvTranspose':
      case 'MaxPool':
      case 'AveragePool':
      case 'LpPool': {
        if (!x) break;
        const sp = x.length - 2;
        const w = sh(1);
        const k = list(n.attrs.kernel_shape) ?? (w ? w.slice(2) : Array(sp).fill(1));
        const s = list(n.attrs.strides) ?? Array(sp).fill(1);
        const d = list(n.attrs.dilations) ?? Array(sp).fill(1);
        const p = list(n.attrs.pads) ?? Array(2 * sp).fill(0);
        const isT = n.op === 'ConvTranspose';
        const ch = n.op === 'Conv' ? (w ? w[0] : x[1]) : isT ? (w ? w[1] * num(n.attrs.group, 1) : x[1]) : x[1];
        const spatial = x.slice(2).map((L, i) => {
          if (!isT) return windowOut(L, k[i], s[i], d[i], p[i], p[i + sp], autoPad, num(n.attrs.ceil_mode, 0) === 1);
          const os = list(n.attrs.output_shape);
          if (os) return os[os.length - sp + i];
          if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return L * s[i];
          const op = list(n.attrs.output_padding)?.[i] ?? 0;
          return (L - 1) * s[i] + (k[i] - 1) * d[i] + 1 - p[i] - p[i + sp] + op;
        });
        out = [[x[0], ch, ...spatial], ...(n.outputs.length > 1 ? [[x[0], ch, ...spatial]] : [])];
        break;
      }
      case 'GlobalAveragePool':
      case 'GlobalMaxPool':
      case 'GlobalLpPool':
        if (x) out = [[x[0], x[1], ...x.slice(2).map(() => 1)]];
        break;
      case 'Resize':
      case 'Upsample': {
        if (!x) break;
        const scalesIdx = n.op === 'Upsample' || info.opset < 11 ? 1 : 2;
        const scales = constVals(n.inputs[scalesIdx]);
        const sizes = n.op === 'Resize' ? constVals(n.inputs[3]) : undefined;
        const axes = list(n.attrs.axes);
        if (sizes && sizes.length) {
          const o = x.slice();
          (axes ?? x.map((_, i) => i)).forEach((a, i) => (o[a] = sizes[i]));
          out = [o];
        } else if (scales && scales.length) {
          const o = x.slice();
          (axes ?? x.map((_, i) => i)).forEach((a, i) => (o[a] = Math.floor(x[a] * scales[i])));
          out = [o];
        } else guessed.add(n.op);
        break;
      }
      case 'Concat': {
        const ins = n.inputs.map((_, i) => sh(i));
        if (ins.every((s) => s) && ins.length) {
          const r = ins[0]!.length;
          const ax = (num(n.attrs.axis, 0) + r) % r;
          const o = ins[0]!.slice();
          o[ax] = ins.reduce((a, s) => a + s![ax], 0);
          out = [o];
          if (values.size && n.inputs.every((i) => values.has(i))) values.set(n.outputs[0], n.inputs.flatMap((i) => values.get(i)!));
        } else guessed.add(n.op);
        break;
      }
      case 'Split': {
        if (!x) break;
        const ax = (num(n.attrs.axis, 0) + x.length) % x.length;
        const split = list(n.attrs.split) ?? constVals(n.inputs[1]);
        out = n.outputs.map((_, i) => {
          const o = x.slice();
          o[ax] = split ? split[i] : Math.ceil(x[ax] / n.outputs.length);
          return o;
        });
        break;
      }
      case 'Slice': {
        if (!x) break;
        const starts = list(n.attrs.starts) ?? constVals(n.inputs[1]);
        const ends = list(n.attrs.ends) ?? constVals(n.inputs[2]);
        if (!starts || !ends) {
          guessed.add(n.op);
          break;
        }
        const axes = list(n.attrs.axes) ?? constVals(n.inputs[3]) ?? starts.map((_, i) => i);
        const steps = constVals(n.inputs[4]) ?? starts.map(() => 1);
        const o = x.slice();
        axes.forEach((a0, i) => {
          const a = (a0 + x.length) % x.length;
          const L = x[a];
          const clamp = (v: number) => Math.min(L, Math.max(0, v < 0 ? v + L : v));
          const st = clamp(starts[i]);
          const en = clamp(ends[i]);
          o[a] = Math.max(0, Math.ceil((en - st) / Math.abs(steps[i] || 1)));
        });
        out = [o];
        break;
      }
      case 'Pad': {
        if (!x) break;
        const pads = list(n.attrs.pads) ?? constVals(n.inputs[1]);
        if (pads && pads.length === 2 * x.length) out = [x.map((v, i) => v + pads[i] + pads[i + x.length])];
        else guessed.add(n.op);
        break;
      }
      case 'Reshape': {
        const t = constVals(n.inputs[1]);
        if (x && t) {
          const o = t.map((v, i) => (v === 0 ? x[i] : v));
          const known = o.filter((v) => v !== -1).reduce((a, b) => a * b, 1);
          out = [o.map((v) => (v === -1 ? Math.max(1, Math.round(prod(x) / known)) : v))];
        } else if (x) {
          out = [[prod(x)]];
          guessed.add(n.op);
        }
        break;
      }
      case 'Flatten':
        if (x) {
          const ax = num(n.attrs.axis, 1);
          out = [[prod(x.slice(0, ax)), prod(x.slice(ax))]];
        }
        break;
      case 'Transpose':
        if (x) {
          const perm = list(n.attrs.perm) ?? x.map((_, i) => x.length - 1 - i);
          out = [perm.map((p) => x[p])];
        }
        break;
      case 'Squeeze':
      case 'Unsqueeze': {
        if (!x) break;
        const axes = list(n.attrs.axes) ?? constVals(n.inputs[1]);
        if (n.op === 'Squeeze') {
          const r = x.length;
          const ax = axes ? axes.map((a) => (a + r) % r) : x.map((v, i) => (v === 1 ? i : -1));
          out = [x.filter((_, i) => !ax.includes(i))];
        } else if (axes) {
          const r = x.length + axes.length;
          const ax = axes.map((a) => (a + r) % r);
          const o: Shape = [];
          let k = 0;
          for (let i = 0; i < r; i++) o.push(ax.includes(i) ? 1 : x[k++]);
          out = [o];
        } else guessed.add(n.op);
        break;
      }
      case 'Shape':
        out = [[x ? x.length : 1]];
        if (x) {
          const st = num(n.attrs.start, 0);
          const en = typeof n.attrs.end === 'number' ? n.attrs.end : x.length;
          values.set(n.outputs[0], x.slice(st < 0 ? st + x.length : st, en < 0 ? en + x.length : en));
          out = [[values.get(n.outputs[0])!.length]];
        }
        break;
      case 'Gather': {
        const idx = sh(1);
        if (x && idx) {
          const ax = (num(n.attrs.axis, 0) + x.length) % x.length;
          out = [[...x.slice(0, ax), ...idx, ...x.slice(ax + 1)]];
          const xv = values.get(n.inputs[0]);
          const iv = constVals(n.inputs[1]);
          if (xv && iv && x.length === 1) values.set(n.outputs[0], iv.map((i) => xv[(i + xv.length) % xv.length]));
        }
        break;
      }
      case 'MatMul': {
        const w = sh(1);
        if (x && w) {
          const b = broadcast([x.slice(0, -2), w.slice(0, -2)]) ?? [];
          out = [[...b, x[x.length - 2] ?? 1, w[w.length - 1]]];
        }
        break;
      }
      case 'Gemm': {
        const w = sh(1);
        if (x && w) out = [[num(n.attrs.transA, 0) ? x[1] : x[0], num(n.attrs.transB, 0) ? w[0] : w[1]]];
        break;
      }
      case 'ReduceMean':
      case 'ReduceMax':
      case 'ReduceMin':
      case 'ReduceSum':
      case 'ReduceProd':
      case 'ReduceL1':
      case 'ReduceL2':
      case 'ReduceLogSumExp':
      case 'ReduceSumSquare':
      case 'ArgMax':
      case 'ArgMin': {
        if (!x) break;
        const r = x.length;
        const axes = (list(n.attrs.axes) ?? constVals(n.inputs[1]) ?? (typeof n.attrs.axis === 'number' ? [n.attrs.axis] : x.map((_, i) => i))).map((a) => (a + r) % r);
        const keep = num(n.attrs.keepdims, 1) === 1;
        out = [keep ? x.map((v, i) => (axes.includes(i) ? 1 : v)) : x.filter((_, i) => !axes.includes(i))];
        break;
      }
      case 'DepthToSpace':
      case 'SpaceToDepth': {
        if (!x) break;
        const b = num(n.attrs.blocksize, 1);
        out = [n.op === 'DepthToSpace' ? [x[0], x[1] / (b * b), x[2] * b, x[3] * b] : [x[0], x[1] * b * b, x[2] / b, x[3] / b]];
        break;
      }
      case 'Add':
      case 'Sub':
      case 'Mul':
      case 'Div':
      case 'Pow':
      case 'Where':
      case 'Max':
      case 'Min':
      case 'Sum':
      case 'Mean':
      case 'PRelu':
      case 'Equal':
      case 'Greater':
      case 'Less':
      case 'GreaterOrEqual':
      case 'LessOrEqual':
      case 'And':
      case 'Or':
        out = [broadcast(n.inputs.map((_, i) => sh(i)))];
        if (n.op === 'Mul' || n.op === 'Add') {
          const a = values.get(n.inputs[0]) ?? constVals(n.inputs[0]);
          const b = values.get(n.inputs[1]) ?? constVals(n.inputs[1]);
          if (a && b && (a.length === b.length || b.length === 1)) values.set(n.outputs[0], a.map((v, i) => (n.op === 'Mul' ? v * b[b.length === 1 ? 0 : i] : v + b[b.length === 1 ? 0 : i])));
        }
        break;
      default:
        if (!x) guessed.add(n.op);
    }
    n.outputs.forEach((o, i) => {
      const s = out[i] ?? out[0];
      if (s) shapes.set(o, s);
    });
  }
  return { shapes, guessed };
}

/**
 * Memory estimate for one run of `swBatch` windows of size `roi` (spatial dims). Needs the
 * per-node info of inspectModel (nodes, initializers, constants).
 */
export function estimateMemory(info: ModelInfo, roi: number[], swBatch: number, opts: MemoryOptions = {}): MemoryEstimate {
  const input = info.inputs[0];
  const bpe = opts.bytesPerElement ?? ELEM_BYTES[input?.type ?? 'float32'] ?? 4;
  const inputShapes: Record<string, Shape> = {};
  for (const i of info.inputs) {
    const c = typeof i.dims[1] === 'number' && i.dims[1] > 0 ? i.dims[1] : (opts.channels ?? 1);
    inputShapes[i.name] = [swBatch, c, ...roi];
  }
  const w = walk(info, inputShapes);
  const inits = info.initializers ?? [];
  const initNames = new Set(inits.map((t) => t.name));
  const weightBytes = inits.reduce((a, t) => a + t.bytes, 0);
  const largestWeight = inits.reduce((a, t) => (t.bytes > a.bytes ? { name: t.name, bytes: t.bytes } : a), { name: '', bytes: 0 });

  const nodes = info.nodes ?? [];
  const last = new Map<string, number>();
  nodes.forEach((n, i) => n.inputs.forEach((x) => last.set(x, i)));
  for (const o of info.outputs) last.set(o.name, nodes.length);
  const bytesOf = (name: string) => {
    const s = w.shapes.get(name);
    return s ? prod(s) * bpe : 0;
  };
  let live = 0;
  const alive = new Set<string>();
  for (const i of info.inputs) {
    alive.add(i.name);
    live += bytesOf(i.name);
  }
  let peak = live;
  let largest = { name: '', op: '', dims: [] as number[], bytes: 0 };
  for (const i of info.inputs) if (bytesOf(i.name) > largest.bytes) largest = { name: i.name, op: 'input', dims: w.shapes.get(i.name)!, bytes: bytesOf(i.name) };
  nodes.forEach((n, idx) => {
    for (const o of n.outputs) {
      if (!o || initNames.has(o) || n.op === 'Constant' || n.op === 'Shape') continue;
      const b = bytesOf(o);
      if (!alive.has(o)) {
        alive.add(o);
        live += b;
      }
      if (b > largest.bytes) largest = { name: o, op: n.op, dims: w.shapes.get(o)!, bytes: b };
    }
    peak = Math.max(peak, live);
    for (const x of [...n.inputs, ...n.outputs]) {
      if (alive.has(x) && (last.get(x) ?? -1) <= idx) {
        alive.delete(x);
        live -= bytesOf(x);
      }
    }
  });
  const inputBytes = info.inputs.reduce((a, i) => a + bytesOf(i.name), 0);
  const outputBytes = info.outputs.reduce((a, o) => a + bytesOf(o.name), 0);
  // total stride: the largest downsampling of any activation of the input's rank (dims of 1, as
  // after a global pool, do not count)
  const totalStride = roi.map(() => 1);
  for (const [name, s] of w.shapes) {
    if (initNames.has(name) || s.length !== roi.length + 2) continue;
    s.slice(2).forEach((d, i) => {
      if (d > 1 && roi[i] > d) totalStride[i] = Math.max(totalStride[i], Math.round(roi[i] / d));
    });
  }
  return {
    roi: roi.slice(),
    swBatch,
    bytesPerElement: bpe,
    weightBytes,
    largestWeight,
    largestActivation: largest,
    peakActivationBytes: peak,
    inputBytes,
    outputBytes,
    totalBytes: weightBytes + peak,
    totalStride,
    guessed: [...w.guessed],
  };
}

export interface RoiLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
}

export interface RoiSuggestion {
  /** The roi to use: the requested one when it fits, else the largest fitting one found; null when none fits. */
  roi: number[] | null;
  fits: boolean;
  /** Step the suggested roi is a multiple of, per axis: lcm(16, the model's total stride). */
  step: number[];
  requested: MemoryEstimate;
  suggested: MemoryEstimate | null;
  reason: string;
}

const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);
const lcm = (a: number, b: number): number => (a * b) / gcd(a, b);

/**
 * The largest roi (multiples of lcm(16, total stride) per axis, shrinking the largest axis first)
 * whose largest tensor fits one WebGPU buffer: min(maxStorageBufferBindingSize, maxBufferSize).
 */
export function suggestRoi(info: ModelInfo, roi: number[], swBatch: number, limits: RoiLimits, opts: MemoryOptions = {}): RoiSuggestion {
  const cap = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const requested = estimateMemory(info, roi, swBatch, opts);
  const step = requested.totalStride.map((s) => lcm(16, Math.max(1, s)));
  const fitsBuf = (e: MemoryEstimate) => e.largestActivation.bytes <= cap && e.largestWeight.bytes <= cap;
  if (requested.largestWeight.bytes > cap) {
    return { roi: null, fits: false, step, requested, suggested: null, reason: `weight '${requested.largestWeight.name}' alone is ${mb(requested.largestWeight.bytes)}, over the adapter's ${mb(cap)} buffer limit; no roi helps` };
  }
  if (fitsBuf(requested)) return { roi: roi.slice(), fits: true, step, requested, suggested: requested, reason: `the largest tensor (${mb(requested.largestActivation.bytes)}) fits the ${mb(cap)} buffer limit` };
  let r = roi.map((v, i) => Math.max(step[i], Math.floor(v / step[i]) * step[i]));
  for (;;) {
    const e = estimateMemory(info, r, swBatch, opts);
    if (fitsBuf(e)) {
      return {
        roi: r,
        fits: false,
        step,
        requested,
        suggested: e,
        reason: `roi ${roi.join('x')} needs a ${mb(requested.largestActivation.bytes)} tensor ('${requested.largestActivation.name}', ${requested.largestActivation.op}) over the adapter's ${mb(cap)} buffer limit; roi ${r.join('x')} needs ${mb(e.largestActivation.bytes)}`,
      };
    }
    // shrink the axis that is largest relative to its step
    let k = -1;
    for (let i = 0; i < r.length; i++) if (r[i] > step[i] && (k < 0 || r[i] / step[i] > r[k] / step[k])) k = i;
    if (k < 0) {
      return {
        roi: null,
        fits: false,
        step,
        requested,
        suggested: e,
        reason: `even roi ${r.join('x')} needs a ${mb(e.largestActivation.bytes)} tensor, over the adapter's ${mb(cap)} buffer limit${swBatch > 1 ? '; try a sliding-window batch of 1' : ''}`,
      };
    }
    r = r.map((v, i) => (i === k ? v - step[i] : v));
  }
}

const mb = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;

/** The peak of a whole sliding-window run, by part (bytes). */
export interface RunPeak {
  totalBytes: number;
  /** The largest single buffer the run allocates in JS (a typed array). */
  largestArrayBytes: number;
  parts: { input: number; windows: number; importance: number; model: number; accumulators: number; result: number };
}

/**
 * Memory of a sliding-window run (slidingWindowInference) over an input of `shape` ([C, ...spatial],
 * `inputBytes` per value) with windows of `roi` (spatial, no -1) in batches of `swBatch`, before
 * anything is allocated: the input, the batch of windows, the importance map (and its clamped
 * copy), the model (weights, activations and its output for a batch: estimateMemory), the output
 * accumulator over the padded image (the weights' sum is made one row at a time), and the cropped result. The output's channels
 * and resolution come from the model's walk; where it cannot be told, one channel at the input's
 * resolution.
 */
export function estimateRunPeak(info: ModelInfo | null, shape: readonly number[], roi: readonly number[], swBatch: number, inputBytes = 4): RunPeak {
  const [C, ...spatial] = shape;
  const roiN = prod([...roi]);
  const imageN = prod(spatial);
  const paddedN = prod(spatial.map((s, i) => Math.max(s, roi[i])));
  let model = 0;
  let outPerWindow = roiN; // output values per window (channels x output voxels)
  if (info) try {
    const m = estimateMemory(info, [...roi], swBatch, { channels: C });
    model = m.totalBytes + m.outputBytes;
    if (m.outputBytes > 0) outPerWindow = m.outputBytes / m.bytesPerElement / swBatch;
  } catch {
    // a graph the walk cannot follow: the sliding-window buffers alone
  }
  const perVoxel = outPerWindow / roiN; // output channels x zoom
  const parts = {
    input: C * imageN * inputBytes,
    windows: swBatch * C * roiN * 4,
    importance: 2 * roiN * 4,
    model,
    accumulators: perVoxel * paddedN * 4,
    result: perVoxel * imageN * 4,
  };
  const largestArrayBytes = Math.max(parts.windows, parts.importance / 2, perVoxel * paddedN * 4, parts.result);
  return { totalBytes: Object.values(parts).reduce((a, b) => a + b, 0), largestArrayBytes, parts };
}

/**
 * The models of a preset's run, for its memory estimate: every model's weights (all sessions stay
 * open through a batch) and the largest one call's activations and output (models run one after
 * another), for calls of `batch` inputs of `channels` x `spatial`. A graph the walk cannot follow
 * counts its weights only.
 */
export function modelsPeak(infos: readonly ModelInfo[], spatial: readonly number[], batch: number, channels = 1): { weights: number; call: number } {
  let weights = 0;
  let call = 0;
  for (const info of infos) {
    try {
      const m = estimateMemory(info, [...spatial], batch, { channels });
      weights += m.weightBytes;
      call = Math.max(call, m.peakActivationBytes + m.outputBytes);
    } catch {
      weights += (info.initializers ?? []).reduce((a, t) => a + t.bytes, 0) || info.weightBytes;
    }
  }
  return { weights, call };
}
