/** Kept for the spine, EEG and protein pages' imports until they move onto the kit (src/ui/kit/files.ts). */
export { pickedFiles, walkEntries } from '../kit/files';
