/**
 * The "Protein localisation" page on the kit (src/ui/kit/README.md): its store made from the core's
 * proteinPresetDef, what it shows of a field of view, its view values (channels and contrast, CAM
 * class, opacity, outlines) and which of them travel in links, and the demo's files. Everything it
 * does (intake, PNG/TIFF decoding in the worker, models, batch runs with occlusion progress and Esc,
 * cells.csv and submission.csv, the cell mAP, links, sessions) is the kit's.
 */
import { z } from '../../core/zod';
import { sessionZ } from '../../core/preset/derive';
import { PROTEIN_CHANNELS, proteinPresetDef, type ProteinLabels } from '../../core/presets/protein';
import type { ItemSource, MetricReport } from '../../core/preset/types';
import type { ProteinItem } from '../../core/protein/sources';
import { bundled, bundledModel, type PageDemo } from '../kit/demo';
import { exportText, metricReport } from '../kit/runner';
import { presetShare, type ViewField } from '../kit/share';
import { createPresetStore } from '../kit/store';
import { initialView } from './render';

/** The page's passing state: the cell picked on the canvas or in the table (never in links or sessions). */
export interface ProteinUi {
  selectedCell: number | null;
}

/** What the queue and the view show of a read field of view. */
export interface FovMeta {
  width: number;
  height: number;
  bits: number;
  /** A cell mask was given (else the simple built-in segmentation runs). */
  mask: boolean;
  cellsName?: string;
}

/** FovMeta as a session gives it back (checked before the page takes it). */
const fovMetaSchema: z.ZodType<FovMeta> = z.object({ width: sessionZ.num, height: sessionZ.num, bits: sessionZ.num, mask: z.boolean(), cellsName: z.string().optional() });

/** The queue's label of a source before it is read. */
function fovSourceLabel(src: ItemSource): string {
  const base = src.kind === 'tiff' ? '4-channel TIFF' : `${src.paths.length} of 4 channels`;
  return `${base}${src.extra?.cells ? ' + cell mask' : ''}`;
}

export const proteinStore = createPresetStore(proteinPresetDef, {
  key: 'protein',
  texts: {
    item: 'field of view',
    items: 'fields of view',
    modelsCombined: 'averaged before the sigmoid and the CAM',
    labelsSummary: (l) => {
      const cells = (l as ProteinLabels).cells;
      return `${cells.size} images, ${[...cells.values()].reduce((a, m) => a + m.size, 0)} cells`;
    },
  },
  view: initialView,
  ui: { selectedCell: null } as ProteinUi,
  meta: (t: ProteinItem): FovMeta => ({ width: t.fov.width, height: t.fov.height, bits: t.fov.bits, mask: t.cells !== null, ...(t.cellsName ? { cellsName: t.cellsName } : {}) }),
  metaSchema: fovMetaSchema,
  sourceLabel: fovSourceLabel,
});

export type ProteinStore = typeof proteinStore;

const DEMO_IDS = ['sim_protein_001', 'sim_protein_002'];

/** The demo: two simulated fields of view with their cell masks, the model and its card, the cell labels. */
export const proteinDemo: PageDemo = {
  name: 'protein',
  files: async () => [
    ...bundledModel('models/protein_localisation'),
    bundled('samples/protein/cell_labels.csv'),
    ...DEMO_IDS.flatMap((id) => [...PROTEIN_CHANNELS, 'cells'].map((c) => bundled(`samples/protein/${id}_${c}.png`))),
  ],
};

/** Each channel's switch and contrast: `view.channels.<c>.on`, `view.channels.<c>.max`. */
const channelFields: Record<string, ViewField> = Object.fromEntries(
  PROTEIN_CHANNELS.flatMap((c) => [
    [`view.channels.${c}.on`, { key: `channels.${c}.on` }],
    [`view.channels.${c}.max`, { key: `channels.${c}.max`, field: { min: 0.05, max: 1 }, digits: 4 }],
  ]),
);

/** Links and sessions: every preset value, the backend, the field of view shown (`sel`) and the view (`view.camOpacity`…; `view.camClass=-1` is the top class). */
export const proteinShare = presetShare(
  proteinStore,
  {
    selected: 'sel',
    fields: {
      'view.showCam': { key: 'showCam' },
      'view.camClass': { key: 'camClass', field: { integer: true, min: -1 }, toLink: (k) => (k === null ? -1 : (k as number)), fromLink: (x) => (x === -1 ? null : x) },
      'view.camOpacity': { key: 'camOpacity', field: { min: 0, max: 1 }, digits: 4 },
      'view.showOutlines': { key: 'showOutlines' },
      ...channelFields,
    },
    scene: false,
  },
  proteinDemo,
);

declare global {
  interface Window {
    /** Test handles: the protein store, the exact cells.csv and submission texts, the cell mAP. */
    __voxelbenchProtein?: { store: ProteinStore; cellsCsv: () => string; submission: () => string; metric: () => MetricReport | null };
  }
}

export function exposeProteinHooks(): void {
  window.__voxelbenchProtein = {
    store: proteinStore,
    cellsCsv: () => exportText(proteinStore, 0),
    submission: () => exportText(proteinStore, 1),
    metric: () => metricReport(proteinStore),
  };
}
