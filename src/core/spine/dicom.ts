/**
 * DICOM series reader for the spine preset: files of a dropped folder are parsed with dicom-parser,
 * grouped by SeriesInstanceUID, decoded (uncompressed little/big endian, RLE lossless, JPEG 2000
 * through @cornerstonejs/codec-openjpeg) and stacked in slice order:
 *
 * - 'position' (default): ImagePositionPatient projected on the slice normal (the cross product of
 *   the two ImageOrientationPatient direction cosines), head first (the slice with the largest
 *   patient z, i.e. the most superior, comes first; the demo model was trained in that order);
 * - 'filename': the number in the file name (the original solution's `N.dcm` order).
 *
 * The volume is float32 HU (RescaleSlope/RescaleIntercept of each file), `stored` the stored values
 * (what the pipeline uses). The affine follows the NIfTI RAS convention of src/core/volume.ts:
 * i along columns, j along rows, k along the slices in the order used; DICOM LPS -> RAS negates x and y.
 */
import dicomParser, { type DataSet, type Element } from 'dicom-parser';
import { AbortError } from '../slidingWindow';
import { InputError, type Affine, type Volume, type VoxelArray } from '../volume';
import { affineProblem, checkImageSize, checkVolumeDims } from '../io/limits';
import { decodeJpeg2000 } from './openjpeg';

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

export type SliceOrder = 'position' | 'filename';

export const TRANSFER_SYNTAXES: Record<string, string> = {
  '1.2.840.10008.1.2': 'Implicit VR Little Endian',
  '1.2.840.10008.1.2.1': 'Explicit VR Little Endian',
  '1.2.840.10008.1.2.1.99': 'Deflated Explicit VR Little Endian',
  '1.2.840.10008.1.2.2': 'Explicit VR Big Endian',
  '1.2.840.10008.1.2.4.50': 'JPEG Baseline',
  '1.2.840.10008.1.2.4.51': 'JPEG Extended',
  '1.2.840.10008.1.2.4.57': 'JPEG Lossless',
  '1.2.840.10008.1.2.4.70': 'JPEG Lossless SV1',
  '1.2.840.10008.1.2.4.80': 'JPEG-LS Lossless',
  '1.2.840.10008.1.2.4.81': 'JPEG-LS Near-Lossless',
  '1.2.840.10008.1.2.4.90': 'JPEG 2000 Lossless',
  '1.2.840.10008.1.2.4.91': 'JPEG 2000',
  '1.2.840.10008.1.2.4.201': 'HTJ2K Lossless',
  '1.2.840.10008.1.2.4.202': 'HTJ2K Lossless RPCL',
  '1.2.840.10008.1.2.4.203': 'HTJ2K',
  '1.2.840.10008.1.2.5': 'RLE Lossless',
};

/** Transfer syntaxes this reader decodes. */
export const SUPPORTED_TRANSFER_SYNTAXES = [
  '1.2.840.10008.1.2',
  '1.2.840.10008.1.2.1',
  '1.2.840.10008.1.2.2',
  '1.2.840.10008.1.2.4.90',
  '1.2.840.10008.1.2.4.91',
  '1.2.840.10008.1.2.4.201',
  '1.2.840.10008.1.2.4.202',
  '1.2.840.10008.1.2.4.203',
  '1.2.840.10008.1.2.5',
];

const J2K = new Set(['1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.4.91', '1.2.840.10008.1.2.4.201', '1.2.840.10008.1.2.4.202', '1.2.840.10008.1.2.4.203']);

export function syntaxName(uid: string): string {
  return `${TRANSFER_SYNTAXES[uid] ?? 'unknown transfer syntax'} (${uid})`;
}

/** The header fields of one slice the reader needs. */
export interface DicomSliceHeader {
  name: string;
  studyUid: string;
  seriesUid: string;
  description: string;
  transferSyntax: string;
  rows: number;
  cols: number;
  bitsAllocated: number;
  bitsStored: number;
  /** 0 unsigned, 1 two's complement. */
  pixelRepresentation: number;
  samplesPerPixel: number;
  photometric: string;
  frames: number;
  slope: number;
  intercept: number;
  position: [number, number, number] | null;
  orientation: [number, number, number, number, number, number] | null;
  /** [row spacing, column spacing] (PixelSpacing: between rows, between columns). */
  pixelSpacing: [number, number] | null;
  sliceThickness: number | null;
  instanceNumber: number | null;
}

function baseName(path: string): string {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return i >= 0 ? path.slice(i + 1) : path;
}

function numbersOf(ds: DataSet, tag: string): number[] | null {
  const s = ds.string(tag);
  if (s === undefined) return null;
  const v = s.split('\\').map((x) => Number(x.trim()));
  return v.length > 0 && v.every(Number.isFinite) ? v : null;
}

function numberOf(ds: DataSet, tag: string): number | null {
  const v = numbersOf(ds, tag);
  return v ? v[0] : null;
}

function hasPreamble(b: Uint8Array): boolean {
  return b.length >= 132 && b[128] === 0x44 && b[129] === 0x49 && b[130] === 0x43 && b[131] === 0x4d;
}

function parse(file: DicomFile): DataSet {
  const b = file.bytes;
  if (!hasPreamble(b) && !(b.length > 8 && b[0] === 0x08 && b[1] === 0x00)) throw new Error('not a DICOM file (no DICM prefix)');
  try {
    return dicomParser.parseDicom(file.bytes);
  } catch (e) {
    // no "DICM" preamble: try a raw implicit little-endian data set (old files)
    const msg = e instanceof Error ? e.message : String(e);
    if (/DICM/.test(msg) && file.bytes.length > 8 && file.bytes[0] === 0x08 && file.bytes[1] === 0x00) {
      try {
        return dicomParser.parseDicom(file.bytes, { TransferSyntaxUID: '1.2.840.10008.1.2' });
      } catch {
        // fall through to the message below
      }
    }
    throw new Error(/DICM/.test(msg) ? 'not a DICOM file (no DICM prefix)' : `not a readable DICOM file (${msg})`, { cause: e });
  }
}

/** Positive, finite values only (PixelSpacing "" reads as 0, a damaged one as a negative number). */
const positive = (v: number[] | null): number[] | null => (v && v.every((x) => x > 0 && Number.isFinite(x)) ? v : null);

/** Two direction cosines that span a plane (not zero, not parallel, finite); else null. */
function usableOrientation(o: number[] | null): number[] | null {
  if (!o || o.length < 6) return null;
  const [a, b] = [o.slice(0, 3), o.slice(3, 6)];
  const na = Math.hypot(a[0], a[1], a[2]);
  const nb = Math.hypot(b[0], b[1], b[2]);
  const c = cross(a, b);
  return na > 1e-3 && nb > 1e-3 && Number.isFinite(na * nb) && Math.hypot(c[0], c[1], c[2]) > 1e-3 * na * nb ? o : null;
}

export function readHeader(name: string, ds: DataSet): DicomSliceHeader {
  const ori = usableOrientation(numbersOf(ds, 'x00200037'));
  const pos = numbersOf(ds, 'x00200032');
  const ps = positive(numbersOf(ds, 'x00280030'));
  return {
    name,
    studyUid: ds.string('x0020000d') ?? '',
    seriesUid: ds.string('x0020000e') ?? '',
    description: ds.string('x0008103e') ?? '',
    transferSyntax: ds.string('x00020010') ?? '1.2.840.10008.1.2',
    rows: ds.uint16('x00280010') ?? 0,
    cols: ds.uint16('x00280011') ?? 0,
    bitsAllocated: ds.uint16('x00280100') ?? 16,
    bitsStored: ds.uint16('x00280101') ?? ds.uint16('x00280100') ?? 16,
    pixelRepresentation: ds.uint16('x00280103') ?? 0,
    samplesPerPixel: ds.uint16('x00280002') ?? 1,
    photometric: (ds.string('x00280004') ?? 'MONOCHROME2').trim(),
    frames: numberOf(ds, 'x00280008') ?? 1,
    slope: numberOf(ds, 'x00281053') ?? 1,
    intercept: numberOf(ds, 'x00281052') ?? 0,
    position: pos && pos.length >= 3 ? [pos[0], pos[1], pos[2]] : null,
    orientation: ori && ori.length >= 6 ? [ori[0], ori[1], ori[2], ori[3], ori[4], ori[5]] : null,
    pixelSpacing: ps && ps.length >= 2 ? [ps[0], ps[1]] : ps && ps.length === 1 ? [ps[0], ps[0]] : null,
    sliceThickness: numberOf(ds, 'x00180050'),
    instanceNumber: numberOf(ds, 'x00200013'),
  };
}

type StoredArray = Int16Array | Uint16Array | Uint8Array | Int8Array | Int32Array | Uint32Array;

function storedArray(h: DicomSliceHeader, n: number): StoredArray {
  const signed = h.pixelRepresentation === 1;
  if (h.bitsAllocated === 8) return signed ? new Int8Array(n) : new Uint8Array(n);
  if (h.bitsAllocated === 16) return signed ? new Int16Array(n) : new Uint16Array(n);
  return signed ? new Int32Array(n) : new Uint32Array(n);
}

/** Sign-extends values whose BitsStored is below BitsAllocated (as pydicom does for signed data). */
function signExtend(a: StoredArray, h: DicomSliceHeader): void {
  if (h.pixelRepresentation !== 1 || h.bitsStored >= h.bitsAllocated) return;
  const shift = 32 - h.bitsStored;
  for (let i = 0; i < a.length; i++) a[i] = (a[i] << shift) >> shift;
}

/** PackBits-style RLE segment decoder (DICOM PS3.5 annex G). */
function decodeRleSegment(src: Uint8Array, start: number, end: number, out: Uint8Array): void {
  let i = start;
  let o = 0;
  while (i < end && o < out.length) {
    const n = (src[i++] << 24) >> 24;
    if (n >= 0) {
      const len = n + 1;
      out.set(src.subarray(i, Math.min(i + len, end)), o);
      o += len;
      i += len;
    } else if (n !== -128) {
      const len = 1 - n;
      out.fill(src[i++], o, Math.min(o + len, out.length));
      o += len;
    }
  }
}

function decodeRle(frame: Uint8Array, h: DicomSliceHeader, out: StoredArray): void {
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const segments = dv.getUint32(0, true);
  const bytesPer = h.bitsAllocated / 8;
  if (segments !== bytesPer * h.samplesPerPixel) throw new Error(`RLE: ${segments} segments for ${h.bitsAllocated}-bit pixels`);
  const n = h.rows * h.cols;
  const plane = new Uint8Array(n);
  const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  for (let s = 0; s < segments; s++) {
    const start = dv.getUint32(4 + 4 * s, true);
    const end = s + 1 < segments ? dv.getUint32(8 + 4 * s, true) : frame.length;
    plane.fill(0);
    decodeRleSegment(frame, start, end, plane);
    // segment 0 holds the most significant byte; the output array is little endian
    const byte = bytesPer - 1 - s;
    for (let i = 0; i < n; i++) bytes[i * bytesPer + byte] = plane[i];
  }
}

function pixelElement(ds: DataSet): Element {
  const el = ds.elements.x7fe00010;
  if (!el || (el.length === 0 && !el.encapsulatedPixelData)) throw new Error('no pixel data (7FE0,0010)');
  return el;
}

/**
 * The image size a JPEG 2000 codestream declares (its SIZ segment, right after SOC), read before
 * the decoder allocates from it; null for a JP2 file (boxes), which the decoder checks itself.
 */
function j2kSize(frame: Uint8Array): { width: number; height: number } | null {
  if (frame.length >= 12 && frame[4] === 0x6a && frame[5] === 0x50) return null; // JP2 signature box
  if (frame.length < 24 || frame[0] !== 0xff || frame[1] !== 0x4f || frame[2] !== 0xff || frame[3] !== 0x51) {
    throw new Error('the pixel data is not a JPEG 2000 codestream (no SOC and SIZ markers)');
  }
  const v = new DataView(frame.buffer, frame.byteOffset, 24);
  return { width: v.getUint32(8) - v.getUint32(16), height: v.getUint32(12) - v.getUint32(20) };
}

/** Decodes one slice's stored values (single frame, single sample). */
export async function decodePixels(ds: DataSet, h: DicomSliceHeader): Promise<StoredArray> {
  if (h.rows < 1 || h.cols < 1) throw new Error(`no image size (Rows ${h.rows}, Columns ${h.cols})`);
  checkImageSize(h.name, h.cols, h.rows, 'DICOM slice');
  if (h.samplesPerPixel !== 1) throw new Error(`${h.samplesPerPixel} samples per pixel (${h.photometric}); a CT slice has 1`);
  if (h.frames !== 1) throw new Error(`a multi-frame image (${h.frames} frames); one slice per file is supported`);
  if (![8, 16, 32].includes(h.bitsAllocated)) throw new Error(`BitsAllocated ${h.bitsAllocated} is not supported`);
  const el = pixelElement(ds);
  const n = h.rows * h.cols;
  const out = storedArray(h, n);
  const ts = h.transferSyntax;
  if (!SUPPORTED_TRANSFER_SYNTAXES.includes(ts)) {
    throw new Error(`transfer syntax ${syntaxName(ts)} is not supported (supported: uncompressed, RLE Lossless, JPEG 2000)`);
  }
  if (ts === '1.2.840.10008.1.2' || ts === '1.2.840.10008.1.2.1' || ts === '1.2.840.10008.1.2.2') {
    const bytesPer = h.bitsAllocated / 8;
    if (el.length < n * bytesPer) throw new Error(`pixel data holds ${el.length} bytes; ${h.rows} x ${h.cols} x ${bytesPer} needs ${n * bytesPer}`);
    const dv = new DataView(ds.byteArray.buffer, ds.byteArray.byteOffset + el.dataOffset, n * bytesPer);
    const le = ts !== '1.2.840.10008.1.2.2';
    if (bytesPer === 1) for (let i = 0; i < n; i++) out[i] = dv.getUint8(i);
    else if (bytesPer === 2) for (let i = 0; i < n; i++) out[i] = dv.getUint16(2 * i, le);
    else for (let i = 0; i < n; i++) out[i] = dv.getUint32(4 * i, le);
    signExtend(out, h);
    return out;
  }
  if (!el.encapsulatedPixelData) throw new Error(`${syntaxName(ts)} but the pixel data is not encapsulated`);
  const frame = new Uint8Array(dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, 0, el.fragments?.length ?? 1));
  if (ts === '1.2.840.10008.1.2.5') {
    decodeRle(frame, h, out);
    signExtend(out, h);
    return out;
  }
  if (J2K.has(ts)) {
    const siz = j2kSize(frame);
    if (siz && (siz.width !== h.cols || siz.height !== h.rows)) {
      throw new Error(`the JPEG 2000 image is ${siz.width} x ${siz.height} but the header says ${h.cols} x ${h.rows}`);
    }
    const img = await decodeJpeg2000(frame);
    if (img.width !== h.cols || img.height !== h.rows) {
      throw new Error(`the JPEG 2000 image is ${img.width} x ${img.height} but the header says ${h.cols} x ${h.rows}`);
    }
    if (img.components !== 1) throw new Error(`the JPEG 2000 image has ${img.components} components; a CT slice has 1`);
    const bytesPer = img.bitsPerSample > 8 ? 2 : 1;
    if (img.data.length < n * bytesPer) throw new Error('the JPEG 2000 image decoded to fewer pixels than the header says');
    const dv = new DataView(img.data.buffer, img.data.byteOffset, n * bytesPer);
    // values are interpreted with the DICOM PixelRepresentation (as pydicom does)
    if (bytesPer === 1) for (let i = 0; i < n; i++) out[i] = h.pixelRepresentation === 1 ? dv.getInt8(i) : dv.getUint8(i);
    else for (let i = 0; i < n; i++) out[i] = h.pixelRepresentation === 1 ? dv.getInt16(2 * i, true) : dv.getUint16(2 * i, true);
    return out;
  }
  throw new Error(`transfer syntax ${syntaxName(ts)} is not supported`);
}

// ------------------------------------------------------------------------------------------------
// ordering and geometry

/** The digits of the last number in a file's base name ('12.dcm' -> '12'), without leading zeros, or null. */
function fileNumber(name: string): string | null {
  const base = baseName(name).replace(/\.[^.]*$/, '');
  const m = /(\d+)(?!.*\d)/.exec(base);
  return m ? m[1].replace(/^0+(?=\d)/, '') : null;
}

/** The original solution's order: by the number in the file name (numerically, any length), then by name. */
export function compareFileNumber(a: string, b: string): number {
  const x = fileNumber(a);
  const y = fileNumber(b);
  if (x !== null && y !== null && x !== y) return x.length !== y.length ? x.length - y.length : x < y ? -1 : 1;
  if (x !== null && y === null) return -1;
  if (x === null && y !== null) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function cross(a: number[], b: number[]): [number, number, number] {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

const dot = (a: number[], b: number[]): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const fmt = (x: number, d = 3): string => String(Number(x.toFixed(d)));

export interface SliceGeometry {
  /** Indices into the headers in the order used. */
  order: number[];
  /** Slice spacing (mm), positive. */
  spacing: number;
  affine: Affine;
  warnings: string[];
}

/**
 * Slice order, spacing and RAS affine of one series. Position order sorts by the projection of
 * ImagePositionPatient on the slice normal and puts the most superior slice (largest patient z)
 * first; file-name order keeps the original solution's order and reports when it runs feet first.
 */
export function sliceGeometry(headers: readonly DicomSliceHeader[], order: SliceOrder): SliceGeometry {
  const warnings: string[] = [];
  const n = headers.length;
  const first = headers[0];
  const ori = first.orientation ?? [1, 0, 0, 0, 1, 0];
  if (!first.orientation) warnings.push('no usable ImageOrientationPatient (missing, zero or parallel direction cosines): axial [1, 0, 0, 0, 1, 0] assumed');
  const rowDir = ori.slice(0, 3);
  const colDir = ori.slice(3, 6);
  const normal = cross(rowDir, colDir);
  const ps = first.pixelSpacing ?? [1, 1];
  if (!first.pixelSpacing) warnings.push('no usable PixelSpacing (missing, empty, zero or negative): 1 mm assumed');
  const byName = headers.map((_, i) => i).sort((a, b) => compareFileNumber(headers[a].name, headers[b].name));
  const havePos = headers.every((h) => h.position !== null);
  const odd = headers.find((h) => h.orientation && h.orientation.some((v, k) => Math.abs(v - ori[k]) > 1e-3));
  if (odd) warnings.push(`${odd.name}: ImageOrientationPatient differs from ${first.name} (a tilted or mixed series)`);
  let idx: number[];
  if (!havePos) {
    idx = byName;
    warnings.push('no ImagePositionPatient in some files: slices in file-name order');
  } else {
    const proj = headers.map((h) => dot(h.position as number[], normal));
    const byPos = headers.map((_, i) => i).sort((a, b) => proj[a] - proj[b] || compareFileNumber(headers[a].name, headers[b].name));
    // head first: the most superior slice (largest patient z, LPS) first
    const zFirst = (headers[byPos[0]].position as number[])[2];
    const zLast = (headers[byPos[n - 1]].position as number[])[2];
    if (zFirst < zLast || (zFirst === zLast && normal[2] >= 0)) byPos.reverse();
    const nameProj = byName.map((i) => proj[i]);
    const nameMonotone = (sign: number) => nameProj.every((p, k) => k === 0 || sign * (p - nameProj[k - 1]) >= 0);
    const reversed = byName.every((v, k) => v === byPos[n - 1 - k]);
    if (order === 'position') {
      idx = byPos;
      if (reversed && n > 1) warnings.push('the file names run feet first: slices reversed to head first (the model expects head first)');
      else if (!byName.every((v, k) => v === byPos[k]) && !nameMonotone(1) && !nameMonotone(-1)) {
        warnings.push('the file-name order does not follow the slice positions: slices sorted by ImagePositionPatient');
      }
    } else {
      idx = byName;
      if (reversed && n > 1) warnings.push('the file-name order runs feet first; the model expects head first (use position order)');
      else if (!nameMonotone(1) && !nameMonotone(-1)) warnings.push('the file-name order does not follow the slice positions (use position order)');
    }
  }
  // spacing from the positions in the order used
  let spacing = first.sliceThickness && first.sliceThickness > 0 ? first.sliceThickness : 1;
  let kStep: number[] = normal.map((v) => -v * spacing);
  if (havePos && n > 1) {
    const p = idx.map((i) => headers[i].position as number[]);
    const steps = p.slice(1).map((q, k) => dot([q[0] - p[k][0], q[1] - p[k][1], q[2] - p[k][2]], normal));
    const abs = steps.map(Math.abs);
    const med = median(abs);
    const dup = abs.filter((d) => d < 1e-3).length;
    if (dup > 0) warnings.push(`${dup} duplicate slice position(s) (two files at the same ImagePositionPatient)`);
    if (med > 0) {
      spacing = med;
      const gaps = abs.filter((d) => d > 1.5 * med).length;
      if (gaps > 0) warnings.push(`${gaps} gap(s) in the slice positions (spacing > 1.5 x the median ${fmt(med)} mm): missing slices?`);
      const [lo, hi] = [Math.min(...abs), Math.max(...abs)];
      if (dup === 0 && gaps === 0 && hi - lo > Math.max(0.01 * med, 1e-3)) {
        warnings.push(`uneven slice spacing: ${fmt(lo)} .. ${fmt(hi)} mm (median ${fmt(med)} mm)`);
      }
      const signs = new Set(steps.filter((s) => Math.abs(s) >= 1e-3).map(Math.sign));
      if (signs.size > 1) warnings.push('the slice positions go back and forth in this order');
    }
    const a = p[0];
    const b = p[n - 1];
    kStep = [(b[0] - a[0]) / (n - 1), (b[1] - a[1]) / (n - 1), (b[2] - a[2]) / (n - 1)];
    if (Math.hypot(...kStep) < 1e-6) kStep = normal.map((v) => -v * spacing);
  }
  const o = havePos ? (headers[idx[0]].position as number[]) : [0, 0, 0];
  // LPS columns: i (columns) = rowDir * column spacing, j (rows) = colDir * row spacing, k = slice step
  const ci = rowDir.map((v) => v * ps[1]);
  const cj = colDir.map((v) => v * ps[0]);
  const lps = [0, 1, 2].map((r) => [ci[r], cj[r], kStep[r], o[r]]);
  const affine: Affine = [lps[0].map((v) => -v), lps[1].map((v) => -v), lps[2], [0, 0, 0, 1]];
  for (const row of affine) for (let c = 0; c < 4; c++) if (row[c] === 0) row[c] = 0; // no -0
  return { order: idx, spacing, affine, warnings };
}

// ------------------------------------------------------------------------------------------------

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

interface Parsed {
  file: DicomFile;
  ds: DataSet;
  h: DicomSliceHeader;
}

/**
 * Reads the DICOM files of a drop: several series come back as several DicomSeries (largest
 * first). Files that are not DICOM, have no pixel data or cannot be decoded are listed in
 * `skipped` with the reason; a series where a file fails is skipped as a whole. Throws an
 * InputError naming the file(s) when nothing usable is left.
 */
export async function readDicomSeries(
  files: DicomFile[],
  opts: { order?: SliceOrder; signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<{ series: DicomSeries[]; skipped: DicomSkip[] }> {
  const order = opts.order ?? 'position';
  const skipped: DicomSkip[] = [];
  if (files.length === 0) throw new InputError('no files were given');
  const parsed: Parsed[] = [];
  for (const file of files) {
    const base = baseName(file.name);
    if (base.startsWith('.') || base === 'DICOMDIR') {
      skipped.push({ name: file.name, reason: base === 'DICOMDIR' ? 'a DICOMDIR index, not an image' : 'a hidden file' });
      continue;
    }
    try {
      const ds = parse(file);
      const h = readHeader(file.name, ds);
      if (!ds.elements.x7fe00010) {
        skipped.push({ name: file.name, reason: 'a DICOM file without pixel data (7FE0,0010)' });
        continue;
      }
      parsed.push({ file, ds, h });
    } catch (e) {
      skipped.push({ name: file.name, reason: e instanceof Error ? e.message : String(e) });
    }
  }
  if (parsed.length === 0) {
    const first = skipped.slice(0, 3).map((s) => `${s.name}: ${s.reason}`).join('; ');
    throw new InputError(`no DICOM image among the ${files.length} file(s) (${first}${skipped.length > 3 ? '; ...' : ''})`);
  }
  const groups = new Map<string, Parsed[]>();
  for (const p of parsed) {
    const key = p.h.seriesUid;
    const g = groups.get(key);
    if (g) g.push(p);
    else groups.set(key, [p]);
  }
  const series: DicomSeries[] = [];
  const total = parsed.length;
  let done = 0;
  const problems: string[] = [];
  for (const [uid, group] of groups) {
    const skip = (reason: string) => {
      for (const p of group) skipped.push({ name: p.file.name, reason });
      problems.push(reason);
    };
    if (group.length < 2) {
      skip(`${group[0].file.name}: a single slice${uid ? ` (series ${uid})` : ''}; a CT series needs at least 2 slices`);
      done += group.length;
      continue;
    }
    const ref = group[0].h;
    const badSize = group.find((p) => p.h.rows !== ref.rows || p.h.cols !== ref.cols);
    if (badSize) {
      skip(`${badSize.file.name}: ${badSize.h.rows} x ${badSize.h.cols} pixels, but ${ref.name} in the same series has ${ref.rows} x ${ref.cols} (mixed series)`);
      done += group.length;
      continue;
    }
    const badType = group.find((p) => p.h.bitsAllocated !== ref.bitsAllocated || p.h.pixelRepresentation !== ref.pixelRepresentation);
    if (badType) {
      skip(`${badType.file.name}: ${badType.h.bitsAllocated}-bit ${badType.h.pixelRepresentation ? 'signed' : 'unsigned'} pixels, but ${ref.name} has ${ref.bitsAllocated}-bit ${ref.pixelRepresentation ? 'signed' : 'unsigned'} (mixed series)`);
      done += group.length;
      continue;
    }
    const geo = sliceGeometry(
      group.map((p) => p.h),
      order,
    );
    const [rows, cols] = [ref.rows, ref.cols];
    const plane = rows * cols;
    const n = group.length;
    try {
      checkVolumeDims(ref.name, [n, rows, cols], 4, 'DICOM series');
    } catch (e) {
      skip((e as Error).message);
      done += group.length;
      continue;
    }
    let stored: StoredArray | null = null;
    const hu = new Float32Array(n * plane);
    let failed: string | null = null;
    for (let k = 0; k < n; k++) {
      if (opts.signal?.aborted) throw new AbortError();
      const p = group[geo.order[k]];
      try {
        const px = await decodePixels(p.ds, p.h);
        stored ??= storedArray(ref, n * plane);
        stored.set(px, k * plane);
        const { slope, intercept } = p.h;
        for (let i = 0; i < plane; i++) hu[k * plane + i] = px[i] * slope + intercept;
      } catch (e) {
        failed = `${p.file.name}: ${e instanceof Error ? e.message : String(e)}`;
        break;
      }
      done++;
      opts.onProgress?.(done, total);
      if (J2K.has(p.h.transferSyntax) && k % 4 === 3) await tick();
    }
    if (failed || !stored) {
      skip(failed ?? `${ref.name}: no pixels decoded`);
      continue;
    }
    const files = geo.order.map((i) => group[i].file.name);
    const slopes = new Set(group.map((p) => `${p.h.slope}/${p.h.intercept}`));
    if (slopes.size > 1) geo.warnings.push(`RescaleSlope/RescaleIntercept differ between files (${[...slopes].slice(0, 3).join(', ')}); HU use each file's own`);
    if (!uid) geo.warnings.push('no SeriesInstanceUID: all files without one were taken as one series');
    const spacing: [number, number, number] = [geo.spacing, ref.pixelSpacing?.[0] ?? 1, ref.pixelSpacing?.[1] ?? 1];
    const bad = affineProblem(geo.affine) ?? (spacing.every((x) => x > 0 && Number.isFinite(x)) ? null : `spacing ${spacing.join(', ')}`);
    if (bad) {
      skip(`${ref.name}: the slice geometry is not usable (${bad}); check ImagePositionPatient, ImageOrientationPatient and PixelSpacing`);
      continue;
    }
    series.push({
      studyUid: ref.studyUid,
      seriesUid: uid,
      description: ref.description,
      files,
      volume: { shape: [n, rows, cols], data: hu, spacing, unit: 'mm', affine: geo.affine, source: { name: ref.description || uid || files[0], format: 'dicom' } },
      stored,
      order,
      warnings: geo.warnings,
    });
  }
  if (series.length === 0) throw new InputError(problems.length === 1 ? problems[0] : `no usable DICOM series: ${problems.join('; ')}`);
  series.sort((a, b) => b.files.length - a.files.length);
  return { series, skipped };
}
