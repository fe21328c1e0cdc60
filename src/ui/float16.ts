/**
 * "float16 (WebGPU shader-f16)" in the model panel: converts the loaded model with the core
 * conversion (toFloat16, float32 inputs and outputs kept), runs the float16 and the float32 model
 * on the same seeded random input on WASM in the worker (checkRewrite), shows the difference and
 * the tolerance, and loads the float16 model only when it is within the tolerance. Switching it
 * off loads the float32 model again.
 */
import { create } from 'zustand';
import type { CheckResult } from '../core/onnx/check';
import { toFloat16 } from '../core/onnx/float16';
import type { ModelInfo } from '../core/onnx/model';
import { getClient, loadModelBytes, sameFile, selfContained } from './actions';
import { useStore, type ModelState } from './store';

/** Tolerance of the float16 check (max abs difference / max |float32 output|), as `convert --float16`. */
export const FLOAT16_TOLERANCE = 1e-2;

export type Float16Check =
  | { status: 'checking' }
  | { status: 'ok' | 'refused'; result: CheckResult; initializers: number; overflow: number; maxWeightRelError: number }
  | { status: 'error'; error: string };

interface Float16State {
  check: Float16Check | null;
  /** The float32 model while its float16 version is loaded. */
  original: ModelState | null;
  /** Worker id of the loaded float16 model. */
  halfId: string | null;
  /** A switch between the two models is going (its model changes are not "another model"). */
  switching: boolean;
}

export const useFloat16 = create<Float16State>()(() => ({ check: null, original: null, halfId: null, switching: false }));

/** Whether the model's weights or inputs are float16 already. */
export const isFloat16Model = (info: ModelInfo): boolean =>
  (info.initializers ?? []).some((t) => t.dataType === 10) || info.inputs.some((i) => i.type === 'float16');

// another model loaded (dropped, demo, rewrite): the float16 state belongs to the old one
useStore.subscribe((s, prev) => {
  if (useFloat16.getState().switching || s.model === prev.model) return;
  const { halfId, check, original } = useFloat16.getState();
  if (s.model && s.model.loaded.id === halfId) return;
  if (check || original || halfId) useFloat16.setState({ check: null, original: null, halfId: null });
});

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Converts the current model to float16, checks it against float32 on WASM, and loads it when within the tolerance. */
export async function enableFloat16(): Promise<void> {
  const st = useStore.getState();
  const m = st.model;
  if (!m || useFloat16.getState().halfId || useFloat16.getState().check?.status === 'checking') return;
  const { addMessage } = st;
  useFloat16.setState({ check: { status: 'checking' } });
  useStore.setState({ busy: `Converting ${m.fileName} to float16…` });
  useFloat16.setState({ switching: true });
  try {
    const full = selfContained(m);
    const conv = toFloat16(full);
    const result = await getClient().api.compareModels(full.slice(), conv.bytes.slice(), { tolerance: FLOAT16_TOLERANCE });
    if (useStore.getState().model !== m) return;
    const stats = { initializers: conv.initializers, overflow: conv.overflow, maxWeightRelError: conv.maxWeightRelError };
    if (!result.ok) {
      useFloat16.setState({ check: { status: 'refused', result, ...stats } });
      addMessage('error', `The float16 model was not loaded: ${result.reason ?? 'outputs differ'}.`, { key: 'open-model' });
      return;
    }
    const name = m.fileName.replace(/\.onnx$/i, '') + '.f16.onnx';
    const ok = await loadModelBytes(conv.bytes, name, { relaxDims: m.loaded.relaxed, labelNames: useStore.getState().labelNames, keepRoi: true, keepCheck: true, quiet: true });
    if (!ok) {
      useFloat16.setState({ check: { status: 'error', error: 'onnxruntime could not load the float16 model' } });
      return;
    }
    useFloat16.setState({ check: { status: 'ok', result, ...stats }, original: m, halfId: useStore.getState().model?.loaded.id ?? null });
    const gpu = useStore.getState().runtime?.webgpu;
    addMessage(
      'info',
      `Converted ${m.fileName} to float16 (${conv.initializers} weight tensors${conv.overflow ? `, ${conv.overflow} weights beyond ±65504 became infinite` : ''}); checked against float32 on WASM: max abs difference ${result.maxAbsDiff.toExponential(2)}, max rel ${result.maxRelDiff.toExponential(2)} (tolerance ${FLOAT16_TOLERANCE.toExponential(0)}).` +
        (gpu?.shaderF16 ? '' : " This adapter has no 'shader-f16': the float16 model runs on WASM here."),
    );
  } catch (e) {
    useFloat16.setState({ check: { status: 'error', error: errorText(e) } });
    addMessage('error', `Could not convert ${m.fileName} to float16: ${errorText(e)}`, { key: 'open-model' });
  } finally {
    useFloat16.setState({ switching: false });
    useStore.setState({ busy: null });
  }
}

/** Loads the float32 model again. */
export async function disableFloat16(): Promise<void> {
  const { original } = useFloat16.getState();
  if (!original) {
    useFloat16.setState({ check: null });
    return;
  }
  useFloat16.setState({ switching: true });
  try {
    const ok = await loadModelBytes(original.bytes, original.fileName, {
      ...sameFile(original),
      relaxDims: original.loaded.relaxed,
      labelNames: useStore.getState().labelNames,
      keepRoi: true,
      keepCheck: true,
      quiet: true,
    });
    if (ok) {
      useFloat16.setState({ check: null, original: null, halfId: null });
      useStore.getState().addMessage('info', `Back to the float32 model ${original.fileName}.`);
    }
  } finally {
    useFloat16.setState({ switching: false });
  }
}
