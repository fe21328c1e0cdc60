/**
 * Tomograms for the motor pipeline: uint8 (Z, Y, X) volumes made from slice folders, volumes
 * (MRC/REC/NIfTI/npy via readVolume) or TIFF stacks (decode.ts). The data stays uint8 from
 * loading to the moment a window is fed to the model.
 */
import { InputError, type Volume, type VoxelArray } from '../volume';
import { AbortError } from '../slidingWindow';
import { elementSize, halfToFloat, isGzip, viewElements } from '../io/binary';
import { mrcLayout } from '../io/mrc';
import type { GrayTarget } from '../io/jpeg';

export interface Tomogram {
  id: string;
  /** (Z, Y, X) = (D, H, W). */
  shape: [number, number, number];
  /** C-order uint8 voxels, x fastest. */
  data: Uint8Array;
  /** Voxel spacing in Angstrom, when the file gives one. */
  spacing?: number;
  /**
   * Set when only the z planes that the resize to this depth reads were decoded (a slice folder read
   * with ReadOptions.modelOnly): the others are zero, so the tomogram is fit for a run at this input
   * depth only, never for a view or another depth.
   */
  planesFor?: number;
}

/** One decoded 8-bit grayscale slice. */
export interface GraySlice {
  name: string;
  width: number;
  height: number;
  gray: Uint8Array;
}

/** File names taken as image slices (the rest of a folder is skipped with a warning). */
export const SLICE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.tif', '.tiff'] as const;

export function isSliceName(name: string): boolean {
  const n = name.toLowerCase();
  return SLICE_EXTENSIONS.some((e) => n.endsWith(e)) && !baseOf(name).startsWith('.');
}

function baseOf(path: string): string {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return i >= 0 ? path.slice(i + 1) : path;
}

/** Natural order: digit runs compare as numbers (slice_9 < slice_10), the rest by code unit. */
export function naturalCompare(a: string, b: string): number {
  const ra = a.match(/\d+|\D+/g) ?? [];
  const rb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(ra.length, rb.length); i++) {
    const x = ra[i];
    const y = rb[i];
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
      return x.length - y.length; // 007 after 7
    }
    return x < y ? -1 : 1;
  }
  return ra.length - rb.length;
}

/** The number at the end of a slice's name (slice_0012.jpg -> 12), or null. */
function sliceNumber(name: string): number | null {
  const m = /(\d+)\.[^.]+$/.exec(baseOf(name));
  return m ? Number(m[1]) : null;
}

/**
 * The order in which a folder's files are stacked: image files by natural name order; other
 * files are returned in `skipped`. Throws an InputError naming the tomogram (and the file) for an
 * empty folder, a folder without images, two images with the same slice number, or missing slice
 * numbers (a gap in slice_%04d numbering).
 */
export function orderSliceNames(id: string, names: readonly string[]): { ordered: string[]; skipped: string[] } {
  if (names.length === 0) throw new InputError(`${id}: the folder is empty`);
  const images = names.filter(isSliceName);
  const skipped = names.filter((n) => !isSliceName(n));
  if (images.length === 0) {
    throw new InputError(`${id}: no image slices (.jpg, .png, .tif) in the folder; found ${skipped.slice(0, 3).map((s) => `'${baseOf(s)}'`).join(', ')}${skipped.length > 3 ? ` and ${skipped.length - 3} more` : ''}`);
  }
  const ordered = [...images].sort((a, b) => naturalCompare(baseOf(a), baseOf(b)));
  const nums = ordered.map(sliceNumber);
  if (nums.every((n): n is number => n !== null)) {
    for (let i = 1; i < nums.length; i++) {
      if (nums[i] === nums[i - 1]) throw new InputError(`${id}: two slices have number ${nums[i]}: '${baseOf(ordered[i - 1])}' and '${baseOf(ordered[i])}'`);
      if (nums[i] !== nums[i - 1] + 1) {
        const from = nums[i - 1] + 1;
        const to = nums[i] - 1;
        const what = from === to ? `slice number ${from} is missing` : `slice numbers ${from} to ${to} are missing`;
        throw new InputError(`${id}: ${what} (between '${baseOf(ordered[i - 1])}' and '${baseOf(ordered[i])}')`);
      }
    }
  }
  return { ordered, skipped };
}

function checkSlice(id: string, s: GraySlice, first: GraySlice | null): void {
  if (!Number.isInteger(s.width) || !Number.isInteger(s.height) || s.width < 1 || s.height < 1 || s.gray.length !== s.width * s.height) {
    throw new InputError(`${id}: slice '${baseOf(s.name)}' has a bad size (${s.width} x ${s.height}, ${s.gray.length} values)`);
  }
  if (first && (s.width !== first.width || s.height !== first.height)) {
    throw new InputError(
      `${id}: slice '${baseOf(s.name)}' is ${s.width} x ${s.height} but '${baseOf(first.name)}' is ${first.width} x ${first.height}; all slices must have the same size`,
    );
  }
}

/**
 * Stacks decoded slices into a tomogram, sorted by name (natural order of slice_%04d).
 * Non-image names are ignored here (see orderSliceNames for the warning list); errors as there,
 * plus slices of different sizes (naming the first one that differs).
 */
export function stackSlices(id: string, slices: readonly GraySlice[]): Tomogram {
  const byName = new Map(slices.map((s) => [s.name, s]));
  if (byName.size !== slices.length) throw new InputError(`${id}: two slices have the same name`);
  const { ordered } = orderSliceNames(id, slices.map((s) => s.name));
  const first = byName.get(ordered[0])!;
  checkSlice(id, first, null);
  const n = first.width * first.height;
  const data = new Uint8Array(n * ordered.length);
  ordered.forEach((name, z) => {
    const s = byName.get(name)!;
    checkSlice(id, s, first);
    data.set(s.gray, z * n);
  });
  return { id, shape: [ordered.length, first.height, first.width], data };
}

/** A file of a slice folder, read on demand (one at a time, so that only one slice is held decoded). */
export interface SliceFile {
  name: string;
  read: () => Uint8Array | Promise<Uint8Array>;
  /** The file on this machine's disk (the CLI): a decode pool's worker threads read it themselves. */
  localPath?: string;
  /** The file itself (the page): a decode pool's workers read it themselves. */
  blob?: Blob;
}

/** Decodes one slice file's bytes to gray (decodeGrayImage, a worker pool's decode, the browser's decoder). */
export type SliceDecode = (bytes: Uint8Array, name: string) => Omit<GraySlice, 'name'> | Promise<Omit<GraySlice, 'name'>>;

export interface StackOptions {
  signal?: AbortSignal;
  onSlice?: (done: number, total: number) => void;
  /**
   * Decodes in flight at once (default 1: one file read and decoded at a time). With a decode that
   * runs elsewhere (worker threads, a page's worker pool) a few per worker keep them all busy; each
   * slice is copied into the volume as soon as it is decoded, so at most this many are held.
   */
  concurrency?: number;
  /**
   * A decode that writes the slice into the volume itself (shared memory: worker threads): the
   * volume is then allocated on a SharedArrayBuffer and the slices after the first never come back
   * to this thread (ReadOptions.decodeInto).
   */
  decodeInto?: (file: SliceFile, into: GrayTarget) => Promise<{ width: number; height: number }>;
  /**
   * A decode given the file and a spare slice buffer to reuse (ReadOptions.decodeFile: the page's
   * decode pool): used instead of `decode`; each slice's buffer, once copied into the volume, is the
   * spare of a later decode, so that no more than `concurrency` slice buffers are ever made.
   */
  decodeFile?: (file: SliceFile, spare?: GrayTarget) => Promise<Omit<GraySlice, 'name'>>;
  /**
   * The z planes to decode, given the folder's depth (1: decode; null: all): the others are neither
   * read nor checked and stay zero, for a caller that only feeds the volume to a resize that never
   * reads them (ReadOptions.modelOnly; zoomSourcePlanes).
   */
  planes?: (depth: number) => Uint8Array | null;
}

/** Whether a slice's pixels are an ArrayBuffer of their own (not a view of more), to hand over as a spare. */
const ownBuffer = (gray: Uint8Array): boolean => gray.byteOffset === 0 && gray.buffer.byteLength === gray.byteLength && !(gray.buffer instanceof SharedArrayBuffer);

/**
 * Streams a slice folder into a tomogram: orders the names, decodes the first slice (which gives
 * the size of the one uint8 volume allocated), then the rest with up to `concurrency` decodes in
 * flight, copying each into its z plane. Returns the names of skipped non-image files. Errors name
 * the tomogram and the file (with several in flight: the first failure seen).
 */
export async function stackSliceFiles(
  id: string,
  files: readonly SliceFile[],
  decode: SliceDecode,
  opts: StackOptions = {},
): Promise<{ tomogram: Tomogram; skipped: string[] }> {
  const byName = new Map(files.map((f) => [f.name, f]));
  const { ordered, skipped } = orderSliceNames(id, files.map((f) => f.name));
  const total = ordered.length;
  const named = async <T>(z: number, run: (bytes: Uint8Array, name: string) => Promise<T> | T): Promise<T> => namedFile(z, async (f) => run(await f.read(), f.name));
  const namedFile = async <T>(z: number, run: (file: SliceFile) => Promise<T> | T): Promise<T> => {
    const f = byName.get(ordered[z])!;
    try {
      return await run(f);
    } catch (e) {
      const msg = (e as Error).message ?? String(e);
      throw new InputError(msg.startsWith(id + ':') ? msg : `${id}: cannot decode '${baseOf(f.name)}': ${msg}`);
    }
  };
  const byFile = opts.decodeFile;
  const decodeOne = async (z: number, spare?: GrayTarget): Promise<GraySlice> => ({ name: ordered[z], ...(await (byFile ? namedFile(z, (f) => byFile(f, spare)) : named(z, decode))) });
  // slice buffers handed back for reuse (decodeFile): at most one per decode in flight
  const spares: Uint8Array[] = [];
  const keepSpare = (gray: Uint8Array, n: number) => {
    if (byFile && gray.length === n && ownBuffer(gray)) spares.push(gray);
  };
  if (opts.signal?.aborted) throw new AbortError();
  // the planes decoded, in order (all of them unless `planes` leaves some out)
  const wanted = opts.planes?.(total) ?? null;
  const every = ordered.map((_, z) => z);
  const zs = wanted ? every.filter((z) => wanted[z]) : every;
  if (zs.length === 0) zs.push(0);
  const first = await decodeOne(zs[0]);
  checkSlice(id, first, null);
  const n = first.width * first.height;
  const into = opts.decodeInto;
  const data = into && total > 1 ? new Uint8Array(new SharedArrayBuffer(n * total)) : new Uint8Array(n * total);
  data.set(first.gray, zs[0] * n);
  keepSpare(first.gray, n);
  let done = 1;
  opts.onSlice?.(done, zs.length);
  const put = async (z: number): Promise<void> => {
    if (into) {
      // written in place by the decoder when its size matches; a slice of another size is named as usual
      const size = await namedFile(z, (f) => into(f, { data, offset: z * n, width: first.width, height: first.height }));
      if (size.width !== first.width || size.height !== first.height) checkSlice(id, { name: ordered[z], ...size, gray: new Uint8Array(size.width * size.height) }, first);
    } else {
      const spare = spares.pop();
      const s = await decodeOne(z, spare && { data: spare, offset: 0, width: first.width, height: first.height });
      checkSlice(id, s, first);
      data.set(s.gray, z * n);
      keepSpare(s.gray, n);
    }
    opts.onSlice?.(++done, zs.length);
  };
  const width = Math.max(1, Math.trunc(opts.concurrency ?? 1));
  let next = 1;
  let failed: unknown = null;
  const lane = async (): Promise<void> => {
    while (next < zs.length && failed === null) {
      if (opts.signal?.aborted) throw new AbortError();
      await put(zs[next++]);
    }
  };
  const lanes = Array.from({ length: Math.min(width, zs.length - 1) }, () =>
    lane().catch((e: unknown) => {
      failed ??= e;
    }),
  );
  await Promise.all(lanes);
  if (failed !== null) throw failed;
  return { tomogram: { id, shape: [total, first.height, first.width], data }, skipped };
}

/**
 * Any numeric voxels to uint8: uint8 is returned as is; anything else is mapped linearly from its
 * min..max to 0..255 as floor((v - min) * (255 / (max - min)) + 0.5) (round half up), NaN -> 0;
 * a constant volume gives 0. Never makes a float copy.
 */
export function toUint8MinMax(data: VoxelArray | ArrayLike<number>): Uint8Array {
  if (data instanceof Uint8Array) return data;
  const [lo, hi] = minMax(data, Infinity, -Infinity);
  const out = new Uint8Array(data.length);
  if (hi > lo) mapToUint8(data, out, 0, lo, 255 / (hi - lo));
  return out;
}

/**
 * A volume as a tomogram: shape [D, H, W] or [1, D, H, W]; uint8 stays as is (no copy), other
 * types are mapped min..max -> 0..255 (toUint8MinMax). Spacing (Angstrom) is taken from the
 * volume when its unit is angstrom and the spacing is positive (the X spacing; MRC gives one per axis).
 */
export function tomogramFromVolume(v: Volume, id: string): Tomogram {
  const s = v.shape;
  if (!(s.length === 3 || (s.length === 4 && s[0] === 1))) {
    throw new InputError(`${id}: a tomogram must be one 3D volume (Z, Y, X); got shape [${s.join(', ')}]`);
  }
  const [d, h, w] = s.slice(-3);
  const t: Tomogram = { id, shape: [d, h, w], data: toUint8MinMax(v.data) };
  const sx = v.spacing[2];
  if (v.unit === 'angstrom' && sx > 0 && Number.isFinite(sx)) t.spacing = sx;
  return t;
}

/** Random access to a file without reading all of it (CLI: fs.readSync; page: Blob.slice). */
export interface ByteRange {
  size: number;
  read(offset: number, length: number): Uint8Array | Promise<Uint8Array>;
  /**
   * Reads `into.length` bytes at `offset` into `into`'s memory, so that a reader can use the same
   * buffers slab after slab (no garbage per slab). Resolves to the bytes read: `into`, a view of
   * the same memory under a new ArrayBuffer when reading moved it (a BYOB stream detaches `into`),
   * or a buffer of their own (the page's reader once it fell back to Blob.arrayBuffer).
   */
  readInto?(offset: number, into: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /**
   * Reads worth keeping in flight while a slab is converted: 1 by default with readInto (the CLI's
   * reads are synchronous), 2 without it (the page's Blob reads run on the browser's side; two in
   * flight read a 2 GB file about 25 % faster). With readInto, readAhead + 1 buffers take turns.
   */
  readAhead?: number;
  /** File bytes per slab that suit this reader (default 4 MiB; readMrcTomogram's `slabBytes` overrides it). */
  slabBytes?: number;
}

/** File bytes per slab when an MRC tomogram is converted slab by slab (whole z sections, at least one). */
const SLAB_BYTES = 4 << 20;

/**
 * An MRC tomogram read slab by slab into one uint8 volume, never the whole file at once: the
 * voxels readMrc + tomogramFromVolume give (uint8 as is; other modes min..max -> 0..255, NaN -> 0,
 * with the same element conversion), holding the volume plus the slab converted and those in flight
 * (ByteRange.readAhead). Modes other than uint8 need the data's min/max before any voxel's value is
 * known: the first pass maps with the header's DMIN..DMAX while it looks for them, and the file is
 * read a second time only when the header's range is missing or not exact (mrcfile and IMOD write the
 * exact one). Returns null for a gzipped file (read it whole).
 */
export async function readMrcTomogram(
  file: ByteRange,
  id: string,
  name = id,
  opts: {
    signal?: AbortSignal;
    /** File bytes per slab (default: the file's `slabBytes`, else 4 MiB). */
    slabBytes?: number;
    /** Slabs converted of the slabs to read: one pass, or two when the header's range does not hold (total then doubles). */
    onProgress?: (p: { done: number; total: number }) => void;
  } = {},
): Promise<Tomogram | null> {
  const head = await file.read(0, Math.min(file.size, 1024));
  if (isGzip(head)) return null;
  const m = mrcLayout(head, name, file.size);
  const [d, h, w] = m.shape;
  const plane = h * w;
  const size = elementSize(m.type);
  // whole sections, at least one, at most the file's (no 16 MiB buffers for a small tomogram)
  const perSlab = Math.max(1, Math.min(d, Math.floor((opts.slabBytes ?? file.slabBytes ?? SLAB_BYTES) / (plane * size))));
  const data = new Uint8Array(d * plane);
  const ahead = Math.max(1, file.readAhead ?? (file.readInto ? 1 : 2));
  // with readInto, one slab buffer per read in flight and one for the slab converted take turns (a
  // slab is converted before its buffer is read into again)
  const slabLength = perSlab * plane * size;
  const buffers: Uint8Array[] = file.readInto ? Array.from({ length: ahead + 1 }, () => new Uint8Array(slabLength)) : [];
  let turn = 0;
  const readSlab = (z0: number): Promise<Uint8Array> => {
    const offset = m.offset + z0 * plane * size;
    const length = Math.min(perSlab, d - z0) * plane * size;
    let p: Promise<Uint8Array>;
    if (file.readInto) {
      const k = turn++ % buffers.length;
      p = Promise.resolve(file.readInto(offset, buffers[k].subarray(0, length))).then((got) => {
        buffers[k] = got.byteOffset === 0 && got.buffer.byteLength >= slabLength ? new Uint8Array(got.buffer, 0, slabLength) : new Uint8Array(slabLength);
        return got;
      });
    } else p = Promise.resolve(file.read(offset, length));
    p.catch(() => undefined); // a read left behind by an abort or an error is not an unhandled rejection
    return p;
  };
  const perPass = Math.ceil(d / perSlab);
  let done = 0;
  let total = m.type === 'uint8' || m.range ? perPass : 2 * perPass;
  const slabs = async (each: (values: VoxelArray | Uint8Array, z0: number) => void, raw: boolean): Promise<void> => {
    const pending: Promise<Uint8Array>[] = [];
    let asked = 0;
    const ask = (): void => {
      if (asked < d) pending.push(readSlab(asked));
      asked += perSlab;
    };
    ask();
    for (let z0 = 0; z0 < d; z0 += perSlab) {
      if (opts.signal?.aborted) throw new AbortError();
      const nz = Math.min(perSlab, d - z0);
      while (pending.length < ahead && asked < d) ask();
      const bytes = await pending.shift()!;
      if (asked < d) ask();
      if (bytes.length < nz * plane * size) throw new InputError(`${name}: the file was cut short while reading it`);
      each(raw ? bytes : viewElements(bytes, 0, nz * plane, m.type, m.littleEndian), z0);
      opts.onProgress?.({ done: ++done, total });
    }
  };
  /**
   * After a first pass that mapped with the header's DMIN..DMAX (when it gave one) and found the data's
   * range lo..hi: those voxels are final when the ranges are the same; else the file is read again
   * and mapped with lo..hi (`pass`), or, for a constant volume, every voxel is 0.
   */
  const secondPass = async (lo: number, hi: number, pass: (lo: number, hi: number) => Promise<void>): Promise<void> => {
    if (headerRangeHolds(m.range, lo, hi)) return;
    if (hi > lo) {
      total = 2 * perPass;
      await pass(lo, hi);
    } else if (m.range) data.fill(0);
  };
  if (m.type === 'uint8') {
    await slabs((v, z0) => data.set(v as Uint8Array, z0 * plane), true);
  } else if (m.type === 'int16' || m.type === 'uint16' || m.type === 'float16') {
    // 16-bit voxels (modes 1, 6, 12): which of the 65536 codes occur, then each voxel by lookup in a
    // table of their uint8 values. The same numbers as minMax and mapToUint8 over the values (the
    // table is made with them), with one integer load and store per voxel instead.
    const values = new Float64Array(65536);
    for (let c = 0; c < 65536; c++) values[c] = m.type === 'int16' ? (c << 16) >> 16 : m.type === 'uint16' ? c : halfToFloat(c);
    const tableFor = (lo: number, hi: number): Uint8Array => {
      const table = new Uint8Array(65536);
      mapToUint8(values, table, 0, lo, 255 / (hi - lo));
      return table;
    };
    const seen = new Uint8Array(65536);
    const claimed = m.range && tableFor(m.range[0], m.range[1]);
    await slabs((b, z0) => {
      const c = uint16Codes(b as Uint8Array, m.littleEndian);
      for (let i = 0; i < c.length; i++) seen[c[i]] = 1;
      if (claimed) lookUp(c, claimed, data, z0 * plane);
    }, true);
    let lo = Infinity;
    let hi = -Infinity;
    for (let c = 0; c < 65536; c++) {
      if (!seen[c]) continue;
      const v = values[c];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    await secondPass(lo, hi, (lo, hi) => {
      const table = tableFor(lo, hi);
      return slabs((b, z0) => lookUp(uint16Codes(b as Uint8Array, m.littleEndian), table, data, z0 * plane), true);
    });
  } else {
    // float32 (mode 2, the usual float tomogram) is mapped by a loop of its own (mapFloat32ToUint8)
    const f32 = m.type === 'float32';
    const map = (v: VoxelArray | Uint8Array, z0: number, lo: number, hi: number): void => {
      const scale = 255 / (hi - lo);
      if (f32) mapFloat32ToUint8(v as Float32Array, data, z0 * plane, lo, scale);
      else mapToUint8(v, data, z0 * plane, lo, scale);
    };
    const claimed = m.range;
    let lo = Infinity;
    let hi = -Infinity;
    await slabs((v, z0) => {
      let r: [number, number];
      if (claimed && f32) r = mapFloat32ToUint8MinMax(v as Float32Array, data, z0 * plane, claimed[0], 255 / (claimed[1] - claimed[0]), lo, hi);
      else {
        r = minMax(v, lo, hi);
        if (claimed) map(v, z0, claimed[0], claimed[1]);
      }
      [lo, hi] = r;
    }, false);
    await secondPass(lo, hi, (lo, hi) => slabs((v, z0) => map(v, z0, lo, hi), false));
  }
  if (done < total) opts.onProgress?.({ done, total: done }); // a second pass was not needed after all (a constant volume)
  const t: Tomogram = { id, shape: [d, h, w], data };
  const sx = m.spacing[2];
  if (sx > 0 && Number.isFinite(sx)) t.spacing = sx;
  return t;
}

/** out[at + i] = table[codes[i]]: 16-bit codes to uint8 by lookup. */
function lookUp(codes: Uint16Array, table: Uint8Array, out: Uint8Array, at: number): void {
  for (let i = 0; i < codes.length; i++) out[at + i] = table[codes[i]];
}

/** A slab's 16-bit codes as numbers: a view when little-endian and aligned, else a copy (bytes swapped for big-endian files). */
function uint16Codes(bytes: Uint8Array, littleEndian: boolean): Uint16Array {
  const n = bytes.length >> 1;
  if (littleEndian && bytes.byteOffset % 2 === 0) return new Uint16Array(bytes.buffer, bytes.byteOffset, n);
  const out = new Uint16Array(n);
  for (let i = 0, j = 0; i < n; i++, j += 2) out[i] = littleEndian ? bytes[j] | (bytes[j + 1] << 8) : (bytes[j] << 8) | bytes[j + 1];
  return out;
}

/**
 * Whether the header's DMIN..DMAX is the data's exact range, so that the voxels mapped with it on the
 * first pass (while that pass looked for the range) are final and the file need not be read again.
 */
const headerRangeHolds = (range: [number, number] | null, lo: number, hi: number): boolean => range !== null && range[0] === lo && range[1] === hi;

/**
 * The least and greatest of lo, hi and the values, NaN skipped. Math.min / Math.max first (branch-free,
 * about 2.5x faster than comparisons in V8): they give the same numbers unless a NaN occurs (they
 * give NaN), which takes the comparing loop. (Signed zeros may differ: -0 for 0, which maps the same.)
 */
function minMax(data: ArrayLike<number>, lo: number, hi: number): [number, number] {
  let a = lo;
  let b = hi;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    a = Math.min(a, v);
    b = Math.max(b, v);
  }
  return a === a && b === b ? [a, b] : minMaxSkippingNaN(data, lo, hi);
}

function minMaxSkippingNaN(data: ArrayLike<number>, lo: number, hi: number): [number, number] {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/**
 * mapToUint8 for float32, about 25 % faster: v >= lo, so (v - lo) * scale + 0.5 lies in [0, 255.5]
 * and `| 0` is floor; NaN, and the NaN of an infinite v or lo, give 0 as mapToUint8 does.
 */
function mapFloat32ToUint8(data: Float32Array, out: Uint8Array, at: number, lo: number, scale: number): void {
  for (let i = 0; i < data.length; i++) out[at + i] = ((data[i] - lo) * scale + 0.5) | 0;
}

/** mapFloat32ToUint8 with `lo` (a claim: values below it map to garbage) and minMax in the same loop, one load per voxel (NaN: as minMax). */
function mapFloat32ToUint8MinMax(data: Float32Array, out: Uint8Array, at: number, lo: number, scale: number, min: number, max: number): [number, number] {
  let a = min;
  let b = max;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    a = Math.min(a, v);
    b = Math.max(b, v);
    out[at + i] = ((v - lo) * scale + 0.5) | 0;
  }
  return a === a && b === b ? [a, b] : minMaxSkippingNaN(data, min, max);
}

/** floor((v - lo) * scale + 0.5), NaN -> 0, into out at `at`: toUint8MinMax's mapping. */
function mapToUint8(data: ArrayLike<number>, out: Uint8Array, at: number, lo: number, scale: number): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    out[at + i] = v === v ? Math.floor((v - lo) * scale + 0.5) : 0;
  }
}

/** Tomogram id of a folder (its name) or a file (its name without extension(s): .mrc, .rec, .tif, .nii.gz, ...). */
export function tomogramId(path: string, isFolder = false): string {
  const b = baseOf(path.replace(/[\\/]+$/, ''));
  if (isFolder) return b;
  return b.replace(/\.(nii|mrc|map|rec|st|ali|npy)\.gz$/i, '').replace(/\.[A-Za-z0-9]{1,5}$/, '') || b;
}
