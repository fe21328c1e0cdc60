/**
 * The one place for the size limits every reader checks before it trusts a count or a size from a
 * file, a link, a card or a session, and before it allocates anything from one. A value past a
 * limit is an InputError naming the file; the limits are far above any real input the workbench
 * takes (the largest public cryo-ET tomograms, CT series, HPA images, HMS recordings) and well
 * below what would exhaust a browser tab or a Node process. Pure.
 *
 * Also here: the checks the readers share (volume shape, image size, affine and spacing).
 */
import { type Affine, InputError } from '../volume';

export const LIMITS = {
  /** Voxels of one volume, all channels (2^31 - 1: indices stay int32; 8 GiB as float32). */
  maxVoxels: 2 ** 31 - 1,
  /** Any one axis of a volume. */
  maxVolumeSide: 65_536,
  /** Bytes of one decoded buffer (an inflated .gz, a volume's voxels): 4 GiB, Node's Buffer limit. */
  maxDecodedBytes: 2 ** 32,
  /**
   * Deflate cannot expand more than 1032:1 (258-byte matches coded in 2 bits); a header that
   * declares more than this times the compressed size (plus a little) is lying or cut short.
   */
  maxDeflateRatio: 1032,
  /** Width or height of one image (PNG, JPEG, TIFF page). */
  maxImageSide: 32_768,
  /** Pixels of one image (8192 x 8192). */
  maxImagePixels: 2 ** 26,
  /** Pages of one TIFF. */
  maxTiffPages: 16_384,
  /** Entries of one TIFF directory (the format allows 65535; real files have a few dozen). */
  maxTiffEntries: 4096,
  /** Samples per pixel of a TIFF page. */
  maxTiffSamples: 16,
  /** Rows of one table (a spectrogram parquet: 2^18 rows of 2 s = 6 days; 400 MiB as float32). */
  maxTableRows: 2 ** 18,
  /** Bytes of one table page after decompression. */
  maxTablePageBytes: 2 ** 28,
  /** Entries of one session file. */
  maxSessionEntries: 10_000,
  /** Bytes of a session's entries once inflated, all together. */
  maxSessionBytes: 2 ** 31,
  /** Characters of a share link's query, and bytes of its compact (z=) part once inflated. */
  maxLinkLength: 65_536,
  /** Items of one list value in a link. */
  maxLinkListItems: 4096,
  /** Any one side of a sliding window (roi) from a card, a link or a flag. */
  maxRoiSide: 8192,
  /** Voxels of one window (2^28: 1 GiB as float32). */
  maxRoiVoxels: 2 ** 28,
  /** Windows per model call. */
  maxSwBatch: 1024,
  /** Gaussian sigma scale (MONAI: a fraction of the roi; 0.125 by default). */
  maxSigmaScale: 100,
  /** Label names of a card or session. */
  maxLabels: 65_536,
  /** Characters of one label name. */
  maxLabelLength: 1024,
  /** Elements of one tensor an ONNX file declares (dims product). */
  maxTensorElements: 2 ** 40,
} as const;

const fmtInt = (n: number): string => (Number.isSafeInteger(n) ? n.toLocaleString('en-US') : String(n));

/**
 * Checks a volume's dims ([x, y, z, ...] or any order; all of them, channels included) against the
 * limits, and that `elementBytes` each fit: throws an InputError naming the file.
 */
export function checkVolumeDims(name: string, dims: readonly number[], elementBytes: number, what = 'volume'): number {
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 1)) {
    throw new InputError(`${name}: bad ${what} dimensions [${dims.join(', ')}]: each must be a whole number of at least 1`);
  }
  const big = dims.find((d) => d > LIMITS.maxVolumeSide);
  if (big !== undefined) {
    throw new InputError(`${name}: ${what} dimension ${fmtInt(big)} is larger than the limit of ${fmtInt(LIMITS.maxVolumeSide)} (dims ${dims.join(' x ')}); the header is damaged or the ${what} is too large`);
  }
  let n = 1;
  for (const d of dims) n *= d;
  if (n > LIMITS.maxVoxels) {
    throw new InputError(`${name}: ${dims.join(' x ')} = ${fmtInt(n)} voxels is more than the limit of ${fmtInt(LIMITS.maxVoxels)}; the header is damaged or the ${what} is too large (crop or downsample it)`);
  }
  if (n * elementBytes > LIMITS.maxDecodedBytes) {
    throw new InputError(`${name}: ${dims.join(' x ')} voxels of ${elementBytes} bytes need ${fmtInt(n * elementBytes)} bytes, more than the limit of ${fmtInt(LIMITS.maxDecodedBytes)}`);
  }
  return n;
}

/** Checks an image's width and height against the limits; throws an InputError naming the file. */
export function checkImageSize(name: string, width: number, height: number, what = 'image'): void {
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1) {
    throw new InputError(`${name}: bad ${what} size ${width} x ${height}: width and height must be at least 1`);
  }
  if (width > LIMITS.maxImageSide || height > LIMITS.maxImageSide || width * height > LIMITS.maxImagePixels) {
    throw new InputError(
      `${name}: the ${what} declares ${width} x ${height} pixels, more than the limit of ${fmtInt(LIMITS.maxImagePixels)} pixels (${LIMITS.maxImageSide} per side); the header is damaged or the ${what} is too large`,
    );
  }
}

/**
 * Checks a declared uncompressed size against what `compressed` bytes of deflate can hold and the
 * decoded-buffer limit; throws an InputError naming the file.
 */
export function checkInflatedSize(name: string, declared: number, compressed: number, what = 'the data'): void {
  if (!Number.isFinite(declared) || declared < 0) throw new InputError(`${name}: ${what} declares a size of ${declared} bytes`);
  if (declared > LIMITS.maxDecodedBytes) {
    throw new InputError(`${name}: ${what} declares ${fmtInt(declared)} bytes, more than the limit of ${fmtInt(LIMITS.maxDecodedBytes)}`);
  }
  if (declared > LIMITS.maxDeflateRatio * compressed + 65_536) {
    throw new InputError(
      `${name}: ${what} declares ${fmtInt(declared)} bytes, more than ${fmtInt(compressed)} compressed bytes can hold (deflate expands at most ${LIMITS.maxDeflateRatio}:1); the file is cut short or its header is damaged`,
    );
  }
}

/** Determinant of the affine's 3 x 3 part. */
export function affineDet(a: Affine): number {
  return (
    a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) -
    a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) +
    a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0])
  );
}

/**
 * The problem with an affine (not finite, not [0, 0, 0, 1] at the bottom, singular: a zero column
 * or columns that are (nearly) parallel), or null when it is usable.
 */
export function affineProblem(a: Affine): string | null {
  if (a.length !== 4 || a.some((row) => row.length !== 4)) return 'it is not 4 x 4';
  if (a.some((row) => row.some((v) => !Number.isFinite(v)))) return 'it has NaN or infinite entries';
  if (a[3][0] !== 0 || a[3][1] !== 0 || a[3][2] !== 0 || a[3][3] !== 1) return 'its last row is not 0, 0, 0, 1';
  const norms = [0, 1, 2].map((j) => Math.hypot(a[0][j], a[1][j], a[2][j]));
  if (norms.some((n) => !(n > 0) || !Number.isFinite(n))) return 'it is singular (a voxel axis of length 0)';
  const det = affineDet(a);
  if (!Number.isFinite(det) || Math.abs(det) < 1e-6 * norms[0] * norms[1] * norms[2]) return 'it is singular (its voxel axes are parallel)';
  return null;
}

/** Throws an InputError naming the file when the affine or the spacing is not usable. */
export function checkGeometry(name: string, affine: Affine, spacing: readonly number[], what = 'affine'): void {
  const p = affineProblem(affine);
  if (p) throw new InputError(`${name}: the ${what} (voxel-to-world transform) is not usable: ${p}; the header is damaged`);
  if (spacing.length !== 3 || spacing.some((s) => !Number.isFinite(s) || !(s > 0))) {
    throw new InputError(`${name}: bad voxel spacing [${spacing.join(', ')}]: each must be a positive number`);
  }
}
