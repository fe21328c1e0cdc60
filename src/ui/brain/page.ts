/**
 * The "Brain MRI" page on the kit (src/ui/kit/README.md): its store made from the core's
 * brainPresetDef, what it shows of a volume, its view values and which of them travel in links,
 * and the demo's file list (the bundled MeshNet model, its card and the T1). Everything it does
 * (intake, reads in the worker, models, runs, tissue_volumes.csv, the labels NIfTI, links,
 * sessions) is the kit's.
 */
import { z } from '../../core/zod';
import { sessionZ } from '../../core/preset/derive';
import { brainPresetDef, type BrainItem } from '../../core/presets/brain';
import { spatialShape } from '../../core/volume';
import { bundled, type PageDemo } from '../kit/demo';
import { exportText } from '../kit/runner';
import { createPresetStore } from '../kit/store';
import { OPACITY_FIELD, sliceField, volumeShare } from '../kit/viewFields';
import type { SliceView } from '../store';

export interface BrainView {
  /** The tissue labels over the volume. */
  showLabels: boolean;
  opacity: number;
  sliceType: SliceView;
}

/** What the queue and the view show of a read volume. */
export interface BrainMeta {
  /** (D, H, W): NIfTI k, j, i. */
  shape: [number, number, number];
  /** mm per voxel, (D, H, W). */
  spacing: [number, number, number];
}

/** BrainMeta as a session gives it back (checked before the page takes it). */
const brainMetaSchema: z.ZodType<BrainMeta> = z.object({ shape: sessionZ.point3, spacing: sessionZ.point3 });

export const brainStore = createPresetStore(brainPresetDef, {
  key: 'brain',
  texts: { item: 'volume', items: 'volumes', modelsCombined: 'summed before the argmax' },
  view: { showLabels: true, opacity: 0.5, sliceType: 'multiplanar' } as BrainView,
  ui: null,
  meta: (v: BrainItem): BrainMeta => ({ shape: spatialShape(v.volume), spacing: [...v.volume.spacing] as BrainMeta['spacing'] }),
  metaSchema: brainMetaSchema,
  sourceLabel: (src) => (/\.gz$/i.test(src.paths[0] ?? '') ? 'NIfTI (.nii.gz)' : 'NIfTI (.nii)'),
  // MeshNet declares a fixed 256³ input but is fully convolutional: it runs at the card's roi (192)
  relaxDims: true,
});

export type BrainStore = typeof brainStore;

export const BRAIN_SLICES: SliceView[] = ['axial', 'coronal', 'sagittal', 'multiplanar', 'render'];

/** The bundled demo (public/demo/meshnet): the MeshNet tissue model, its card and a conformed T1. */
export const brainDemo: PageDemo = {
  name: 'brain-mri',
  files: async () => [bundled('demo/meshnet/card.json', 'meshnet.json'), bundled('demo/meshnet/model.onnx', 'meshnet.onnx'), bundled('demo/meshnet/t1.nii.gz')],
};

/** Links and sessions: every preset value (the specs' link keys), the backend, the volume shown and the view. */
export const brainShare = volumeShare(brainStore, 'volume', { slice: sliceField(BRAIN_SLICES), tissue: { key: 'showLabels' }, opacity: OPACITY_FIELD }, brainDemo);

/** The demo, loaded as the demo's (links say `?demo=brain-mri`), run unless `run: false`. */
export const openBrainMriDemo = (opts?: { run?: boolean }): Promise<void> => brainShare.openDemo(opts);

declare global {
  interface Window {
    /** Test handles: the brain store and the exact tissue_volumes.csv text. */
    __voxelbenchBrain?: { store: BrainStore; csv: () => string };
  }
}

export function exposeBrainHooks(): void {
  window.__voxelbenchBrain = { store: brainStore, csv: () => exportText(brainStore) };
}
