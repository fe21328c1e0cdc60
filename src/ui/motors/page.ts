/**
 * The "Flagellar motors" page on the kit (src/ui/kit/README.md): its store made from the core's
 * motorsPresetDef, what it shows of a tomogram, its view values and which of them travel in links,
 * and the demo's file list. Everything it does (intake, reads in the worker, models, batch runs,
 * submission.csv, links, sessions) is the kit's.
 */
import { z } from '../../core/zod';
import { parseLabelsCsv, type TomogramLabel } from '../../core/motors/postprocess';
import { sourceLabel, type TomoSource } from '../../core/motors/sources';
import type { Point3 } from '../../core/motors/pipeline';
import type { Tomogram } from '../../core/motors/tomogram';
import { motorsPresetDef } from '../../core/presets/motors';
import { sessionZ } from '../../core/preset/derive';
import type { ItemSource } from '../../core/preset/types';
import type { Volume } from '../../core/volume';
import { bundled, bundledModel, fetchOk, type PageDemo } from '../kit/demo';
import { ensureItem } from '../kit/intake';
import { exportText } from '../kit/runner';
import { createPresetStore } from '../kit/store';
import { OPACITY_FIELD, sliceField, volumeShare } from '../kit/viewFields';
import type { SliceView } from '../store';

export interface MotorsView {
  showHeatmap: boolean;
  showPoints: boolean;
  opacity: number;
  /** Heatmap values below this fraction of the tomogram's maximum are transparent. */
  heatmapFloor: number;
  /** Slice layout of the view. */
  sliceType: SliceView;
}

/** What the queue and the view show of a read tomogram. */
export interface TomoMeta {
  /** (Z, Y, X). */
  shape: [number, number, number];
  /** Angstrom per voxel from the file, if it gave one. */
  spacing?: number;
}

/** TomoMeta as a session gives it back (checked before the page takes it). */
const tomoMetaSchema: z.ZodType<TomoMeta> = z.object({ shape: sessionZ.point3, spacing: sessionZ.num.optional() });

/** Where the viewer looks (never in links or sessions). */
export interface MotorsUi {
  /** A request to centre the view on a point of a tomogram (table clicks), applied once it is shown. */
  centre: { id: string; voxel: Point3 } | null;
  /** The tomogram the viewer shows and its grid. */
  shown: { id: string; grid: Volume } | null;
  /** The user picked where to look in the shown tomogram: a new result does not move the view. */
  centredByUser: boolean;
}

/** The queue's label of a source before it is read: "64 JPG slices", "MRC file", "TIFF stack". */
function tomoSourceLabel(src: ItemSource): string {
  const f = (path: string) => ({ path, file: path });
  const t: TomoSource<string> = src.kind === 'slices' ? { kind: 'slices', id: src.id, folder: '', files: src.paths.map(f) } : { kind: src.kind === 'tiff' ? 'tiff' : 'volume', id: src.id, file: f(src.paths[0] ?? src.id) };
  return sourceLabel(t);
}

const motorCount = (labels: readonly TomogramLabel[]): number => labels.reduce((a, r) => a + r.motors.length, 0);

export const motorsStore = createPresetStore(motorsPresetDef, {
  key: 'motors',
  texts: {
    item: 'tomogram',
    items: 'tomograms',
    modelsCombined: 'summed after the sigmoid',
    labelsSummary: (l) => {
      const rows = l as TomogramLabel[];
      const n = motorCount(rows);
      return `${rows.length} tomograms, ${n} motor${n === 1 ? '' : 's'}`;
    },
  },
  view: { showHeatmap: true, showPoints: true, opacity: 0.65, heatmapFloor: 0.5, sliceType: 'multiplanar' } as MotorsView,
  ui: { centre: null, shown: null, centredByUser: false } as MotorsUi,
  meta: (t: Tomogram): TomoMeta => ({ shape: t.shape, ...(t.spacing !== undefined ? { spacing: t.spacing } : {}) }),
  metaSchema: tomoMetaSchema,
  sourceLabel: tomoSourceLabel,
});

export type MotorsStore = typeof motorsStore;

const SLICES: SliceView[] = ['axial', 'coronal', 'sagittal', 'multiplanar'];

/** The bundled demo: the motor heatmap model with its card, labels.csv and the simulated tomograms as JPEG slice folders (ids and slice counts from labels.csv). */
export const motorsDemo: PageDemo = {
  name: 'motors',
  async files() {
    const labels = parseLabelsCsv(await (await fetchOk('samples/tomograms/labels.csv')).text());
    const slices = labels.flatMap((row) =>
      Array.from({ length: row.shape?.[0] ?? 0 }, (_, z) => {
        const name = `slice_${String(z).padStart(4, '0')}.jpg`;
        return { url: `samples/tomograms/${row.id}/${name}`, path: `${row.id}/${name}` };
      }),
    );
    return [...bundledModel('models/motor_heatmap'), bundled('samples/tomograms/labels.csv'), ...slices];
  },
};

/** Links and sessions: every preset value (the specs' link keys), the backend, the tomogram shown and the view. */
export const motorsShare = volumeShare(
  motorsStore,
  'tomo',
  {
    slice: sliceField(SLICES),
    heatmap: { key: 'showHeatmap' },
    points: { key: 'showPoints' },
    opacity: OPACITY_FIELD,
    floor: { key: 'heatmapFloor', field: { min: 0, max: 0.99 }, digits: 4 },
  },
  motorsDemo,
);

/** The demo, loaded as the demo's (links say `?demo=motors`), run unless `run: false`. */
export const openMotorsDemo = (opts?: { run?: boolean }): Promise<void> => motorsShare.openDemo(opts);

declare global {
  interface Window {
    /** Test handles: the motors store, the exact submission text, a tomogram's voxels as read. */
    __voxelbenchMotors?: { store: MotorsStore; submission: () => string; tomogram: (id: string) => Promise<Tomogram | null> };
  }
}

export function exposeMotorsHooks(): void {
  window.__voxelbenchMotors = {
    store: motorsStore,
    submission: () => exportText(motorsStore),
    tomogram: (id) => ensureItem(motorsStore, id, true) as Promise<Tomogram | null>,
  };
}
