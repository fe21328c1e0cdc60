/**
 * A sliding-window predictor over an onnxruntime session. Typed with onnxruntime-common,
 * which onnxruntime-web (worker) and onnxruntime-node (CLI) both implement.
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

/** Feeds each batch as `inputName` and returns `outputName` as float32. */
export function sessionPredictor(
  session: InferenceSession,
  makeTensor: TensorFactory,
  inputName: string,
  outputName: string,
): Predictor {
  return async (batch, shape) => {
    const out = await session.run({ [inputName]: makeTensor(batch, shape) }, [outputName]);
    const t = out[outputName];
    return { data: tensorToFloat32(t), shape: [...t.dims] };
  };
}

/** All of a model's outputs for one input batch, by output name (float32). */
export type OutputsPredictor = (batch: Float32Array, shape: number[]) => Promise<Record<string, { data: Float32Array; shape: number[] }>>;

/** Feeds each batch as `inputName` and returns every output (e.g. a classifier's logits and class maps). */
export function sessionOutputsPredictor(session: InferenceSession, makeTensor: TensorFactory, inputName: string): OutputsPredictor {
  return async (batch, shape) => {
    const out = await session.run({ [inputName]: makeTensor(batch, shape) });
    const res: Record<string, { data: Float32Array; shape: number[] }> = {};
    for (const [name, t] of Object.entries(out)) res[name] = { data: tensorToFloat32(t), shape: [...t.dims] };
    return res;
  };
}
