/**
 * Voxel arrays of the spine page, by series key: the loaded series (CT in HU, stored values, grid),
 * the model's label map and the user's corrected label map. Kept out of the store (hundreds of MB).
 */
import type { Volume, VoxelArray } from '../../core/volume';

export interface LoadedSeries {
  studyUid: string;
  seriesUid: string;
  /** The CT as shown and as the masks are written: [D, H, W], HU, NIfTI-style affine. */
  volume: Volume;
  /** What the pipeline reads (stored values, no rescale), same order. */
  stored: VoxelArray;
  files: string[];
  order: 'position' | 'filename';
  /** NIfTI only: axes [D, H, W] flipped into the pipeline's order (head first, DICOM pixel order); results are flipped back. */
  flips?: [boolean, boolean, boolean];
  warnings?: string[];
}

interface Held {
  series: LoadedSeries;
  labels?: Uint8Array;
  corrected?: Uint8Array;
}

const held = new Map<string, Held>();

export const loadedSeries = (key: string): LoadedSeries | undefined => held.get(key)?.series;
export const modelLabels = (key: string): Uint8Array | undefined => held.get(key)?.labels;
export const correctedLabels = (key: string): Uint8Array | undefined => held.get(key)?.corrected;
/** The labels to show and to save as "corrected": the edits when there are any, else the model's. */
export const currentLabels = (key: string): Uint8Array | undefined => held.get(key)?.corrected ?? held.get(key)?.labels;

export function holdSeries(key: string, series: LoadedSeries): void {
  held.set(key, { series });
}

export function holdLabels(key: string, labels: Uint8Array): void {
  const h = held.get(key);
  if (h) {
    h.labels = labels;
    h.corrected = undefined;
  }
}

export function holdCorrected(key: string, labels: Uint8Array | undefined): void {
  const h = held.get(key);
  if (h) h.corrected = labels;
}

export function forgetSeries(key?: string): void {
  if (key === undefined) held.clear();
  else held.delete(key);
}
