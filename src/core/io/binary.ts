/**
 * Byte-level helpers shared by the readers and writers: inflating with a cap (gzip, zlib, raw
 * deflate), typed arrays from raw bytes, float16.
 */
import { Gunzip, Inflate, Unzlib } from 'fflate';
import { InputError, type DType, type VoxelArray } from '../volume';
import { checkInflatedSize, LIMITS } from './limits';

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** What the first bytes of inflated content say its whole size is (null: unknown). */
export interface DeclaredSize {
  /** How many bytes of the start it needs. */
  bytes: number;
  /**
   * The total size the content declares (bytes, with what declares it for messages: 'its NIfTI
   * header (1024 x 1024 x 1024 float32)'), checked by the caller's own rules (it may throw an
   * InputError); null when the head does not tell.
   */
  size(head: Uint8Array): { bytes: number; what: string } | null;
}

export interface InflateOptions {
  /** What the data is called in messages (default: 'the gzip data', ...). */
  what?: string;
  /** Most bytes the output may have (default and at most LIMITS.maxDecodedBytes): more is an InputError. */
  cap?: number;
  /** Stop once this many bytes are out (what follows is never inflated). */
  stopAt?: number;
  /**
   * The size the content declares from its head: checked against the limits and against what the
   * compressed bytes can hold (deflate expands at most ~1032:1) before the rest is inflated; the
   * output then stops there.
   */
  declared?: DeclaredSize;
}

/** Input bytes pushed at a time: deflate's 1032:1 keeps each step's output under 68 MB. */
const STEP = 1 << 16;

/**
 * Inflates gzip (all members), zlib or raw deflate data in steps, checking the output against a
 * cap after each step, so that a small file that inflates to gigabytes costs at most the cap and
 * is an InputError naming the file. Corrupt or cut-short data is an InputError too.
 */
export function inflateCapped(format: 'gzip' | 'zlib' | 'deflate', input: Uint8Array, name: string, opts: InflateOptions = {}): Uint8Array {
  const what = opts.what ?? `the ${format} data`;
  const cap = Math.min(opts.cap ?? LIMITS.maxDecodedBytes, LIMITS.maxDecodedBytes);
  let stop = opts.stopAt ?? Infinity;
  let declared = opts.declared;
  // the output grows by doubling (never past `stop`), so that a size a header declares is not
  // allocated before the data is there
  let out = new Uint8Array(0);
  let total = 0;
  let ended = false;
  let produced = 0; // everything inflated, also past `stop`
  const take = (chunk: Uint8Array, final: boolean): void => {
    if (final) ended = true;
    produced += chunk.length;
    if (!chunk.length || total >= stop) return;
    const c = total + chunk.length > stop ? chunk.subarray(0, stop - total) : chunk;
    if (total + c.length > out.length) {
      const grown = new Uint8Array(Math.min(stop, Math.max(2 * out.length, total + c.length, 1 << 16)));
      grown.set(out.subarray(0, total));
      out = grown;
    }
    out.set(c, total);
    total += c.length;
  };
  const stream = format === 'gzip' ? new Gunzip(take) : format === 'zlib' ? new Unzlib(take) : new Inflate(take);
  // gzip: where the last member's output starts, to check its trailer (the streaming inflater does not)
  let memberStart = 0;
  if (stream instanceof Gunzip) stream.onmember = () => void (memberStart = produced);
  let early = false;
  const tooBig = () => new InputError(`${name}: ${what} inflates to more than ${cap.toLocaleString('en-US')} bytes, the limit; the file is damaged or too large`);
  try {
    for (let i = 0; ; i += STEP) {
      const end = Math.min(input.length, i + STEP);
      const last = end >= input.length;
      stream.push(input.subarray(i, end), last);
      // the head is out: check the size it declares before inflating the rest, and stop there
      if (declared && (total >= declared.bytes || last)) {
        const size = declared.size(out.subarray(0, Math.min(total, declared.bytes)));
        declared = undefined;
        if (size !== null) {
          checkInflatedSize(name, size.bytes, input.length, size.what);
          stop = Math.min(stop, size.bytes);
        }
      }
      if (total > cap) throw tooBig();
      if (total >= stop && !last) early = true;
      if (total >= stop || ended || last) break;
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${name}: bad ${format} data in ${what.replace(/^the /, '')} (${(e as Error).message}); the file is corrupt or was cut short`);
  }
  // a stream cut inside its header inflates to nothing without an error, one cut in its trailer
  // (CRC32, ISIZE) to all its data: the last member's ISIZE must be the size of its output
  const cut = total === 0 && input.length > 0 && stop > 0;
  if (cut || (format === 'gzip' && !early && (input.length < 8 || new DataView(input.buffer, input.byteOffset + input.length - 4, 4).getUint32(0, true) !== (produced - memberStart) % 2 ** 32))) {
    throw new InputError(`${name}: ${what} is cut short (its end is missing); the file is corrupt or was cut short`);
  }
  return total === out.length ? out : out.slice(0, total);
}

/**
 * The bytes themselves, or their decompressed content when they start with the gzip magic 1f 8b,
 * inflated with a cap (inflateCapped); `declared` reads the content's own size from its header.
 */
export function gunzipIfNeeded(bytes: Uint8Array, name: string, declared?: DeclaredSize): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  return inflateCapped('gzip', bytes, name, { what: 'the gzip data', declared });
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
    const at = bytes.byteOffset + offset;
    let halves: Uint16Array;
    if (at % 2 === 0) halves = new Uint16Array(bytes.buffer, at, n);
    else {
      halves = new Uint16Array(n);
      new Uint8Array(halves.buffer).set(bytes.subarray(offset, offset + n * 2));
    }
    for (let i = 0; i < n; i++) out[i] = table[halves[i]];
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < n; i++) out[i] = spec.get(view, offset + i * spec.size, littleEndian);
  }
  return out;
}

/**
 * n elements of `type` at bytes[offset], as a view of those bytes when they are stored as this
 * machine reads them (little-endian, a native type, aligned), else readElements' copy. For a slab
 * that is read and dropped (a tomogram converted slab by slab): no copy, no garbage per slab.
 * A view shares the bytes' buffer: the caller must not keep it past the bytes.
 */
export function viewElements(bytes: Uint8Array, offset: number, n: number, type: ElementType, littleEndian: boolean): VoxelArray {
  const spec = ELEMENT[type];
  const at = bytes.byteOffset + offset;
  if (littleEndian && type !== 'int64' && type !== 'float16' && at % spec.size === 0) {
    return new (spec.ctor as unknown as new (b: ArrayBufferLike, o: number, n: number) => VoxelArray)(bytes.buffer, at, n);
  }
  return readElements(bytes, offset, n, type, littleEndian);
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
