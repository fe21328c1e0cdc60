/** Backend, Run / Cancel, progress of decoding and of the run with ETA, and what the results ran on. */
import { fmtClock } from '../format';
import { Panel } from '../Panel';
import { BackendField, BackendsUsed, BatchBadge, ProgressBar } from '../common';
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
    <Panel title="Run" testId="spine-run-panel" extra={<BatchBadge status={batch.status} testId="spine-batch-status" />}>
      <BackendField value={backend} onChange={setBackend} disabled={running} testId="spine-backend" detailed />
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
          <ProgressBar fraction={loading.total ? loading.done / loading.total : 0} status="running" />
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
          <ProgressBar fraction={frac} status={batch.status} />
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
      <BackendsUsed backends={backends} reason={reason} testId="spine-backend-used" />
    </Panel>
  );
}
