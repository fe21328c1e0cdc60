/**
 * Numeric check of a converted model against its original: both run on the same seeded random
 * input through a caller-supplied runner (onnxruntime-node in the CLI, onnxruntime-web on WASM in
 * the page), outputs compared by name.
 *
 * maxRelDiff is the largest absolute difference divided by the largest absolute value of the
 * original's output (per output, then the worst output): a scale-free measure that does not blow
 * up where outputs cross zero, unlike an element-wise relative error.
 */
import { inspectModel, type Dim } from './model';

export interface RunFeed {
  /** Element type name as in TensorInfo.type ('float32', 'int64', ...); data is float32 for float types. */
  type: string;
  data: Float32Array | Int32Array | BigInt64Array | Uint8Array;
  dims: number[];
}

export interface RunOutput {
  data: ArrayLike<number>;
  dims: readonly number[];
}

/**
 * Runs a model (bytes) on named inputs and returns its named outputs. `probe`: a run that may
 * fail (trying a size the model may not take); the runner need not log its failure.
 */
export type ModelRunner = (model: Uint8Array, feeds: Record<string, RunFeed>, opts?: { probe?: boolean }) => Promise<Record<string, RunOutput>>;

export interface CheckOptions {
  /** Largest accepted maxRelDiff (default 1e-4). */
  tolerance?: number;
  /** Input shapes by input name; default: declared dims, symbolic batch 1, other symbolic dims `size`. */
  shapes?: Record<string, number[]>;
  /** Size of symbolic non-batch dims (default 16). */
  size?: number;
  seed?: number;
}

export interface OutputDiff {
  name: string;
  dims: number[];
  maxAbsDiff: number;
  maxRelDiff: number;
  meanAbsDiff: number;
  /** Largest |value| of the original's output. */
  refMaxAbs: number;
}

export interface CheckResult {
  ok: boolean;
  maxAbsDiff: number;
  maxRelDiff: number;
  meanAbsDiff: number;
  tolerance: number;
  inputShapes: Record<string, number[]>;
  outputs: OutputDiff[];
  /** Why ok is false (shape or name mismatch, above tolerance). */
  reason?: string;
}

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function defaultShape(dims: Dim[], size = 16): number[] {
  return dims.map((d, i) => (typeof d === 'number' && d > 0 ? d : i === 0 ? 1 : size));
}

/** Seeded random feeds for a model's inputs: floats uniform in [-1, 1), integers 0 or 1. */
export function randomFeeds(model: Uint8Array, opts: CheckOptions = {}): Record<string, RunFeed> {
  const info = inspectModel(model);
  const rnd = seededRandom(opts.seed ?? 1234);
  const feeds: Record<string, RunFeed> = {};
  for (const i of info.inputs) {
    const dims = opts.shapes?.[i.name] ?? defaultShape(i.dims, opts.size);
    const n = dims.reduce((a, b) => a * b, 1);
    if (i.type === 'float32' || i.type === 'float16' || i.type === 'float64' || i.type === '?') {
      const d = new Float32Array(n);
      for (let k = 0; k < n; k++) d[k] = 2 * rnd() - 1;
      feeds[i.name] = { type: i.type === '?' ? 'float32' : i.type, data: d, dims };
    } else if (i.type === 'int64') {
      const d = new BigInt64Array(n);
      for (let k = 0; k < n; k++) d[k] = BigInt(rnd() < 0.5 ? 0 : 1);
      feeds[i.name] = { type: i.type, data: d, dims };
    } else if (i.type === 'bool' || i.type === 'uint8') {
      const d = new Uint8Array(n);
      for (let k = 0; k < n; k++) d[k] = rnd() < 0.5 ? 0 : 1;
      feeds[i.name] = { type: i.type, data: d, dims };
    } else {
      const d = new Int32Array(n);
      for (let k = 0; k < n; k++) d[k] = rnd() < 0.5 ? 0 : 1;
      feeds[i.name] = { type: i.type, data: d, dims };
    }
  }
  return feeds;
}

export function compareOutputs(ref: Record<string, RunOutput>, got: Record<string, RunOutput>, tolerance: number): Omit<CheckResult, 'inputShapes'> {
  const outputs: OutputDiff[] = [];
  let reason: string | undefined;
  for (const [name, r] of Object.entries(ref)) {
    const g = got[name];
    if (!g) {
      reason ??= `the converted model has no output '${name}'`;
      continue;
    }
    if (r.dims.length !== g.dims.length || r.dims.some((d, i) => d !== g.dims[i])) {
      reason ??= `output '${name}' is [${g.dims.join(', ')}] instead of [${r.dims.join(', ')}]`;
      continue;
    }
    let maxAbs = 0;
    let sum = 0;
    let refMax = 0;
    for (let k = 0; k < r.data.length; k++) {
      const a = Number(r.data[k]);
      const b = Number(g.data[k]);
      const d = Number.isNaN(a) && Number.isNaN(b) ? 0 : Math.abs(a - b);
      const dd = Number.isNaN(d) ? Infinity : d;
      if (dd > maxAbs) maxAbs = dd;
      sum += dd;
      if (Math.abs(a) > refMax) refMax = Math.abs(a);
    }
    outputs.push({ name, dims: [...r.dims], maxAbsDiff: maxAbs, maxRelDiff: maxAbs / Math.max(refMax, 1e-30), meanAbsDiff: sum / Math.max(1, r.data.length), refMaxAbs: refMax });
  }
  const maxAbsDiff = Math.max(0, ...outputs.map((o) => o.maxAbsDiff));
  const maxRelDiff = Math.max(0, ...outputs.map((o) => o.maxRelDiff));
  const meanAbsDiff = outputs.length ? Math.max(...outputs.map((o) => o.meanAbsDiff)) : 0;
  if (!reason && !(maxRelDiff <= tolerance)) reason = `max relative difference ${maxRelDiff.toExponential(2)} is above the tolerance ${tolerance.toExponential(0)}`;
  return { ok: !reason, maxAbsDiff, maxRelDiff, meanAbsDiff, tolerance, outputs, ...(reason ? { reason } : {}) };
}

/**
 * Runs `original` and `rewritten` on the same seeded random input with `runner` and compares
 * their outputs: ok when every output of the original is there with the same shape and
 * maxRelDiff <= tolerance.
 */
export async function checkRewrite(original: Uint8Array, rewritten: Uint8Array, runner: ModelRunner, opts: CheckOptions = {}): Promise<CheckResult> {
  const tolerance = opts.tolerance ?? 1e-4;
  const feeds = randomFeeds(original, opts);
  const ref = await runner(original, feeds);
  const got = await runner(rewritten, feeds);
  const inputShapes = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, v.dims]));
  return { ...compareOutputs(ref, got, tolerance), inputShapes };
}
