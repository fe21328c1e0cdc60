/** Backend, Run / Cancel, progress of decoding and of the run with ETA, and what the results ran on. */
import type { BackendChoice } from '../../worker/protocol';
import { fmtClock } from '../format';
import { Panel } from '../Panel';
import { useStore } from '../store';
import { batchFraction, cancelSpine, runSpine, setBackend } from './actions';
import { runKey, runnable, useSpine } from './state';

export function SpineRunPanel() {
  const batch = useSpine((s) => s.batch);
  const loading = useSpine((s) => s.loading);
  const series = useSpine((s) => s.series);
  const backend = useSpine((s) => s.backend);
  const hasSeg = useSpine((s) => s.models.some((m) => m.stage === 'seg'));
  const hasCls = useSpine((s) => s.models.some((m) => m.stage === 'cls'));
  const busy = useSpine((s) => s.busy !== null);
  const key = useSpine(runKey);
  const order = useSpine((s) => s.params.order);
  const rt = useStore((s) => s.runtime);
  const running = batch.status === 'running';
  const queued = Math.max(0, series.filter((t) => t.status === 'loading').length - 1);
  const list = runnable(series);
  const stale = list.filter((t) => t.status !== 'done' || t.result?.key !== key || t.order !== order).length;
  const ready = hasSeg && (list.length > 0 || series.some((t) => t.status === 'loading')) && !busy;
  const frac = batchFraction(batch.keys, series);
  const nDone = batch.keys.filter((k) => series.find((t) => t.key === k)?.status === 'done').length;
  const done = series.filter((t) => t.status === 'done' && t.result);
  const backends = [...new Set(done.map((t) => t.result!.backend))];
  const reason = done[0]?.result?.backendReason;
  const n = stale || list.length;
  const label = running ? 'Running…' : list.length > 0 && stale === 0 ? `Run again (${list.length})` : `Run ${n > 0 ? n : ''} series`.replace('  ', ' ');
  return (
    <Panel title="Run" testId="spine-run-panel" extra={batch.status !== 'idle' ? <span className={`badge status-${batch.status}`} data-testid="spine-batch-status">{batch.status}</span> : undefined}>
      <label className="field">
        <span>Backend</span>
        <select value={backend} onChange={(e) => setBackend(e.target.value as BackendChoice)} disabled={running} data-testid="spine-backend">
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
        <button className="primary grow" onClick={() => void runSpine()} disabled={running || !ready} data-testid="spine-run" title="Run the chosen series (Ctrl/Cmd+Enter)">
          {label} <kbd>Ctrl+Enter</kbd>
        </button>
        <button onClick={cancelSpine} disabled={!(running || loading) || batch.cancelRequested} data-testid="spine-cancel" title="Cancel decoding or the run (Esc)">
          {batch.cancelRequested ? 'Stopping…' : 'Cancel'} <kbd>Esc</kbd>
        </button>
      </div>
      {!ready && !running && (
        <div className="muted small">{!hasSeg ? 'Add a segmentation model (.onnx) to run.' : list.length === 0 ? 'Add a CT series to run.' : 'Loading…'}</div>
      )}
      {hasSeg && !hasCls && <div className="muted small">No fracture model: masks and volumes only (no submission.csv).</div>}
      {loading && (
        <div className="progress-block" data-testid="spine-loading">
          <div className="progress running" role="progressbar" aria-valuemin={0} aria-valuemax={1} aria-valuenow={loading.total ? loading.done / loading.total : 0}>
            <div className="progress-fill" style={{ width: `${(100 * (loading.total ? loading.done / loading.total : 0)).toFixed(1)}%` }} />
          </div>
          <div className="progress-text">
            <span data-testid="spine-loading-text">
              {loading.what} · {loading.done}/{loading.total}
              {queued > 0 ? ` · ${queued} more queued` : ''}
            </span>
          </div>
        </div>
      )}
      {batch.keys.length > 0 && (
        <div className="progress-block" data-testid="spine-progress">
          <div className={`progress ${batch.status}`} role="progressbar" aria-valuemin={0} aria-valuemax={1} aria-valuenow={frac}>
            <div className="progress-fill" style={{ width: `${(100 * frac).toFixed(1)}%` }} />
          </div>
          <div className="progress-text">
            <span data-testid="spine-progress-text">
              {nDone} / {batch.keys.length} series
            </span>
            <span className="muted">
              {fmtClock(batch.elapsedMs)} elapsed{running && frac > 0 ? ` · ETA ${fmtClock(batch.etaMs)}` : ''}
            </span>
          </div>
        </div>
      )}
      {backends.length > 0 && (
        <div className="backend-line">
          {backends.map((b) => (
            <span key={b} className={`badge backend-${b}`} data-testid="spine-backend-used">
              {b === 'webgpu' ? 'WebGPU' : 'WASM'}
            </span>
          ))}
          <span className="small muted">{reason}</span>
        </div>
      )}
    </Panel>
  );
}
