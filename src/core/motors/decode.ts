/**
 * Image decoding for tomogram slices and stacks (no DOM: runs in Node, the worker and the page):
 * JPEG with libjpeg-turbo (src/core/io/jpeg.ts, WASM; bit-identical to PIL), TIFF with core's one
 * TIFF reader (src/core/io/tiff.ts, UTIF), PNG with a small decoder over zlib (Node's, else fflate).
 *
 * Conversions to 8-bit gray, documented because the page (which may decode with the browser) and
 * the CLI must give the same voxels (TIFF pages are read by src/core/io/tiff.ts):
 * - gray images are taken as they are; RGB(A)/palette by PIL's `convert('L')` luma,
 *   (R * 19595 + G * 38470 + B * 7471 + 32768) >> 16 (so R = G = B = v gives v); alpha is ignored;
 * - 16-bit slices (PNG or TIFF) keep their high byte (v >> 8), as browsers do when they draw them;
 *   1/2/4-bit gray is scaled to 0..255;
 * - multi-page TIFF stacks (readTiffStack): 8-bit pages as they are; 16-bit, 32-bit and float pages
 *   are mapped min..max over the whole stack to 0..255 (floor((v - min) * 255 / (max - min) + 0.5)).
 * JPEG decoders differ by about 1 grey level between implementations (IDCT rounding): slices are
 * decoded with libjpeg-turbo, as PIL, OpenCV and browsers do, so they match the reference pipelines.
 */
import { inflateCapped } from '../io/binary';
import { jpegHeader, pngHeader } from '../io/imageHeaders';
import { decodeJpegGray, type GrayTarget } from '../io/jpeg';
import { decodeTiffPage, openTiff, releaseTiffPage, tiffPageRgba, tiffPageSamples, tiffSpacing, type TiffFile } from '../io/tiff';
import { InputError } from '../volume';
import type { Tomogram } from './tomogram';

export interface GrayImage {
  width: number;
  height: number;
  gray: Uint8Array;
}

export type ImageKind = 'jpeg' | 'png' | 'tiff';

/** The image format by its magic bytes, or null. */
export function imageKind(bytes: Uint8Array): ImageKind | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes.length >= 4 && ((bytes[0] === 0x49 && bytes[1] === 0x49 && bytes[2] === 42 && bytes[3] === 0) || (bytes[0] === 0x4d && bytes[1] === 0x4d && bytes[2] === 0 && bytes[3] === 42))) return 'tiff';
  return null;
}

/** PIL's RGB -> L: (R * 19595 + G * 38470 + B * 7471 + 0x8000) >> 16. */
export function luma(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >>> 16;
}

/** RGBA (canvas ImageData order) to gray with `luma`; alpha ignored. For the page's own decoders too. */
export function rgbaToGray(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): Uint8Array {
  const n = width * height;
  if (rgba.length < n * 4) throw new InputError(`RGBA data has ${rgba.length} bytes, ${width} x ${height} needs ${n * 4}`);
  const out = new Uint8Array(n);
  for (let i = 0, j = 0; i < n; i++, j += 4) out[i] = luma(rgba[j], rgba[j + 1], rgba[j + 2]);
  return out;
}

/**
 * Decodes one JPEG, PNG or TIFF (first page) image to 8-bit gray. Errors are InputErrors naming the file.
 * With `into`, a JPEG of that size is decoded straight there and `gray` is empty (decodeJpegGray);
 * PNG and TIFF slices, and JPEGs of another size, come back in `gray` as usual.
 */
export function decodeGrayImage(bytes: Uint8Array, name: string, into?: GrayTarget): GrayImage {
  const kind = imageKind(bytes);
  try {
    if (kind === 'jpeg') {
      jpegHeader(bytes, name); // its size, checked against the limits before the decoder allocates
      return decodeJpegGray(bytes, into);
    }
    if (kind === 'png') return pngToGray(bytes, name);
    if (kind === 'tiff') return tiffFirstPage(bytes, name);
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${name}: cannot decode the ${kind?.toUpperCase()} image (${(e as Error).message ?? e}); the file is corrupt or cut short`);
  }
  throw new InputError(`${name}: not a JPEG, PNG or TIFF image`);
}

// ---------------------------------------------------------------------------------------------
// PNG (non-interlaced; all colour types and bit depths)

function pngToGray(bytes: Uint8Array, name: string): GrayImage {
  pngHeader(bytes, name); // its size, checked against the limits before anything is inflated
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 8;
  let width = 0;
  let height = 0;
  let depth = 0;
  let color = -1;
  let interlace = 0;
  let palette: Uint8Array | null = null;
  const idat: Uint8Array[] = [];
  while (p + 8 <= bytes.length) {
    const len = view.getUint32(p);
    const type = String.fromCharCode(bytes[p + 4], bytes[p + 5], bytes[p + 6], bytes[p + 7]);
    const body = bytes.subarray(p + 8, p + 8 + len);
    if (body.length !== len) throw new Error(`chunk ${type} is cut short`);
    if (type === 'IHDR') {
      width = view.getUint32(p + 8);
      height = view.getUint32(p + 12);
      depth = bytes[p + 16];
      color = bytes[p + 17];
      interlace = bytes[p + 20];
    } else if (type === 'PLTE') palette = body;
    else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    p += 12 + len;
  }
  if (!width || !height || color < 0) throw new Error('no IHDR chunk');
  if (interlace) throw new InputError(`${name}: interlaced (Adam7) PNG is not supported; save the slices without interlacing`);
  const channels = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[color];
  if (!channels || ![1, 2, 4, 8, 16].includes(depth)) throw new Error(`unsupported colour type ${color} / bit depth ${depth}`);
  if (color === 3 && !palette) throw new Error('palette image without a PLTE chunk');
  let total = 0;
  for (const c of idat) total += c.length;
  const z = new Uint8Array(total);
  let o = 0;
  for (const c of idat) {
    z.set(c, o);
    o += c.length;
  }
  const stride = Math.ceil((width * channels * depth) / 8);
  const raw = inflate(z, height * (stride + 1), name);
  const bpp = Math.max(1, (channels * depth) >> 3);
  if (raw.length < height * (stride + 1)) throw new Error('image data is cut short');
  const px = unfilter(raw, height, stride, bpp);

  const gray = new Uint8Array(width * height);
  if (depth === 8 && color === 0) gray.set(px.subarray(0, width * height));
  else if (depth === 8 && (color === 2 || color === 6)) {
    for (let i = 0, j = 0, n = width * height; i < n; i++, j += channels) gray[i] = luma(px[j], px[j + 1], px[j + 2]);
  } else if (depth === 16 && color === 0) {
    for (let i = 0, n = width * height; i < n; i++) gray[i] = px[2 * i];
  } else grayFromSamples(px, gray, width, height, stride, depth, color, channels, palette);
  return { width, height, gray };
}

/**
 * The PNG's zlib stream inflated, at most `need` bytes (what its header declares): Node's native zlib
 * where there is one (CLI, tests) with that output cap, else (page, worker, or a stream that inflates
 * past the cap) the capped streaming inflater. Lossless: same bytes.
 */
function inflate(z: Uint8Array, need: number, name: string): Uint8Array {
  const zlib = (globalThis as { process?: { getBuiltinModule?(id: string): unknown } }).process?.getBuiltinModule?.('node:zlib') as
    | { inflateSync(b: Uint8Array, o: { maxOutputLength: number }): Uint8Array }
    | undefined;
  if (zlib) {
    try {
      return zlib.inflateSync(z, { maxOutputLength: need });
    } catch {
      // more than declared, or damaged: the streaming inflater takes what is there and says what is wrong
    }
  }
  return inflateCapped('zlib', z, name, { stopAt: need, what: 'the PNG image data' });
}

/** The general case: any bit depth, gray+alpha, palette, 16-bit colour. */
function grayFromSamples(px: Uint8Array, gray: Uint8Array, width: number, height: number, stride: number, depth: number, color: number, channels: number, palette: Uint8Array | null): void {
  const sample = (row: number, i: number): number => {
    // i-th sample of the row, as an 8-bit value (16-bit: high byte; < 8 bits: scaled)
    const r = row * stride;
    if (depth === 8) return px[r + i];
    if (depth === 16) return px[r + 2 * i];
    const perByte = 8 / depth;
    const v = (px[r + Math.floor(i / perByte)] >> (8 - depth * ((i % perByte) + 1))) & ((1 << depth) - 1);
    return color === 3 ? v : Math.round((v * 255) / ((1 << depth) - 1));
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const k = y * width + x;
      if (color === 0 || color === 4) gray[k] = sample(y, x * channels);
      else if (color === 2 || color === 6) gray[k] = luma(sample(y, x * channels), sample(y, x * channels + 1), sample(y, x * channels + 2));
      else {
        const e = sample(y, x) * 3;
        gray[k] = luma(palette![e], palette![e + 1], palette![e + 2]);
      }
    }
  }
}

/** PNG row filters undone (one loop per filter type: the per-byte branch was the hot spot). */
function unfilter(raw: Uint8Array, height: number, stride: number, bpp: number): Uint8Array {
  const out = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const dst = y * stride;
    const prev = dst - stride;
    const first = y === 0;
    if (f === 0) out.set(raw.subarray(src, src + stride), dst);
    else if (f === 1) {
      for (let i = 0; i < stride; i++) out[dst + i] = raw[src + i] + (i >= bpp ? out[dst + i - bpp] : 0);
    } else if (f === 2) {
      if (first) out.set(raw.subarray(src, src + stride), dst);
      else for (let i = 0; i < stride; i++) out[dst + i] = raw[src + i] + out[prev + i];
    } else if (f === 3) {
      for (let i = 0; i < stride; i++) {
        const a = i >= bpp ? out[dst + i - bpp] : 0;
        const b = first ? 0 : out[prev + i];
        out[dst + i] = raw[src + i] + ((a + b) >> 1);
      }
    } else if (f === 4) {
      for (let i = 0; i < stride; i++) {
        const a = i >= bpp ? out[dst + i - bpp] : 0;
        const b = first ? 0 : out[prev + i];
        const c = !first && i >= bpp ? out[prev + i - bpp] : 0;
        const pa = Math.abs(b - c);
        const pb = Math.abs(a - c);
        const pc = Math.abs(a + b - 2 * c);
        out[dst + i] = raw[src + i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
      }
    } else throw new Error(`bad filter type ${f} in row ${y}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// TIFF (the one reader: src/core/io/tiff.ts)

/** Gray 8-bit values of a decoded page (see the module comment for the conversions). */
function pageToGray8(t: TiffFile, index: number): Uint8Array {
  const f = t.pages[index];
  const n = f.width * f.height;
  if (f.samples === 1 && f.bits === 8 && (f.photometric === 0 || f.photometric === 1)) {
    const g = tiffPageSamples(t, index) as Uint8Array;
    if (f.photometric === 0) for (let i = 0; i < n; i++) g[i] = 255 - g[i];
    return g;
  }
  if (f.samples === 1 && f.bits === 16 && f.format !== 3) {
    const s = tiffPageSamples(t, index);
    const g = new Uint8Array(n);
    for (let i = 0; i < n; i++) g[i] = ((s[i] >> 8) & 0xff) ^ (f.format === 2 ? 0x80 : 0); // high byte (int16: offset binary)
    if (f.photometric === 0) for (let i = 0; i < n; i++) g[i] = 255 - g[i];
    return g;
  }
  if (f.samples === 1 && (f.format === 3 || f.bits === 32)) {
    throw new InputError(`${f.bits}-bit ${f.format === 3 ? 'float' : 'integer'} TIFF slices are not supported in slice folders; use a multi-page TIFF stack or MRC`);
  }
  return rgbaToGray(tiffPageRgba(t, index), f.width, f.height);
}

function tiffFirstPage(bytes: Uint8Array, name: string): GrayImage {
  const t = openTiff(bytes, name);
  decodeTiffPage(t, 0);
  return { width: t.pages[0].width, height: t.pages[0].height, gray: pageToGray8(t, 0) };
}

/** Numeric samples of a decoded single-channel 16/32-bit or float page (photometric 0: negated). */
function pageSamples(t: TiffFile, index: number): ArrayLike<number> {
  const s = tiffPageSamples(t, index);
  if (t.pages[index].photometric !== 0) return s;
  const out = new Float64Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = -s[i];
  return out;
}

/**
 * Reads a multi-page TIFF as a tomogram (one page per z slice). 8-bit gray pages are kept as they
 * are; 16/32-bit and float pages are mapped min..max over the whole stack to 0..255 (decoded twice,
 * one page at a time, so that no wide copy of the stack is made); RGB pages by luma.
 */
export function readTiffStack(bytes: Uint8Array, id: string, name = id): Tomogram {
  const t = openTiff(bytes, name);
  const { pages } = t;
  const { width: w, height: h } = pages[0];
  const f0 = pages[0];
  pages.forEach((f, i) => {
    if (f.width !== w || f.height !== h) {
      throw new InputError(`${id}: TIFF page ${i + 1} is ${f.width} x ${f.height} but page 1 is ${w} x ${h}; all pages must have the same size`);
    }
    if (f.bits !== f0.bits || f.samples !== f0.samples || f.format !== f0.format) {
      throw new InputError(`${id}: TIFF page ${i + 1} has another pixel type (${f.bits}-bit x ${f.samples}) than page 1 (${f0.bits}-bit x ${f0.samples})`);
    }
  });
  const n = w * h;
  const data = new Uint8Array(n * pages.length);
  const wide = f0.samples === 1 && (f0.bits === 16 || f0.bits === 32);
  if (!wide) {
    pages.forEach((_, z) => {
      decodeTiffPage(t, z);
      data.set(pageToGray8(t, z), z * n);
      releaseTiffPage(t, z);
    });
  } else {
    let lo = Infinity;
    let hi = -Infinity;
    pages.forEach((_, z) => {
      decodeTiffPage(t, z);
      const s = pageSamples(t, z);
      for (let i = 0; i < n; i++) {
        const v = s[i];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      releaseTiffPage(t, z);
    });
    const scale = hi > lo ? 255 / (hi - lo) : 0;
    pages.forEach((_, z) => {
      decodeTiffPage(t, z);
      const s = pageSamples(t, z);
      const o = z * n;
      for (let i = 0; i < n; i++) {
        const v = s[i];
        data[o + i] = v === v ? Math.floor((v - lo) * scale + 0.5) : 0;
      }
      releaseTiffPage(t, z);
    });
  }
  const tomo: Tomogram = { id, shape: [pages.length, h, w], data };
  const sp = tiffSpacing(t, 0);
  if (sp) tomo.spacing = sp;
  return tomo;
}
