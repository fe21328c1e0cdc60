import type { ModelInfo } from '../core/onnx/model';
import { disableFloat16, enableFloat16, FLOAT16_TOLERANCE, isFloat16Model, useFloat16 } from './float16';
import { useStore } from './store';

/**
 * The float16 switch of the model inspector, its check against float32 and what the adapter can
 * do with it. Without 'shader-f16' the switch stays usable (the conversion and its check are
 * useful before moving to a GPU that has it), with a note that the float16 model runs on WASM
 * here: onnxruntime-web's WebGPU backend would return zeros for it without an error.
 */
export function Float16Toggle({ info }: { info: ModelInfo }) {
  const runtime = useStore((s) => s.runtime);
  const busy = useStore((s) => s.busy);
  const running = useStore((s) => s.runState.status === 'running');
  const { check, original } = useFloat16();
  const active = original !== null;
  const alreadyHalf = !active && isFloat16Model(info);
  const gpu = runtime?.webgpu;
  const note = !gpu
    ? ''
    : !gpu.available
      ? `no WebGPU here (${gpu.reason ?? 'unavailable'}): a float16 model runs on WASM, where it is not faster; the switch is for checking the conversion`
      : gpu.shaderF16
        ? `this adapter (${gpu.adapter}) has shader-f16: the float16 model runs on WebGPU`
        : `this adapter (${gpu.adapter}) has no shader-f16: WebGPU would return zeros for a float16 model, so it runs on WASM here (for checking the conversion only, not faster)`;
  return (
    <div className="float16" data-testid="float16">
      <label className="row small" title={`Convert the weights to float16 (half the memory and bandwidth on GPUs with 'shader-f16'), check against float32 on WASM, load when the relative difference is at most ${FLOAT16_TOLERANCE}`}>
        <input
          type="checkbox"
          data-testid="float16-toggle"
          checked={active || alreadyHalf || check?.status === 'checking'}
          disabled={alreadyHalf || busy !== null || running || check?.status === 'checking'}
          onChange={(e) => void (e.target.checked ? enableFloat16() : disableFloat16())}
        />
        float16 (WebGPU shader-f16)
      </label>
      {alreadyHalf && <div className="small muted">the model is float16 already</div>}
      {note && !alreadyHalf && (
        <div className="small muted" data-testid="float16-note" data-shader-f16={String(gpu?.shaderF16 ?? false)}>
          {note}
        </div>
      )}
      {check && (
        <div
          className="small"
          data-testid="float16-check"
          data-status={check.status}
          data-tolerance={FLOAT16_TOLERANCE}
          data-max-rel={'result' in check ? check.result.maxRelDiff : undefined}
          data-max-abs={'result' in check ? check.result.maxAbsDiff : undefined}
        >
          {check.status === 'checking' && 'Converting to float16 and checking it against float32 on WASM…'}
          {check.status === 'error' && <span className="warn">float16 conversion failed: {check.error}</span>}
          {(check.status === 'ok' || check.status === 'refused') && (
            <span className={check.status === 'ok' ? '' : 'warn'}>
              {check.status === 'ok' ? `float16: ${check.initializers} weight tensors converted; check passed` : 'float16 check failed, not loaded'}: max abs difference{' '}
              <span className="mono">{check.result.maxAbsDiff.toExponential(2)}</span>, max rel <span className="mono">{check.result.maxRelDiff.toExponential(2)}</span>{' '}
              (tolerance {FLOAT16_TOLERANCE.toExponential(0)} of the largest |output|, random input{' '}
              {Object.values(check.result.inputShapes)
                .map((d) => `[${d.join(', ')}]`)
                .join(', ')}
              , WASM; largest weight rounding {check.maxWeightRelError.toExponential(1)}
              {check.overflow ? `; ${check.overflow} weights overflowed to ±inf` : ''}){check.result.reason ? ` — ${check.result.reason}` : ''}
            </span>
          )}
        </div>
      )}
    </div>
  );
}
