/** Side panels of the protein page: inputs, preset values, run/export/score, probabilities, per-cell and all-images tables. */
import { useRef } from 'react';
import { BackendField, BackendsUsed, BatchBadge, ModelList, ProgressBar, takeFiles as take } from '../common';
import type { RleFormat } from '../../core/protein/rle';
import { proteinPresetInfo } from '../../core/presets/protein';
import { NumberInput } from '../NumberInput';
import { Panel } from '../Panel';
import { pickedFiles } from '../motors/load';
import {
  addFiles,
  batchFraction,
  cancelProtein,
  clearFovs,
  downloadCells,
  downloadSubmission,
  proteinMetric,
  removeFov,
  removeModel,
  runProtein,
  setBackend,
} from './actions';
import { classColour } from './render';
import { effectiveCamClass, patchView, runKey, useProtein, type FovEntry } from './state';

export function ProteinInputsPanel() {
  const filesRef = useRef<HTMLInputElement>(null);
  const folderRef = useRef<HTMLInputElement>(null);
  const modelRef = useRef<HTMLInputElement>(null);
  const running = useProtein((s) => s.batch.status === 'running');
  const models = useProtein((s) => s.models);
  const gt = useProtein((s) => s.groundTruth);
  return (
    <Panel title="Inputs" testId="protein-inputs">
      <div className="protein-buttons">
        <button onClick={() => filesRef.current?.click()} data-testid="protein-open-files" title="<id>_red/green/blue/yellow.png (+ <id>_cells.png), 4-channel TIFFs, cell_labels.csv">
          Open images…
        </button>
        <button onClick={() => folderRef.current?.click()} data-testid="protein-open-folder">
          Open folder…
        </button>
        <button onClick={() => modelRef.current?.click()} disabled={running} data-testid="protein-add-models" title="One or several ONNX models (folds): logits and class maps are averaged">
          Add models…
        </button>
      </div>
      <input ref={filesRef} type="file" hidden multiple accept=".png,.tif,.tiff,.csv,.json,.onnx" onChange={(e) => void addFiles(pickedFiles(take(e)))} data-testid="protein-file-input" />
      <input ref={folderRef} type="file" hidden multiple {...{ webkitdirectory: '', directory: '' }} onChange={(e) => void addFiles(pickedFiles(take(e)))} data-testid="protein-folder-input" />
      <input ref={modelRef} type="file" hidden multiple accept=".onnx,.json" onChange={(e) => void addFiles(pickedFiles(take(e)))} data-testid="protein-model-input" />
      <div className="subhead">Models {models.length > 1 && <span className="muted">(averaged before sigmoid / CAM)</span>}</div>
      <ModelList models={models} className="protein-list" testId="protein-model" detail={(m) => (m.info.outputs.some((o) => o.dims.length === 4) ? 'CAM' : 'occlusion')} onRemove={removeModel} disabled={running} />
      <div className="subhead">Ground truth</div>
      <div className="muted small" data-testid="protein-gt">
        {gt ? `${gt.name}: ${gt.cells.size} images` : 'None (optional: cell_labels.csv with ID, cell, Label for the cell mAP).'}
      </div>
    </Panel>
  );
}

const STATUS: Record<FovEntry['status'], string> = { loading: 'loading', waiting: 'waiting', running: 'running', done: 'done', error: 'error', cancelled: 'cancelled' };

export function FovListPanel() {
  const fovs = useProtein((s) => s.fovs);
  const selected = useProtein((s) => s.selected);
  const running = useProtein((s) => s.batch.status === 'running');
  return (
    <Panel
      title={`Fields of view${fovs.length ? ` (${fovs.length})` : ''}`}
      testId="protein-fovs"
      extra={
        fovs.length > 0 ? (
          <button className="link" onClick={clearFovs} disabled={running}>
            clear
          </button>
        ) : undefined
      }
    >
      {fovs.length === 0 ? (
        <p className="muted small">Drop RGBY sets (grouped by id), cell masks and models anywhere on the page.</p>
      ) : (
        <ul className="protein-fov-list">
          {fovs.map((f) => (
            <li key={f.id} className={`protein-fov ${f.id === selected ? 'selected' : ''}`} onClick={() => useProtein.setState({ selected: f.id })} data-testid={`fov-${f.id}`}>
              <div className="protein-fov-row">
                <span className="grow mono ellipsis">{f.id}</span>
                <span className={`badge status-${f.status === 'waiting' ? 'idle' : f.status}`} data-testid={`fov-status-${f.id}`}>
                  {STATUS[f.status]}
                </span>
                <button
                  className="ghost icon"
                  onClick={(e) => {
                    e.stopPropagation();
                    removeFov(f.id);
                  }}
                  disabled={f.status === 'running'}
                  aria-label={`Remove ${f.id}`}
                >
                  ×
                </button>
              </div>
              <div className="muted small">
                {f.fov ? `${f.fov.width} x ${f.fov.height}, ${f.fov.bits}-bit · ${f.cells ? 'cell mask' : 'no mask: simple segmentation'}` : f.files.tiff ? 'TIFF' : `${Object.keys(f.files.channels).length} of 4 channels`}
              </div>
              {f.status === 'running' && f.progress && (
                <div className="muted small mono" data-testid={`fov-progress-${f.id}`}>
                  {f.progress.stage} {f.progress.done}/{f.progress.total}
                </div>
              )}
              {f.error && (
                <div className="queue-error small warn" data-testid={`fov-error-${f.id}`}>
                  {f.error}
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
    </Panel>
  );
}

export function ProteinParamsPanel() {
  const p = useProtein((s) => s.params);
  const from = useProtein((s) => s.paramsFrom);
  const running = useProtein((s) => s.batch.status === 'running');
  const set = (patch: Partial<typeof p>) => useProtein.setState((s) => ({ params: { ...s.params, ...patch } }));
  return (
    <Panel title="Preset values" testId="protein-params">
      <div className="muted small" data-testid="protein-params-from">
        from {from} · {p.classes.length} classes · input {p.inputSize.join(' x ')} · mean [{p.mean.join(', ')}] · std [{p.std.join(', ')}]
      </div>
      <label className="field">
        <span title="Classes with a higher image probability are tested per cell">min p</span>
        <NumberInput value={p.minProbability} min={0} max={0.99} onChange={(v) => set({ minProbability: v })} disabled={running} testId="param-min-p" />
      </label>
      <label className="field">
        <span title="numpy percentile (linear) of the CAM over the image (Q) and in the cell (q)">percentile</span>
        <NumberInput value={p.percentile} min={0} max={100} onChange={(v) => set({ percentile: v })} disabled={running} testId="param-percentile" />
      </label>
      <label className="field">
        <span title="Keep the class for the cell when conf / p is above this">keep ratio</span>
        <NumberInput value={p.keepRatio} min={0} max={1} onChange={(v) => set({ keepRatio: v })} disabled={running} testId="param-keep" />
      </label>
      <label className="field">
        <span title="Metric: mask IoU threshold">IoU</span>
        <NumberInput value={p.iouThreshold} min={0.05} max={1} onChange={(v) => set({ iouThreshold: v })} disabled={running} testId="param-iou" />
      </label>
      <p className="small muted">
        Without a cell mask a <b>simple</b> built-in segmentation is used (Otsu nuclei from blue, cells grown inside the red + yellow + blue foreground): fine for
        separated cells, not a substitute for the HPA cell segmentator. Drop <span className="mono">&lt;id&gt;_cells.png</span> label images for real work.
      </p>
      <details className="small" data-testid="protein-notes">
        <summary>Pipeline ({proteinPresetInfo.source})</summary>
        <ul className="protein-notes">
          {proteinPresetInfo.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      </details>
    </Panel>
  );
}

export function ProteinRunPanel() {
  const batch = useProtein((s) => s.batch);
  const fovs = useProtein((s) => s.fovs);
  const backend = useProtein((s) => s.backend);
  const rle = useProtein((s) => s.rle);
  const nModels = useProtein((s) => s.models.length);
  const busy = useProtein((s) => s.busy);
  const key = useProtein(runKey);
  useProtein((s) => s.groundTruth);
  const running = batch.status === 'running';
  const runnable = fovs.filter((f) => !f.loadFailed);
  const stale = runnable.filter((f) => f.status !== 'done' || f.result?.key !== key).length;
  const frac = batchFraction(batch.ids, fovs);
  const done = fovs.filter((f) => f.status === 'done' && f.result);
  const metric = done.length ? proteinMetric() : null;
  const backends = [...new Set(done.map((f) => f.result!.backend))];
  return (
    <Panel title="Run" testId="protein-run-panel" extra={<BatchBadge status={batch.status} testId="protein-batch-status" />}>
      <BackendField value={backend} onChange={setBackend} disabled={running} testId="protein-backend" />
      <div className="row run-row">
        <button className="primary grow" onClick={() => void runProtein()} disabled={running || nModels === 0 || runnable.length === 0 || busy !== null} data-testid="protein-run" title="Run (Ctrl+Enter)">
          {running ? 'Running…' : stale > 0 ? `Run ${stale} field${stale === 1 ? '' : 's'} of view` : 'Run again'} <kbd>Ctrl+Enter</kbd>
        </button>
        <button onClick={cancelProtein} disabled={!running || batch.cancelRequested} data-testid="protein-cancel" title="Cancel (Esc)">
          {batch.cancelRequested ? 'Stopping…' : 'Cancel'} <kbd>Esc</kbd>
        </button>
      </div>
      {busy && <div className="muted small">{busy}</div>}
      {batch.ids.length > 0 && (
        <div className="progress-block" data-testid="protein-progress">
          <ProgressBar fraction={frac} status={batch.status} />
          <div className="progress-text small">
            {batch.ids.filter((id) => fovs.find((f) => f.id === id)?.status === 'done').length} / {batch.ids.length} fields of view
          </div>
        </div>
      )}
      <BackendsUsed backends={backends} reason={done[0]?.result?.backendReason} testId="protein-backend-used" />
      <div className="subhead">Export</div>
      <label className="field">
        <span title="hpa: pycocotools compressed RLE, zlib, base64 (HPA 2021 encode_binary_mask); counts: uncompressed column-major run lengths">mask RLE</span>
        <select value={rle} onChange={(e) => useProtein.setState({ rle: e.target.value as RleFormat })} data-testid="protein-rle">
          <option value="hpa">HPA (compressed, base64)</option>
          <option value="counts">counts (uncompressed)</option>
        </select>
      </label>
      <div className="row">
        <button onClick={downloadCells} disabled={done.length === 0} data-testid="protein-export-cells">
          cells.csv
        </button>
        <button onClick={downloadSubmission} disabled={done.length === 0} data-testid="protein-export-submission">
          submission.csv
        </button>
      </div>
      {metric && (
        <div className="protein-metric" data-testid="protein-metric">
          <div>
            cell mAP @ IoU {metric.iouThreshold}: <b data-testid="protein-map">{metric.mAP.toFixed(4)}</b> <span className="muted small">({metric.images} images, {metric.ap.size} classes)</span>
          </div>
        </div>
      )}
    </Panel>
  );
}

export function ProbabilityChart() {
  const entry = useProtein((s) => s.fovs.find((f) => f.id === s.selected));
  const classes = useProtein((s) => s.params.classes);
  const chosen = useProtein((s) => s.view.camClass);
  const p = entry?.status === 'done' ? entry.result?.probabilities : undefined;
  const camClass = effectiveCamClass(chosen, p);
  return (
    <Panel title={`Probabilities${entry ? ` · ${entry.id}` : ''}`} testId="protein-probs">
      {!p ? (
        <div className="muted small">Run to see the 19 class probabilities (sigmoid of the averaged logits).</div>
      ) : (
        <div className="protein-bars">
          {classes.map((c, k) => (
            <button key={k} className={`protein-bar ${k === camClass ? 'on' : ''}`} onClick={() => patchView({ camClass: k, showCam: true })} title={`${c}: ${p[k].toFixed(4)} (show its CAM)`} data-testid={`prob-${k}`}>
              <span className="protein-bar-label ellipsis">{c}</span>
              <span className="protein-bar-track">
                <span className="protein-bar-fill" style={{ width: `${(100 * p[k]).toFixed(1)}%`, background: classColour(k) }} />
              </span>
              <span className="protein-bar-value mono" data-testid={`prob-value-${k}`}>
                {p[k].toFixed(4)}
              </span>
            </button>
          ))}
        </div>
      )}
    </Panel>
  );
}

export function CellTable() {
  const entry = useProtein((s) => s.fovs.find((f) => f.id === s.selected));
  const classes = useProtein((s) => s.params.classes);
  const sel = useProtein((s) => s.view.selectedCell);
  const r = entry?.status === 'done' ? entry.result : undefined;
  if (!r) return null;
  return (
    <div className="protein-table-wrap">
      <div className="subhead">Cells of {r.id} (per-cell rule: conf = clip(q p / Q, 0, p), kept when conf / p &gt; keep ratio)</div>
      <table className="protein-table" data-testid="protein-cell-table">
        <thead>
          <tr>
            <th>cell</th>
            <th>area</th>
            <th>classes (confidence)</th>
          </tr>
        </thead>
        <tbody>
          {r.cellResults.map((c) => (
            <tr key={c.id} className={c.id === sel ? 'selected' : ''} onClick={() => patchView({ selectedCell: c.id === sel ? null : c.id })} data-testid={`cell-row-${c.id}`}>
              <td className="mono">{c.id}</td>
              <td className="mono">{c.area}</td>
              <td>
                {[...c.labels]
                  .sort((a, b) => b.confidence - a.confidence)
                  .map((l) => (
                    <span key={l.cls} className="protein-chip" style={{ borderColor: classColour(l.cls) }} title={`q = ${l.q?.toFixed(4) ?? '-'}`}>
                      {classes[l.cls]} <span className="mono">{l.confidence.toFixed(3)}</span>
                    </span>
                  ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function AllImagesTable() {
  const fovs = useProtein((s) => s.fovs);
  const classes = useProtein((s) => s.params.classes);
  const selected = useProtein((s) => s.selected);
  if (fovs.length === 0) return null;
  return (
    <div className="protein-table-wrap">
      <div className="subhead">All fields of view</div>
      <table className="protein-table" data-testid="protein-all-table">
        <thead>
          <tr>
            <th>image</th>
            <th>status</th>
            <th>cells</th>
            <th>top classes (p)</th>
            <th>time</th>
          </tr>
        </thead>
        <tbody>
          {fovs.map((f) => {
            const r = f.status === 'done' ? f.result : undefined;
            const top = r
              ? Array.from(r.probabilities, (p, k) => [p, k] as const)
                  .sort((a, b) => b[0] - a[0])
                  .slice(0, 3)
              : [];
            return (
              <tr key={f.id} className={f.id === selected ? 'selected' : ''} onClick={() => useProtein.setState({ selected: f.id })} data-testid={`all-row-${f.id}`}>
                <td className="mono">{f.id}</td>
                <td>{f.status}</td>
                <td className="mono">{r ? r.cellResults.length : '–'}</td>
                <td className="small">{r ? top.map(([p, k]) => `${classes[k]} ${p.toFixed(3)}`).join(', ') : (f.error ?? '')}</td>
                <td className="mono small">{r ? `${(r.wallMs / 1000).toFixed(2)} s` : ''}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
