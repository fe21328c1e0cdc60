/**
 * Sorting what a user dropped, picked or listed for the spine preset into CT studies, models,
 * model cards and a labels file. Pure: works on paths (folder/…/name) and opaque file handles, so
 * the page (browser Files), the command line (paths) and tests share it.
 *
 * - the folder that holds all the DICOM files and notes is the folder of studies (the CLI's
 *   `--studies DIR`; a dropped "studies" folder): each of its subfolders is one DICOM source, with
 *   every file below it (a study folder with one subfolder per series is one source that reads
 *   into several series); its own files form one source too (a study folder dropped on its own,
 *   or loose files: 'dropped files');
 * - .nii / .nii.gz files are one source each, named after the file (its folder is added when two
 *   would have the same name: 's0001/ct', 's0002/ct');
 * - .onnx files are models, .json model cards, .csv labels;
 * - notes next to a series (text, images, PDFs) go with their source, which reads around them; a
 *   folder with nothing else keeps a source so that its row says there is no DICOM in it; notes
 *   outside any source are ignored.
 */
import type { SortedInputs } from '../preset/types';
import { naturalCompare } from '../motors/tomogram';
import { baseName, type PickedFile } from '../motors/sources';

export { baseName, type PickedFile };

export type SpineSource<F> =
  /** A study folder (or the loose files): its DICOM candidates in natural order, and the notes next to them. */
  | { kind: 'dicom'; id: string; folder: string; files: PickedFile<F>[]; ignored: string[] }
  | { kind: 'nifti'; id: string; file: PickedFile<F> };

export interface SortedSpineFiles<F> {
  sources: SpineSource<F>[];
  models: PickedFile<F>[];
  cards: PickedFile<F>[];
  labels: PickedFile<F>[];
  /** Notes outside any source. */
  ignored: string[];
  /** Sources left out because another one has the same id. */
  duplicates: { skipped: string; kept: string; id: string }[];
}

export const NIFTI_EXT = /\.nii(\.gz)?$/i;
export const MODEL_EXT = /\.onnx$/i;
export const CARD_EXT = /\.json$/i;
export const LABELS_EXT = /\.csv$/i;
/** Files nobody means as DICOM: notes and documents next to a series. */
export const TEXT_EXT = /\.(md|txt|html?|pdf|xml|log|py|sh|zip|jpe?g|png)$/i;

/** The id of a source of loose files (DICOM files dropped without their folder). */
export const LOOSE_FILES_ID = 'dropped files';

export const dirName = (path: string): string => (path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '');
/** Hidden and system files nobody means to drop (.DS_Store, Thumbs.db, DICOMDIR index). */
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

/** The deepest folder that holds every one of `dirs` ('' when they share none). */
function commonFolder(dirs: readonly string[]): string {
  if (dirs.length === 0) return '';
  let parts = dirs[0] === '' ? [] : dirs[0].split('/');
  for (const d of dirs) {
    const q = d === '' ? [] : d.split('/');
    let i = 0;
    while (i < parts.length && i < q.length && parts[i] === q[i]) i++;
    parts = parts.slice(0, i);
  }
  return parts.join('/');
}

/** The study folder a folder belongs to: the folder of studies itself, or its subfolder on the way to `dir`. */
function studyFolder(root: string, dir: string): string {
  if (dir === root) return root;
  const rel = root === '' ? dir : dir.slice(root.length + 1);
  const first = rel.split('/')[0];
  return root === '' ? first : `${root}/${first}`;
}

/** Sorts the files; `emptyFolders` are folders a directory walk found empty (a file input never reports those). */
export function sortSpineFiles<F>(files: readonly PickedFile<F>[], emptyFolders: readonly string[] = []): SortedSpineFiles<F> {
  const out: SortedSpineFiles<F> = { sources: [], models: [], cards: [], labels: [], ignored: [], duplicates: [] };
  const nifti: PickedFile<F>[] = [];
  const series: { f: PickedFile<F>; text: boolean }[] = [];
  for (const f of files) {
    const name = baseName(f.path);
    if (isJunk(name)) continue;
    const kind = kindOf(name);
    if (kind === 'model') out.models.push(f);
    else if (kind === 'card') out.cards.push(f);
    else if (kind === 'labels') out.labels.push(f);
    else if (kind === 'nifti') nifti.push(f);
    else series.push({ f, text: kind === 'text' });
  }

  const root = commonFolder([...series.map((x) => dirName(x.f.path)), ...emptyFolders]);
  const groups = new Map<string, { dicom: PickedFile<F>[]; text: string[] }>();
  for (const { f, text } of series) {
    const key = studyFolder(root, dirName(f.path));
    if (!groups.has(key)) groups.set(key, { dicom: [], text: [] });
    const g = groups.get(key)!;
    if (text) g.text.push(f.path);
    else g.dicom.push(f);
  }
  for (const dir of emptyFolders) {
    const key = studyFolder(root, dir);
    if (!groups.has(key)) groups.set(key, { dicom: [], text: [] });
  }

  const found: SpineSource<F>[] = [];
  const subfolders = [...groups.keys()].some((k) => k !== root);
  for (const [dir, g] of groups) {
    if (g.dicom.length > 0) {
      g.dicom.sort((a, b) => naturalCompare(a.path, b.path));
      found.push({ kind: 'dicom', id: dir || LOOSE_FILES_ID, folder: dir, files: g.dicom, ignored: g.text });
    } else if (dir !== '' && !(dir === root && subfolders)) {
      // a folder with only notes in it (or none): its row says there is no DICOM
      found.push({ kind: 'dicom', id: dir, folder: dir, files: [], ignored: g.text });
    } else out.ignored.push(...g.text);
  }

  // NIfTI: the file name without extension, or its path when two (or a study folder) would share
  // it, or the whole path when that is a study folder's name too
  const stem = (p: string): string => baseName(p).replace(NIFTI_EXT, '');
  const count = new Map<string, number>();
  for (const id of [...found.map((s) => s.id), ...nifti.map((f) => stem(f.path))]) count.set(id, (count.get(id) ?? 0) + 1);
  const folders = new Set(found.map((s) => s.id));
  for (const f of nifti) {
    const path = f.path.replace(NIFTI_EXT, '');
    const id = (count.get(stem(f.path)) ?? 0) === 1 ? stem(f.path) : folders.has(path) ? f.path : path;
    found.push({ kind: 'nifti', id, file: f });
  }

  const seen = new Map<string, SpineSource<F>>();
  for (const s of found) {
    const prev = seen.get(s.id);
    if (prev) {
      out.duplicates.push({ skipped: describeSpineSource(s), kept: describeSpineSource(prev), id: s.id });
      continue;
    }
    seen.set(s.id, s);
    out.sources.push(s);
  }
  out.sources.sort((a, b) => naturalCompare(a.id, b.id));
  return out;
}

/** "92 files", "1 file". */
export const nFiles = (n: number): string => `${n} file${n === 1 ? '' : 's'}`;

/** A short description for messages: "the folder studies/a/ (92 files)", "ct.nii.gz". */
export function describeSpineSource<F>(s: SpineSource<F>): string {
  if (s.kind === 'nifti') return s.file.path;
  return `the folder ${s.folder || '(picked files)'}/ (${nFiles(s.files.length)})`;
}

/**
 * The preset contract's sort (src/core/preset/types.ts): the same rules on bare paths. A DICOM
 * source lists its DICOM candidates, then the notes next to them (its `read` names them as skipped).
 */
export function sortSpinePaths(paths: readonly string[], emptyFolders: readonly string[] = []): SortedInputs {
  const s = sortSpineFiles(
    paths.map((path) => ({ path, file: path })),
    emptyFolders,
  );
  return {
    sources: s.sources.map((x) => ({ id: x.id, kind: x.kind, paths: x.kind === 'dicom' ? [...x.files.map((f) => f.path), ...x.ignored] : [x.file.path] })),
    models: s.models.map((f) => f.path),
    cards: s.cards.map((f) => f.path),
    labels: s.labels.map((f) => f.path),
    ignored: s.ignored,
    notes: s.duplicates.map((d) => `${d.id}: skipped ${d.skipped}, kept ${d.kept} (one source per id)`),
  };
}
