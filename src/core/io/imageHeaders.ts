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

/** Chunks a decoder needs; the others (ICC profiles, compressed text, …) are dropped by `safePng`. */
const KEPT = new Set(['IHDR', 'PLTE', 'tRNS', 'IDAT', 'IEND']);

/**
 * A copy of a PNG that a decoder can take whatever it held: its header checked (pngHeader), its
 * chunks inside the file, only the chunks that make the image (compressed ancillary chunks are
 * bombs of their own), and its image data checked to inflate to no more than the header says.
 * Throws an InputError naming the file.
 */
export function safePng(bytes: Uint8Array, name: string): { header: PngHeader; bytes: Uint8Array } {
  const header = pngHeader(bytes, name);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kept: Uint8Array[] = [bytes.subarray(0, 8)];
  const idat: Uint8Array[] = [];
  let idatBytes = 0;
  let end = false;
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
    if (type === 'IEND') {
      end = true;
      break;
    }
  }
  if (!idat.length) throw new InputError(`${name}: the PNG has no image data (IDAT); the file is cut short or damaged`);
  if (!end) kept.push(Uint8Array.of(0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82)); // a lost IEND
  const z = new Uint8Array(idatBytes);
  let o = 0;
  for (const c of idat) {
    z.set(c, o);
    o += c.length;
  }
  // the image data may not inflate past what the header declares (a bomb would, in the decoder)
  inflateCapped('zlib', z, name, { cap: header.rawBytes, what: 'the PNG image data' });
  const out = new Uint8Array(kept.reduce((a, c) => a + c.length, 0));
  o = 0;
  for (const c of kept) {
    out.set(c, o);
    o += c.length;
  }
  return { header, bytes: out };
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
