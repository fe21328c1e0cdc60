/**
 * A sliding-window predictor over an onnxruntime session. Typed with onnxruntime-common,
 * which onnxruntime-web (worker) and onnxruntime-node (CLI) both implement.
 *
 * Both predictors respect a fixed batch dim the model declares (its input's first dim a number):
 * a batch of another size is fed in calls of exactly that size, the last one padded with zeros,
 * and the outputs' rows put back together (a model whose outputs do not keep the batch axis cannot
 * be split that way: that is an error naming it). An error of onnxruntime names the model, the
 * input and its declared dims, and the shape that was fed.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import type { Predictor } from './slidingWindow';

type OrtTensorLike = Pick<Tensor, 'type' | 'data' | 'dims'>;
export type TensorFactory = (data: Float32Array, dims: readonly number[]) => Tensor;

export function tensorToFloat32(t: OrtTensorLike): Float32Array {
  if (t.type === 'float32') return t.data as Float32Array;
  if (['float16', 'float64', 'int32', 'int8', 'uint8', 'int16', 'uint16'].includes(t.type)) {
    return Float32Array.from(t.data as ArrayLike<number>);
  }
  throw new Error(`the model's output has type ${t.type}; expected a numeric tensor`);
}

/** What the predictors know of the model beyond its session. */
export interface PredictorOptions {
  /** The model's name, for messages ('byu.onnx'). */
  model?: string;
  /** The input's declared dims (numbers fixed, strings symbolic): messages, and the fixed batch (dims[0]). */
  dims?: readonly (number | string)[];
}

/** The batch size a model fixes (its input's first dim, when a positive number), or null. */
export function fixedBatchOf(dims: readonly (number | string)[] | undefined): number | null {
  const b = dims?.[0];
  return typeof b === 'number' && b > 0 ? b : null;
}

type Out = { data: Float32Array; shape: number[] };

/** One session.run with onnxruntime's error turned into a line naming the model, the input and what was fed. */
async function runOnce(session: InferenceSession, makeTensor: TensorFactory, inputName: string, batch: Float32Array, shape: readonly number[], fetches: string[] | undefined, opts: PredictorOptions): Promise<Record<string, Out>> {
  let out: InferenceSession.OnnxValueMapType;
  try {
    const feeds = { [inputName]: makeTensor(batch, shape) };
    out = fetches ? await session.run(feeds, fetches) : await session.run(feeds);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const declared = opts.dims ? ` (declared [${opts.dims.join(', ')}])` : '';
    throw new Error(`${opts.model ?? 'the model'}: onnxruntime failed on input '${inputName}'${declared} fed [${shape.join(', ')}]: ${msg}`, { cause: e });
  }
  const res: Record<string, Out> = {};
  for (const [name, t] of Object.entries(out)) res[name] = { data: tensorToFloat32(t as Tensor), shape: [...(t as Tensor).dims] };
  return res;
}

/**
 * Every output for a batch: one call, or calls of the model's fixed batch size (the last one
 * padded with zeros) whose output rows are put back together.
 */
async function runBatched(session: InferenceSession, makeTensor: TensorFactory, inputName: string, batch: Float32Array, shape: number[], fetches: string[] | undefined, opts: PredictorOptions): Promise<Record<string, Out>> {
  const fixed = fixedBatchOf(opts.dims);
  const n = shape[0];
  if (fixed === null || n === fixed || shape.length === 0) return runOnce(session, makeTensor, inputName, batch, shape, fetches, opts);
  const item = n > 0 ? batch.length / n : 0;
  const parts: Record<string, Out>[] = [];
  const counts: number[] = [];
  for (let b0 = 0; b0 < n; b0 += fixed) {
    const k = Math.min(fixed, n - b0);
    const chunk = new Float32Array(fixed * item);
    chunk.set(batch.subarray(b0 * item, (b0 + k) * item));
    const out = await runOnce(session, makeTensor, inputName, chunk, [fixed, ...shape.slice(1)], fetches, opts);
    for (const [name, o] of Object.entries(out)) {
      if (o.shape[0] !== fixed) {
        throw new Error(
          `${opts.model ?? 'the model'} fixes its batch at ${fixed} (input '${inputName}' [${(opts.dims ?? []).join(', ')}]) but its output '${name}' is [${o.shape.join(', ')}], ` +
            `not one row per item: a batch of ${n} cannot be fed as calls of ${fixed}`,
        );
      }
    }
    parts.push(out);
    counts.push(k);
  }
  const res: Record<string, Out> = {};
  for (const name of Object.keys(parts[0])) {
    const rest = parts[0][name].shape.slice(1);
    const row = rest.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n * row);
    let at = 0;
    parts.forEach((p, i) => {
      data.set(p[name].data.subarray(0, counts[i] * row), at);
      at += counts[i] * row;
    });
    res[name] = { data, shape: [n, ...rest] };
  }
  return res;
}

/** Feeds each batch as `inputName` and returns `outputName` as float32. */
export function sessionPredictor(session: InferenceSession, makeTensor: TensorFactory, inputName: string, outputName: string, opts: PredictorOptions = {}): Predictor {
  return async (batch, shape) => {
    const out = await runBatched(session, makeTensor, inputName, batch, shape, [outputName], opts);
    return out[outputName];
  };
}

/** All of a model's outputs for one input batch, by output name (float32). */
export type OutputsPredictor = (batch: Float32Array, shape: number[]) => Promise<Record<string, { data: Float32Array; shape: number[] }>>;

/** Feeds each batch as `inputName` and returns every output (e.g. a classifier's logits and class maps). */
export function sessionOutputsPredictor(session: InferenceSession, makeTensor: TensorFactory, inputName: string, opts: PredictorOptions = {}): OutputsPredictor {
  return (batch, shape) => runBatched(session, makeTensor, inputName, batch, shape, undefined, opts);
}
