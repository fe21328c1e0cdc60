/** The "Brain MRI" preset page: inputs, queue and values, view and tissue volumes, run and downloads (src/ui/brain/page.ts says what it is). */
import { useKit } from '../kit/hooks';
import { KitPage } from '../kit/KitPage';
import { BrainView } from './BrainView';
import { brainStore as store, exposeBrainHooks, type BrainMeta } from './page';
import { DownloadsPanel, TissueTable } from './TissueTable';
import './brain.css';

const shapeColumn = { head: 'D×H×W', cell: (t: { meta?: unknown }) => ((t.meta as BrainMeta | undefined)?.shape.join('×') ?? '–') };

/** Where the values came from (the demo card, a dropped card, a model's own card). */
function ValuesFrom() {
  const from = useKit(store, (s) => s.paramsFrom);
  return (
    <div className="muted small" data-testid="brain-values-from">
      Values from {from === 'preset' ? 'the preset (the MeshNet demo card)' : from}.
    </div>
  );
}

export function BrainApp() {
  return (
    <KitPage store={store} name="brain" prefix="brain"
      centreClassName="kit-centre"
      exposeHooks={exposeBrainHooks}
      inputs={{
        testId: 'brain-inputs',
        columns: 2,
        buttons: [
          { label: 'Open volumes…', testId: 'open-brain-volumes', inputTestId: 'brain-volume-input', accept: '.nii,.gz', title: 'T1-weighted NIfTI volumes (.nii, .nii.gz), any orientation and voxel size' },
          { label: 'Add model…', testId: 'add-brain-model', inputTestId: 'brain-model-input', accept: '.onnx,.json', idleOnly: true, title: 'A tissue model (.onnx) and its model card (.json): several models are summed before the argmax' },
        ],
        models: { testId: 'brain-model', className: 'kit-list', detail: (m) => `${(m.info.parameters / 1e3).toFixed(1)} k · [${m.info.inputs[0]?.dims.join(', ') ?? '?'}]`, combined: 'summed' },
        children: <ValuesFrom />,
      }}
      queue={{ idHead: 'volume', columns: [shapeColumn], progressTitle: (p) => `${p.stage ?? 'run'}: ${p.done} / ${p.total}` }}
      params={{ title: 'Preset: brain MRI', prefix: 'brain-param', testId: 'brain-params', presetDefaultsText: 'the MeshNet demo card (brainPreset)' }}
      view={[['the viewer', <BrainView />], ['the tissue table', <TissueTable />]]}
      run={{ runTitle: 'Run the models on the volumes whose results are missing or out of date' }}
      results={<DownloadsPanel />}
    />
  );
}
