/**
 * Sorting what a user dropped or picked on the spine page. Pure: works on paths and opaque file
 * handles, so it is unit-testable.
 *
 * - every folder's files that are nothing else are one DICOM source (a study folder; core reads
 *   and groups them by series and says which files are no DICOM); loose files outside folders
 *   that are no model, card, labels or NIfTI form one source too;
 * - .nii / .nii.gz files are one source each;
 * - .onnx files are models, .json model cards, .csv labels;
 * - text files (readme, notes) are ignored, and a folder with nothing else keeps a source so that
 *   its row says there is no DICOM in it.
 */
import { naturalCompare } from '../../core/motors/tomogram';

export interface PickedFile<F = File> {
  /** Path relative to what was dropped or picked, '/'-separated: "studies/1.2.3/1.dcm". */
  path: string;
  file: F;
}

export type SpineSource<F = File> =
  | { kind: 'dicom'; id: string; folder: string; files: PickedFile<F>[]; ignored: string[] }
  | { kind: 'nifti'; id: string; file: PickedFile<F> };

export interface SortedSpineFiles<F = File> {
  sources: SpineSource<F>[];
  models: PickedFile<F>[];
  cards: PickedFile<F>[];
  labels: PickedFile<F>[];
  /** Ignored outside any folder source. */
  ignored: string[];
}

export const NIFTI_EXT = /\.nii(\.gz)?$/i;
export const MODEL_EXT = /\.onnx$/i;
export const CARD_EXT = /\.json$/i;
export const LABELS_EXT = /\.csv$/i;
/** Files nobody means as DICOM: notes and documents next to a series. */
export const TEXT_EXT = /\.(md|txt|html?|pdf|xml|log|py|sh|zip|jpe?g|png)$/i;

export const baseName = (path: string): string => path.slice(path.lastIndexOf('/') + 1);
export const dirName = (path: string): string => (path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '');
const isJunk = (name: string): boolean => name.startsWith('.') || /^(thumbs\.db|desktop\.ini|dicomdir)$/i.test(name);

type Kind = 'nifti' | 'model' | 'card' | 'labels' | 'text' | 'dicom';

function kindOf(name: string): Kind {
  if (NIFTI_EXT.test(name)) return 'nifti';
  if (MODEL_EXT.test(name)) return 'model';
  if (CARD_EXT.test(name)) return 'card';
  if (LABELS_EXT.test(name)) return 'labels';
  if (TEXT_EXT.test(name)) return 'text';
  return 'dicom';
}

/** Sorts the files; `emptyFolders` are folders a directory walk found empty. */
export function sortSpineFiles<F>(files: PickedFile<F>[], emptyFolders: string[] = []): SortedSpineFiles<F> {
  const out: SortedSpineFiles<F> = { sources: [], models: [], cards: [], labels: [], ignored: [] };
  const byDir = new Map<string, { dicom: PickedFile<F>[]; text: string[] }>();
  const folders = new Set<string>();
  for (const f of files) {
    const name = baseName(f.path);
    if (isJunk(name)) continue;
    const dir = dirName(f.path);
    for (let d = dir; d; d = dirName(d)) folders.add(d);
    const kind = kindOf(name);
    if (kind === 'model') out.models.push(f);
    else if (kind === 'card') out.cards.push(f);
    else if (kind === 'labels') out.labels.push(f);
    else if (kind === 'nifti') out.sources.push({ kind: 'nifti', id: name.replace(NIFTI_EXT, ''), file: f });
    else {
      if (!byDir.has(dir)) byDir.set(dir, { dicom: [], text: [] });
      const g = byDir.get(dir)!;
      if (kind === 'text') g.text.push(f.path);
      else g.dicom.push(f);
    }
  }
  const hasSubfolder = (dir: string): boolean => [...folders].some((d) => d.startsWith(`${dir}/`));
  for (const [dir, g] of byDir) {
    if (g.dicom.length > 0) {
      g.dicom.sort((a, b) => naturalCompare(a.path, b.path));
      out.sources.push({ kind: 'dicom', id: dir || 'dropped files', folder: dir, files: g.dicom, ignored: g.text });
    } else if (dir !== '' && !hasSubfolder(dir)) {
      // a leaf folder with only notes in it: its row says there is no DICOM
      out.sources.push({ kind: 'dicom', id: dir, folder: dir, files: [], ignored: g.text });
    } else out.ignored.push(...g.text);
  }
  for (const dir of emptyFolders) {
    if (byDir.has(dir) || hasSubfolder(dir)) continue;
    out.sources.push({ kind: 'dicom', id: dir, folder: dir, files: [], ignored: [] });
  }
  out.sources.sort((a, b) => naturalCompare(a.id, b.id));
  return out;
}

/** "92 files", "1 file". */
export const nFiles = (n: number): string => `${n} file${n === 1 ? '' : 's'}`;
