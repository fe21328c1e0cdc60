/** NumPy .npy reader and writer (format versions 1.0 to 3.0, C order, little or big endian). */
import { InputError, type VoxelArray, dtypeOf, product } from '../volume';
import { LIMITS } from './limits';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export interface NpyArray {
  shape: number[];
  data: VoxelArray;
}

const DESCR: Record<string, { ctor: new (n: number) => VoxelArray; size: number; get: (v: DataView, o: number, le: boolean) => number }> = {
  f4: { ctor: Float32Array, size: 4, get: (v, o, le) => v.getFloat32(o, le) },
  f8: { ctor: Float64Array, size: 8, get: (v, o, le) => v.getFloat64(o, le) },
  i1: { ctor: Int8Array, size: 1, get: (v, o) => v.getInt8(o) },
  u1: { ctor: Uint8Array, size: 1, get: (v, o) => v.getUint8(o) },
  b1: { ctor: Uint8Array, size: 1, get: (v, o) => v.getUint8(o) },
  i2: { ctor: Int16Array, size: 2, get: (v, o, le) => v.getInt16(o, le) },
  u2: { ctor: Uint16Array, size: 2, get: (v, o, le) => v.getUint16(o, le) },
  i4: { ctor: Int32Array, size: 4, get: (v, o, le) => v.getInt32(o, le) },
  u4: { ctor: Uint32Array, size: 4, get: (v, o, le) => v.getUint32(o, le) },
  // int64 is read into float64 (exact up to 2^53)
  i8: { ctor: Float64Array, size: 8, get: (v, o, le) => Number(v.getBigInt64(o, le)) },
};

export function isNpy(bytes: Uint8Array): boolean {
  return bytes.length >= 10 && MAGIC.every((m, i) => bytes[i] === m);
}

interface NpyHeader {
  shape: number[];
  spec: (typeof DESCR)[string];
  kind: string;
  littleEndian: boolean;
  dataStart: number;
  /** Elements and their bytes. */
  n: number;
  need: number;
}

/**
 * The header of a .npy file: shape, dtype and where the data starts, every value checked (dims
 * whole numbers >= 0, the data within the size limit). Null when `partial` and the header is not
 * all there yet.
 */
function npyHeader(bytes: Uint8Array, name: string, partial = false): NpyHeader | null {
  if (!isNpy(bytes)) throw new InputError(`${name}: not a NumPy .npy file (bad magic bytes)`);
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new InputError(`${name}: truncated .npy header`);
    headerLen = view.getUint32(8, true);
    start = 12;
  } else {
    throw new InputError(`${name}: unsupported .npy version ${major}`);
  }
  if (start + headerLen > bytes.length) {
    if (partial) return null;
    throw new InputError(`${name}: truncated .npy header`);
  }
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeStr = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeStr === undefined) {
    throw new InputError(`${name}: malformed .npy header: ${header.trim().slice(0, 200)}`);
  }
  if (fortran === 'True') throw new InputError(`${name}: Fortran-order arrays are not supported; save with np.ascontiguousarray`);
  const parts = shapeStr.split(',').map((x) => x.trim());
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop(); // (3,) and (3, 4,)
  const shape = parts.length === 1 && parts[0] === '' ? [] : parts.map((x) => (/^\d+L?$/.test(x) ? Number.parseInt(x, 10) : NaN));
  if (shape.length > 32 || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new InputError(`${name}: bad shape (${shapeStr.slice(0, 100)})`);
  const order = descr[0];
  const kind = descr.slice(1);
  const spec = Object.prototype.hasOwnProperty.call(DESCR, kind) ? DESCR[kind] : undefined;
  if (!spec || !'<>|='.includes(order)) {
    throw new InputError(`${name}: unsupported dtype '${descr.slice(0, 40)}' (float32, float64, int8/16/32/64, uint8/16/32 are read)`);
  }
  const n = product(shape);
  const need = n * spec.size;
  if (need > LIMITS.maxDecodedBytes) {
    throw new InputError(`${name}: shape (${shape.join(', ')}) needs ${need} bytes, more than the limit of ${LIMITS.maxDecodedBytes}; the header is damaged or the array too large`);
  }
  return { shape, spec, kind, littleEndian: order !== '>', dataStart: start + headerLen, n, need };
}

/** The bytes a (decompressed) .npy file needs, from its header; null when the head does not hold the header. */
export function npyDeclaredSize(head: Uint8Array, name: string): { bytes: number; what: string } | null {
  if (!isNpy(head)) return null;
  const h = npyHeader(head, name, true);
  return h ? { bytes: h.dataStart + h.need, what: `its .npy header (shape (${h.shape.join(', ')}))` } : null;
}

export function readNpy(input: ArrayBuffer | Uint8Array, name = 'array.npy'): NpyArray {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  const { shape, spec, kind, littleEndian: le, dataStart, n, need } = npyHeader(bytes, name)!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length - dataStart < need) {
    throw new InputError(`${name}: truncated data: shape (${shape.join(', ')}) needs ${need} bytes, file has ${bytes.length - dataStart}`);
  }
  const data = new spec.ctor(n);
  if (le && kind !== 'i8' && (bytes.byteOffset + dataStart) % spec.size === 0) {
    const Ctor = spec.ctor as unknown as { new (b: ArrayBufferLike, o: number, n: number): VoxelArray };
    data.set(new Ctor(bytes.buffer, bytes.byteOffset + dataStart, n));
  } else if (le && kind !== 'i8') {
    new Uint8Array(data.buffer).set(bytes.subarray(dataStart, dataStart + need));
  } else {
    for (let i = 0; i < n; i++) data[i] = spec.get(view, dataStart + i * spec.size, le);
  }
  return { shape, data };
}

const WRITE_DESCR: Record<string, string> = {
  float32: '<f4',
  float64: '<f8',
  int8: '|i1',
  uint8: '|u1',
  int16: '<i2',
  uint16: '<u2',
  int32: '<i4',
  uint32: '<u4',
};

export function writeNpy(arr: NpyArray): Uint8Array {
  if (product(arr.shape) !== arr.data.length) throw new Error(`shape [${arr.shape.join(', ')}] does not match ${arr.data.length} values`);
  const descr = WRITE_DESCR[dtypeOf(arr.data)];
  const shape = arr.shape.length === 1 ? `(${arr.shape[0]},)` : `(${arr.shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + arr.data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength), 10 + header.length);
  return out;
}
