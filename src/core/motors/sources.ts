/**
 * Sorting what a user dropped or picked into tomograms, models, model cards and a labels file.
 * Pure: works on paths (folder/…/name) and opaque file handles, so it is unit-testable.
 *
 * - every folder that holds image slices (JPEG/PNG, and TIFF next to them) is one tomogram; its id
 *   is the folder name; the folder's other files go with it (core/motors/tomogram.ts orders the
 *   slices, skips the non-images with a warning and names what is wrong: empty, missing slices…);
 * - every MRC/REC (or NIfTI/.npy) file and every TIFF outside a slice folder is one tomogram; its
 *   id is the file name without extensions;
 * - .onnx files are models, .json files model cards, .csv files labels;
 * - a leaf folder with no slices (empty, or only other files) is kept as a tomogram so that its row
 *   says what is wrong with it;
 * - two sources with the same id: the slice folder wins (the competition's format), the others
 *   are skipped and reported.
 */
import type { SortedInputs } from '../preset/types';
import { naturalCompare, tomogramId } from './tomogram';

export interface PickedFile<F> {
  /** Path relative to what was dropped or picked, '/'-separated: "tomograms/tomo_001/slice_0000.jpg". */
  path: string;
  file: F;
}

export type TomoSource<F> =
  /** A folder of slices (all its files that are nothing else; may be empty). */
  | { kind: 'slices'; id: string; folder: string; files: PickedFile<F>[] }
  /** MRC/REC, NIfTI or .npy: core/io readVolume. */
  | { kind: 'volume'; id: string; file: PickedFile<F> }
  /** A multi-page TIFF. */
  | { kind: 'tiff'; id: string; file: PickedFile<F> };

export interface SortedFiles<F> {
  tomograms: TomoSource<F>[];
  models: PickedFile<F>[];
  cards: PickedFile<F>[];
  labels: PickedFile<F>[];
  /** Files that are none of the above and sit outside slice folders. */
  ignored: string[];
  /** Sources skipped because another one has the same id: what was skipped and what was kept. */
  duplicates: { skipped: string; kept: string; id: string }[];
}

export const IMAGE_EXT = /\.(jpe?g|png)$/i;
export const VOLUME_EXT = /\.(mrc|mrcs|rec|map|st|ali|nii|npy)(\.gz)?$/i;
export const TIFF_EXT = /\.tiff?$/i;
export const MODEL_EXT = /\.onnx$/i;
export const CARD_EXT = /\.json$/i;
export const LABELS_EXT = /\.csv$/i;

/** Accept strings for the file pickers. */
export const TOMOGRAM_ACCEPT = '.mrc,.mrcs,.rec,.map,.st,.ali,.tif,.tiff,.nii,.gz,.npy,.jpg,.jpeg,.png';

export const baseName = (path: string): string => path.slice(path.lastIndexOf('/') + 1);
const dirName = (path: string): string => (path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '');
/** Hidden and system files nobody means to drop (.DS_Store, Thumbs.db, ._foo). */
const isJunk = (name: string): boolean => name.startsWith('.') || /^(thumbs\.db|desktop\.ini)$/i.test(name);

type Kind = 'image' | 'tiff' | 'volume' | 'model' | 'card' | 'labels' | 'other';

function kindOf(name: string): Kind {
  if (IMAGE_EXT.test(name)) return 'image';
  if (TIFF_EXT.test(name)) return 'tiff';
  if (VOLUME_EXT.test(name)) return 'volume';
  if (MODEL_EXT.test(name)) return 'model';
  if (CARD_EXT.test(name)) return 'card';
  if (LABELS_EXT.test(name)) return 'labels';
  return 'other';
}

const rank = { slices: 0, volume: 1, tiff: 2 } as const;

/**
 * Sorts the files. `emptyFolders` are folders a directory walk found with nothing in them (a
 * file input never reports those).
 */
export function sortFiles<F>(files: PickedFile<F>[], emptyFolders: string[] = []): SortedFiles<F> {
  const out: SortedFiles<F> = { tomograms: [], models: [], cards: [], labels: [], ignored: [], duplicates: [] };
  const byDir = new Map<string, { f: PickedFile<F>; kind: Kind }[]>();
  const folders = new Set<string>();
  for (const f of files) {
    const name = baseName(f.path);
    if (isJunk(name)) continue;
    const dir = dirName(f.path);
    for (let d = dir; d; d = dirName(d)) folders.add(d);
    if (!byDir.has(dir)) byDir.set(dir, []);
    byDir.get(dir)!.push({ f, kind: kindOf(name) });
  }
  const hasSubfolder = (dir: string): boolean => [...folders].some((d) => d.startsWith(`${dir}/`));

  const found: TomoSource<F>[] = [];
  for (const [dir, list] of [...byDir].sort((a, b) => naturalCompare(a[0], b[0]))) {
    const images = list.some((x) => x.kind === 'image');
    const recognised = list.some((x) => x.kind !== 'other');
    // a slice folder: images, or a leaf folder with nothing usable in it (its row says why)
    const sliceFolder = dir !== '' && (images || (!recognised && !hasSubfolder(dir)));
    const sliceFiles: PickedFile<F>[] = [];
    for (const { f, kind } of list) {
      if (kind === 'model') out.models.push(f);
      else if (kind === 'card') out.cards.push(f);
      else if (kind === 'labels') out.labels.push(f);
      else if (kind === 'volume') found.push({ kind: 'volume', id: tomogramId(f.path), file: f });
      else if (sliceFolder || (kind === 'image' && dir === '')) sliceFiles.push(f);
      else if (kind === 'tiff') found.push({ kind: 'tiff', id: tomogramId(f.path), file: f });
      else out.ignored.push(f.path);
    }
    if (sliceFiles.length > 0) {
      // slices picked as files (no folder): name the tomogram after their common prefix
      const id = dir ? baseName(dir) : commonStem(sliceFiles.map((x) => baseName(x.path))) || 'tomogram';
      found.push({ kind: 'slices', id, folder: dir, files: sliceFiles });
    }
  }
  for (const dir of emptyFolders) {
    if (byDir.has(dir) || hasSubfolder(dir)) continue;
    found.push({ kind: 'slices', id: baseName(dir) || dir, folder: dir, files: [] });
  }

  found.sort((a, b) => rank[a.kind] - rank[b.kind]);
  const seen = new Map<string, TomoSource<F>>();
  for (const t of found) {
    const prev = seen.get(t.id);
    if (prev) {
      out.duplicates.push({ skipped: describeSource(t), kept: describeSource(prev), id: t.id });
      continue;
    }
    seen.set(t.id, t);
    out.tomograms.push(t);
  }
  out.tomograms.sort((a, b) => naturalCompare(a.id, b.id));
  return out;
}

/** "slice" from ["slice_0000.jpg", "slice_0001.jpg"], without trailing digits and separators. */
function commonStem(names: string[]): string {
  if (names.length === 0) return '';
  let p = names[0].replace(/\.[^.]+$/, '');
  for (const n of names) while (!n.startsWith(p)) p = p.slice(0, -1);
  return p.replace(/\d+$/, '').replace(/[_\-. ]+$/, '');
}

/** A short description for messages: "the folder tomo_001/ (64 files)", "tomo_001.mrc". */
export function describeSource<F>(t: TomoSource<F>): string {
  if (t.kind === 'slices') return `the folder ${t.folder || '(picked slices)'}/ (${t.files.length} file${t.files.length === 1 ? '' : 's'})`;
  return t.file.path;
}

/** What the queue shows as the source before loading: "64 JPG files", "MRC file", "TIFF stack". */
export function sourceLabel<F>(t: TomoSource<F>): string {
  if (t.kind === 'slices') {
    const imgs = t.files.filter((x) => IMAGE_EXT.test(x.path) || TIFF_EXT.test(x.path));
    const exts = new Set(imgs.map((x) => (/\.([^.]+)$/.exec(x.path)?.[1] ?? '?').toUpperCase().replace('JPEG', 'JPG')));
    const kind = exts.size === 1 ? [...exts][0] : 'image';
    return `${imgs.length} ${kind} slice${imgs.length === 1 ? '' : 's'}`;
  }
  if (t.kind === 'tiff') return 'TIFF stack';
  const ext = /\.([a-z]+)(\.gz)?$/i.exec(t.file.path)?.[1].toUpperCase() ?? 'volume';
  return `${ext} file`;
}

/** The preset contract's sort (src/core/preset/types.ts): the same rules on bare paths. */
export function sortTomogramPaths(paths: readonly string[], emptyFolders: string[] = []): SortedInputs {
  const s = sortFiles(paths.map((path) => ({ path, file: path })), emptyFolders);
  return {
    sources: s.tomograms.map((t) => ({ id: t.id, kind: t.kind, paths: t.kind === 'slices' ? t.files.map((f) => f.path) : [t.file.path] })),
    models: s.models.map((f) => f.path),
    cards: s.cards.map((f) => f.path),
    labels: s.labels.map((f) => f.path),
    ignored: s.ignored,
    notes: s.duplicates.map((d) => `${d.id}: skipped ${d.skipped}, kept ${d.kept} (one source per tomogram id)`),
  };
}
