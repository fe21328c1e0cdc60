/** Open buttons (tomogram folder/files, models, labels) and the tomogram queue with per-tomogram status. */
import { useRef } from 'react';
import { ModelList, takeFiles as take } from '../common';
import { fmtClock } from '../format';
import { Panel } from '../Panel';
import { addFiles, clearLabels, clearTomograms, loadLabelsFile, removeModel, removeTomogram } from './actions';
import { pickedFiles } from './load';
import { TOMOGRAM_ACCEPT } from './sources';
import { useMotors, type TomoEntry } from './state';
import { centreView } from './MotorsView';

export function InputsPanel() {
  const folderRef = useRef<HTMLInputElement>(null);
  const filesRef = useRef<HTMLInputElement>(null);
  const modelRef = useRef<HTMLInputElement>(null);
  const labelsRef = useRef<HTMLInputElement>(null);
  const running = useMotors((s) => s.batch.status === 'running');
  const busy = useMotors((s) => s.busy !== null);
  const models = useMotors((s) => s.models);
  const labels = useMotors((s) => s.labels);
  return (
    <Panel title="Inputs" testId="motor-inputs">
      <div className="motor-open-grid">
        <button onClick={() => folderRef.current?.click()} data-testid="open-tomogram-folder" title="A folder of slices, or a folder of tomogram folders / MRC / TIFF files">
          Open tomogram folder…
        </button>
        <button onClick={() => filesRef.current?.click()} data-testid="open-tomogram-files" title="MRC/REC files, TIFF stacks, or the slices of one tomogram">
          Open tomogram files…
        </button>
        <button onClick={() => modelRef.current?.click()} disabled={running || busy} data-testid="add-models" title="One or several ONNX models (folds/seeds): summed after the sigmoid">
          Add models…
        </button>
        <button onClick={() => labelsRef.current?.click()} data-testid="open-labels" title="train_labels.csv format: tomo_id, Motor axis 0/1/2, Voxel spacing, …">
          Labels CSV…
        </button>
      </div>
      <input
        ref={folderRef}
        type="file"
        hidden
        multiple
        {...{ webkitdirectory: '', directory: '' }}
        onChange={(e) => void addFiles(pickedFiles(take(e)))}
        data-testid="tomogram-folder-input"
      />
      <input ref={filesRef} type="file" hidden multiple accept={TOMOGRAM_ACCEPT} onChange={(e) => void addFiles(pickedFiles(take(e)))} data-testid="tomogram-file-input" />
      <input ref={modelRef} type="file" hidden multiple accept=".onnx,.json" onChange={(e) => void addFiles(pickedFiles(take(e)))} data-testid="motor-model-input" />
      <input
        ref={labelsRef}
        type="file"
        hidden
        accept=".csv,text/csv"
        onChange={(e) => {
          const f = take(e)[0];
          if (f) void loadLabelsFile(f);
        }}
        data-testid="labels-input"
      />
      <div className="subhead">Models {models.length > 1 && <span className="muted">(summed)</span>}</div>
      <ModelList models={models} className="motor-list" testId="motor-model" detail={(m) => `${(m.info.parameters / 1e6).toFixed(2)} M`} onRemove={removeModel} disabled={running} />
      <div className="subhead">Labels</div>
      {labels ? (
        <div className="motor-list-row" data-testid="motor-labels">
          <span className="grow ellipsis mono">{labels.name}</span>
          <span className="muted small">
            {labels.rows.length} tomograms · {labels.rows.reduce((a, r) => a + r.motors.length, 0)} motors
          </span>
          <button className="ghost icon" onClick={clearLabels} aria-label="Remove labels" title="Remove">
            ×
          </button>
        </div>
      ) : (
        <div className="muted small">None (optional: distances, TP/FP/FN and F-beta).</div>
      )}
    </Panel>
  );
}

const STATUS_TEXT: Record<TomoEntry['status'], string> = {
  loading: 'loading',
  waiting: 'waiting',
  running: 'running',
  done: 'done',
  error: 'error',
  cancelled: 'cancelled',
};

export function QueuePanel() {
  const tomograms = useMotors((s) => s.tomograms);
  const selected = useMotors((s) => s.selected);
  const running = useMotors((s) => s.batch.status === 'running');
  const nErr = tomograms.filter((t) => t.status === 'error').length;
  return (
    <Panel
      title={`Tomograms${tomograms.length ? ` (${tomograms.length})` : ''}`}
      testId="motor-queue"
      extra={
        tomograms.length > 0 ? (
          <button className="link" onClick={clearTomograms} disabled={running}>
            clear
          </button>
        ) : undefined
      }
    >
      {tomograms.length === 0 ? (
        <p className="muted small">Drop tomogram folders or files anywhere on the page.</p>
      ) : (
        <table className="queue-table">
          <thead>
            <tr>
              <th>tomo_id</th>
              <th>Z×Y×X</th>
              <th>status</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {tomograms.map((t) => (
              <QueueRow key={t.id} t={t} selected={t.id === selected} running={running} />
            ))}
          </tbody>
        </table>
      )}
      {nErr > 0 && (
        <div className="small warn" data-testid="queue-error-count">
          {nErr} tomogram{nErr === 1 ? '' : 's'} with errors; the others run and export.
        </div>
      )}
    </Panel>
  );
}

function QueueRow({ t, selected, running }: { t: TomoEntry; selected: boolean; running: boolean }) {
  const p = t.progress;
  const frac = t.status === 'loading' ? (t.loadProgress ?? 0) : p && p.total > 0 ? p.done / p.total : t.status === 'done' ? 1 : 0;
  const select = () => {
    const point = t.status === 'done' ? t.result?.detection.point : undefined;
    if (point) centreView(t.id, point);
    else useMotors.setState({ selected: t.id });
  };
  return (
    <>
      <tr className={`queue-row ${selected ? 'selected' : ''} st-${t.status}`} onClick={select} data-testid={`queue-row-${t.id}`}>
        <td className="mono ellipsis" title={`${t.id} · ${t.sourceLabel}`}>
          {t.id}
          <div className="muted small">{t.sourceLabel}</div>
        </td>
        <td className="mono small">{t.shape ? t.shape.join('×') : '–'}</td>
        <td className="queue-status">
          <span className={`badge status-${t.status === 'waiting' ? 'idle' : t.status}`} data-testid={`queue-status-${t.id}`}>
            {STATUS_TEXT[t.status]}
          </span>
          {(t.status === 'running' || t.status === 'loading') && (
            <div className="mini-progress" title={p ? `model ${p.model + 1}, TTA ${p.tta + 1}: window ${p.done} / ${p.total}` : undefined}>
              <div className="progress-fill" style={{ width: `${(100 * frac).toFixed(1)}%` }} />
            </div>
          )}
          {t.status === 'running' && p && <div className="muted small mono">{p.done}/{p.total} · ETA {fmtClock(p.etaMs)}</div>}
          {t.status === 'done' && t.result && <div className="muted small mono">{(t.result.wallMs / 1000).toFixed(1)} s</div>}
        </td>
        <td>
          <button
            className="ghost icon"
            onClick={(e) => {
              e.stopPropagation();
              removeTomogram(t.id);
            }}
            disabled={running && t.status === 'running'}
            aria-label={`Remove ${t.id}`}
            title="Remove from the queue"
          >
            ×
          </button>
        </td>
      </tr>
      {(t.error || t.note) && (
        <tr className="queue-msg-row">
          <td colSpan={4}>
            {t.error && (
              <div className="queue-error" data-testid={`queue-error-${t.id}`}>
                {t.error}
              </div>
            )}
            {t.note && <div className="queue-note small">{t.note}</div>}
          </td>
        </tr>
      )}
    </>
  );
}
