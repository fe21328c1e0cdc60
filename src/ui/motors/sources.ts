/** The motors page sorts dropped files with core's rules (src/core/motors/sources.ts); here with browser Files. */
import type * as core from '../../core/motors/sources';

export type PickedFile<F = File> = core.PickedFile<F>;
export type TomoSource<F = File> = core.TomoSource<F>;
export type SortedFiles<F = File> = core.SortedFiles<F>;
export { baseName, describeSource, sortFiles, sourceLabel, CARD_EXT, IMAGE_EXT, LABELS_EXT, MODEL_EXT, TIFF_EXT, TOMOGRAM_ACCEPT, VOLUME_EXT } from '../../core/motors/sources';
