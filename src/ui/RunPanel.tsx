import { cancel, run } from './actions';
import { etaText } from './kit/pure';
import { isInterrupted } from './kit/runner';
import { fmtClock, fmtMs, fmtPct } from './format';
import { KV, Panel } from './Panel';
import { useStore } from './store';

const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);

/** Run / Cancel, progress with ETA, and what the last run used and how long it took. */
export function RunPanel() {
  const rs = useStore((s) => s.runState);
  const ready = useStore((s) => !!s.volume && !!s.model && s.busy === null);
  const running = rs.status === 'running';
  const frac = rs.total > 0 ? rs.done / rs.total : 0;
  return (
    <Panel title="Run" testId="run-panel" extra={<StatusBadge />}>
      <div className="row">
        <button
          className="primary grow"
          onClick={() => void run()}
          disabled={running || !ready}
          data-testid="run"
          title={`Run sliding-window inference (${isMac ? '⌘' : 'Ctrl'}+Enter)`}
        >
          {running ? 'Running…' : 'Run'}
          <kbd>{isMac ? '⌘' : 'Ctrl'}+↵</kbd>
        </button>
        <button onClick={cancel} disabled={!running || rs.cancelRequested} data-testid="cancel" title="Cancel the run (Esc)">
          {rs.cancelRequested ? 'Stopping…' : 'Cancel'} <kbd>Esc</kbd>
        </button>
      </div>
      {(running || rs.total > 0) && (
        <div className="progress-block" data-testid="progress">
          <div
            className={`progress ${rs.status}`}
            role="progressbar"
            aria-valuemin={0}
            aria-valuemax={rs.total}
            aria-valuenow={rs.done}
          >
            <div className="progress-fill" style={{ width: `${(100 * frac).toFixed(1)}%` }} />
          </div>
          <div className="progress-text">
            <span data-testid="progress-windows">
              {rs.total > 0 ? `window ${rs.done} / ${rs.total}` : 'starting…'}
            </span>
            <span className="muted" data-testid="progress-eta">
              {fmtClock(rs.elapsedMs)} elapsed{running ? ` · ${etaText(rs.eta)}` : ''}
            </span>
          </div>
        </div>
      )}
      {rs.status === 'error' && rs.error && (
        <div className="run-error" data-testid="run-error">
          {rs.error}
          {isInterrupted(rs.error) && (
            <button className="link" onClick={() => void run()} disabled={!ready} data-testid="run-rerun" title="Run again on the fresh worker">
              Re-run
            </button>
          )}
        </div>
      )}
      <RunStats />
      <RuntimeInfoView />
    </Panel>
  );
}

function StatusBadge() {
  const status = useStore((s) => s.runState.status);
  if (status === 'idle') return null;
  return (
    <span className={`badge status-${status}`} data-testid="run-status">
      {status}
    </span>
  );
}

/** Stats of the run that made the current result (hidden while another run is going or after one failed). */
function RunStats() {
  const result = useStore((s) => s.result);
  const status = useStore((s) => s.runState.status);
  if (!result || status === 'running' || status === 'error' || status === 'cancelled') return null;
  const { run: r } = result;
  const st = r.stats;
  return (
    <div className="stats" data-testid="run-stats">
      <div className="backend-line">
        <span className={`badge backend-${r.backend}`} data-testid="backend-used">
          {r.backend === 'webgpu' ? 'WebGPU' : 'WASM'}
        </span>
        <span className="small" data-testid="backend-reason">
          {r.backendReason}
        </span>
      </div>
      <KV
        wide
        rows={[
          ['Model load', fmtMs(result.modelLoadMs)],
          ['Session', fmtMs(r.sessionMs)],
          ['Per window', fmtMs(r.perWindowMs)],
          ['Windows', `${st.windows} in ${st.batches} batch${st.batches === 1 ? '' : 'es'}`],
          ['Total', <span key="t" data-testid="total-ms">{fmtMs(st.totalMs)}</span>],
          ['Outside session.run', `${fmtMs(st.overheadMs)} (${fmtPct(st.totalMs > 0 ? st.overheadMs / st.totalMs : NaN)})`],
          ['Page wall time', fmtMs(result.wallMs)],
        ]}
      />
    </div>
  );
}

function RuntimeInfoView() {
  const rt = useStore((s) => s.runtime);
  if (!rt) return null;
  return (
    <div className="runtime" data-testid="runtime-info">
      <div className="subhead">Runtime</div>
      <KV
        wide
        rows={[
          ['Cross-origin isolated', rt.crossOriginIsolated ? 'yes' : 'no (WASM runs single-threaded)'],
          ['WASM threads', `${rt.threads} of ${rt.hardwareConcurrency} cores`],
          ['WebGPU', rt.webgpu.available ? (rt.webgpu.adapter ?? 'available') : `no: ${rt.webgpu.reason ?? 'unavailable'}`],
          ...(rt.webgpu.available && rt.webgpu.maxBufferSize
            ? ([['Max GPU buffer', `${(rt.webgpu.maxBufferSize / 2 ** 20).toFixed(0)} MiB${rt.webgpu.shaderF16 ? ' · f16' : ''}`]] as [string, string][])
            : []),
          ['onnxruntime-web', rt.ortVersion],
        ]}
      />
    </div>
  );
}
