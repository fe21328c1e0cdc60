/**
 * Writes the crafted hostile inputs of tests/fixtures/fuzz/ (the worst cases, each a few
 * bytes to a few kB): `npx tsx tools/fuzzFixtures.ts`. The cases the fuzz run itself found (hangs
 * of the readers before they were made total) are copied there as they were saved; README.md in
 * that folder says which is which. Deterministic: the same bytes every run.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, zipSync, strToU8 } from 'fflate';
import { decode, encode, lenField, str, sub, type Field } from '../src/core/onnx/proto';
import { concat } from './fuzzMutate';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'tests/fixtures/fuzz');
const read = (p: string) => new Uint8Array(readFileSync(join(ROOT, p)));
const write = (name: string, b: Uint8Array) => writeFileSync(join(OUT, name), b);
mkdirSync(OUT, { recursive: true });

// A .nii.gz of 1 kB whose header declares 1024^3 float32 voxels (4 GiB): refused before inflating.
{
  const h = new Uint8Array(352 + 4096);
  const v = new DataView(h.buffer);
  v.setInt32(0, 348, true);
  [3, 1024, 1024, 1024, 1, 1, 1, 1].forEach((d, i) => v.setInt16(40 + 2 * i, d, true));
  v.setInt16(70, 16, true); // float32
  v.setInt16(72, 32, true);
  [1, 1, 1, 1].forEach((p, i) => v.setFloat32(76 + 4 * i, p, true));
  v.setFloat32(108, 352, true);
  h.set(strToU8('n+1\0'), 344);
  write('nifti_1024cubed.nii.gz', gzipSync(h, { mtime: 0 }));
}

// A PNG of 400 bytes whose IHDR declares 20000 x 20000 8-bit gray: refused before inflating.
{
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, 20000);
  v.setUint32(4, 20000);
  ihdr[8] = 8; // depth
  const chunk = (type: string, body: Uint8Array) => {
    const out = new Uint8Array(12 + body.length);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, body.length);
    out.set(strToU8(type), 4);
    out.set(body, 8);
    dv.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)));
    return out;
  };
  // a zlib stream of 20 rows of zeros: far fewer than declared
  const idat = Uint8Array.from([0x78, 0x01, ...deflateStoredZeros(20 * 20001)]);
  const sig = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
  write('png_20000x20000.png', concat(sig, chunk('IHDR', ihdr), chunk('IDAT', idat.subarray(0, 300)), chunk('IEND', new Uint8Array(0))));
}

// A JPEG whose frame header declares 65535 x 65535 (the slice fixture with its SOF0 patched).
{
  const b = read('tests/fixtures/motors/slice_gray.jpg').slice();
  for (let p = 2; p + 9 < b.length; ) {
    const m = b[p + 1];
    const len = (b[p + 2] << 8) | b[p + 3];
    if (m === 0xc0) {
      b.set([0xff, 0xff, 0xff, 0xff], p + 5);
      break;
    }
    p += 2 + len;
  }
  write('jpeg_65535x65535.jpg', b);
}

// The wrong-weights case: an external-data offset of -864, which loaded the weights from the end of the data file.
{
  const model = read('tests/fixtures/onnx/external/unet_ext.onnx');
  let done = false;
  const edit = (t: Field[]): Field[] =>
    t.map((tf) => {
      if (tf.no !== 13 || done) return tf;
      const kv = sub(tf);
      const k = kv.find((x) => x.no === 1);
      if (!k || str(k) !== 'offset') return tf;
      done = true;
      return lenField(13, [k, lenField(2, strToU8('-864'))]);
    });
  const out = decode(model).map((mf) => (mf.no !== 7 ? mf : lenField(7, sub(mf).map((gf) => (gf.no === 5 ? lenField(5, edit(sub(gf))) : gf)))));
  if (!done) throw new Error('no offset entry in unet_ext.onnx');
  write('onnx_external_offset_-864.onnx', encode(out));
}

// A session whose directory says 2048 bytes for an entry that inflates to 16 MiB.
{
  const manifest = { format: 'voxelbench-session', version: 1, preset: 'workbench', createdAt: '2025-01-01T00:00:00.000Z', state: {}, files: [{ path: 'result.f32', bytes: 2048 }] };
  const zip = zipSync({ 'session.json': strToU8(JSON.stringify(manifest)), 'result.f32': [new Uint8Array(16 * 2 ** 20), { level: 9 }] }, { mtime: new Date('2025-01-01T00:00:00Z') });
  // central directory entry of result.f32: its uncompressed size (offset 24) -> 2048
  const v = new DataView(zip.buffer);
  for (let p = zip.length - 22; p > 0; p--) {
    if (v.getUint32(p, true) !== 0x02014b50) continue;
    const nameLen = v.getUint16(p + 28, true);
    if (new TextDecoder().decode(zip.subarray(p + 46, p + 46 + nameLen)) === 'result.f32') v.setUint32(p + 24, 2048, true);
  }
  write('session_entry_bomb.vbsession', zip);
}

// A TIFF stack whose last LZW strip has no end code (zeros to the end of the file): UTIF decoded it forever.
{
  const b = read('tests/fixtures/motors/stack_u8_lzw.tif').slice();
  const v = new DataView(b.buffer);
  // the last page's StripOffsets/StripByteCounts: walk the chain to the last directory
  let off = v.getUint32(4, true);
  let last = off;
  while (off) {
    last = off;
    off = v.getUint32(off + 2 + 12 * v.getUint16(off, true), true);
  }
  const n = v.getUint16(last, true);
  const value = (tag: number): number => {
    for (let e = last + 2; e < last + 2 + 12 * n; e += 12) if (v.getUint16(e, true) === tag) return v.getUint32(e + 8, true);
    throw new Error(`no tag ${tag}`);
  };
  const start = value(273);
  const count = value(279);
  b.fill(0, start, start + count);
  write('tiff_lzw_no_end_code.tif', b);
}

/** Raw deflate of `n` zero bytes in stored blocks (no compression needed). */
function deflateStoredZeros(n: number): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let left = n; left > 0; ) {
    const k = Math.min(left, 65535);
    left -= k;
    parts.push(Uint8Array.of(left === 0 ? 1 : 0, k & 255, k >> 8, ~k & 255, (~k >> 8) & 255), new Uint8Array(k));
  }
  return concat(...parts);
}

function crc32(b: Uint8Array): number {
  let c = ~0;
  for (let i = 0; i < b.length; i++) {
    c ^= b[i];
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}
