/**
 * Cell masks as run-length encodings for the per-cell CSV.
 *
 * 'hpa' (default): the HPA 2021 / Open Images challenge `encode_binary_mask`: the mask in column-major
 * (Fortran) order -> pycocotools RLE counts (alternating runs, starting with zeros) -> pycocotools'
 * compressed counts string (`rleToString`: each count, minus the count two places back from the
 * fourth on, in 5-bit groups + 48, bit 0x20 = more) -> zlib (level 9) -> base64. Decoders compare the
 * decompressed string; the zlib bytes of fflate can differ from Python's zlib for the same input.
 * 'counts': the same column-major counts, uncompressed, space-separated (pycocotools' uncompressed
 * RLE `counts` list).
 */
import { unzlibSync, zlibSync } from 'fflate';

export type RleFormat = 'hpa' | 'counts';

/** Column-major run lengths of a row-major binary mask [H, W] (non-zero = 1), starting with a zero run. */
export function rleCounts(mask: ArrayLike<number>, height: number, width: number): number[] {
  const counts: number[] = [];
  let prev = 0;
  let run = 0;
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) {
      const v = mask[y * width + x] ? 1 : 0;
      if (v !== prev) {
        counts.push(run);
        run = 0;
        prev = v;
      }
      run++;
    }
  }
  counts.push(run);
  return counts;
}

/** pycocotools maskApi.c `rleToString`. */
export function countsToString(counts: readonly number[]): string {
  let s = '';
  for (let i = 0; i < counts.length; i++) {
    let x = counts[i];
    if (i > 2) x -= counts[i - 2];
    let more = true;
    while (more) {
      let c = x & 0x1f;
      x >>= 5; // arithmetic shift, as C on long
      more = c & 0x10 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      s += String.fromCharCode(c + 48);
    }
  }
  return s;
}

/** pycocotools `rleFrString` (the inverse of countsToString). */
export function stringToCounts(s: string): number[] {
  const counts: number[] = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      const c = s.charCodeAt(p) - 48;
      x |= (c & 0x1f) << (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && c & 0x10) x |= -1 << (5 * k);
    }
    if (counts.length > 2) x += counts[counts.length - 2];
    counts.push(x);
  }
  return counts;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

export function toBase64(bytes: Uint8Array): string {
  let s = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    s += B64[(n >> 18) & 63] + B64[(n >> 12) & 63] + B64[(n >> 6) & 63] + B64[n & 63];
  }
  if (i < bytes.length) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8);
    s += B64[(n >> 18) & 63] + B64[(n >> 12) & 63] + (i + 1 < bytes.length ? B64[(n >> 6) & 63] : '=') + '=';
  }
  return s;
}

export function fromBase64(s: string): Uint8Array {
  const clean = s.replace(/[^A-Za-z0-9+/]/g, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let o = 0;
  for (let i = 0; i < clean.length; i += 4) {
    const n = (B64.indexOf(clean[i]) << 18) | (B64.indexOf(clean[i + 1]) << 12) | ((B64.indexOf(clean[i + 2] ?? 'A') & 63) << 6) | (B64.indexOf(clean[i + 3] ?? 'A') & 63);
    if (o < out.length) out[o++] = (n >> 16) & 255;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}

/** HPA `encode_binary_mask`: base64(zlib(rleToString(counts of the column-major mask), level 9)). */
export function encodeBinaryMask(mask: ArrayLike<number>, height: number, width: number): string {
  const s = countsToString(rleCounts(mask, height, width));
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  return toBase64(zlibSync(bytes, { level: 9 }));
}

/** The inverse of encodeBinaryMask: a row-major 0/1 mask [H, W]. */
export function decodeBinaryMask(encoded: string, height: number, width: number): Uint8Array {
  const bytes = unzlibSync(fromBase64(encoded));
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  const counts = stringToCounts(s);
  return countsToMask(counts, height, width);
}

export function countsToMask(counts: readonly number[], height: number, width: number): Uint8Array {
  const out = new Uint8Array(height * width);
  let pos = 0;
  let v = 0;
  for (const c of counts) {
    if (v) for (let i = pos; i < pos + c; i++) out[(i % height) * width + Math.floor(i / height)] = 1;
    pos += c;
    v ^= 1;
  }
  return out;
}

/** One cell of a label image encoded in the chosen format. */
export function encodeCell(labels: ArrayLike<number>, id: number, height: number, width: number, format: RleFormat): string {
  const mask = new Uint8Array(height * width);
  for (let i = 0; i < mask.length; i++) mask[i] = labels[i] === id ? 1 : 0;
  return format === 'hpa' ? encodeBinaryMask(mask, height, width) : rleCounts(mask, height, width).join(' ');
}
