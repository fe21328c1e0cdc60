/** Left and right columns of the EEG page: inputs, preset values, run, score and export. */
import { useRef } from 'react';
import { BackendField, BackendsUsed, BatchBadge, ModelList, ProgressBar, takeFiles as take } from '../common';
import { fmtClock } from '../format';
import { NumberInput } from '../NumberInput';
import { Panel } from '../Panel';
import { pickedFiles } from '../motors/load';
import {
  addEegFiles,
  cancelEeg,
  clearEegFiles,
  clearVotes,
  downloadEegSubmission,
  eegScore,
  removeEegFile,
  removeEegModel,
  resetEegParams,
  runEeg,
  setEegBackend,
  setEegParams,
} from './actions';
import { runKey, useEeg } from './state';

export function EegInputsPanel() {
  const filesRef = useRef<HTMLInputElement>(null);
  const modelRef = useRef<HTMLInputElement>(null);
  const votesRef = useRef<HTMLInputElement>(null);
  const running = useEeg((s) => s.batch.status === 'running');
  const busy = useEeg((s) => s.busy);
  const files = useEeg((s) => s.files);
  const models = useEeg((s) => s.models);
  const votes = useEeg((s) => s.votes);
  const selected = useEeg((s) => s.selected);
  return (
    <Panel title="Inputs" testId="eeg-inputs">
      <div className="eeg-open-grid">
        <button onClick={() => filesRef.current?.click()} data-testid="eeg-open-files" title="HMS spectrogram .parquet files (time + 400 columns LL_0.59 .. RP_19.92)">
          Spectrograms…
        </button>
        <button onClick={() => modelRef.current?.click()} disabled={running || busy !== null} data-testid="eeg-add-models" title="One or several ONNX models (folds): the softmax is averaged">
          Models…
        </button>
        <button onClick={() => votesRef.current?.click()} data-testid="eeg-open-votes" title="eeg_id,seizure_vote,lpd_vote,gpd_vote,lrda_vote,grda_vote,other_vote">
          Votes CSV…
        </button>
      </div>
      <input ref={filesRef} type="file" hidden multiple accept=".parquet" onChange={(e) => void addEegFiles(pickedFiles(take(e)))} data-testid="eeg-file-input" />
      <input ref={modelRef} type="file" hidden multiple accept=".onnx" onChange={(e) => void addEegFiles(pickedFiles(take(e)))} data-testid="eeg-model-input" />
      <input ref={votesRef} type="file" hidden accept=".csv,text/csv" onChange={(e) => void addEegFiles(pickedFiles(take(e)))} data-testid="eeg-votes-input" />
      {busy && <div className="muted small">{busy}</div>}
      <div className="subhead">Models {models.length > 1 && <span className="muted">({models.length} folds, softmax averaged)</span>}</div>
      <ModelList models={models} className="eeg-list" testId="eeg-model" detail={(m) => (m.info.outputs.some((o) => o.dims.length === 4) ? 'CAM' : 'logits')} onRemove={removeEegModel} disabled={running} />
      <div className="subhead">
        Spectrograms <span className="muted">({files.length})</span>
        {files.length > 0 && (
          <button className="ghost small" onClick={clearEegFiles} disabled={running} data-testid="eeg-clear-files">
            clear
          </button>
        )}
      </div>
      {files.length === 0 ? (
        <div className="muted small">Drop .parquet files anywhere on the page.</div>
      ) : (
        <ul className="eeg-list" data-testid="eeg-files">
          {files.map((f) => (
            <li key={f.id} className={f.id === selected ? 'on' : ''} data-testid={`eeg-file-${f.id}`} data-status={f.status}>
              <button className="ghost grow ellipsis mono left" onClick={() => useEeg.setState({ selected: f.id })} title={f.error ?? f.warnings.join('\n') ?? f.name}>
                {f.name}
              </button>
              <span className={`badge status-${f.status}`}>{f.status === 'running' && f.progress?.stage === 'occlusion' ? `${f.progress.done}/${f.progress.total}` : f.status}</span>
              {f.spec && <span className="muted small">{f.spec.rows} rows</span>}
              <button className="ghost icon" onClick={() => removeEegFile(f.id)} disabled={f.status === 'running'} aria-label={`Remove ${f.name}`} title="Remove">
                ×
              </button>
              {f.error && (
                <div className="eeg-file-error small" data-testid={`eeg-file-error-${f.id}`}>
                  {f.error}
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
      <div className="subhead">Votes</div>
      {votes ? (
        <div className="row small" data-testid="eeg-votes">
          <span className="grow mono">
            {votes.name} ({votes.rows.size})
          </span>
          <button className="ghost icon" onClick={clearVotes} aria-label="Remove the votes" title="Remove">
            ×
          </button>
        </div>
      ) : (
        <div className="muted small">Optional: expert votes for the KL divergence.</div>
      )}
    </Panel>
  );
}

export function EegParamsPanel() {
  const p = useEeg((s) => s.params);
  const running = useEeg((s) => s.batch.status === 'running');
  return (
    <Panel
      title="Preset"
      testId="eeg-params"
      extra={
        <button className="ghost small" onClick={resetEegParams} disabled={running} title="Back to the HMS pipeline values">
          reset
        </button>
      }
    >
      <label className="field">
        <span>Input</span>
        <select value={p.window} onChange={(e) => setEegParams({ window: e.target.value as 'whole' | 'window' })} disabled={running} data-testid="eeg-window-mode">
          <option value="whole">Whole file (inference pipeline)</option>
          <option value="window">A window of rows</option>
        </select>
      </label>
      {p.window === 'window' && (
        <>
          <label className="field">
            <span title="First row (one row every 2 s)">Start row</span>
            <NumberInput value={p.windowStart} integer min={0} onChange={(v) => setEegParams({ windowStart: v })} disabled={running} testId="eeg-window-start" />
          </label>
          <label className="field">
            <span title="300 rows = 10 minutes">Rows</span>
            <NumberInput value={p.windowRows} integer min={1} onChange={(v) => setEegParams({ windowRows: v })} disabled={running} testId="eeg-window-rows" />
          </label>
        </>
      )}
      <label className="field">
        <span title="Power is clipped to [low, high] before the natural log">Clip</span>
        <span className="row">
          <NumberInput value={p.clip[0]} min={1e-12} onChange={(v) => setEegParams({ clip: [v, p.clip[1]] })} disabled={running} testId="eeg-clip-lo" />
          <NumberInput value={p.clip[1]} min={1e-12} onChange={(v) => setEegParams({ clip: [p.clip[0], v] })} disabled={running} testId="eeg-clip-hi" />
        </span>
      </label>
      <label className="field">
        <span title="Bilinear resize of the standardised (400, T) image, align_corners False">Model input</span>
        <span className="row">
          <NumberInput value={p.size[0]} integer min={8} onChange={(v) => setEegParams({ size: [v, p.size[1]] })} disabled={running} testId="eeg-size-h" />
          <NumberInput value={p.size[1]} integer min={8} onChange={(v) => setEegParams({ size: [p.size[0], v] })} disabled={running} testId="eeg-size-w" />
        </span>
      </label>
      <label className="field check">
        <input type="checkbox" checked={p.occlusion} onChange={(e) => setEegParams({ occlusion: e.target.checked })} disabled={running} data-testid="eeg-occlusion" />
        <span title="For models without class maps: re-run the models with each 64 x 64 patch masked">Occlusion maps for logits-only models</span>
      </label>
      {p.occlusion && (
        <label className="field">
          <span title="Square patch masked with 0 (the standardised mean), and the step between patches, in model-input pixels">Patch / stride</span>
          <span className="row">
            <NumberInput value={p.occlusionParams.patch[0]} integer min={1} onChange={(v) => setEegParams({ occlusionParams: { ...p.occlusionParams, patch: [v, v] } })} disabled={running} testId="eeg-occ-patch" />
            <NumberInput value={p.occlusionParams.stride[0]} integer min={1} onChange={(v) => setEegParams({ occlusionParams: { ...p.occlusionParams, stride: [v, v] } })} disabled={running} testId="eeg-occ-stride" />
          </span>
        </label>
      )}
      <div className="muted small">
        Clip, natural log, (x − mean) / (std + {p.eps}) with the population std, bilinear to {p.size[0]} × {p.size[1]}; softmax, mean over models.
      </div>
    </Panel>
  );
}

export function EegRunPanel() {
  const batch = useEeg((s) => s.batch);
  const files = useEeg((s) => s.files);
  const backend = useEeg((s) => s.backend);
  const nModels = useEeg((s) => s.models.length);
  const busy = useEeg((s) => s.busy !== null);
  const key = useEeg(runKey);
  const running = batch.status === 'running';
  const runnable = files.filter((f) => !f.readFailed && f.spec);
  const stale = runnable.filter((f) => f.status !== 'done' || f.key !== key).length;
  const ready = nModels > 0 && runnable.length > 0 && !busy;
  const nDone = batch.ids.filter((id) => files.find((f) => f.id === id)?.status === 'done').length;
  const cur = files.find((f) => f.status === 'running');
  const sub = cur?.progress && cur.progress.total > 0 ? cur.progress.done / cur.progress.total : 0;
  const frac = batch.ids.length ? (batch.ids.filter((id) => ['done', 'error'].includes(files.find((f) => f.id === id)?.status ?? '')).length + (cur ? sub : 0)) / batch.ids.length : 0;
  const done = files.filter((f) => f.status === 'done' && f.result);
  const backends = [...new Set(done.map((f) => f.result!.backend))];
  return (
    <Panel title="Run" testId="eeg-run-panel" extra={<BatchBadge status={batch.status} testId="eeg-batch-status" />}>
      <BackendField value={backend} onChange={setEegBackend} disabled={running} testId="eeg-backend" />
      <div className="row run-row">
        <button className="primary grow" onClick={() => void runEeg()} disabled={running || !ready} data-testid="eeg-run" title="Run (Ctrl+Enter)">
          {running ? 'Running…' : stale === 0 && runnable.length ? `Run again (${runnable.length})` : `Run ${stale || runnable.length || ''} file${(stale || runnable.length) === 1 ? '' : 's'}`} <kbd>Ctrl+Enter</kbd>
        </button>
        <button onClick={cancelEeg} disabled={!running || batch.cancelRequested} data-testid="eeg-cancel" title="Cancel (Esc)">
          {batch.cancelRequested ? 'Stopping…' : 'Cancel'} <kbd>Esc</kbd>
        </button>
      </div>
      {!ready && !running && <div className="muted small">{nModels === 0 ? 'Add a model (.onnx) to run.' : runnable.length === 0 ? 'Add spectrogram .parquet files to run.' : 'Loading…'}</div>}
      {batch.ids.length > 0 && (
        <div className="progress-block" data-testid="eeg-progress">
          <ProgressBar fraction={frac} status={batch.status} />
          <div className="progress-text">
            <span data-testid="eeg-progress-text">
              {nDone} / {batch.ids.length} files{cur?.progress?.stage === 'occlusion' ? ` · occlusion ${cur.progress.done}/${cur.progress.total}` : ''}
            </span>
            <span className="muted">{fmtClock(batch.elapsedMs)} elapsed</span>
          </div>
        </div>
      )}
      <BackendsUsed backends={backends} reason={done[0]?.result?.backendReason} testId="eeg-backend-used" />
    </Panel>
  );
}

export function EegScorePanel() {
  // subscribed so that the score follows new results and votes
  const files = useEeg((s) => s.files);
  const votes = useEeg((s) => s.votes);
  const score = eegScore();
  const nDone = files.filter((f) => f.status === 'done').length;
  return (
    <Panel title="Score and export" testId="eeg-score">
      {score ? (
        <div data-testid="eeg-kl">
          <div className="big-number" data-testid="eeg-kl-value">
            {score.perFile.length ? score.score.toFixed(4) : '–'}
          </div>
          <div className="muted small">
            KL divergence (Kaggle metric), mean over {score.perFile.length} file{score.perFile.length === 1 ? '' : 's'} with votes
            {score.unlabelled.length ? `; no votes for ${score.unlabelled.join(', ')}` : ''}
          </div>
        </div>
      ) : (
        <div className="muted small">{votes ? 'Run to score.' : 'Add a votes CSV to see the KL divergence.'}</div>
      )}
      <button onClick={downloadEegSubmission} disabled={nDone === 0} data-testid="eeg-export" title="eeg_id,seizure_vote,…,other_vote">
        Export submission.csv
      </button>
    </Panel>
  );
}
