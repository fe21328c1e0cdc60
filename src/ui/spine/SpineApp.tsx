/** The "Cervical spine CT" preset page: inputs, series and values, the CT view with C1..C7, the vertebra table, run, export and score (src/ui/spine/page.ts says what it is). */
import type { SpineLabel } from '../../core/spine/export';
import type { OpenButton } from '../kit/InputsPanel';
import { KitPage } from '../kit/KitPage';
import { cancelAll } from '../kit/panels';
import type { ItemEntry, KitModel } from '../kit/types';
import { exposeSpineHooks, metaOf, spineStore as store } from './page';
import { ScorePanel } from './ScorePanel';
import { SpineView } from './SpineView';
import { VertebraTable } from './VertebraTable';
import './spine.css';

/** The spine values' test ids that are not kebab(key) (kept as the page had them). */
const PARAM_IDS = { sliceCount: 'slices', fallbackThreshold: 'fallback' };

const STAGE: Record<string, { badge: string; title: string }> = {
  seg: { badge: 'seg', title: 'stage 1: segmentation' },
  cls: { badge: 'frac', title: 'stage 2: fracture' },
};

const labelsSummary = (parsed: unknown): string => {
  const n = (parsed as Map<string, SpineLabel>).size;
  return `${n} stud${n === 1 ? 'y' : 'ies'}`;
};

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

const OPEN_BUTTONS: OpenButton[] = [
  { label: 'Open DICOM folder…', testId: 'open-study-folder', inputTestId: 'study-folder-input', folder: true, title: 'A DICOM study folder, or a folder of study folders' },
  { label: 'Open files…', testId: 'open-study-files', inputTestId: 'study-file-input', accept: '', title: 'A .nii / .nii.gz CT, or the DICOM files of one series' },
  { label: 'Add models…', testId: 'add-spine-models', inputTestId: 'spine-model-input', accept: '.onnx,.json', idleOnly: true, title: 'Stage 1 (segmentation, 5D input) and stage 2 (fracture, 4D input) ONNX models, with their cards (.json)' },
  { label: 'Labels CSV…', testId: 'open-spine-labels', inputTestId: 'spine-labels-input', accept: '.csv,text/csv', title: 'train.csv format: StudyInstanceUID, patient_overall, C1..C7' },
];

/** The model's stage before its name. */
const stageBadge = (m: KitModel) => (
  <span className={`badge stage-${m.role}`} title={STAGE[m.role]?.title}>
    {STAGE[m.role]?.badge ?? m.role}
  </span>
);

export function SpineApp() {
  return (
    <KitPage
      store={store}
      name="spine"
      prefix="spine"
      centreClassName="kit-centre"
      cancel={() => cancelAll(store)}
      exposeHooks={exposeSpineHooks}
      inputs={{
        testId: 'spine-inputs',
        columns: 2,
        buttons: OPEN_BUTTONS,
        models: {
          testId: 'spine-model',
          className: 'kit-list',
          oneList: true,
          empty: 'No model yet: stage 1 (C1..C7 segmentation) is needed, stage 2 (fractures) is optional.',
          badge: stageBadge,
          detail: (m) => `${(m.info.parameters / 1e6).toFixed(2)} M`,
        },
        labels: { testId: 'spine-labels', summary: labelsSummary, none: 'None (optional: the weighted log loss).' },
      }}
      queue={{ idHead: 'study / series', rowIds: 'series', groupIds: 'study', statusText: { waiting: 'ready' }, columns: [seriesColumn], progressTitle: (p) => `${p.stage}: ${p.done} / ${p.total}` }}
      params={{ title: 'Preset: cervical spine', prefix: 'spine-param', ids: PARAM_IDS, testId: 'spine-params', presetDefaultsText: 'RSNA 2022 1st place (spinePreset)' }}
      view={[
        ['the viewer', <SpineView />],
        ['the vertebra table', <VertebraTable />],
      ]}
      run={{ reads: true, runTitle: 'Run the chosen series whose results are missing or out of date (Ctrl/Cmd+Enter)' }}
      results={<ScorePanel />}
    />
  );
}
