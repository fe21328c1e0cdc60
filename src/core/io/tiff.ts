/**
 * The one TIFF reader (UTIF, photopea) for every preset: a file's pages with their pixel type, a
 * page decoded to its raw bytes, one sample (channel) of a page as numbers, a colour page as RGBA,
 * and the pixel spacing an ImageJ stack gives. Pure, no DOM: page, worker and Node.
 *
 * Hostile files: the directory chain is walked here, not by UTIF (which follows a chain that loops
 * back forever and trusts every count): each directory is visited once, every entry's values must
 * lie inside the file, and the pages' sizes, strips and tiles are checked against the file and the
 * limits (./limits.ts) before anything is decoded or allocated. UTIF then decodes one checked page
 * at a time, with two of its decoders replaced: LZW by one that stops at the end of the data or of
 * the page (UTIF's runs on past a strip without an end code, forever), deflate by the capped
 * inflater (./binary.ts). Only uncompressed, LZW, deflate and PackBits pages are read.
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
import { inflateCapped } from './binary';
import { checkImageSize, LIMITS } from './limits';

// CommonJS: take the module object whether the loader (Node ESM, vitest, Vite) puts it on `default` or not
const UTIF = ((utifNs as unknown as { default?: typeof utifNs }).default ?? utifNs) as typeof utifNs;

type Decompress = (img: Ifd, ifds: Ifd[], data: Uint8Array, off: number, len: number, cmpr: number, tgt: Uint8Array, toff: number, fo: number) => void;
interface UtifDecoders {
  _decompress: Decompress;
  _decodeLZW: (data: Uint8Array, off: number, tgt: Uint8Array, toff: number) => void;
}
const decoders = UTIF.decode as unknown as UtifDecoders;

/**
 * TIFF LZW (early change, MSB first) that stops at an end code, at the end of the data, at the end
 * of the page or at a code that cannot be (UTIF's decoder loops forever past a strip without an end
 * code). Linear in the output.
 */
export function decodeTiffLzw(data: Uint8Array, off: number, tgt: Uint8Array, toff: number): void {
  const prefix = new Int16Array(4096);
  const suffix = new Uint8Array(4096);
  const first = new Uint8Array(4096);
  const length = new Uint16Array(4096);
  for (let i = 0; i < 256; i++) {
    prefix[i] = -1;
    suffix[i] = first[i] = i;
    length[i] = 1;
  }
  const endBit = data.length * 8;
  let bit = off * 8;
  let width = 9;
  let next = 258;
  let old = -1;
  let o = toff;
  const write = (code: number): void => {
    // the string of `code`, written back to front from its last byte
    let p = o + length[code] - 1;
    for (let c = code; c >= 0; c = prefix[c], p--) if (p < tgt.length) tgt[p] = suffix[c];
    o += length[code];
  };
  while (bit + width <= endBit && o < tgt.length) {
    const i = bit >>> 3;
    const v = (data[i] << 16) | ((data[i + 1] ?? 0) << 8) | (data[i + 2] ?? 0);
    const code = (v >>> (24 - (bit & 7) - width)) & ((1 << width) - 1);
    bit += width;
    if (code === 257) break; // end of information
    if (code === 256) {
      width = 9;
      next = 258;
      old = -1;
      continue;
    }
    if (old < 0) {
      if (code > 255) break; // the first code after a clear is a byte
      tgt[o++] = code;
      old = code;
      continue;
    }
    if (code > next || (code === next && next >= 4096)) break; // cannot be: the data is damaged
    if (next < 4096) {
      prefix[next] = old;
      suffix[next] = code < next ? first[code] : first[old];
      first[next] = first[old];
      length[next] = length[old] + 1;
      next++;
    }
    write(code);
    old = code;
    if (next + 1 >= 1 << width && width < 12) width++;
  }
}

// UTIF's LZW and deflate, replaced once for every use of UTIF in this program (see the module comment)
const utifDecompress = decoders._decompress;
decoders._decodeLZW = decodeTiffLzw;
decoders._decompress = (img, ifds, data, off, len, cmpr, tgt, toff, fo) => {
  if (cmpr !== 8 && cmpr !== 32946) return utifDecompress(img, ifds, data, off, len, cmpr, tgt, toff, fo);
  // deflate: inflated with a cap (the rest of the page), then handled as uncompressed (predictor, byte order)
  const raw = inflateCapped('zlib', data.subarray(off, off + len), 'TIFF strip', { what: 'the strip', stopAt: Math.max(0, tgt.length - toff) });
  utifDecompress(img, ifds, raw, 0, raw.length, 1, tgt, toff, fo);
};

/** Compressions read: none, LZW, deflate (Adobe and old), PackBits. */
const COMPRESSIONS: Record<number, string> = { 1: 'none', 5: 'LZW', 8: 'deflate', 32946: 'deflate', 32773: 'PackBits' };
const COMPRESSION_NAMES: Record<number, string> = { 2: 'CCITT RLE', 3: 'CCITT fax 3', 4: 'CCITT fax 4', 6: 'old-style JPEG', 7: 'JPEG', 34712: 'JPEG 2000', 50000: 'ZSTD', 34925: 'LZMA', 50001: 'WebP' };

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

/** Bytes per value of the TIFF field types (1 BYTE .. 12 DOUBLE, 13 IFD, 16-18 BigTIFF's). */
const TYPE_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8 };

/** Tags whose values the pages need: a bad one is an error; other bad entries are skipped. */
const NEEDED = new Set([256, 257, 258, 259, 262, 273, 277, 278, 279, 284, 317, 320, 322, 323, 324, 325, 338, 339]);

/** One value of a field, as UTIF reads it. */
function fieldValues(v: DataView, bytes: Uint8Array, le: boolean, type: number, count: number, at: number): Ifd[string] {
  const out: number[] = [];
  switch (type) {
    case 1:
    case 7:
      return bytes.subarray(at, at + count) as unknown as Ifd[string];
    case 2: {
      // ASCII: one string (UTIF keeps bytes when it does not start with ASCII)
      const b = bytes.subarray(at, at + Math.max(0, count - 1));
      if (b.length && b[0] >= 128) return b as unknown as Ifd[string];
      let str = '';
      for (let i = 0; i < b.length; i++) str += String.fromCharCode(b[i]);
      return [str] as unknown as Ifd[string];
    }
    case 3:
      for (let i = 0; i < count; i++) out.push(v.getUint16(at + 2 * i, le));
      break;
    case 4:
    case 13:
      for (let i = 0; i < count; i++) out.push(v.getUint32(at + 4 * i, le));
      break;
    case 5:
      for (let i = 0; i < count; i++) out.push(v.getUint32(at + 8 * i, le) / v.getUint32(at + 8 * i + 4, le));
      break;
    case 8:
      for (let i = 0; i < count; i++) out.push(v.getInt16(at + 2 * i, le));
      break;
    case 9:
      for (let i = 0; i < count; i++) out.push(v.getInt32(at + 4 * i, le));
      break;
    case 10:
      for (let i = 0; i < count; i++) out.push(v.getInt32(at + 8 * i, le) / v.getInt32(at + 8 * i + 4, le));
      break;
    case 11:
      for (let i = 0; i < count; i++) out.push(v.getFloat32(at + 4 * i, le));
      break;
    case 12:
      for (let i = 0; i < count; i++) out.push(v.getFloat64(at + 8 * i, le));
      break;
  }
  return out as unknown as Ifd[string];
}

/**
 * The directories (IFDs) of the main chain, in UTIF's form ({ t256: [width], ... }), each visited
 * once, each entry's values inside the file. Sub-IFDs, EXIF and maker notes are not followed (no
 * page of ours is there).
 */
function readDirectories(bytes: Uint8Array, name: string): { ifds: Ifd[]; littleEndian: boolean } {
  const len = bytes.length;
  const unreadable = (why: string): never => {
    throw new InputError(`${name}: not a readable TIFF (${why})`);
  };
  if (len < 8) unreadable(`${len} bytes, shorter than its header`);
  const le = bytes[0] === 0x49 && bytes[1] === 0x49;
  if (!le && !(bytes[0] === 0x4d && bytes[1] === 0x4d)) throw new InputError(`${name}: not a TIFF (it does not start with II or MM)`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, len);
  const magic = v.getUint16(2, le);
  if (magic === 43) throw new InputError(`${name}: BigTIFF is not supported; save it as a classic TIFF (under 4 GB)`);
  if (magic !== 42) throw new InputError(`${name}: not a TIFF (version ${magic}, expected 42)`);
  const ifds: Ifd[] = [];
  const seen = new Set<number>();
  for (let off = v.getUint32(4, le); off !== 0; ) {
    if (seen.has(off)) unreadable(`its directory chain loops back to byte ${off} after ${ifds.length} directories; the file is damaged`);
    seen.add(off);
    if (off < 8 || off + 2 > len) unreadable(`directory ${ifds.length + 1} is at byte ${off}, outside the ${len}-byte file; the file is cut short or damaged`);
    if (ifds.length >= LIMITS.maxTiffPages) throw new InputError(`${name}: more than ${LIMITS.maxTiffPages} TIFF directories, the limit`);
    const n = v.getUint16(off, le);
    if (n > LIMITS.maxTiffEntries) unreadable(`directory ${ifds.length + 1} has ${n} entries, more than the limit of ${LIMITS.maxTiffEntries}; the file is damaged`);
    const end = off + 2 + 12 * n;
    if (end > len) unreadable(`directory ${ifds.length + 1} (${n} entries at byte ${off}) runs past the end of the ${len}-byte file; the file is cut short`);
    const ifd = {} as Ifd;
    for (let e = off + 2; e < end; e += 12) {
      const tag = v.getUint16(e, le);
      const type = v.getUint16(e + 2, le);
      const count = v.getUint32(e + 4, le);
      const size = TYPE_SIZE[type];
      const bytesNeeded = size === undefined ? 0 : size * count;
      const at = bytesNeeded <= 4 ? e + 8 : v.getUint32(e + 8, le);
      if (size === undefined || at + bytesNeeded > len || type > 12) {
        if (!NEEDED.has(tag)) continue; // a private or unknown tag we do not use: skipped
        const what = size === undefined || type > 12 ? `has field type ${type}` : `claims ${count} values at byte ${at}, past the end of the ${len}-byte file`;
        unreadable(`tag ${tag} of directory ${ifds.length + 1} ${what}; the file is damaged or cut short`);
      }
      ifd[`t${tag}`] = fieldValues(v, bytes, le, type, count, at);
    }
    ifds.push(ifd);
    off = end + 4 <= len ? v.getUint32(end, le) : 0; // a file cut right after its last directory has no next pointer
  }
  return { ifds, littleEndian: le };
}

const nums = (ifd: Ifd, t: number): number[] | undefined => {
  const v = ifd[`t${t}`] as unknown;
  return Array.isArray(v) && v.every((x) => typeof x === 'number') ? (v as number[]) : undefined;
};

/** Throws an InputError naming the file and page when the page cannot be decoded safely. */
function checkPage(ifd: Ifd, f: TiffPageFormat, page: number, bytes: number, name: string): void {
  const where = `${name}: TIFF page ${page}`;
  checkImageSize(name, f.width, f.height, `TIFF page ${page}`);
  const bps = nums(ifd, 258) ?? [1];
  if (!bps.every((b) => [1, 2, 4, 8, 16, 32].includes(b))) throw new InputError(`${where} has ${bps.join(', ')} bits per sample; 1, 2, 4, 8, 16 or 32 are read`);
  if (!(f.samples >= 1 && f.samples <= LIMITS.maxTiffSamples)) throw new InputError(`${where} has ${f.samples} samples per pixel; 1 to ${LIMITS.maxTiffSamples} are read`);
  if (bps.length !== 1 && bps.length !== f.samples) throw new InputError(`${where} gives ${bps.length} BitsPerSample values for ${f.samples} samples; the file is damaged`);
  const bipp = Math.min(32, bps[0]) * bps.length; // what UTIF allocates from
  const rowBytes = Math.ceil((f.width * Math.max(bipp, f.samples * f.bits)) / 8);
  if (rowBytes * f.height > LIMITS.maxImagePixels * 16) throw new InputError(`${where} would decode to ${rowBytes * f.height} bytes, more than the limit`);
  if (f.photometric === 3 && (nums(ifd, 320)?.length ?? 0) < 3 * 2 ** Math.min(f.bits, 16)) {
    throw new InputError(`${where} is a palette image without a colour map for its ${f.bits}-bit values; the file is damaged`);
  }
  const cmpr = tag(ifd, 259) ?? 1;
  if (!COMPRESSIONS[cmpr]) {
    throw new InputError(`${where} uses ${COMPRESSION_NAMES[cmpr] ?? `compression ${cmpr}`}, which is not supported; save it uncompressed or with LZW, deflate or PackBits`);
  }
  const tiled = ifd['t322'] !== undefined;
  const offsets = nums(ifd, tiled ? 324 : 273) ?? nums(ifd, tiled ? 273 : 324);
  const counts = nums(ifd, tiled ? 325 : 279) ?? nums(ifd, tiled ? 279 : 325);
  if (!offsets || offsets.length === 0) throw new InputError(`${where} has no image data (no strip or tile offsets); the file is damaged`);
  let pieces = offsets.length;
  if (tiled) {
    const tw = tag(ifd, 322) ?? 0;
    const th = tag(ifd, 323) ?? 0;
    if (!(tw >= 1 && th >= 1) || tw * th > LIMITS.maxImagePixels) throw new InputError(`${where} has tiles of ${tw} x ${th} pixels; the file is damaged`);
    pieces = Math.ceil(f.width / tw) * Math.ceil(f.height / th);
    if (offsets.length < pieces) throw new InputError(`${where} needs ${pieces} tiles but lists ${offsets.length}; the file is damaged`);
  }
  // UTIF reads one uncompressed strip as height x row bytes, whatever its byte count says
  const lengths = cmpr === 1 && offsets.length === 1 && !tiled ? [Math.ceil((f.width * bipp) / 8) * f.height] : counts;
  if (!lengths || lengths.length < Math.min(pieces, offsets.length)) throw new InputError(`${where} lists ${offsets.length} strips but ${lengths?.length ?? 0} byte counts; the file is damaged`);
  for (let i = 0; i < Math.min(pieces, offsets.length); i++) {
    if (offsets[i] + lengths[i] > bytes) {
      throw new InputError(`${where}: ${tiled ? 'tile' : 'strip'} ${i + 1} claims bytes ${offsets[i]}..${offsets[i] + lengths[i]}, past the end of the ${bytes}-byte file; the file is cut short or damaged`);
    }
  }
}

/**
 * Reads a TIFF's directory and checks every page against the file and the limits. Errors are
 * InputErrors naming the file (not a TIFF, no images, a damaged directory or page).
 */
export function openTiff(bytes: Uint8Array, name: string): TiffFile {
  const buf = arrayBufferOf(bytes);
  const { ifds } = readDirectories(new Uint8Array(buf), name);
  const pageIfds = ifds.filter((d) => tag(d, 256) !== undefined && tag(d, 257) !== undefined);
  if (pageIfds.length === 0) throw new InputError(`${name}: the TIFF has no images`);
  const pages = pageIfds.map(pageFormat);
  pageIfds.forEach((d, i) => checkPage(d, pages[i], i + 1, buf.byteLength, name));
  return { name, buf, ifds, pageIfds, pages };
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
  try {
    return UTIF.toRGBA8(t.pageIfds[index]);
  } catch (e) {
    throw new InputError(`${t.name}: cannot convert TIFF page ${index + 1} to colour (${(e as Error).message ?? e}); the file is damaged`);
  }
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
