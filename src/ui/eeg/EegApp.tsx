/** The "EEG spectrogram" preset page: inputs, queue and values, spectrogram with CAM and results, run, score and export (src/ui/eeg/page.ts says what it is). */
import type { OpenButton } from '../kit/InputsPanel';
import { KitPage } from '../kit/KitPage';
import { ResultsPanel } from '../kit/ResultsPanel';
import type { EegVotes } from '../../core/presets/eeg';
import { EegView } from './EegView';
import { eegStore as store, exposeEegHooks, type EegMeta } from './page';
import { ResultsTable } from './ResultsTable';
import './eeg.css';

/** Test ids of the values that are not kebab(key) (kept as the page had them). */
const PARAM_IDS = { window: 'window-mode', 'occlusionParams.patch': 'occ-patch', 'occlusionParams.stride': 'occ-stride' };

const hasMaps = (m: { info: { outputs: { dims: unknown[] }[] } }): boolean => m.info.outputs.some((o) => o.dims.length === 4);

const OPEN_BUTTONS: OpenButton[] = [
  { label: 'Spectrograms…', testId: 'eeg-open-files', inputTestId: 'eeg-file-input', accept: '.parquet', title: 'HMS spectrogram .parquet files (time + 400 columns LL_0.59 .. RP_19.92)' },
  { label: 'Models…', testId: 'eeg-add-models', inputTestId: 'eeg-model-input', accept: '.onnx,.json', idleOnly: true, title: 'One or several ONNX models (folds): the softmax is averaged' },
  { label: 'Votes CSV…', testId: 'eeg-open-votes', inputTestId: 'eeg-votes-input', accept: '.csv,text/csv', title: 'eeg_id,seizure_vote,lpd_vote,gpd_vote,lrda_vote,grda_vote,other_vote' },
];

export function EegApp() {
  return (
    <KitPage store={store} name="eeg" prefix="eeg" exposeHooks={exposeEegHooks}
      inputs={{
        testId: 'eeg-inputs',
        buttons: OPEN_BUTTONS,
        models: { testId: 'eeg-model', className: 'eeg-list', detail: (m) => (hasMaps(m) ? 'CAM' : 'logits'), combined: 'folds, softmax averaged' },
        labels: { testId: 'eeg-votes', summary: (v) => String((v as EegVotes).rows.size), none: 'Optional: expert votes for the KL divergence.' },
      }}
      queue={{ idHead: 'eeg_id', rowIds: 'eeg-file', columns: [{ head: 'rows', cell: (t) => (t.meta as EegMeta | undefined)?.rows ?? '–' }] }}
      params={{ title: 'Preset: EEG spectrogram', prefix: 'eeg', ids: PARAM_IDS, testId: 'eeg-params', presetDefaultsText: 'HMS 2024 spectrogram baseline (eegPreset)' }}
      view={[
        ['the spectrogram view', <EegView />],
        ['the results table', <ResultsTable />],
      ]}
      run={{ progressNote: (p) => (p.stage === 'occlusion' ? ` · occlusion ${p.done}/${p.total}` : '') }}
      results={<ResultsPanel store={store} title="Score and export" testId="eeg-score" metric={{ testId: 'eeg-kl', valueTestId: 'eeg-kl-value', digits: 4 }} exportIds={['eeg-export']} />}
    />
  );
}
