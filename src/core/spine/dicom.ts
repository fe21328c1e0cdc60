/**
 * DICOM series reader for the spine preset (placeholder; being implemented).
 */
import type { Volume, VoxelArray } from '../volume';

export interface DicomFile {
  /** Path within the drop (used in messages and for the file-name order). */
  name: string;
  bytes: Uint8Array;
}

export interface DicomSeries {
  studyUid: string;
  seriesUid: string;
  /** SeriesDescription or ''. */
  description: string;
  /** File names in the slice order used. */
  files: string[];
  /** float32 HU (slope/intercept applied), shape [D, H, W] = [slices, rows, cols], spacing, RAS affine. */
  volume: Volume;
  /** Stored pixel values (no rescale) in the same order, as the pipeline uses. */
  stored: VoxelArray;
  order: 'position' | 'filename';
  /** Gaps, uneven spacing, flipped order, ... */
  warnings: string[];
}

export interface DicomSkip {
  name: string;
  reason: string;
}

export async function readDicomSeries(
  files: DicomFile[],
  opts: { order?: 'position' | 'filename'; signal?: AbortSignal } = {},
): Promise<{ series: DicomSeries[]; skipped: DicomSkip[] }> {
  void files;
  void opts;
  throw new Error('not implemented yet');
}
