/** Byte-level helpers shared by the volume readers and writers: gzip, typed arrays from raw bytes, float16. */
import { gunzipSync } from 'fflate';
import { InputError, type DType, type VoxelArray } from '../volume';

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** The bytes themselves, or their decompressed content when they start with the gzip magic 1f 8b. */
export function gunzipIfNeeded(bytes: Uint8Array, name: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (e) {
    throw new InputError(`${name}: bad gzip data (${(e as Error).message}); the file is corrupt or was cut short`);
  }
}

/** Element types found in files: the Volume dtypes plus ones read into a wider array. */
export type ElementType = DType | 'int64' | 'float16';

type Ctor = new (n: number) => VoxelArray;
const ELEMENT: Record<ElementType, { ctor: Ctor; size: number; get: (v: DataView, o: number, le: boolean) => number }> = {
  float32: { ctor: Float32Array, size: 4, get: (v, o, le) => v.getFloat32(o, le) },
  float64: { ctor: Float64Array, size: 8, get: (v, o, le) => v.getFloat64(o, le) },
  int8: { ctor: Int8Array, size: 1, get: (v, o) => v.getInt8(o) },
  uint8: { ctor: Uint8Array, size: 1, get: (v, o) => v.getUint8(o) },
  int16: { ctor: Int16Array, size: 2, get: (v, o, le) => v.getInt16(o, le) },
  uint16: { ctor: Uint16Array, size: 2, get: (v, o, le) => v.getUint16(o, le) },
  int32: { ctor: Int32Array, size: 4, get: (v, o, le) => v.getInt32(o, le) },
  uint32: { ctor: Uint32Array, size: 4, get: (v, o, le) => v.getUint32(o, le) },
  // int64 goes into float64 (exact up to 2^53); float16 into float32 (exact), without relying on Float16Array
  int64: { ctor: Float64Array, size: 8, get: (v, o, le) => Number(v.getBigInt64(o, le)) },
  float16: { ctor: Float32Array, size: 2, get: (v, o, le) => halfToFloat(v.getUint16(o, le)) },
};

export function elementSize(type: ElementType): number {
  return ELEMENT[type].size;
}

/**
 * n elements of `type` starting at bytes[offset], in a new array that owns its buffer (byteOffset 0).
 * The caller has checked that the bytes are there. Little-endian native types are copied in one go:
 * every platform the workbench runs on (x86, ARM; browsers, Node) is little-endian.
 */
export function readElements(bytes: Uint8Array, offset: number, n: number, type: ElementType, littleEndian: boolean): VoxelArray {
  const spec = ELEMENT[type];
  const out = new spec.ctor(n);
  if (littleEndian && type !== 'int64' && type !== 'float16') {
    new Uint8Array(out.buffer).set(bytes.subarray(offset, offset + n * spec.size));
  } else if (type === 'float16' && littleEndian) {
    const table = halfTable();
    const halves = new Uint16Array(n);
    new Uint8Array(halves.buffer).set(bytes.subarray(offset, offset + n * 2));
    for (let i = 0; i < n; i++) out[i] = table[halves[i]];
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < n; i++) out[i] = spec.get(view, offset + i * spec.size, littleEndian);
  }
  return out;
}

/** The data bytes of a typed array as stored in memory (little-endian), without copying. */
export function bytesOf(a: VoxelArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** IEEE 754 half-precision bits to a number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero and subnormals
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

let HALF_TABLE: Float32Array | undefined;
/** All 65536 half values, built on first use (256 KiB), so that large float16 volumes convert by lookup. */
function halfTable(): Float32Array {
  if (!HALF_TABLE) {
    HALF_TABLE = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) HALF_TABLE[h] = halfToFloat(h);
  }
  return HALF_TABLE;
}

/** Lower-case file name without a trailing .gz, for extension checks. */
export function baseName(name: string): string {
  return name.toLowerCase().replace(/\.gz$/, '');
}
