/**
 * Sorting what a user dropped or listed for the protein preset (pure, on bare paths), by file name
 * (images.ts `groupProteinFiles`): `<id>_red.png`, `_green`, `_blue`, `_yellow` make one RGBY field
 * of view ('rgby', its channel files in that order; an incomplete set is kept so that reading it
 * names what is missing), `<id>.tif` a 4-channel TIFF ('tiff'); `<id>_cells.png` is that field of
 * view's cell mask (`extra.cells`). `.onnx` files are models, `.json` model cards, `.csv` cell labels.
 * Fields of view keep the order of their first file in `paths` (a folder listing sorted by name
 * gives the CLI's order).
 */
import type { InputFile, ItemSource, SortedInputs } from '../preset/types';
import { InputError } from '../volume';
import { classifyProteinFile, groupProteinFiles, PROTEIN_CHANNELS, readFovFiles, type FieldOfView, type FovFiles, type ProteinChannel } from './images';

const baseName = (path: string): string => path.slice(path.lastIndexOf('/') + 1);
/** Hidden and system files nobody means to drop (.DS_Store, Thumbs.db, ._foo). */
const isJunk = (name: string): boolean => name.startsWith('.') || /^(thumbs\.db|desktop\.ini)$/i.test(name);

export function sortProteinPaths(paths: readonly string[]): SortedInputs {
  const out: SortedInputs = { sources: [], models: [], cards: [], labels: [], ignored: [], notes: [] };
  const images: string[] = [];
  for (const path of paths) {
    const name = baseName(path);
    if (isJunk(name)) continue;
    if (/\.onnx$/i.test(name)) out.models.push(path);
    else if (/\.json$/i.test(name)) out.cards.push(path);
    else if (/\.csv$/i.test(name)) out.labels.push(path);
    else images.push(path);
  }
  // the same role twice (x_red.png in two folders): the last one is read, as groupProteinFiles does
  const seen = new Map<string, string>();
  for (const path of images) {
    const c = classifyProteinFile(baseName(path));
    if (!c) continue;
    const key = `${c.id}\n${c.role}`;
    const before = seen.get(key);
    if (before !== undefined) out.notes.push(`${c.id}: two ${c.role === 'tiff' ? 'TIFF' : c.role} files (${before}, ${path}); ${path} is used`);
    seen.set(key, path);
  }
  const { sets, ignored } = groupProteinFiles(images, baseName);
  out.ignored.push(...images.filter((p) => ignored.includes(baseName(p))));
  for (const s of sets) {
    const channels = PROTEIN_CHANNELS.filter((c) => s.channels[c] !== undefined).map((c) => s.channels[c]!);
    const source: ItemSource =
      s.tiff !== undefined && channels.length === 0 ? { id: s.id, kind: 'tiff', paths: [s.tiff] } : { id: s.id, kind: 'rgby', paths: channels };
    if (s.tiff !== undefined && channels.length > 0) out.notes.push(`${s.id}: ${s.tiff} is not read (the channel files of ${s.id} are)`);
    if (s.cells !== undefined) source.extra = { cells: s.cells };
    out.sources.push(source);
  }
  return out;
}

/** What a protein source reads into: the field of view and its cell mask (label image), if one was given. */
export interface ProteinItem {
  fov: FieldOfView;
  cells: Int32Array | null;
  cellsName?: string;
}

/**
 * Reads one source of `sortProteinPaths` from its files (the source's paths and its `extra.cells`);
 * errors name the field of view or the file (a missing channel, channels of different sizes, not a PNG).
 */
export async function readProteinSource(source: ItemSource, files: readonly InputFile[]): Promise<ProteinItem> {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const set: FovFiles<string> = { id: source.id, channels: {} };
  if (source.kind === 'tiff') set.tiff = source.paths[0];
  else {
    for (const path of source.paths) {
      const c = classifyProteinFile(baseName(path));
      if (c && (PROTEIN_CHANNELS as readonly string[]).includes(c.role)) set.channels[c.role as ProteinChannel] = path;
    }
  }
  if (source.extra?.cells !== undefined) set.cells = source.extra.cells;
  const bytesOf = async (path: string): Promise<Uint8Array> => {
    const f = byPath.get(path);
    if (!f) throw new InputError(`${source.id}: ${baseName(path)} was not given`);
    return f.bytes;
  };
  return readFovFiles(set, bytesOf, baseName);
}
