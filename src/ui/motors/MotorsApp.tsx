/** The "Flagellar motors" preset page: inputs, queue and values, view and detections, run and scores (src/ui/motors/page.ts says what it is). */
import { useEffect, useMemo } from 'react';
import { planWindows } from '../../core/slidingWindow';
import { ErrorBoundary } from '../ErrorBoundary';
import { FileDrop, useRunKeys } from '../FileDrop';
import { useKit } from '../kit/hooks';
import { addFiles } from '../kit/intake';
import { QueuePanel, RunPanel } from '../kit/panels';
import { ParamsForm } from '../kit/ParamsForm';
import { cancelBatch, runBatch } from '../kit/runner';
import { KitStatusLine } from '../MessageBanner';
import { PageLayout } from '../PageLayout';
import { InputsPanel } from './InputsPanel';
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

const shapeColumn = { head: 'Z×Y×X', cell: (t: { meta?: unknown }) => ((t.meta as TomoMeta | undefined)?.shape.join('×') ?? '–') };

export function MotorsApp() {
  useEffect(exposeMotorsHooks, []);
  useRunKeys(
    () => runBatch(store),
    () => cancelBatch(store),
  );
  return (
    <FileDrop onFiles={(files, emptyFolders) => void addFiles(store, files, emptyFolders)} hint={store.preset.inputs.hint}>
      <PageLayout
        className="motors-app"
        layoutClassName="motors-layout"
        testId="motors-app"
        inputs={
          <>
            <InputsPanel />
            <QueuePanel
              store={store}
              prefix="motor"
              idHead="tomo_id"
              columns={[shapeColumn]}
              onSelect={(t) => {
                const point = t.status === 'done' ? store.getState().items.find((x) => x.id === t.id)?.result?.point : undefined;
                if (point) centreView(t.id, point);
                else store.setState({ selected: t.id });
              }}
              progressTitle={(p) => {
                const m = p as typeof p & { model: number; tta: number };
                return `model ${m.model + 1}, TTA ${m.tta + 1}: window ${p.done} / ${p.total}`;
              }}
            />
            <ParamsForm store={store} title="Preset: flagellar motors" prefix="param" ids={PARAM_IDS} testId="motor-params" after={{ tta: <PlanLine /> }} presetDefaultsText="BYU 2025 1st place (motorsPreset)" />
          </>
        }
        view={
          <div className="motors-centre">
            <ErrorBoundary what="the viewer">
              <MotorsView />
            </ErrorBoundary>
            <ErrorBoundary what="the detections table">
              <ResultsTable />
            </ErrorBoundary>
          </div>
        }
        statusLine={<KitStatusLine store={store} />}
        run={
          <>
            <RunPanel store={store} prefix="motor" runTitle="Run the models on the tomograms whose results are missing or out of date" />
            <ScorePanel />
          </>
        }
      />
    </FileDrop>
  );
}
