/**
 * A CT series as the spine preset reads it (src/core/presets/spine.ts, `inputs.read`): a DICOM
 * study folder (several series come out as several items, largest first) or a NIfTI volume, with
 * what the pipeline needs (stored values in its orientation: head first, DICOM pixel order) and
 * what the exports need (the CT's shape and affine, the flips back to the CT's voxel order, the
 * study and series UIDs). The masks are written in the CT's space as the CLI and the page do.
 */
import { readVolume, writeNifti } from '../io';
import type { InputFile, ItemSource, ReadOptions, ReadResult } from '../preset/types';
import { AbortError } from '../slidingWindow';
import { InputError, type Volume, type VoxelArray } from '../volume';
import { readDicomSeries, type SliceOrder } from './dicom';
import { flip3, orientHeadFirst } from './orient';
import type { SpineResult, VertebraRow } from './pipeline';
import { baseName, TEXT_EXT } from './sources';

export interface SpineItem {
  /** What the item is shown and exported under: the StudyInstanceUID, or the source id when there is none (NIfTI: the file name). */
  id: string;
  /** The source (study folder or NIfTI file) it was read from. */
  source: string;
  kind: 'dicom' | 'nifti';
  studyUid: string;
  /** '' for NIfTI. */
  seriesUid: string;
  /** SeriesDescription ('' when none; 'NIfTI volume'). */
  description: string;
  /** DICOM Modality ('CT'…); '' when the file gives none (NIfTI). */
  modality?: string;
  /** 0 = the largest series of its source (the one a study runs by default), 1… the others. */
  seriesIndex: number;
  /** Its files in slice order (DICOM) or the NIfTI file. */
  files: string[];
  /** The DICOM slice order used; null for NIfTI. */
  order: SliceOrder | null;
  /** The CT as read (HU for DICOM; the file's values for NIfTI): shape [D, H, W], spacing, affine (the masks are written with these). */
  volume: Volume;
  /** What the pipeline reads: stored values (no rescale), head first in DICOM pixel order. */
  stored: VoxelArray;
  shape: [number, number, number];
  spacing: number[];
  /** NIfTI: axes [D, H, W] flipped into the pipeline's order; results are flipped back (none for DICOM). */
  flips: [boolean, boolean, boolean];
  /** The series' own warnings (gaps, uneven spacing, flipped order…). */
  warnings: string[];
}

const NO_FLIPS: [boolean, boolean, boolean] = [false, false, false];

/** Why a note next to a series is not read. */
export const NOTE_REASON = 'not DICOM (a note next to the series)';

async function readNiftiItem(source: ItemSource, files: readonly InputFile[], opts: ReadOptions): Promise<ReadResult<SpineItem>> {
  const f = files[0];
  if (!f) throw new InputError(`${source.id}: no file`);
  const vol = readVolume(f.bytes, f.path);
  if (vol.shape.length !== 3) throw new InputError(`${f.path}: a CT volume has 3 dimensions; this one is [${vol.shape.join(', ')}]`);
  if (vol.shape[0] < 2) throw new InputError(`${f.path}: a single slice; the pipeline needs a series of axial slices`);
  // the model was trained on DICOM order (head first, columns to the left, rows to posterior)
  const o = orientHeadFirst(vol);
  opts.onProgress?.({ done: 1, total: 1 });
  const item: SpineItem = {
    id: source.id,
    source: source.id,
    kind: 'nifti',
    studyUid: source.id,
    seriesUid: '',
    description: 'NIfTI volume',
    seriesIndex: 0,
    files: [f.path],
    order: null,
    volume: vol,
    stored: o.data,
    shape: o.shape,
    spacing: o.spacing,
    flips: o.flips,
    warnings: o.warnings,
  };
  return { items: [item], warnings: [], skipped: [] };
}

async function readDicomItems(source: ItemSource, files: readonly InputFile[], order: SliceOrder, opts: ReadOptions): Promise<ReadResult<SpineItem>> {
  const notes = files.filter((f) => TEXT_EXT.test(baseName(f.path))).map((f) => f.path);
  const dicom = files.filter((f) => !TEXT_EXT.test(baseName(f.path)));
  if (dicom.length === 0) {
    const names = notes.map(baseName);
    const why = names.length > 0 ? `only ${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''}` : 'the folder is empty';
    throw new InputError(`${source.id}/: no DICOM files here (${why})`);
  }
  const { series, skipped } = await readDicomSeries(
    dicom.map((f) => ({ name: f.path, bytes: f.bytes })),
    { order, signal: opts.signal, onProgress: opts.onProgress ? (done, total) => opts.onProgress!({ done, total }) : undefined },
  );
  const items = series.map(
    (s, i): SpineItem => ({
      // a series without a StudyInstanceUID goes by its folder
      id: s.studyUid || source.id,
      source: source.id,
      kind: 'dicom',
      studyUid: s.studyUid || source.id,
      seriesUid: s.seriesUid,
      description: s.description,
      modality: s.modality,
      seriesIndex: i,
      files: s.files,
      order: s.order,
      volume: s.volume,
      stored: s.stored,
      shape: s.volume.shape as [number, number, number],
      spacing: [...s.volume.spacing],
      flips: NO_FLIPS,
      warnings: s.warnings,
    }),
  );
  const warnings =
    series.length > 1 ? [`${series.length} series in this folder, largest first: ${series.map((x) => `${x.description || x.seriesUid} (${x.files.length} slices)`).join(', ')}`] : [];
  return { items, warnings, skipped: [...skipped.map((x) => ({ path: x.name, reason: x.reason })), ...notes.map((path) => ({ path, reason: NOTE_REASON }))] };
}

/** Reads a source of the spine preset's sort (kind 'dicom' or 'nifti') into its series. */
export function readSpineSource(source: ItemSource, files: readonly InputFile[], order: SliceOrder, opts: ReadOptions = {}): Promise<ReadResult<SpineItem>> {
  if (opts.signal?.aborted) return Promise.reject(new AbortError());
  if (source.kind === 'nifti') return readNiftiItem(source, files, opts);
  if (source.kind === 'dicom') return readDicomItems(source, files, order, opts);
  return Promise.reject(new InputError(`${source.id}: the spine preset reads DICOM folders and NIfTI files, not '${source.kind}'`));
}

/** A vertebra row of a flipped (NIfTI) volume in the volume's own voxel order. */
export function unflipVertebra(v: VertebraRow, shape: readonly [number, number, number], flips: readonly [boolean, boolean, boolean]): VertebraRow {
  const out = { ...v };
  if (flips[0] && v.sliceRange) out.sliceRange = [shape[0] - 1 - v.sliceRange[1], shape[0] - 1 - v.sliceRange[0]];
  if (v.centre) out.centre = v.centre.map((c, i) => (flips[i] ? shape[i] - 1 - c : c)) as [number, number, number];
  return out;
}

/** A pipeline result (pipeline orientation) in the item's own voxel order: the labels and the vertebra rows flipped back. */
export function resultInItemSpace(item: SpineItem, r: SpineResult): SpineResult {
  if (!item.flips.some(Boolean)) return r;
  return { ...r, labels: flip3(r.labels, item.shape, item.flips), vertebrae: r.vertebrae.map((v) => unflipVertebra(v, item.shape, item.flips)) };
}

export const SPINE_MASKS_DESCRIPTION = 'voxelbench spine: 0 background, 1..7 = C1..C7';

/** The label masks (0 = background, k = C_k; in the CT's voxel order) as .nii.gz with the CT's shape, spacing and affine. */
export function spineMasksNifti(item: SpineItem, labels: Uint8Array): Uint8Array {
  return writeNifti(
    { shape: [...item.shape], data: labels, spacing: item.spacing as [number, number, number], unit: 'mm', affine: item.volume.affine },
    { description: SPINE_MASKS_DESCRIPTION },
  );
}

/** A file name part from an id (UIDs and folder names stay as they are; '/' and the like become '_'). */
export const safeFileName = (s: string): string => s.replace(/[^A-Za-z0-9._-]+/g, '_') || 'series';
