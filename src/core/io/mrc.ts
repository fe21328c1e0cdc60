/**
 * MRC2014 reader and writer (.mrc, .rec, .map, .st, .ali, and gzipped).
 *
 * Layout: a 1024-byte header of 4-byte words, then NSYMBT bytes of extended header, then the voxels
 * with x (columns) fastest, then y (rows), then z (sections), i.e. C-order [nz, ny, nx].
 * Header words used (1-based as in the MRC2014 spec, byte offset in brackets):
 *   1-3 NX, NY, NZ [0]; 4 MODE [12]; 8-10 MX, MY, MZ [28]; 11-13 cell lengths in Angstrom [40];
 *   17-19 MAPC, MAPR, MAPS [64]; 20-22 DMIN, DMAX, DMEAN [76]; 23 ISPG [88]; 24 NSYMBT [92];
 *   28 NVERSION [108]; IMOD stamp and flags [152], [156]; 50-52 ORIGIN [196]; 53 'MAP ' [208];
 *   54 MACHST [212]; 55 RMS [216]; 56 NLABL [220]; ten 80-character labels [224].
 */
import { type Affine, InputError, type Volume, type VoxelArray, dtypeOf, product, range } from '../volume';
import { type DeclaredSize, type ElementType, bytesOf, elementSize, gunzipIfNeeded, readElements } from './binary';
import { checkVolumeDims } from './limits';

const HEADER_SIZE = 1024;
/** IMOD writes this at byte 152 when the flags at 156 are meaningful ('IMOD' as an int32). */
const IMOD_STAMP = 1146047817;
/** imodFlags bit 0: mode-0 bytes are signed. With the stamp and this bit clear, they are unsigned. */
const IMOD_SIGNED_BYTES = 1;

const MODE_TYPES: Record<number, ElementType> = { 0: 'int8', 1: 'int16', 2: 'float32', 6: 'uint16', 12: 'float16' };
const UNSUPPORTED_MODES: Record<number, string> = {
  3: 'complex int16',
  4: 'complex float32',
  16: 'RGB',
  101: '4-bit',
};

/** Byte order: MACHST says it ('D' = 0x44 little, 0x11 big); otherwise the order in which the header is plausible. */
function isLittleEndian(view: DataView): boolean {
  const stamp = view.getUint8(212);
  if (stamp === 0x44) return true;
  if (stamp === 0x11) return false;
  return plausible(view, true) || !plausible(view, false);
}

function plausible(view: DataView, le: boolean): boolean {
  const mode = view.getInt32(12, le);
  const dims = [0, 4, 8].map((o) => view.getInt32(o, le));
  return (mode in MODE_TYPES || mode in UNSUPPORTED_MODES) && dims.every((d) => d > 0 && d < 1 << 24);
}

/** Content check for files without an MRC extension: the 'MAP ' stamp and a plausible header. */
export function looksLikeMrc(bytes: Uint8Array): boolean {
  if (bytes.length < HEADER_SIZE) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_SIZE);
  const map = String.fromCharCode(bytes[208], bytes[209], bytes[210], bytes[211]);
  return map === 'MAP ' && plausible(view, isLittleEndian(view));
}

/**
 * The bytes a (decompressed) MRC file needs, from its header: 1024 + NSYMBT + the voxels. Checks
 * the dims against the limits (an InputError naming the file); null when the head does not look
 * like a readable MRC header (the reader says what is wrong).
 */
export function mrcDeclaredSize(head: Uint8Array, name: string): { bytes: number; what: string } | null {
  if (head.length < HEADER_SIZE) return null;
  const view = new DataView(head.buffer, head.byteOffset, HEADER_SIZE);
  const le = isLittleEndian(view);
  const dims = [0, 4, 8].map((o) => view.getInt32(o, le));
  const type = MODE_TYPES[view.getInt32(12, le)];
  const extended = view.getInt32(92, le);
  if (!type || dims.some((d) => d < 1) || extended < 0) return null;
  const n = checkVolumeDims(name, dims, elementSize(type), 'MRC');
  return { bytes: HEADER_SIZE + extended + n * elementSize(type), what: `its MRC header (${dims.join(' x ')} ${type} voxels)` };
}

/** The declared size of a .mrc.gz's content, for inflating it with a cap (see inflateCapped). */
export const mrcSize = (name: string): DeclaredSize => ({ bytes: HEADER_SIZE, size: (head) => mrcDeclaredSize(head, name) });

/** Where an MRC file's voxels are and how to read them: what the header says, checked against the file size. */
export interface MrcLayout {
  /** [nz, ny, nx]. */
  shape: [number, number, number];
  mode: number;
  /** The element type of the voxels (mode 0: int8, or uint8 with the IMOD flag). */
  type: ElementType;
  littleEndian: boolean;
  /** Byte offset of the first voxel (1024 + NSYMBT). */
  offset: number;
  /** Spacing [z, y, x] in Angstrom and the affine, as readMrc returns them. */
  spacing: [number, number, number];
  affine: Affine;
  /**
   * The header's DMIN..DMAX when both are finite and DMAX > DMIN, else null. A claim to check, not
   * a fact: writers such as mrcfile and IMOD store the data's exact range, others leave 0..0 or -1.
   */
  range: [number, number] | null;
}

/**
 * Reads and checks the header of an MRC file of `fileSize` bytes (`header`: at least its first
 * 1024 bytes, uncompressed). Throws InputErrors naming the file, as readMrc does.
 */
export function mrcLayout(header: Uint8Array, name: string, fileSize: number): MrcLayout {
  if (fileSize === 0) throw new InputError(`${name}: the file is empty`);
  if (fileSize < HEADER_SIZE || header.length < HEADER_SIZE) {
    throw new InputError(`${name}: truncated header: MRC needs ${HEADER_SIZE} bytes, has ${Math.min(fileSize, header.length)}`);
  }
  const view = new DataView(header.buffer, header.byteOffset, HEADER_SIZE);
  const le = isLittleEndian(view);
  const int = (at: number) => view.getInt32(at, le);
  const float = (at: number) => view.getFloat32(at, le);

  const [nx, ny, nz] = [int(0), int(4), int(8)];
  if (![nx, ny, nz].every((d) => d >= 1)) {
    throw new InputError(`${name}: bad MRC dimensions ${nx} x ${ny} x ${nz}: each must be at least 1 (is this an MRC file?)`);
  }
  const mode = int(12);
  let type = MODE_TYPES[mode];
  if (!type) {
    const what = UNSUPPORTED_MODES[mode] ? ` (${UNSUPPORTED_MODES[mode]})` : '';
    throw new InputError(
      `${name}: MRC mode ${mode}${what} is not supported; supported modes: 0 (int8/uint8), 1 (int16), 2 (float32), 6 (uint16), 12 (float16)`,
    );
  }
  // Mode 0 is signed in MRC2014; IMOD marks unsigned bytes by its stamp with the "signed" flag clear.
  if (mode === 0 && int(152) === IMOD_STAMP && !(int(156) & IMOD_SIGNED_BYTES)) type = 'uint8';

  const extended = int(92); // NSYMBT
  if (extended < 0) throw new InputError(`${name}: bad MRC header: extended header length ${extended}`);
  if (HEADER_SIZE + extended > fileSize) {
    throw new InputError(`${name}: truncated or bad header: an extended header of ${extended} bytes does not fit in the ${fileSize}-byte file`);
  }
  const offset = HEADER_SIZE + extended;
  const n = checkVolumeDims(name, [nx, ny, nz], elementSize(type), 'MRC');
  const need = n * elementSize(type);
  const have = Math.max(0, fileSize - offset);
  if (have < need) {
    throw new InputError(
      `${name}: truncated data: needs ${need} bytes, has ${have} (${nx} x ${ny} x ${nz} mode-${mode} voxels from byte ${offset})`,
    );
  }
  // Voxel size = cell length / grid intervals, in Angstrom; 1 where the header leaves either at 0.
  const voxel = [0, 1, 2].map((i) => {
    const cell = float(40 + 4 * i);
    const intervals = int(28 + 4 * i);
    const v = intervals > 0 ? cell / intervals : 0;
    return Number.isFinite(v) && v > 0 ? v : 1;
  });
  // ORIGIN (words 50-52) in Angstrom. NXSTART etc. (words 5-7) are not folded in, as in mrcfile.
  const origin = [0, 1, 2].map((i) => {
    const o = float(196 + 4 * i);
    return Number.isFinite(o) ? o : 0;
  });
  // The affine is in Angstrom (unit 'angstrom'), not the millimetres of the NIfTI convention.
  const affine: Affine = [
    [voxel[0], 0, 0, origin[0]],
    [0, voxel[1], 0, origin[1]],
    [0, 0, voxel[2], origin[2]],
    [0, 0, 0, 1],
  ];
  const [dmin, dmax] = [float(76), float(80)];
  const range: [number, number] | null = Number.isFinite(dmin) && Number.isFinite(dmax) && dmax > dmin ? [dmin, dmax] : null;
  return { shape: [nz, ny, nx], mode, type, littleEndian: le, offset, spacing: [voxel[2], voxel[1], voxel[0]], affine, range };
}

export function readMrc(input: Uint8Array, name = 'volume.mrc'): Volume {
  const bytes = gunzipIfNeeded(input, name, mrcSize(name));
  const m = mrcLayout(bytes, name, bytes.length);
  // MAPC/MAPR/MAPS (which axis the columns, rows and sections are) are ignored: the voxels are taken
  // in file order as x, y, z. Tomograms and EM maps use 1, 2, 3; permuted crystallographic maps would
  // come out with their axes swapped.
  const data = readElements(bytes, m.offset, m.shape[0] * m.shape[1] * m.shape[2], m.type, m.littleEndian);
  return {
    shape: m.shape,
    data,
    spacing: m.spacing,
    unit: 'angstrom',
    affine: m.affine,
    source: { name, format: 'mrc' },
  };
}

/**
 * An MRC2014 file, little-endian, no extended header: float32 as mode 2, int16 as mode 1, uint16 as
 * mode 6, int8 and uint8 as mode 0 (uint8 marked unsigned by the IMOD stamp and flag: IMOD and this
 * reader honour it, mrcfile reads such files as int8). float64, int32 and uint32 are stored as
 * float32 (integers above 2^24 lose precision). Spacing and the affine's translation are written as
 * they are, taken to be Angstrom. A [1, D, H, W] volume is written as [D, H, W].
 */
export function writeMrc(vol: Volume): Uint8Array {
  const shape = vol.shape.length === 4 && vol.shape[0] === 1 ? vol.shape.slice(1) : vol.shape;
  if (shape.length !== 3) {
    throw new InputError(`cannot write MRC: it holds one 3D volume, got shape [${vol.shape.join(', ')}]`);
  }
  if (product(shape) !== vol.data.length) {
    throw new Error(`writeMrc: shape [${vol.shape.join(', ')}] does not match ${vol.data.length} values`);
  }
  const [nz, ny, nx] = shape;
  const dtype = dtypeOf(vol.data);
  const modes: Partial<Record<string, number>> = { float32: 2, int16: 1, uint16: 6, int8: 0, uint8: 0 };
  const mode = modes[dtype] ?? 2;
  const data: VoxelArray = modes[dtype] === undefined ? Float32Array.from(vol.data) : vol.data;

  const [dmin, dmax] = range(data);
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += data[i];
  const mean = sum / data.length;
  let sq = 0;
  for (let i = 0; i < data.length; i++) sq += (data[i] - mean) ** 2;
  const rms = Math.sqrt(sq / data.length); // MRC2014: RMS deviation from the mean

  const out = new Uint8Array(HEADER_SIZE + data.byteLength);
  const view = new DataView(out.buffer);
  const int = (at: number, v: number) => view.setInt32(at, v, true);
  const float = (at: number, v: number) => view.setFloat32(at, v, true);
  const text = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) out[at + i] = s.charCodeAt(i);
  };
  const [sD, sH, sW] = vol.spacing;
  [nx, ny, nz].forEach((d, i) => int(4 * i, d)); // NX, NY, NZ
  int(12, mode);
  // NXSTART.. stay 0; MX, MY, MZ = NX, NY, NZ so that voxel size = cell / n
  [nx, ny, nz].forEach((d, i) => int(28 + 4 * i, d));
  [nx * sW, ny * sH, nz * sD].forEach((c, i) => float(40 + 4 * i, c));
  [90, 90, 90].forEach((a, i) => float(52 + 4 * i, a));
  [1, 2, 3].forEach((m, i) => int(64 + 4 * i, m)); // MAPC, MAPR, MAPS
  [dmin, dmax, mean].forEach((v, i) => float(76 + 4 * i, v));
  int(88, 1); // ISPG 1: a single volume
  int(108, 20141); // NVERSION: MRC2014, revision 1
  if (mode === 0) {
    int(152, IMOD_STAMP);
    int(156, dtype === 'int8' ? IMOD_SIGNED_BYTES : 0);
  }
  [0, 1, 2].forEach((r) => float(196 + 4 * r, vol.affine[r][3])); // ORIGIN
  text(208, 'MAP ');
  out.set([0x44, 0x44, 0, 0], 212); // MACHST: little-endian
  float(216, rms);
  int(220, 1); // NLABL
  text(224, 'Voxelbench');
  out.set(bytesOf(data), HEADER_SIZE);
  return out;
}
