/**
 * The "Cervical spine CT" page on the kit (src/ui/kit/README.md): its store made from the core's
 * spinePresetDef, what it shows of a CT series, its view values and which of them travel in links,
 * the passing view state (the series shown, a centre request, mask editing), and the demo's file
 * list. Everything it does (intake, DICOM and NIfTI reads in the worker, models by stage, batch
 * runs, masks and submission.csv, links, sessions) is the kit's.
 */
import { z } from '../../core/zod';
import { sessionZ } from '../../core/preset/derive';
import { spinePresetDef, VERTEBRAE, type SpineItemResult, type SpineRunProgress } from '../../core/presets/spine';
import type { ItemSource } from '../../core/preset/types';
import type { SpineLabel } from '../../core/spine/export';
import type { SpineItem } from '../../core/spine/item';
import { baseName, nFiles, TEXT_EXT } from '../../core/spine/sources';
import type { Volume } from '../../core/volume';
import { fetchOk, type PageDemo } from '../kit/demo';
import { downloadItemExport, exportText, itemExportFile } from '../kit/runner';
import { presetShare, type ViewShare } from '../kit/share';
import { createPresetStore } from '../kit/store';
import { CT_WINDOWS } from './display';

export type SpineSliceView = 'axial' | 'coronal' | 'sagittal' | 'multiplanar' | 'render';

/** What links and sessions carry of the view. */
export interface SpineViewValues {
  sliceType: SpineSliceView;
  showMasks: boolean;
  /** Per vertebra C1..C7. */
  visible: boolean[];
  opacity: number;
  /** CT window: level and width in HU; `windowId` is the preset they came from ('' = edited). */
  level: number;
  width: number;
  windowId: string;
}

/** What the queue and the view show of a read series. */
export interface SeriesMeta {
  kind: 'dicom' | 'nifti';
  studyUid: string;
  seriesUid: string;
  description: string;
  /** [D, H, W] = [slices, rows, cols]. */
  shape: [number, number, number];
  /** mm. */
  spacing: number[];
  order: SpineItem['order'];
}

/** SeriesMeta as a session gives it back (checked before the page takes it). */
const seriesMetaSchema: z.ZodType<SeriesMeta> = z.object({
  kind: z.enum(['dicom', 'nifti']),
  studyUid: z.string(),
  seriesUid: z.string(),
  description: z.string(),
  shape: sessionZ.point3,
  spacing: sessionZ.nums,
  order: z.enum(['position', 'filename']).nullable(),
});

/** Where the viewer looks and what it edits (never in links or sessions). */
export interface SpineUi {
  /** The series the viewer shows and its CT (as read: HU, the masks' grid). */
  shown: { id: string; ct: Volume } | null;
  /** A request to centre the view on voxel [d, h, w] of a series (table clicks), applied once it is shown. */
  centre: { id: string; voxel: [number, number, number] } | null;
  /** The series whose masks are Niivue's drawing, or null. */
  editing: string | null;
  /** The pen value while editing (0 = eraser, k = C_k). */
  pen: number | null;
}

/** The user's corrected masks of a series (in the CT's voxel order) and how many voxels differ from the model's. */
export interface SpineEdits {
  labels: Uint8Array;
  changed: number;
}

/**
 * SpineEdits as a session gives them back, for a series with `result`: masks of the model's size
 * (one label per voxel of its masks), a count of changed voxels (checked before the page takes them).
 */
export const spineEditsSchema = (result: SpineItemResult | undefined): z.ZodType<SpineEdits> =>
  z.object({
    labels: sessionZ.typed(Uint8Array).superRefine((a, ctx) => {
      if (result && a.length !== result.labels.length) ctx.addIssue({ code: 'custom', message: `expected ${result.labels.length} labels (the series' masks), got ${a.length}` });
    }),
    changed: z.number().int().nonnegative(),
  });

/** The queue's label of a source before it is read: "92 DICOM files", "NIfTI file". */
function seriesSourceLabel(src: ItemSource): string {
  if (src.kind === 'nifti') return 'NIfTI file';
  const n = src.paths.filter((p) => !TEXT_EXT.test(baseName(p))).length;
  return `${nFiles(n).replace('file', 'DICOM file')}`;
}

const studies = (n: number): string => `${n} stud${n === 1 ? 'y' : 'ies'}`;

export const spineStore = createPresetStore(spinePresetDef, {
  key: 'spine',
  texts: {
    item: 'series',
    items: 'series',
    modelsCombined: 'averaged after the sigmoid',
    labelsSummary: (l) => studies((l as Map<string, SpineLabel>).size),
    reading: 'Decoding',
  },
  view: {
    sliceType: 'multiplanar',
    showMasks: true,
    visible: VERTEBRAE.map(() => true),
    opacity: 0.55,
    level: 400,
    width: 1800,
    windowId: 'bone',
  } as SpineViewValues,
  ui: { shown: null, centre: null, editing: null, pen: null } as SpineUi,
  meta: ({ kind, studyUid, seriesUid, description, shape, spacing, order }: SpineItem): SeriesMeta => ({ kind, studyUid, seriesUid, description, shape: [...shape], spacing: [...spacing], order }),
  metaSchema: seriesMetaSchema,
  editsSchema: spineEditsSchema,
  sourceLabel: seriesSourceLabel,
  // a study folder with several series runs one of them (the largest, or the one picked)
  onePerSource: true,
  partId: (src, item) => `${src.id}#${item.seriesUid}`,
  // a stage-1 card and a stage-2 card each give some of the values
  cardsAddUp: true,
  // the slice order is a reading value: a new order reads the series again
  readParams: ['order'],
  progressFraction: (p: SpineRunProgress) => p.fraction,
});

export type SpineStore = typeof spineStore;
/** A series in the page's queue. */
export type SeriesEntry = ReturnType<SpineStore['getState']>['items'][number];

export const metaOf = (t: { meta?: unknown } | null | undefined): SeriesMeta | undefined => t?.meta as SeriesMeta | undefined;
export const editsOf = (t: { edits?: unknown } | null | undefined): SpineEdits | undefined => t?.edits as SpineEdits | undefined;

/** The masks to show and to save as "corrected": the user's edits when there are any, else the model's. */
export function currentLabels(t: SeriesEntry | undefined): Uint8Array | undefined {
  if (t?.status !== 'done' || !t.result) return undefined;
  return editsOf(t)?.labels ?? t.result.labels;
}

/** The page's name of a masks file from the preset's ('<StudyInstanceUID>.nii.gz' → '…_vertebrae.nii.gz'). */
const masksName = (corrected: boolean) => (name: string): string => name.replace(/\.nii\.gz$/, corrected ? '_vertebrae_corrected.nii.gz' : '_vertebrae.nii.gz');

/** The masks export (the preset's itemExports) with the user's edits in place of the model's masks. */
function exportOptions(id: string, corrected: boolean) {
  const t = spineStore.getState().items.find((x) => x.id === id);
  const labels = corrected ? currentLabels(t) : undefined;
  return { file: masksName(corrected), ...(labels && t?.result ? { result: { ...t.result, labels } } : {}) };
}

/** Downloads a series' masks as .nii.gz in the CT's space (`corrected`: with the user's edits). */
export function downloadMasks(id: string, corrected: boolean): Promise<void> {
  return downloadItemExport(spineStore, id, 0, exportOptions(id, corrected));
}

export const SLICES: SpineSliceView[] = ['axial', 'coronal', 'sagittal', 'multiplanar', 'render'];

/** The bundled demo: the simulated neck CT (a DICOM folder listed in samples/ct/series.json), both models with their cards and the labels. */
export const spineDemo: PageDemo = {
  name: 'spine',
  async files() {
    const manifest = (await (await fetchOk('samples/ct/series.json')).json()) as Record<string, { folder: string; files: string[] }>;
    const sim = manifest.sim_neck;
    if (!sim || !Array.isArray(sim.files)) throw new Error('samples/ct/series.json: no sim_neck entry');
    return [
      { url: 'models/spine_seg.json', path: 'spine_seg.json' },
      { url: 'models/spine_fracture.json', path: 'spine_fracture.json' },
      { url: 'models/spine_seg.onnx', path: 'spine_seg.onnx' },
      { url: 'models/spine_fracture.onnx', path: 'spine_fracture.onnx' },
      { url: 'samples/ct/sim_neck_labels.csv', path: 'sim_neck_labels.csv' },
      ...sim.files.map((name) => ({ url: `samples/ct/${sim.folder}/${name}`, path: `sim_neck/${name}` })),
    ];
  },
};

/** What links carry besides the preset values and the backend: the series shown and the view (slice layout, masks, CT window); sessions keep the whole view. */
const spineLinkView: ViewShare = {
  selected: 'series',
  fields: {
    slice: { key: 'sliceType', field: { choices: SLICES } },
    masks: { key: 'showMasks' },
    opacity: { key: 'opacity', field: { min: 0, max: 1 }, digits: 4 },
    level: { key: 'level', digits: 6 },
    width: { key: 'width', field: { min: 1 }, digits: 6 },
    ctWindow: { key: 'windowId', field: { choices: ['', ...CT_WINDOWS.map((w) => w.id)] } },
  },
  // DICOM URLs keep their folder: the files of one series group as a dropped folder does
  linkFolders: true,
};

export const spineShare = presetShare(spineStore, spineLinkView, spineDemo);

/** The demo, loaded as the demo's (links say `?demo=spine`), run unless `run: false`. */
export const openSpineDemo = (opts?: { run?: boolean }): Promise<void> => spineShare.openDemo(opts);

/** Test handles: the store, the exact submission text, a series' CT as read, its masks file and labels (from the decoded series held). */
export interface SpineHooks {
  store: SpineStore;
  submission: () => string;
  ct: (id: string) => { shape: number[]; affine: number[][]; spacing: number[]; min: number; max: number; sum: number } | null;
  masks: (id: string, corrected: boolean) => { bytes: Uint8Array; name: string } | null;
  labels: (id: string) => Uint8Array | null;
}

declare global {
  interface Window {
    __voxelbenchSpine?: SpineHooks;
  }
}

const heldSeries = (id: string): SpineItem | undefined => spineStore.getState().cache.get(id);

export function exposeSpineHooks(): void {
  window.__voxelbenchSpine = {
    store: spineStore,
    submission: () => exportText(spineStore),
    ct: (id) => {
      const s = heldSeries(id);
      if (!s) return null;
      const d = s.volume.data;
      let [min, max, sum] = [Infinity, -Infinity, 0];
      for (let i = 0; i < d.length; i++) {
        const v = d[i];
        if (v < min) min = v;
        if (v > max) max = v;
        sum += v;
      }
      return { shape: [...s.volume.shape], affine: s.volume.affine.map((r) => [...r]), spacing: [...s.volume.spacing], min, max, sum };
    },
    masks: (id, corrected) => itemExportFile(spineStore, id, heldSeries(id), 0, exportOptions(id, corrected)),
    labels: (id) => currentLabels(spineStore.getState().items.find((t) => t.id === id)) ?? null,
  };
}
