/** The "Brain MRI" preset page: inputs, queue and values, view and tissue volumes, run and downloads (src/ui/brain/page.ts says what it is). */
import { useEffect } from 'react';
import { ErrorBoundary } from '../ErrorBoundary';
import { FileDrop, useRunKeys } from '../FileDrop';
import { addFiles } from '../kit/intake';
import { QueuePanel, RunPanel } from '../kit/panels';
import { ParamsForm } from '../kit/ParamsForm';
import { useWorkerRecovery } from '../kit/recovery';
import { cancelBatch, runBatch } from '../kit/runner';
import { PageLayout } from '../PageLayout';
import { BrainView } from './BrainView';
import { InputsPanel } from './InputsPanel';
import { brainStore as store, exposeBrainHooks, type BrainMeta } from './page';
import { DownloadsPanel, TissueTable } from './TissueTable';
import './brain.css';

const shapeColumn = { head: 'D×H×W', cell: (t: { meta?: unknown }) => ((t.meta as BrainMeta | undefined)?.shape.join('×') ?? '–') };

export function BrainApp() {
  useEffect(exposeBrainHooks, []);
  // a worker that dies is replaced and given its models again
  useWorkerRecovery(store);
  useRunKeys(
    () => runBatch(store),
    () => cancelBatch(store),
  );
  return (
    <FileDrop onFiles={(files, emptyFolders) => void addFiles(store, files, emptyFolders)} hint={store.preset.inputs.hint}>
      <PageLayout
        className="brain-app"
        layoutClassName="brain-layout"
        testId="brain-app"
        inputs={
          <>
            <InputsPanel />
            <QueuePanel store={store} prefix="brain" idHead="volume" columns={[shapeColumn]} progressTitle={(p) => `${p.stage ?? 'run'}: ${p.done} / ${p.total}`} />
            <ParamsForm store={store} title="Preset: brain MRI" prefix="brain-param" testId="brain-params" presetDefaultsText="the MeshNet demo card (brainPreset)" />
          </>
        }
        view={
          <div className="kit-centre">
            <ErrorBoundary what="the viewer">
              <BrainView />
            </ErrorBoundary>
            <ErrorBoundary what="the tissue table">
              <TissueTable />
            </ErrorBoundary>
          </div>
        }
        run={
          <>
            <RunPanel store={store} prefix="brain" runTitle="Run the models on the volumes whose results are missing or out of date" />
            <DownloadsPanel />
          </>
        }
      />
    </FileDrop>
  );
}
