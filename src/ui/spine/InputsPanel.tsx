/** Open buttons (study folders, NIfTI or DICOM files, models and cards, labels), the models by stage and the labels of the spine page. */
import { useRef } from 'react';
import type { SpineLabel } from '../../core/spine/export';
import { ModelList, takeFiles as take } from '../common';
import { pickedFiles } from '../kit/files';
import { useKit } from '../kit/hooks';
import { addFiles, clearLabels } from '../kit/intake';
import { removeModel } from '../kit/models';
import { Panel } from '../Panel';
import { spineStore as store } from './page';

const STAGE: Record<string, { badge: string; title: string }> = {
  seg: { badge: 'seg', title: 'stage 1: segmentation' },
  cls: { badge: 'frac', title: 'stage 2: fracture' },
};

export function InputsPanel() {
  const folderRef = useRef<HTMLInputElement>(null);
  const filesRef = useRef<HTMLInputElement>(null);
  const modelRef = useRef<HTMLInputElement>(null);
  const labelsRef = useRef<HTMLInputElement>(null);
  const running = useKit(store, (s) => s.batch.status === 'running');
  const busy = useKit(store, (s) => s.busy !== null);
  const models = useKit(store, (s) => s.models);
  const labels = useKit(store, (s) => s.labels);
  // everything goes through the one intake: the preset's sort says what each file is
  const add = (files: File[]) => void addFiles(store, pickedFiles(files));
  const nStudies = (labels?.parsed as Map<string, SpineLabel> | undefined)?.size ?? 0;
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
      <input ref={folderRef} type="file" hidden multiple {...{ webkitdirectory: '', directory: '' }} onChange={(e) => add(take(e))} data-testid="study-folder-input" />
      <input ref={filesRef} type="file" hidden multiple onChange={(e) => add(take(e))} data-testid="study-file-input" />
      <input ref={modelRef} type="file" hidden multiple accept=".onnx,.json" onChange={(e) => add(take(e))} data-testid="spine-model-input" />
      <input ref={labelsRef} type="file" hidden accept=".csv,text/csv" onChange={(e) => add(take(e))} data-testid="spine-labels-input" />
      <div className="subhead">Models</div>
      <ModelList
        models={models}
        className="motor-list"
        testId="spine-model"
        empty="No model yet: stage 1 (C1..C7 segmentation) is needed, stage 2 (fractures) is optional."
        badge={(m) => (
          <span className={`badge stage-${m.role}`} title={STAGE[m.role]?.title}>
            {STAGE[m.role]?.badge ?? m.role}
          </span>
        )}
        detail={(m) => `${(m.info.parameters / 1e6).toFixed(2)} M`}
        onRemove={(name) => removeModel(store, name)}
        disabled={running}
      />
      <div className="subhead">Labels</div>
      {labels ? (
        <div className="motor-list-row" data-testid="spine-labels">
          <span className="grow ellipsis mono" title={labels.name}>
            {labels.name}
          </span>
          <span className="muted small">
            {nStudies} stud{nStudies === 1 ? 'y' : 'ies'}
          </span>
          <button className="ghost icon" onClick={() => clearLabels(store)} aria-label="Remove labels" title="Remove">
            ×
          </button>
        </div>
      ) : (
        <div className="muted small">None (optional: the weighted log loss).</div>
      )}
    </Panel>
  );
}
