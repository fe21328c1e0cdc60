/** The "Protein localisation" preset page: inputs, queue and values, the field of view with CAM and cells, run, probabilities, score and exports (src/ui/protein/page.ts says what it is). */
import type { ProteinLabels } from '../../core/presets/protein';
import { proteinPresetInfo } from '../../core/presets/protein';
import { KitPage } from '../kit/KitPage';
import { ResultsPanel } from '../kit/ResultsPanel';
import { exposeProteinHooks, proteinStore as store, type FovMeta } from './page';
import { ProteinView } from './ProteinView';
import { AllImagesTable, CellTable, ProbabilityPanel } from './tables';
import './protein.css';

/** Test ids of the values that are not kebab(key) (kept as the page had them). */
const PARAM_IDS = { minProbability: 'min-p', keepRatio: 'keep', iouThreshold: 'iou' };

const fovColumn = {
  head: 'image',
  cell: (t: { meta?: unknown }) => {
    const m = t.meta as FovMeta | undefined;
    return m ? `${m.width} x ${m.height}, ${m.bits}-bit · ${m.mask ? 'cell mask' : 'no mask: simple segmentation'}` : '–';
  },
};

function PipelineNotes() {
  return (
    <details className="small" data-testid="protein-notes">
      <summary>Pipeline ({proteinPresetInfo.source})</summary>
      <ul className="protein-notes">
        {proteinPresetInfo.notes.map((n) => (
          <li key={n}>{n}</li>
        ))}
      </ul>
    </details>
  );
}

export function ProteinApp() {
  return (
    <KitPage store={store} name="protein" prefix="protein"
      exposeHooks={exposeProteinHooks}
      inputs={{
        testId: 'protein-inputs',
        buttons: [
          { label: 'Open images…', testId: 'protein-open-files', inputTestId: 'protein-file-input', title: '<id>_red/green/blue/yellow.png (+ <id>_cells.png), 4-channel TIFFs, cell_labels.csv' },
          { label: 'Open folder…', testId: 'protein-open-folder', inputTestId: 'protein-folder-input', folder: true },
          { label: 'Add models…', testId: 'protein-add-models', inputTestId: 'protein-model-input', accept: '.onnx,.json', idleOnly: true, title: 'One or several ONNX models (folds): logits and class maps are averaged' },
        ],
        models: { testId: 'protein-model', className: 'protein-list', detail: (m) => (m.info.outputs.some((o) => o.dims.length === 4) ? 'CAM' : 'occlusion'), combined: 'averaged before sigmoid / CAM' },
        labels: {
          testId: 'protein-gt',
          summary: (l) => `${(l as ProteinLabels).cells.size} images`,
          none: 'None (optional: cell_labels.csv with ID, cell, Label for the cell mAP).',
        },
      }}
      queue={{ idHead: 'field of view', rowIds: 'fov', columns: [fovColumn] }}
      params={{ title: 'Preset: protein localisation', prefix: 'param', ids: PARAM_IDS, testId: 'protein-params', presetDefaultsText: 'HPA 2021 single-cell pipeline (proteinPreset)' }}
      notes={<PipelineNotes />}
      view={[
        ['the image view', <ProteinView />],
        [
          'the cell tables',
          <>
            <CellTable />
            <AllImagesTable />
          </>,
        ],
      ]}
      results={
        <>
          <ResultsPanel store={store} title="Score and export" testId="protein-results" metric={{ testId: 'protein-metric', valueTestId: 'protein-map', digits: 4 }} exportIds={['protein-export-cells', 'protein-export-submission']} />
          <ProbabilityPanel />
        </>
      }
    />
  );
}
