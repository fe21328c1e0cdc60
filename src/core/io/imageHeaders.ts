/**
 * What PNG and JPEG headers declare, read and checked against the limits (./limits.ts) before a
 * decoder allocates anything from them: a 389 kB PNG can declare 20000 x 20000 pixels, a 600-byte
 * JPEG 65535 x 65535. Pure.
 */
import { InputError } from '../volume';
import { inflateCapped } from './binary';
import { checkImageSize } from './limits';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const PNG_DEPTHS: Record<number, readonly number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

export interface PngHeader {
  width: number;
  height: number;
  depth: number;
  /** Colour type: 0 gray, 2 RGB, 3 palette, 4 gray + alpha, 6 RGBA. */
  color: number;
  interlace: number;
  channels: number;
  /** Bytes the image data inflates to (filter bytes included, all Adam7 passes). */
  rawBytes: number;
}

/** Bytes of `height` filtered rows of `width` pixels. */
const rowsBytes = (width: number, height: number, bitsPerPixel: number): number => (width && height ? height * (Math.ceil((width * bitsPerPixel) / 8) + 1) : 0);

/** The PNG's IHDR, checked: a valid colour type and bit depth, a size within the limits. */
export function pngHeader(bytes: Uint8Array, name: string): PngHeader {
  if (bytes.length < 33 || !PNG_SIGNATURE.every((b, i) => bytes[i] === b)) throw new InputError(`${name}: not a PNG (bad signature or cut short)`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(8) !== 13 || String.fromCharCode(bytes[12], bytes[13], bytes[14], bytes[15]) !== 'IHDR') {
    throw new InputError(`${name}: the PNG does not start with its IHDR header; the file is damaged`);
  }
  const width = v.getUint32(16);
  const height = v.getUint32(20);
  const depth = bytes[24];
  const color = bytes[25];
  const interlace = bytes[28];
  checkImageSize(name, width, height, 'PNG');
  const channels = PNG_CHANNELS[color];
  if (!channels || !PNG_DEPTHS[color].includes(depth)) throw new InputError(`${name}: bad PNG header: colour type ${color} with bit depth ${depth}`);
  if (bytes[26] !== 0 || bytes[27] !== 0 || interlace > 1) throw new InputError(`${name}: bad PNG header: compression ${bytes[26]}, filter ${bytes[27]}, interlace ${interlace}`);
  const bpp = channels * depth;
  let rawBytes = rowsBytes(width, height, bpp);
  if (interlace === 1) {
    // Adam7: seven reduced images, each with its own filtered rows
    rawBytes = 0;
    for (const [x0, y0, dx, dy] of [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]]) {
      rawBytes += rowsBytes(Math.ceil((width - x0) / dx), Math.ceil((height - y0) / dy), bpp);
    }
  }
  return { width, height, depth, color, interlace, channels, rawBytes };
}

/** Chunks a decoder needs before the image data; the others (ICC profiles, compressed text, …) are dropped by `safePng`. */
const KEPT = new Set(['IHDR', 'PLTE', 'tRNS']);

/**
 * A PNG that a decoder can take whatever the file held: its header checked (pngHeader), its chunks
 * inside the file, its image data inflated here with a cap of what the header declares (a bomb
 * would inflate in the decoder), then stored uncompressed in one IDAT (the decoder's inflating is
 * then a copy), with only the chunks that make the image (compressed ancillary chunks are bombs of
 * their own). Chunk CRCs are not written: decode it with checkCrc off. Throws an InputError naming
 * the file.
 */
export function safePng(bytes: Uint8Array, name: string): { header: PngHeader; bytes: Uint8Array } {
  const header = pngHeader(bytes, name);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kept: Uint8Array[] = [bytes.subarray(0, 8)];
  const idat: Uint8Array[] = [];
  let idatBytes = 0;
  for (let p = 8; p + 12 <= bytes.length; ) {
    const len = v.getUint32(p);
    const type = String.fromCharCode(bytes[p + 4], bytes[p + 5], bytes[p + 6], bytes[p + 7]);
    if (p + 12 + len > bytes.length) throw new InputError(`${name}: PNG chunk ${JSON.stringify(type)} (${len} bytes at byte ${p}) runs past the end of the file; the file is cut short`);
    if (KEPT.has(type)) kept.push(bytes.subarray(p, p + 12 + len));
    if (type === 'IDAT') {
      idat.push(bytes.subarray(p + 8, p + 8 + len));
      idatBytes += len;
    }
    p += 12 + len;
    if (type === 'IEND') break;
  }
  if (!idat.length) throw new InputError(`${name}: the PNG has no image data (IDAT); the file is cut short or damaged`);
  const z = join(idat, idatBytes);
  const raw = inflateCapped('zlib', z, name, { cap: header.rawBytes, what: 'the PNG image data' });
  kept.push(chunk('IDAT', storedZlib(raw)), chunk('IEND', new Uint8Array(0)));
  return { header, bytes: join(kept, kept.reduce((a, c) => a + c.length, 0)) };
}

function join(parts: readonly Uint8Array[], n: number): Uint8Array {
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of parts) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** A PNG chunk (CRC left 0: see safePng). */
function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(body, 8);
  return out;
}

/** A zlib stream of stored (uncompressed) deflate blocks, with its Adler-32. */
function storedZlib(raw: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(raw.length / 65535));
  const out = new Uint8Array(2 + raw.length + 5 * blocks + 4);
  out[0] = 0x78;
  out[1] = 0x01;
  let o = 2;
  for (let b = 0; b < blocks; b++) {
    const start = b * 65535;
    const n = Math.min(65535, raw.length - start);
    out[o] = b === blocks - 1 ? 1 : 0;
    out[o + 1] = n & 255;
    out[o + 2] = n >> 8;
    out[o + 3] = ~n & 255;
    out[o + 4] = (~n >> 8) & 255;
    out.set(raw.subarray(start, start + n), o + 5);
    o += 5 + n;
  }
  let a = 1;
  let s = 0;
  for (let i = 0; i < raw.length; ) {
    // sums stay below 2^53 for 5552-byte runs (zlib's NMAX)
    for (const end = Math.min(raw.length, i + 5552); i < end; i++) s += a += raw[i];
    a %= 65521;
    s %= 65521;
  }
  new DataView(out.buffer).setUint32(o, ((s << 16) | a) >>> 0);
  return out;
}

/** SOFn markers (frame headers): C0..CF but C4 (DHT), C8 (JPG) and CC (DAC). */
const isSof = (m: number): boolean => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

/** A JPEG's size from its frame header (SOFn), checked against the limits; an InputError naming the file. */
export function jpegHeader(bytes: Uint8Array, name: string): { width: number; height: number; components: number } {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) throw new InputError(`${name}: not a JPEG (no start-of-image marker)`);
  for (let p = 2; p + 4 <= bytes.length; ) {
    if (bytes[p] !== 0xff) throw new InputError(`${name}: bad JPEG: no marker at byte ${p}; the file is damaged`);
    const m = bytes[p + 1];
    if (m === 0xff) {
      p++; // fill byte
      continue;
    }
    if (m === 0x01 || (m >= 0xd0 && m <= 0xd7)) {
      p += 2;
      continue;
    }
    if (m === 0xd9 || m === 0xda) break; // end of image or start of scan before a frame header
    const len = (bytes[p + 2] << 8) | bytes[p + 3];
    if (len < 2) throw new InputError(`${name}: bad JPEG: a segment of length ${len} at byte ${p}; the file is damaged`);
    if (isSof(m)) {
      if (p + 10 > bytes.length) break;
      const height = (bytes[p + 5] << 8) | bytes[p + 6];
      const width = (bytes[p + 7] << 8) | bytes[p + 8];
      checkImageSize(name, width, height, 'JPEG');
      return { width, height, components: bytes[p + 9] };
    }
    p += 2 + len;
  }
  throw new InputError(`${name}: the JPEG has no frame header (SOF) before its image data; the file is cut short or damaged`);
}
