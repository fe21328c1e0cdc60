/** The "Flagellar motors" preset page: inputs, queue and values, view and detections, run and scores (src/ui/motors/page.ts says what it is). */
import { useMemo } from 'react';
import { planWindows } from '../../core/slidingWindow';
import type { TomogramLabel } from '../../core/motors/postprocess';
import { TOMOGRAM_ACCEPT } from '../../core/motors/sources';
import { useKit } from '../kit/hooks';
import type { RunProgress } from '../../core/preset/types';
import type { OpenButton } from '../kit/InputsPanel';
import { KitPage } from '../kit/KitPage';
import type { ItemEntry } from '../kit/types';
import { centreView, MotorsView } from './MotorsView';
import { exposeMotorsHooks, motorsStore as store, type TomoMeta } from './page';
import { ResultsTable } from './ResultsTable';
import { ScorePanel } from './ScorePanel';
import './motors.css';

/** The motors values' test ids that are not kebab(key) (kept as the page had them). */
const PARAM_IDS = { inputSize: 'input', minPeakDistance: 'min-distance', distanceThresholdAngstrom: 'distance-threshold', defaultVoxelSpacing: 'voxel-spacing' };

/** How many windows and model runs the values give per tomogram and model. */
function PlanLine() {
  const p = useKit(store, (s) => s.params);
  const plan = useMemo(() => {
    try {
      const n = planWindows(p.inputSize, { roi: p.roi, overlap: p.overlap }).starts.length;
      return { n, passes: n * p.tta.length };
    } catch {
      return null;
    }
  }, [p.inputSize, p.roi, p.overlap, p.tta.length]);
  if (!plan) return null;
  return (
    <div className="muted small" data-testid="param-plan">
      {plan.n} window{plan.n === 1 ? '' : 's'} × {p.tta.length} TTA = {plan.passes} model runs per tomogram and model
    </div>
  );
}

const labelsSummary = (parsed: unknown): string => {
  const rows = parsed as TomogramLabel[];
  return `${rows.length} tomograms · ${rows.reduce((a, r) => a + r.motors.length, 0)} motors`;
};

const progressTitle = (p: RunProgress): string => {
  const m = p as typeof p & { model: number; tta: number };
  return `model ${m.model + 1}, TTA ${m.tta + 1}: window ${p.done} / ${p.total}`;
};

const shapeColumn = { head: 'Z×Y×X', cell: (t: { meta?: unknown }) => ((t.meta as TomoMeta | undefined)?.shape.join('×') ?? '–') };

/** Selecting a finished tomogram centres the view on its detected point. */
function selectTomogram(t: ItemEntry): void {
  const point = t.status === 'done' ? store.getState().items.find((x) => x.id === t.id)?.result?.point : undefined;
  if (point) centreView(t.id, point);
  else store.setState({ selected: t.id });
}

const OPEN_BUTTONS: OpenButton[] = [
  { label: 'Open tomogram folder…', testId: 'open-tomogram-folder', inputTestId: 'tomogram-folder-input', folder: true, title: 'A folder of slices, or a folder of tomogram folders / MRC / TIFF files' },
  { label: 'Open tomogram files…', testId: 'open-tomogram-files', inputTestId: 'tomogram-file-input', accept: TOMOGRAM_ACCEPT, title: 'MRC/REC files, TIFF stacks, or the slices of one tomogram' },
  { label: 'Add models…', testId: 'add-models', inputTestId: 'motor-model-input', accept: '.onnx,.json', idleOnly: true, title: 'One or several ONNX models (folds/seeds): summed after the sigmoid' },
  { label: 'Labels CSV…', testId: 'open-labels', inputTestId: 'labels-input', accept: '.csv,text/csv', labels: true, title: 'train_labels.csv format: tomo_id, Motor axis 0/1/2, Voxel spacing, …' },
];

export function MotorsApp() {
  return (
    <KitPage
      store={store}
      name="motors"
      prefix="motor"
      centreClassName="kit-centre"
      exposeHooks={exposeMotorsHooks}
      inputs={{
        testId: 'motor-inputs',
        columns: 2,
        buttons: OPEN_BUTTONS,
        models: { testId: 'motor-model', className: 'kit-list', detail: (m) => `${(m.info.parameters / 1e6).toFixed(2)} M`, combined: 'summed' },
        labels: { testId: 'motor-labels', summary: labelsSummary, none: 'None (optional: distances, TP/FP/FN and F-beta).' },
      }}
      queue={{ idHead: 'tomo_id', columns: [shapeColumn], onSelect: selectTomogram, progressTitle }}
      params={{ title: 'Preset: flagellar motors', prefix: 'param', ids: PARAM_IDS, testId: 'motor-params', after: { tta: <PlanLine /> }, presetDefaultsText: 'BYU 2025 1st place (motorsPreset)' }}
      view={[
        ['the viewer', <MotorsView />],
        ['the detections table', <ResultsTable />],
      ]}
      run={{ runTitle: 'Run the models on the tomograms whose results are missing or out of date' }}
      results={<ScorePanel />}
    />
  );
}
