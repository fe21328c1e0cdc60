/**
 * The "EEG spectrogram" page on the kit (src/ui/kit/README.md): its store made from the core's
 * eegPresetDef, what it shows of a spectrogram, its view values (the CAM's class, on/off and
 * opacity) and which of them travel in links, and the demo's files. Everything it does (intake,
 * parquet read in the worker, models, batch runs with occlusion progress and Esc, submission.csv,
 * the KL against votes, links, sessions) is the kit's.
 */
import { z } from '../../core/zod';
import type { Spectrogram } from '../../core/eeg/parquet';
import { sessionZ } from '../../core/preset/derive';
import { eegPresetDef, type EegParams, type EegVotes } from '../../core/presets/eeg';
import type { ItemSource } from '../../core/preset/types';
import { bundled, type PageDemo } from '../kit/demo';
import { exportText } from '../kit/runner';
import { presetShare } from '../kit/share';
import { createPresetStore } from '../kit/store';
import type { PresetState } from '../kit/types';

export interface EegView {
  /** The class whose CAM (or occlusion map) is shown. */
  cls: number;
  showCam: boolean;
  opacity: number;
}

/** What the queue and the view show of a read spectrogram. */
export interface EegMeta {
  name: string;
  rows: number;
  /** Parquet type of the time column ('missing' without one). */
  timeType: string;
  nanCount: number;
}

/** EegMeta as a session gives it back (checked before the page takes it). */
const eegMetaSchema: z.ZodType<EegMeta> = z.object({ name: z.string(), rows: sessionZ.num, timeType: z.string(), nanCount: sessionZ.num });

const baseName = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

export const eegStore = createPresetStore(eegPresetDef, {
  key: 'eeg',
  texts: {
    item: 'spectrogram',
    items: 'spectrograms',
    modelsCombined: 'the softmax is averaged',
    labelsSummary: (v) => {
      const t = v as EegVotes;
      return `${t.rows.size} eeg_id${t.rows.size === 1 ? '' : 's'}${t.warnings.length ? `; ${t.warnings.join('; ')}` : ''}`;
    },
  },
  view: { cls: 0, showCam: true, opacity: 0.6 } as EegView,
  ui: {},
  meta: (s: Spectrogram): EegMeta => ({ name: s.name, rows: s.rows, timeType: s.timeType, nanCount: s.nanCount }),
  metaSchema: eegMetaSchema,
  sourceLabel: (src: ItemSource) => baseName(src.paths[0] ?? src.id),
});

export type EegStore = typeof eegStore;

const SAMPLES = ['sim_seizure_001', 'sim_lpd_002', 'real_eegmmidb_S001R03'];

/** The demo: two simulated and one real EEG-derived spectrogram, the expert votes and the demo model. */
export const eegDemo: PageDemo = {
  name: 'eeg',
  files: async () => [bundled('models/eeg_spectrogram.onnx'), bundled('samples/eeg/votes.csv'), ...SAMPLES.map((id) => bundled(`samples/eeg/${id}.parquet`))],
};

const classesOf = (s: PresetState): string[] => (s.params as EegParams).classes;

/** Links and sessions: every preset value (the specs' link keys), the backend, the spectrogram shown (`file`) and the CAM view (`cls` by name, `cam`, `opacity`). */
export const eegShare = presetShare(
  eegStore,
  {
    selected: 'file',
    fields: {
      cls: {
        key: 'cls',
        field: (s) => ({ choices: classesOf(s) }),
        toLink: (k, s) => classesOf(s)[k as number] ?? classesOf(s)[0],
        fromLink: (x, s) => Math.max(0, classesOf(s).indexOf(String(x))),
      },
      cam: { key: 'showCam' },
      opacity: { key: 'opacity', field: { min: 0, max: 1 }, digits: 4 },
    },
    scene: false,
  },
  eegDemo,
);

declare global {
  interface Window {
    /** Test handles: the EEG store and the exact submission text. */
    __voxelbenchEeg?: { store: EegStore; submission: () => string };
  }
}

export function exposeEegHooks(): void {
  window.__voxelbenchEeg = { store: eegStore, submission: () => exportText(eegStore) };
}
