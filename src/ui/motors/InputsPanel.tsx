/** Open buttons (tomogram folder/files, models, labels), the models and the labels of the motors page. */
import { useRef } from 'react';
import type { TomogramLabel } from '../../core/motors/postprocess';
import { TOMOGRAM_ACCEPT } from '../../core/motors/sources';
import { ModelList, takeFiles as take } from '../common';
import { pickedFiles } from '../kit/files';
import { useKit } from '../kit/hooks';
import { addFiles, clearLabels, loadLabelsFile } from '../kit/intake';
import { removeModel } from '../kit/models';
import { Panel } from '../Panel';
import { motorsStore as store } from './page';

export function InputsPanel() {
  const folderRef = useRef<HTMLInputElement>(null);
  const filesRef = useRef<HTMLInputElement>(null);
  const modelRef = useRef<HTMLInputElement>(null);
  const labelsRef = useRef<HTMLInputElement>(null);
  const running = useKit(store, (s) => s.batch.status === 'running');
  const busy = useKit(store, (s) => s.busy !== null);
  const models = useKit(store, (s) => s.models);
  const labels = useKit(store, (s) => s.labels);
  const add = (files: File[]) => void addFiles(store, pickedFiles(files));
  const rows = (labels?.parsed ?? []) as TomogramLabel[];
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
      <input ref={folderRef} type="file" hidden multiple {...{ webkitdirectory: '', directory: '' }} onChange={(e) => add(take(e))} data-testid="tomogram-folder-input" />
      <input ref={filesRef} type="file" hidden multiple accept={TOMOGRAM_ACCEPT} onChange={(e) => add(take(e))} data-testid="tomogram-file-input" />
      <input ref={modelRef} type="file" hidden multiple accept=".onnx,.json" onChange={(e) => add(take(e))} data-testid="motor-model-input" />
      <input
        ref={labelsRef}
        type="file"
        hidden
        accept=".csv,text/csv"
        onChange={(e) => {
          const f = take(e)[0];
          if (f) void loadLabelsFile(store, f);
        }}
        data-testid="labels-input"
      />
      <div className="subhead">Models {models.length > 1 && <span className="muted">(summed)</span>}</div>
      <ModelList models={models} className="motor-list" testId="motor-model" detail={(m) => `${(m.info.parameters / 1e6).toFixed(2)} M`} onRemove={(name) => removeModel(store, name)} disabled={running} />
      <div className="subhead">Labels</div>
      {labels ? (
        <div className="motor-list-row" data-testid="motor-labels">
          <span className="grow ellipsis mono" title={labels.name}>
            {labels.name}
          </span>
          <span className="muted small">
            {rows.length} tomograms · {rows.reduce((a, r) => a + r.motors.length, 0)} motors
          </span>
          <button className="ghost icon" onClick={() => clearLabels(store)} aria-label="Remove labels" title="Remove">
            ×
          </button>
        </div>
      ) : (
        <div className="muted small">None (optional: distances, TP/FP/FN and F-beta).</div>
      )}
    </Panel>
  );
}
