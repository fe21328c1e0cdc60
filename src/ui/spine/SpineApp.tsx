/** The "Cervical spine CT" preset page: inputs, series and values, the CT view with C1..C7, the vertebra table, run, export and score (src/ui/spine/page.ts says what it is). */
import { useEffect } from 'react';
import { ErrorBoundary } from '../ErrorBoundary';
import { FileDrop, useRunKeys } from '../FileDrop';
import { addFiles } from '../kit/intake';
import { cancelAll, QueuePanel, RunPanel } from '../kit/panels';
import { ParamsForm } from '../kit/ParamsForm';
import { runBatch } from '../kit/runner';
import { KitStatusLine } from '../MessageBanner';
import { PageLayout } from '../PageLayout';
import { InputsPanel } from './InputsPanel';
import type { ItemEntry } from '../kit/types';
import { exposeSpineHooks, metaOf, spineStore as store } from './page';
import { ScorePanel } from './ScorePanel';
import { SpineView } from './SpineView';
import { VertebraTable } from './VertebraTable';
import '../motors/motors.css';
import './spine.css';

/** The spine values' test ids that are not kebab(key) (kept as the page had them). */
const PARAM_IDS = { sliceCount: 'slices', fallbackThreshold: 'fallback' };

const shortUid = (uid: string): string => (uid.length > 18 ? `…${uid.slice(-14)}` : uid);

/** The series column: its description (or UID) and size once read. */
const seriesColumn = {
  head: 'series',
  cell: (t: ItemEntry) => {
    const m = metaOf(t);
    if (!m) return '–';
    const name = m.description || (m.kind === 'nifti' ? 'NIfTI volume' : m.seriesUid ? `series ${shortUid(m.seriesUid)}` : '');
    return (
      <span title={m.seriesUid ? `SeriesInstanceUID ${m.seriesUid}` : undefined}>
        {name && (
          <div className="ellipsis" title={name}>
            {name}
          </div>
        )}
        {m.shape[0]} × {m.shape[1]}×{m.shape[2]}
      </span>
    );
  },
};

export function SpineApp() {
  useEffect(exposeSpineHooks, []);
  useRunKeys(
    () => runBatch(store),
    () => cancelAll(store),
  );
  return (
    <FileDrop onFiles={(files, emptyFolders) => void addFiles(store, files, emptyFolders)} hint={store.preset.inputs.hint}>
      <PageLayout
        className="spine-app"
        layoutClassName="spine-layout"
        testId="spine-app"
        inputs={
          <>
            <InputsPanel />
            <QueuePanel
              store={store}
              prefix="spine"
              idHead="study / series"
              rowIds="series"
              groupIds="study"
              statusText={{ waiting: 'ready' }}
              columns={[seriesColumn]}
              progressTitle={(p) => `${p.stage}: ${p.done} / ${p.total}`}
            />
            <ParamsForm store={store} title="Preset: cervical spine" prefix="spine-param" ids={PARAM_IDS} testId="spine-params" presetDefaultsText="RSNA 2022 1st place (spinePreset)" />
          </>
        }
        view={
          <div className="spine-centre">
            <ErrorBoundary what="the viewer">
              <SpineView />
            </ErrorBoundary>
            <ErrorBoundary what="the vertebra table">
              <VertebraTable />
            </ErrorBoundary>
          </div>
        }
        statusLine={<KitStatusLine store={store} />}
        run={
          <>
            <RunPanel store={store} prefix="spine" reads runTitle="Run the chosen series whose results are missing or out of date (Ctrl/Cmd+Enter)" />
            <ScorePanel />
          </>
        }
      />
    </FileDrop>
  );
}
