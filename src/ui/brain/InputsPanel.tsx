/** Open buttons (volumes, model and card) and the models of the brain page. */
import { useRef } from 'react';
import { ModelList, takeFiles as take } from '../common';
import { pickedFiles } from '../kit/files';
import { useKit } from '../kit/hooks';
import { addFiles } from '../kit/intake';
import { removeModel } from '../kit/models';
import { Panel } from '../Panel';
import { brainStore as store } from './page';

export function InputsPanel() {
  const volumesRef = useRef<HTMLInputElement>(null);
  const modelRef = useRef<HTMLInputElement>(null);
  const running = useKit(store, (s) => s.batch.status === 'running');
  const busy = useKit(store, (s) => s.busy !== null);
  const models = useKit(store, (s) => s.models);
  const from = useKit(store, (s) => s.paramsFrom);
  const add = (files: File[]) => void addFiles(store, pickedFiles(files));
  return (
    <Panel title="Inputs" testId="brain-inputs">
      <div className="kit-open-grid" style={{ gridTemplateColumns: "1fr 1fr" }}>
        <button onClick={() => volumesRef.current?.click()} data-testid="open-brain-volumes" title="T1-weighted NIfTI volumes (.nii, .nii.gz), any orientation and voxel size">
          Open volumes…
        </button>
        <button onClick={() => modelRef.current?.click()} disabled={running || busy} data-testid="add-brain-model" title="A tissue model (.onnx) and its model card (.json): several models are summed before the argmax">
          Add model…
        </button>
      </div>
      <input ref={volumesRef} type="file" hidden multiple accept=".nii,.gz" onChange={(e) => add(take(e))} data-testid="brain-volume-input" />
      <input ref={modelRef} type="file" hidden multiple accept=".onnx,.json" onChange={(e) => add(take(e))} data-testid="brain-model-input" />
      <div className="subhead">Models {models.length > 1 && <span className="muted">(summed)</span>}</div>
      <ModelList
        models={models}
        className="kit-list"
        testId="brain-model"
        detail={(m) => `${(m.info.parameters / 1e3).toFixed(1)} k · [${m.info.inputs[0]?.dims.join(', ') ?? '?'}]`}
        onRemove={(name) => removeModel(store, name)}
        disabled={running}
      />
      <div className="muted small" data-testid="brain-values-from">
        Values from {from === 'preset' ? 'the preset (the MeshNet demo card)' : from}.
      </div>
    </Panel>
  );
}
