/** Backend, Run / Cancel, overall progress with ETA, and what the last results ran on. */
import type { BackendChoice } from '../../worker/protocol';
import { fmtClock } from '../format';
import { Panel } from '../Panel';
import { useStore } from '../store';
import { batchFraction, cancelMotors, runMotors, setBackend } from './actions';
import { runKey, useMotors } from './state';

export function MotorsRunPanel() {
  const batch = useMotors((s) => s.batch);
  const tomograms = useMotors((s) => s.tomograms);
  const backend = useMotors((s) => s.backend);
  const nModels = useMotors((s) => s.models.length);
  const busy = useMotors((s) => s.busy !== null);
  const key = useMotors(runKey);
  const rt = useStore((s) => s.runtime);
  const running = batch.status === 'running';
  const runnable = tomograms.filter((t) => !t.loadFailed);
  const stale = runnable.filter((t) => t.status !== 'done' || t.result?.key !== key).length;
  const ready = nModels > 0 && runnable.length > 0 && !busy;
  const frac = batchFraction(batch.ids, tomograms);
  const nDone = batch.ids.filter((id) => tomograms.find((t) => t.id === id)?.status === 'done').length;
  const backends = [...new Set(tomograms.filter((t) => t.status === 'done' && t.result).map((t) => t.result!.backend))];
  const reason = tomograms.find((t) => t.status === 'done' && t.result)?.result?.backendReason;
  const label = running
    ? 'Running…'
    : runnable.length === 0
      ? 'Run'
      : stale === 0
      ? `Run again (${runnable.length})`
      : `Run ${stale || runnable.length} tomogram${(stale || runnable.length) === 1 ? '' : 's'}`;
  return (
    <Panel title="Run" testId="motor-run-panel" extra={batch.status !== 'idle' ? <span className={`badge status-${batch.status}`} data-testid="motor-batch-status">{batch.status}</span> : undefined}>
      <label className="field">
        <span>Backend</span>
        <select value={backend} onChange={(e) => setBackend(e.target.value as BackendChoice)} disabled={running} data-testid="motor-backend">
          <option value="auto" title="WebGPU when the browser has it, else WASM">
            Auto
          </option>
          <option value="webgpu" disabled={rt ? !rt.webgpu.available : false}>
            WebGPU
          </option>
          <option value="wasm">WASM (CPU{rt ? `, ${rt.threads} thread${rt.threads === 1 ? '' : 's'}` : ''})</option>
        </select>
      </label>
      <div className="row run-row">
        <button className="primary grow" onClick={() => void runMotors()} disabled={running || !ready} data-testid="motor-run" title="Run the models on the tomograms whose results are missing or out of date">
          {label}
        </button>
        <button onClick={cancelMotors} disabled={!running || batch.cancelRequested} data-testid="motor-cancel" title="Cancel (Esc)">
          {batch.cancelRequested ? 'Stopping…' : 'Cancel'} <kbd>Esc</kbd>
        </button>
      </div>
      {!ready && !running && (
        <div className="muted small">{nModels === 0 ? 'Add a model (.onnx) to run.' : runnable.length === 0 ? 'Add tomograms to run.' : 'Loading…'}</div>
      )}
      {batch.ids.length > 0 && (
        <div className="progress-block" data-testid="motor-progress">
          <div className={`progress ${batch.status}`} role="progressbar" aria-valuemin={0} aria-valuemax={1} aria-valuenow={frac}>
            <div className="progress-fill" style={{ width: `${(100 * frac).toFixed(1)}%` }} />
          </div>
          <div className="progress-text">
            <span data-testid="motor-progress-text">
              {nDone} / {batch.ids.length} tomograms
            </span>
            <span className="muted" data-testid="motor-eta">
              {fmtClock(batch.elapsedMs)} elapsed{running && frac > 0 ? ` · ETA ${fmtClock(batch.etaMs)}` : ''}
            </span>
          </div>
        </div>
      )}
      {backends.length > 0 && (
        <div className="backend-line">
          {backends.map((b) => (
            <span key={b} className={`badge backend-${b}`} data-testid="motor-backend-used">
              {b === 'webgpu' ? 'WebGPU' : 'WASM'}
            </span>
          ))}
          <span className="small muted">{reason}</span>
        </div>
      )}
    </Panel>
  );
}
