/**
 * NIfTI-1 and NIfTI-2 reader (.nii, .nii.gz) and NIfTI-1 writer.
 *
 * The raw NIfTI voxel order is x fastest, then y, z, t: read as is, it already is the C-order
 * [D, H, W] (or [T, D, H, W]) of a Volume, so no transposition is needed either way.
 * Header fields come from nifti-reader-js; the affine is computed here (see niftiAffine).
 */
import { gzipSync } from 'fflate';
import * as nifti from 'nifti-reader-js';
import { type Affine, InputError, type Volume, type VoxelArray, dtypeOf, product } from '../volume';
import { type DeclaredSize, type ElementType, bytesOf, elementSize, gunzipIfNeeded, readElements } from './binary';
import { checkGeometry, checkVolumeDims } from './limits';

/** NIfTI datatype codes that are read, and the element type each is read as. */
const DATATYPES: Record<number, ElementType> = {
  2: 'uint8',
  4: 'int16',
  8: 'int32',
  16: 'float32',
  64: 'float64',
  256: 'int8',
  512: 'uint16',
  768: 'uint32',
  1024: 'int64',
};
const DATATYPE_NAMES: Record<number, string> = {
  1: 'binary (1 bit)',
  32: 'complex64',
  128: 'RGB24',
  1280: 'uint64',
  1536: 'float128',
  1792: 'complex128',
  2048: 'complex256',
  2304: 'RGBA32',
};

interface Layout {
  version: 1 | 2;
  /** sizeof_hdr: 348 or 540 bytes. */
  size: number;
  littleEndian: boolean;
}

/** Version and byte order from sizeof_hdr (the first int32: 348 for NIfTI-1, 540 for NIfTI-2), or null. */
function layoutOf(bytes: Uint8Array): Layout | null {
  if (bytes.length < 4) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, 4);
  for (const littleEndian of [true, false]) {
    const size = view.getInt32(0, littleEndian);
    if (size === 348) return { version: 1, size, littleEndian };
    if (size === 540) return { version: 2, size, littleEndian };
  }
  return null;
}

/** The 3 magic characters: at byte 344 in NIfTI-1 ('n+1' single file, 'ni1' .hdr of a pair), at 4 in NIfTI-2. */
function magicOf(bytes: Uint8Array, layout: Layout): string {
  const at = layout.version === 1 ? 344 : 4;
  return String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2]);
}

/** True when the bytes (already decompressed) start with a NIfTI header; a truncated one counts. */
export function isNifti(bytes: Uint8Array): boolean {
  const layout = layoutOf(bytes);
  if (!layout) return false;
  if (bytes.length < layout.size) return true; // readNifti says it is truncated
  return /^n[+i][12]$/.test(magicOf(bytes, layout));
}

/**
 * The bytes a (decompressed) NIfTI file needs, from its header: vox_offset + the voxels. Checks the
 * dims against the limits (an InputError naming the file); null when the head is not a NIfTI
 * header or its datatype is unknown (the reader says what is wrong).
 */
export function niftiDeclaredSize(head: Uint8Array, name: string): { bytes: number; what: string } | null {
  const layout = layoutOf(head);
  if (!layout || head.length < layout.size) return null;
  const v = new DataView(head.buffer, head.byteOffset, layout.size);
  const le = layout.littleEndian;
  const one = layout.version === 1;
  const dim = (i: number) => (one ? v.getInt16(40 + 2 * i, le) : Number(v.getBigInt64(16 + 8 * i, le)));
  const type = DATATYPES[v.getInt16(one ? 70 : 12, le)];
  const ndim = dim(0);
  if (!type || !(ndim >= 1 && ndim <= 7)) return null;
  const dims = Array.from({ length: ndim }, (_, i) => dim(i + 1));
  const n = checkVolumeDims(name, dims, elementSize(type));
  const vox = one ? v.getFloat32(108, le) : Number(v.getBigInt64(168, le));
  const offset = Number.isFinite(vox) ? Math.max(Math.floor(vox), layout.size + 4) : layout.size + 4;
  return { bytes: offset + n * elementSize(type), what: `its NIfTI header (${dims.join(' x ')} ${type} voxels)` };
}

/** The declared size of a .nii.gz's content, for inflating it with a cap (see inflateCapped). */
export const niftiSize = (name: string): DeclaredSize => ({ bytes: 540, size: (head) => niftiDeclaredSize(head, name) });

export function readNifti(input: Uint8Array, name = 'volume.nii'): Volume {
  const bytes = gunzipIfNeeded(input, name, niftiSize(name));
  if (bytes.length === 0) throw new InputError(`${name}: the file is empty`);
  const layout = layoutOf(bytes);
  if (!layout) throw new InputError(`${name}: not a NIfTI file (the first 4 bytes are not the header size 348 or 540)`);
  const { version, size, littleEndian } = layout;
  if (bytes.length < size) {
    throw new InputError(`${name}: truncated header: NIfTI-${version} needs ${size} bytes, has ${bytes.length}`);
  }
  const magic = magicOf(bytes, layout);
  if (magic === `ni${version}`) {
    throw new InputError(`${name}: this is the header of a .hdr/.img pair, which is not supported; convert it to a single .nii file`);
  }
  if (magic !== `n+${version}`) {
    throw new InputError(`${name}: not a NIfTI file (bad magic ${JSON.stringify(magic)}, expected "n+${version}")`);
  }

  // Only the fixed header goes to the library, so it does not try to parse extensions we skip anyway.
  const hdr = version === 1 ? new nifti.NIFTI1() : new nifti.NIFTI2();
  hdr.readHeader(bytes.slice(0, size).buffer);

  const ndim = hdr.dims[0];
  if (!(ndim >= 1 && ndim <= 7)) throw new InputError(`${name}: bad NIfTI header: dim[0] = ${ndim}, expected 1 to 7`);
  const dims = hdr.dims.slice(1, ndim + 1);
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 1)) {
    throw new InputError(`${name}: bad NIfTI dimensions [${dims.join(', ')}]: each must be at least 1`);
  }
  const type = DATATYPES[hdr.datatypeCode];
  if (!type) {
    const what = DATATYPE_NAMES[hdr.datatypeCode] ?? `code ${hdr.datatypeCode}`;
    throw new InputError(
      `${name}: NIfTI datatype ${what} is not supported (uint8, int8, int16, uint16, int32, uint32, int64, float32, float64 are read)`,
    );
  }
  checkVolumeDims(name, dims, elementSize(type), 'NIfTI');
  const [nx, ny = 1, nz = 1] = dims;
  const channels = product(dims.slice(3)); // t and any further dims, the slowest axes
  const shape = channels > 1 ? [channels, nz, ny, nx] : [nz, ny, nx];

  // vox_offset is where the voxels start; single files need at least the header plus the 4-byte
  // extension flag, and a few writers leave it 0, so anything smaller means "right after that".
  const voxOffset = Number(hdr.vox_offset);
  const offset = Number.isFinite(voxOffset) ? Math.max(Math.floor(voxOffset), size + 4) : size + 4;
  const n = product(shape);
  const need = n * elementSize(type);
  const have = Math.max(0, bytes.length - offset);
  if (have < need) {
    throw new InputError(
      `${name}: truncated data: needs ${need} bytes, has ${have} (${dims.join(' x ')} ${type} voxels from byte ${offset})`,
    );
  }

  const bad = [1, 2, 3].find((i) => !Number.isFinite(hdr.pixDims[i]));
  if (bad !== undefined) throw new InputError(`${name}: bad NIfTI voxel size: pixdim[${bad}] is ${hdr.pixDims[bad]}; the header is damaged`);
  const spacing = [3, 2, 1].map((i) => positiveOr1(hdr.pixDims[i])) as [number, number, number];
  const affine = niftiAffine(hdr, bytes, layout, spacing);
  checkGeometry(name, affine, spacing, hdr.sform_code > 0 ? 'sform' : hdr.qform_code > 0 ? 'qform' : 'affine');
  const data = scaled(readElements(bytes, offset, n, type, littleEndian), hdr.scl_slope, hdr.scl_inter);
  return {
    shape,
    data,
    spacing,
    unit: 'mm',
    affine,
    source: { name, format: version === 1 ? 'nifti' : 'nifti2' },
  };
}

/** Applies scl_slope/scl_inter into a Float32Array, unless they are absent (slope 0 or NaN) or the identity. */
function scaled(raw: VoxelArray, slope: number, inter: number): VoxelArray {
  if (!Number.isFinite(slope) || slope === 0) return raw;
  const b = Number.isFinite(inter) ? inter : 0;
  if (slope === 1 && b === 0) return raw;
  const out = new Float32Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw[i] * slope + b;
  return out;
}

function positiveOr1(x: number): number {
  return Number.isFinite(x) && x !== 0 ? Math.abs(x) : 1;
}

/**
 * The voxel-to-world affine: sform if sform_code > 0, else the qform if qform_code > 0, else
 * diag(pixdim). (nifti-reader-js prefers the qform when its code is higher, and its NIfTI-2 reader
 * always returns the srow, so the rule is applied here, reading the srow from the raw header.)
 */
function niftiAffine(hdr: nifti.NIFTI1 | nifti.NIFTI2, bytes: Uint8Array, layout: Layout, spacing: [number, number, number]): Affine {
  if (hdr.sform_code > 0) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, layout.size);
    // srow_x, srow_y, srow_z: 12 float32 at byte 280 (NIfTI-1) or 12 float64 at byte 400 (NIfTI-2)
    const read = (k: number) =>
      layout.version === 1 ? view.getFloat32(280 + 4 * k, layout.littleEndian) : view.getFloat64(400 + 8 * k, layout.littleEndian);
    return [
      [read(0), read(1), read(2), read(3)],
      [read(4), read(5), read(6), read(7)],
      [read(8), read(9), read(10), read(11)],
      [0, 0, 0, 1],
    ];
  }
  if (hdr.qform_code > 0) {
    return quaternToAffine(
      [hdr.quatern_b, hdr.quatern_c, hdr.quatern_d],
      [hdr.qoffset_x, hdr.qoffset_y, hdr.qoffset_z],
      [spacing[2], spacing[1], spacing[0]],
      hdr.pixDims[0] < 0 ? -1 : 1,
    );
  }
  return [
    [spacing[2], 0, 0, 0],
    [0, spacing[1], 0, 0],
    [0, 0, spacing[0], 0],
    [0, 0, 0, 1],
  ];
}

/** nifti_quatern_to_mat44 from nifti1_io.c: rotation from (b, c, d), scaled by pixdim and qfac. */
export function quaternToAffine(
  [b0, c0, d0]: number[],
  offset: number[],
  pixdim: number[],
  qfac: number,
): Affine {
  let [b, c, d] = [b0, c0, d0];
  let a = 1 - (b * b + c * c + d * d);
  if (a < 1e-7) {
    // special case: a 180 degree rotation; renormalise (b, c, d)
    a = 1 / Math.sqrt(b * b + c * c + d * d);
    b *= a;
    c *= a;
    d *= a;
    a = 0;
  } else {
    a = Math.sqrt(a);
  }
  const [xd, yd] = [pixdim[0] > 0 ? pixdim[0] : 1, pixdim[1] > 0 ? pixdim[1] : 1];
  const zd = (pixdim[2] > 0 ? pixdim[2] : 1) * (qfac < 0 ? -1 : 1);
  return [
    [(a * a + b * b - c * c - d * d) * xd, 2 * (b * c - a * d) * yd, 2 * (b * d + a * c) * zd, offset[0]],
    [2 * (b * c + a * d) * xd, (a * a + c * c - b * b - d * d) * yd, 2 * (c * d - a * b) * zd, offset[1]],
    [2 * (b * d - a * c) * xd, 2 * (c * d + a * b) * yd, (a * a + d * d - c * c - b * b) * zd, offset[2]],
    [0, 0, 0, 1],
  ];
}

type Mat3 = number[][];

function det3(m: Mat3): number {
  return (
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
    m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
    m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
  );
}

/** Transpose of the inverse (the cofactor matrix over the determinant). */
function inverseTranspose3(m: Mat3): Mat3 {
  const det = det3(m);
  const c = (r0: number, r1: number, c0: number, c1: number) => m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0];
  return [
    [c(1, 2, 1, 2) / det, -c(1, 2, 0, 2) / det, c(1, 2, 0, 1) / det],
    [-c(0, 2, 1, 2) / det, c(0, 2, 0, 2) / det, -c(0, 2, 0, 1) / det],
    [c(0, 1, 1, 2) / det, -c(0, 1, 0, 2) / det, c(0, 1, 0, 1) / det],
  ];
}

/** The orthogonal factor of the polar decomposition (Newton iteration X <- (X + X^-T) / 2). */
function nearestOrthogonal(m: Mat3): Mat3 {
  let x = m.map((row) => row.slice());
  for (let iter = 0; iter < 100; iter++) {
    const y = inverseTranspose3(x);
    const z = x.map((row, r) => row.map((v, col) => 0.5 * (v + y[r][col])));
    let dif = 0;
    for (let r = 0; r < 3; r++) for (let col = 0; col < 3; col++) dif += Math.abs(z[r][col] - x[r][col]);
    x = z;
    if (dif < 1e-12) break;
  }
  return x;
}

export interface Quatern {
  b: number;
  c: number;
  d: number;
  qfac: 1 | -1;
  offset: [number, number, number];
}

/**
 * nifti_mat44_to_quatern from nifti1_io.c: the quaternion of the affine's rotation (its columns
 * normalised and, for a sheared affine, orthogonalised), with qfac = -1 for a left-handed one.
 */
export function affineToQuatern(affine: Affine): Quatern {
  const cols = [0, 1, 2].map((j) => {
    const v = [affine[0][j], affine[1][j], affine[2][j]];
    const len = Math.hypot(v[0], v[1], v[2]);
    if (len === 0) return [0, 1, 2].map((i) => (i === j ? 1 : 0)); // degenerate column: use the axis
    return v.map((x) => x / len);
  });
  let r: Mat3 = [0, 1, 2].map((i) => [cols[0][i], cols[1][i], cols[2][i]]);
  if (det3(r) === 0) r = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
  r = nearestOrthogonal(r);
  let qfac: 1 | -1 = 1;
  if (det3(r) < 0) {
    qfac = -1;
    for (let i = 0; i < 3; i++) r[i][2] = -r[i][2];
  }
  const [[r11, r12, r13], [r21, r22, r23], [r31, r32, r33]] = r;
  let a = r11 + r22 + r33 + 1;
  let b: number;
  let c: number;
  let d: number;
  if (a > 0.5) {
    a = 0.5 * Math.sqrt(a);
    b = (0.25 * (r32 - r23)) / a;
    c = (0.25 * (r13 - r31)) / a;
    d = (0.25 * (r21 - r12)) / a;
  } else {
    const xd = 1 + r11 - (r22 + r33);
    const yd = 1 + r22 - (r11 + r33);
    const zd = 1 + r33 - (r11 + r22);
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd);
      c = (0.25 * (r12 + r21)) / b;
      d = (0.25 * (r13 + r31)) / b;
      a = (0.25 * (r32 - r23)) / b;
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd);
      b = (0.25 * (r12 + r21)) / c;
      d = (0.25 * (r23 + r32)) / c;
      a = (0.25 * (r13 - r31)) / c;
    } else {
      d = 0.5 * Math.sqrt(zd);
      b = (0.25 * (r13 + r31)) / d;
      c = (0.25 * (r23 + r32)) / d;
      a = (0.25 * (r21 - r12)) / d;
    }
    if (a < 0) {
      b = -b;
      c = -c;
      d = -d;
    }
  }
  return { b, c, d, qfac, offset: [affine[0][3], affine[1][3], affine[2][3]] };
}

const WRITE_DATATYPE: Record<string, [code: number, bitpix: number]> = {
  uint8: [2, 8],
  int16: [4, 16],
  int32: [8, 32],
  float32: [16, 32],
  float64: [64, 64],
  int8: [256, 8],
  uint16: [512, 16],
  uint32: [768, 32],
};

export interface NiftiWriteOptions {
  /** gzip the file (.nii.gz); default true. */
  gzip?: boolean;
  /** The header's descrip field (at most 79 characters are kept). */
  description?: string;
}

/**
 * A NIfTI-1 single file (348-byte header, empty extension flag, voxels at byte 352), little-endian,
 * with the volume's dtype. The affine goes into the sform and, as a rotation, into the qform (both
 * with code 1, scanner); pixdim comes from `spacing` and the units say mm. A [C, D, H, W] volume
 * is written as 4D with nt = C.
 */
export function writeNifti(vol: Volume, opts: NiftiWriteOptions = {}): Uint8Array {
  const rank = vol.shape.length;
  if (rank !== 3 && rank !== 4) throw new Error(`writeNifti: expected shape [D, H, W] or [C, D, H, W], got [${vol.shape.join(', ')}]`);
  if (product(vol.shape) !== vol.data.length) {
    throw new Error(`writeNifti: shape [${vol.shape.join(', ')}] does not match ${vol.data.length} values`);
  }
  const dims = vol.shape.slice().reverse(); // x, y, z[, t]
  if (dims.some((d) => d > 32767)) {
    throw new InputError(`cannot write NIfTI-1: dimension ${Math.max(...dims)} exceeds the format's limit of 32767`);
  }
  const [code, bitpix] = WRITE_DATATYPE[dtypeOf(vol.data)];
  const q = affineToQuatern(vol.affine);
  const [sD, sH, sW] = vol.spacing;

  const offset = 352;
  const out = new Uint8Array(offset + vol.data.byteLength);
  const view = new DataView(out.buffer);
  const i16 = (at: number, v: number) => view.setInt16(at, v, true);
  const f32 = (at: number, v: number) => view.setFloat32(at, v, true);
  const text = (at: number, s: string, max: number) => {
    for (let i = 0; i < Math.min(s.length, max); i++) out[at + i] = s.charCodeAt(i) & 0x7f;
  };

  view.setInt32(0, 348, true); // sizeof_hdr
  out[38] = 'r'.charCodeAt(0); // regular, for ANALYZE readers
  i16(40, rank);
  dims.forEach((d, i) => i16(42 + 2 * i, d));
  for (let i = rank; i < 7; i++) i16(42 + 2 * i, 1);
  i16(70, code);
  i16(72, bitpix);
  [q.qfac, sW, sH, sD, 1, 1, 1, 1].forEach((p, i) => f32(76 + 4 * i, p)); // pixdim[0] = qfac
  f32(108, offset); // vox_offset
  f32(112, 1); // scl_slope, scl_inter: identity
  f32(116, 0);
  out[123] = 2; // xyzt_units: NIFTI_UNITS_MM
  text(148, opts.description ?? 'Voxelbench', 79);
  i16(252, 1); // qform_code: scanner
  i16(254, 1); // sform_code: scanner
  [q.b, q.c, q.d, ...q.offset].forEach((v, i) => f32(256 + 4 * i, v));
  for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) f32(280 + 16 * r + 4 * c, vol.affine[r][c]);
  text(344, 'n+1', 3); // magic "n+1\0"; bytes 348..351 (extension flag) stay 0
  out.set(bytesOf(vol.data), offset); // little-endian, as in memory
  // mtime 0: the same volume gives the same bytes (shards and merge, reruns)
  return opts.gzip === false ? out : gzipSync(out, { mtime: 0 });
}
