/** Open buttons (study folders, NIfTI, models, labels), the models, the labels, and the study list with the series choice. */
import { useRef } from 'react';
import { ModelList, takeFiles as take } from '../common';
import { Panel } from '../Panel';
import { pickedFiles } from '../motors/load';
import { addFiles, chooseSeries, clearLabels, clearSeries, removeModel, removeSource } from './actions';
import { progressFraction } from './actions';
import { useSpine, type SeriesEntry } from './state';

export function InputsPanel() {
  const folderRef = useRef<HTMLInputElement>(null);
  const filesRef = useRef<HTMLInputElement>(null);
  const modelRef = useRef<HTMLInputElement>(null);
  const labelsRef = useRef<HTMLInputElement>(null);
  const running = useSpine((s) => s.batch.status === 'running');
  const busy = useSpine((s) => s.busy !== null);
  const models = useSpine((s) => s.models);
  const labels = useSpine((s) => s.labels);
  return (
    <Panel title="Inputs" testId="spine-inputs">
      <div className="motor-open-grid">
        <button onClick={() => folderRef.current?.click()} data-testid="open-study-folder" title="A DICOM study folder, or a folder of study folders">
          Open DICOM folder…
        </button>
        <button onClick={() => filesRef.current?.click()} data-testid="open-study-files" title="A .nii / .nii.gz CT, or the DICOM files of one series">
          Open files…
        </button>
        <button onClick={() => modelRef.current?.click()} disabled={running || busy} data-testid="add-spine-models" title="Stage 1 (segmentation, 5D input) and stage 2 (fracture, 4D input) ONNX models, with their cards (.json)">
          Add models…
        </button>
        <button onClick={() => labelsRef.current?.click()} data-testid="open-spine-labels" title="train.csv format: StudyInstanceUID, patient_overall, C1..C7">
          Labels CSV…
        </button>
      </div>
      <input ref={folderRef} type="file" hidden multiple {...{ webkitdirectory: '', directory: '' }} onChange={(e) => void addFiles(pickedFiles(take(e)))} data-testid="study-folder-input" />
      <input ref={filesRef} type="file" hidden multiple onChange={(e) => void addFiles(pickedFiles(take(e)))} data-testid="study-file-input" />
      <input ref={modelRef} type="file" hidden multiple accept=".onnx,.json" onChange={(e) => void addFiles(pickedFiles(take(e)))} data-testid="spine-model-input" />
      <input ref={labelsRef} type="file" hidden accept=".csv,text/csv" onChange={(e) => void addFiles(pickedFiles(take(e)))} data-testid="spine-labels-input" />
      <div className="subhead">Models</div>
      <ModelList
        models={models}
        className="motor-list"
        testId="spine-model"
        empty="No model yet: stage 1 (C1..C7 segmentation) is needed, stage 2 (fractures) is optional."
        badge={(m) => (
          <span className={`badge stage-${m.stage}`} title={m.stage === 'seg' ? 'stage 1: segmentation' : 'stage 2: fracture'}>
            {m.stage === 'seg' ? 'seg' : 'frac'}
          </span>
        )}
        detail={(m) => `${(m.info.parameters / 1e6).toFixed(2)} M`}
        onRemove={removeModel}
        disabled={running}
      />
      <div className="subhead">Labels</div>
      {labels ? (
        <div className="motor-list-row" data-testid="spine-labels">
          <span className="grow ellipsis mono">{labels.name}</span>
          <span className="muted small">
            {labels.rows.size} stud{labels.rows.size === 1 ? 'y' : 'ies'}
          </span>
          <button className="ghost icon" onClick={clearLabels} aria-label="Remove labels" title="Remove">
            ×
          </button>
        </div>
      ) : (
        <div className="muted small">None (optional: the weighted log loss).</div>
      )}
    </Panel>
  );
}

const shortUid = (uid: string): string => (uid.length > 18 ? `…${uid.slice(-14)}` : uid);

/** The dropped studies: one group per source (folder or file); a source with several series offers a choice. */
export function StudiesPanel() {
  const series = useSpine((s) => s.series);
  const selected = useSpine((s) => s.selected);
  const running = useSpine((s) => s.batch.status === 'running');
  const groups: { source: string; items: SeriesEntry[] }[] = [];
  for (const t of series) {
    const g = groups.find((x) => x.source === t.source);
    if (g) g.items.push(t);
    else groups.push({ source: t.source, items: [t] });
  }
  return (
    <Panel
      title={`Studies${groups.length ? ` (${groups.length})` : ''}`}
      testId="spine-studies"
      extra={
        series.length > 0 ? (
          <button className="link" onClick={clearSeries} disabled={running}>
            clear
          </button>
        ) : undefined
      }
    >
      {groups.length === 0 ? (
        <p className="muted small">Drop DICOM study folders (or NIfTI files) anywhere on the page.</p>
      ) : (
        <div className="spine-studies">
          {groups.map((g) => (
            <div key={g.source} className="spine-study" data-testid={`study-${g.source}`}>
              <div className="spine-study-head">
                <span className="mono ellipsis grow" title={g.source}>
                  {g.source}
                </span>
                {g.items[0].studyUid && (
                  <span className="muted small mono" title={`StudyInstanceUID ${g.items[0].studyUid}`}>
                    {shortUid(g.items[0].studyUid)}
                  </span>
                )}
                <button className="ghost icon" onClick={() => removeSource(g.source)} disabled={running} aria-label={`Remove ${g.source}`} title="Remove">
                  ×
                </button>
              </div>
              {g.items.map((t) => (
                <SeriesRow key={t.key} t={t} selected={t.key === selected} choice={g.items.length > 1} running={running} />
              ))}
            </div>
          ))}
        </div>
      )}
    </Panel>
  );
}

const STATUS_TEXT: Record<SeriesEntry['status'], string> = {
  loading: 'loading',
  ready: 'ready',
  running: 'running',
  done: 'done',
  error: 'error',
  cancelled: 'cancelled',
};

function SeriesRow({ t, selected, choice, running }: { t: SeriesEntry; selected: boolean; choice: boolean; running: boolean }) {
  const frac = t.status === 'running' ? progressFraction(t.progress) : t.status === 'done' ? 1 : 0;
  return (
    <div className={`spine-series ${selected ? 'selected' : ''} st-${t.status}`} onClick={() => useSpine.setState({ selected: t.key })} data-testid={`series-${t.key}`}>
      <div className="spine-series-line">
        {choice && (
          <input
            type="radio"
            name={`choice-${t.source}`}
            checked={t.chosen}
            disabled={running}
            onChange={() => chooseSeries(t.key)}
            onClick={(e) => e.stopPropagation()}
            title="Run this series for the study"
            data-testid={`series-choose-${t.key}`}
          />
        )}
        <span className="grow ellipsis" title={t.seriesUid ? `SeriesInstanceUID ${t.seriesUid}` : undefined}>
          {t.description || (t.kind === 'nifti' ? 'NIfTI volume' : t.seriesUid ? `series ${shortUid(t.seriesUid)}` : `${t.nFiles} files`)}
        </span>
        <span className="mono small muted">{t.shape ? `${t.shape[0]} × ${t.shape[1]}×${t.shape[2]}` : `${t.nFiles} f`}</span>
        <span className={`badge status-${t.status === 'ready' ? 'idle' : t.status}`} data-testid={`series-status-${t.key}`}>
          {STATUS_TEXT[t.status]}
        </span>
      </div>
      {(t.status === 'running' || t.status === 'loading') && (
        <div className="mini-progress" title={t.progress ? `${t.progress.stage}: ${t.progress.done} / ${t.progress.total}` : undefined}>
          <div className="progress-fill" style={{ width: `${(100 * frac).toFixed(1)}%` }} />
        </div>
      )}
      {t.status === 'running' && t.progress && (
        <div className="muted small mono">
          {t.progress.stage} {t.progress.done}/{t.progress.total}
        </div>
      )}
      {t.status === 'done' && t.result && (
        <div className="muted small mono">
          {(t.result.wallMs / 1000).toFixed(1)} s · {t.result.backend === 'webgpu' ? 'WebGPU' : 'WASM'}
        </div>
      )}
      {t.error && (
        <div className="queue-error" data-testid={`series-error-${t.key}`}>
          {t.error}
        </div>
      )}
      {t.warnings.length > 0 && (
        <div className="queue-note small" data-testid={`series-warnings-${t.key}`}>
          {t.warnings.join(' · ')}
        </div>
      )}
    </div>
  );
}
