/**
 * The one TIFF reader (UTIF, photopea) for every preset: a file's pages with their pixel type, a
 * page decoded to its raw bytes, one sample (channel) of a page as numbers, a colour page as RGBA,
 * and the pixel spacing an ImageJ stack gives. Pure, no DOM: page, worker and Node.
 *
 * What the callers make of the samples lives with them: tomogram stacks and slices
 * (src/core/motors/decode.ts: 8-bit gray, min..max over a stack for wider types) and fields of view
 * (src/core/protein/images.ts: 8/16-bit channels as stored).
 *
 * Byte order: UTIF turns 16-bit samples little-endian while it decodes a page; 32-bit samples stay
 * in the file's byte order (`littleEndian` of the page). Samples are interleaved (chunky,
 * PlanarConfiguration 1) or one plane after the other (planar, 2).
 */
import * as utifNs from 'utif';
import { InputError } from '../volume';

// CommonJS: take the module object whether the loader (Node ESM, vitest, Vite) puts it on `default` or not
const UTIF = ((utifNs as unknown as { default?: typeof utifNs }).default ?? utifNs) as typeof utifNs;

type Ifd = utifNs.IFD;

function tag(ifd: Ifd, t: number): number | undefined {
  const v = ifd[`t${t}`] as number[] | undefined;
  return Array.isArray(v) && typeof v[0] === 'number' ? v[0] : undefined;
}

/** The pixel type and layout of one page (from its tags; known before it is decoded). */
export interface TiffPageFormat {
  width: number;
  height: number;
  /** BitsPerSample (of the first sample). */
  bits: number;
  /** SamplesPerPixel (default: the number of BitsPerSample values). */
  samples: number;
  /** SampleFormat: 1 unsigned, 2 signed, 3 float. */
  format: number;
  /** PhotometricInterpretation: 0 white is zero, 1 black is zero, 2 RGB, 3 palette. */
  photometric: number;
  /** PlanarConfiguration: 1 interleaved, 2 one plane per sample. */
  planar: number;
}

/** A TIFF's image pages (IFDs with a width and height), ready to decode one at a time. */
export interface TiffFile {
  /** The file name, for messages. */
  name: string;
  pages: TiffPageFormat[];
  /** UTIF's state: the bytes, every IFD, and the image IFDs in `pages` order. */
  readonly buf: ArrayBuffer;
  readonly ifds: Ifd[];
  readonly pageIfds: Ifd[];
}

function arrayBufferOf(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) return bytes.buffer;
  return bytes.slice().buffer as ArrayBuffer;
}

function pageFormat(ifd: Ifd): TiffPageFormat {
  const bps = ifd['t258'] as number[] | undefined;
  return {
    width: tag(ifd, 256)!,
    height: tag(ifd, 257)!,
    bits: bps ? bps[0] : 1,
    samples: tag(ifd, 277) ?? (bps ? bps.length : 1),
    format: tag(ifd, 339) ?? 1,
    photometric: tag(ifd, 262) ?? 1,
    planar: tag(ifd, 284) ?? 1,
  };
}

/** Reads a TIFF's directory. Errors are InputErrors naming the file (not a TIFF, no images). */
export function openTiff(bytes: Uint8Array, name: string): TiffFile {
  const buf = arrayBufferOf(bytes);
  let ifds: Ifd[];
  try {
    ifds = UTIF.decode(buf);
  } catch (e) {
    throw new InputError(`${name}: not a readable TIFF (${(e as Error).message ?? e})`);
  }
  const pageIfds = ifds.filter((d) => tag(d, 256) !== undefined && tag(d, 257) !== undefined);
  if (pageIfds.length === 0) throw new InputError(`${name}: the TIFF has no images`);
  return { name, buf, ifds, pageIfds, pages: pageIfds.map(pageFormat) };
}

/**
 * Decodes page `index` (0-based) and gives its bytes as UTIF leaves them (16-bit little-endian,
 * other types in the file's order). Throws an InputError naming the file and page when the page
 * cannot be decoded or is shorter than its size says. Call `releaseTiffPage` when done with a page
 * of a large stack.
 */
export function decodeTiffPage(t: TiffFile, index: number): Uint8Array {
  const ifd = t.pageIfds[index];
  try {
    // UTIF takes the IFD list as a third argument (for JPEG tables in other IFDs); its types omit it
    (UTIF.decodeImage as (b: ArrayBuffer, i: Ifd, all: Ifd[]) => void)(t.buf, ifd, t.ifds);
  } catch (e) {
    throw new InputError(`${t.name}: cannot decode TIFF page ${index + 1} (${(e as Error).message ?? e})`);
  }
  const { bits, samples, width, height } = t.pages[index];
  const need = Math.ceil((width * samples * bits) / 8) * height;
  if (!ifd.data || ifd.data.length < need) throw new InputError(`${t.name}: TIFF page ${index + 1} is cut short or uses an unsupported compression`);
  return ifd.data;
}

/** Drops a decoded page's pixels (a stack is read one page at a time). */
export function releaseTiffPage(t: TiffFile, index: number): void {
  (t.pageIfds[index] as { data: Uint8Array | null }).data = null;
}

/** Whether page `index` stores little-endian numbers (32-bit samples keep the file's order). */
function littleEndian(t: TiffFile, index: number): boolean {
  return (t.pageIfds[index] as unknown as { isLE: boolean }).isLE;
}

export type TiffSamples = Uint8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array;

/**
 * Sample `s` (0-based channel) of a decoded page as numbers, width x height row-major (a copy):
 * 8-bit as stored (Uint8Array), 16-bit Uint16Array (Int16Array when signed), 32-bit Uint32Array,
 * Int32Array or Float32Array. Other bit depths throw (the callers convert those with `tiffPageRgba`).
 */
export function tiffPageSamples(t: TiffFile, index: number, s = 0): TiffSamples {
  const f = t.pages[index];
  const d = t.pageIfds[index].data;
  if (!d) throw new Error(`TIFF page ${index + 1} is not decoded`);
  const n = f.width * f.height;
  // sample i of channel s sits at base + i * step (in samples)
  const base = f.planar === 2 ? s * n : s;
  const step = f.planar === 2 ? 1 : f.samples;
  if (f.bits === 8) {
    if (step === 1) return d.slice(base, base + n);
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = d[base + i * step];
    return out;
  }
  const view = new DataView(d.buffer, d.byteOffset, d.byteLength);
  if (f.bits === 16) {
    // UTIF turns 16-bit data little-endian
    if (f.format === 2) {
      const out = new Int16Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt16(2 * (base + i * step), true);
      return out;
    }
    const out = new Uint16Array(n);
    for (let i = 0; i < n; i++) out[i] = view.getUint16(2 * (base + i * step), true);
    return out;
  }
  if (f.bits === 32) {
    const le = littleEndian(t, index);
    if (f.format === 3) {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * (base + i * step), le);
      return out;
    }
    if (f.format === 2) {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt32(4 * (base + i * step), le);
      return out;
    }
    const out = new Uint32Array(n);
    for (let i = 0; i < n; i++) out[i] = view.getUint32(4 * (base + i * step), le);
    return out;
  }
  throw new InputError(`${t.name}: ${f.bits}-bit TIFF samples cannot be read as numbers`);
}

/** A decoded page as 8-bit RGBA (UTIF.toRGBA8: palette, RGB, CMYK, 1/2/4-bit gray…). */
export function tiffPageRgba(t: TiffFile, index: number): Uint8Array {
  return UTIF.toRGBA8(t.pageIfds[index]);
}

/** Angstrom per pixel of a page from an ImageJ description (unit=nm|micron|um|A) and XResolution, if given. */
export function tiffSpacing(t: TiffFile, index = 0): number | undefined {
  const ifd = t.pageIfds[index];
  const desc = (ifd['t270'] as unknown as string[] | undefined)?.[0];
  const xres = tag(ifd, 282);
  if (typeof desc !== 'string' || !xres || !(xres > 0)) return undefined;
  const unit = /(?:^|\n)unit=([^\n]+)/.exec(desc)?.[1]?.trim().toLowerCase();
  const perUnit: Record<string, number> = { nm: 10, nanometer: 10, micron: 1e4, um: 1e4, 'µm': 1e4, '\\u00b5m': 1e4, a: 1, 'å': 1, angstrom: 1 };
  const f = unit ? perUnit[unit] : undefined;
  return f ? Number((f / xres).toPrecision(6)) : undefined;
}
