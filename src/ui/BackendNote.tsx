/**
 * Under a Backend select: what "auto" does on this browser's WebGPU adapter before anything runs.
 * On a software adapter (SwiftShader, llvmpipe…; src/worker/backendChoice.ts) auto runs on WASM,
 * and WebGPU stays one click away.
 */
import type { BackendChoice } from '../worker/protocol';
import { useStore } from './store';

export function BackendNote({ value, onChange, disabled, testId }: { value: BackendChoice; onChange: (b: BackendChoice) => void; disabled: boolean; testId: string }) {
  const gpu = useStore((s) => s.runtime?.webgpu);
  if (!gpu?.available || !gpu.software || value === 'wasm') return null;
  const what = `the WebGPU adapter (${gpu.adapter ?? 'unknown'}) is a software one: ${gpu.software}`;
  return (
    <div className="small muted backend-note" data-testid={testId} data-choice={value}>
      {value === 'auto' ? (
        <>
          Auto runs on WASM: {what}, 50-100x slower than WASM.{' '}
          <button className="link" onClick={() => onChange('webgpu')} disabled={disabled} data-testid={`${testId}-webgpu`}>
            Use WebGPU anyway
          </button>
        </>
      ) : (
        <>WebGPU as chosen: {what}; expect runs 50-100x slower than on WASM.</>
      )}
    </div>
  );
}
