/** The spine page sorts dropped files with core's rules (src/core/spine/sources.ts); here with browser Files. */
import type * as core from '../../core/spine/sources';

export type PickedFile<F = File> = core.PickedFile<F>;
export type SpineSource<F = File> = core.SpineSource<F>;
export type SortedSpineFiles<F = File> = core.SortedSpineFiles<F>;
export { baseName, dirName, describeSpineSource, nFiles, sortSpineFiles, CARD_EXT, LABELS_EXT, MODEL_EXT, NIFTI_EXT, TEXT_EXT } from '../../core/spine/sources';
