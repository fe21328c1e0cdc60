/** Backend, Run / Cancel, overall progress with ETA, and what the last results ran on. */
import { fmtClock } from '../format';
import { Panel } from '../Panel';
import { BackendField, BackendsUsed, BatchBadge, ProgressBar } from '../common';
import { batchFraction, cancelMotors, runMotors, setBackend } from './actions';
import { runKey, useMotors } from './state';

export function MotorsRunPanel() {
  const batch = useMotors((s) => s.batch);
  const tomograms = useMotors((s) => s.tomograms);
  const backend = useMotors((s) => s.backend);
  const nModels = useMotors((s) => s.models.length);
  const busy = useMotors((s) => s.busy !== null);
  const key = useMotors(runKey);
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
    <Panel title="Run" testId="motor-run-panel" extra={<BatchBadge status={batch.status} testId="motor-batch-status" />}>
      <BackendField value={backend} onChange={setBackend} disabled={running} testId="motor-backend" detailed />
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
          <ProgressBar fraction={frac} status={batch.status} />
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
      <BackendsUsed backends={backends} reason={reason} testId="motor-backend-used" />
    </Panel>
  );
}
