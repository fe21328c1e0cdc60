/** Kept for the spine, EEG and protein pages' imports until they move onto the kit (src/ui/kit/files.ts). */
import type * as core from '../../core/motors/sources';

export type PickedFile<F = File> = core.PickedFile<F>;
