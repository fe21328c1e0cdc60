/**
 * JPEG slices decode bit-identical to PIL (libjpeg-turbo): every file of
 * tests/fixtures/motors/jpeg/pil.json (every slice of two real cryo-ET tomogram folders, colour
 * 4:2:0 / 4:4:4, progressive, odd sizes, and every slice of the bundled sample folders), errors,
 * and a folder stacked with decodes in flight equal to one decoded slice by slice.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeGrayImage } from '../src/core/motors/decode';
import { decodeJpegGray, JpegError, type GrayTarget } from '../src/core/io/jpeg';
import { stackSliceFiles, type SliceFile } from '../src/core/motors/tomogram';
import { InputError } from '../src/core/volume';

const ROOT = resolve(import.meta.dirname, '..');
const REF = JSON.parse(readFileSync(resolve(ROOT, 'tests/fixtures/motors/jpeg/pil.json'), 'utf8')) as {
  files: Record<string, { shape: [number, number]; sha256: string }>;
};
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const bytesOf = (p: string) => new Uint8Array(readFileSync(resolve(ROOT, p)));

describe('JPEG decoding = PIL (libjpeg-turbo), byte for byte', () => {
  const files = Object.entries(REF.files);
  it('covers the fixtures and every bundled sample slice', () => {
    expect(files.filter(([f]) => f.startsWith('public/samples/')).length).toBe(256);
    expect(files.filter(([f]) => f.includes('made_rgb')).length).toBe(2);
  });
  for (const [file, ref] of files.filter(([f]) => !f.startsWith('public/'))) {
    it(file.slice(file.lastIndexOf('jpeg/') + 5), () => {
      const img = decodeGrayImage(bytesOf(file), file);
      expect([img.height, img.width]).toEqual(ref.shape);
      expect(sha(img.gray)).toBe(ref.sha256);
    });
  }
  it('all 256 slices of the four bundled sample folders', () => {
    const bad = files.filter(([f]) => f.startsWith('public/')).filter(([f, ref]) => sha(decodeGrayImage(bytesOf(f), f).gray) !== ref.sha256);
    expect(bad.map(([f]) => f)).toEqual([]);
  });
});

describe('JPEG errors', () => {
  const jpg = bytesOf('tests/fixtures/motors/jpeg/tomo_cyl13pf/slice_0017.jpg');
  it('a cut-short or corrupt file is an InputError naming it, and decoding goes on working after it', () => {
    expect(() => decodeGrayImage(jpg.subarray(0, jpg.length >> 1), 'half.jpg')).toThrow(/half\.jpg: cannot decode the JPEG image \(corrupt or truncated JPEG data\)/);
    expect(() => decodeGrayImage(jpg.subarray(0, 120), 'head.jpg')).toThrow(InputError);
    expect(() => decodeJpegGray(jpg.subarray(0, 40))).toThrow(JpegError);
    const img = decodeGrayImage(jpg, 'ok.jpg');
    expect(sha(img.gray)).toBe(REF.files['tests/fixtures/motors/jpeg/tomo_cyl13pf/slice_0017.jpg'].sha256);
  });
});

describe('stacking with decodes in flight', () => {
  const dir = resolve(ROOT, 'public/samples/tomograms/tomo_sim_002');
  const names = readdirSync(dir).sort();
  const files = names.map((n) => ({ name: `tomo_sim_002/${n}`, read: () => new Uint8Array(readFileSync(join(dir, n))) }));
  it('gives the same volume as one slice at a time, whatever order the decodes finish in', async () => {
    const one = await stackSliceFiles('tomo_sim_002', files, decodeGrayImage);
    let k = 0;
    // a decode that finishes out of order (later slices first)
    const shuffled = (bytes: Uint8Array, name: string) => new Promise<ReturnType<typeof decodeGrayImage>>((r) => setTimeout(() => r(decodeGrayImage(bytes, name)), 8 - (k++ % 8)));
    const seen: number[] = [];
    const many = await stackSliceFiles('tomo_sim_002', files, shuffled, { concurrency: 6, onSlice: (done) => seen.push(done) });
    expect(many.tomogram.shape).toEqual(one.tomogram.shape);
    expect(sha(many.tomogram.data)).toBe(sha(one.tomogram.data));
    expect(seen).toEqual(Array.from({ length: names.length }, (_, i) => i + 1));
  });
  it('decoding straight into a shared volume (decodeInto, as the CLI\'s threads do) gives the same volume; a slice of another size is named', async () => {
    const one = await stackSliceFiles('tomo_sim_002', files, decodeGrayImage);
    const calls: number[] = [];
    // the decoder writes a slice of the volume's size straight into it and hands back no array
    const into = async (file: SliceFile, at: GrayTarget) => {
      const img = decodeGrayImage(await file.read(), file.name, at);
      calls.push(at.offset);
      if (img.width === at.width && img.height === at.height) expect(img.gray.length).toBe(0);
      else expect(img.gray.length).toBe(img.width * img.height);
      return { width: img.width, height: img.height };
    };
    const shared = await stackSliceFiles('tomo_sim_002', files, decodeGrayImage, { concurrency: 4, decodeInto: into });
    expect(shared.tomogram.data.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(sha(shared.tomogram.data)).toBe(sha(one.tomogram.data));
    expect(calls.length).toBe(names.length - 1);
    const small = bytesOf('tests/fixtures/motors/jpeg/made_gray_odd.jpg');
    const mixed = files.map((f, i) => (i === 9 ? { ...f, read: () => small } : f));
    await expect(stackSliceFiles('tomo_sim_002', mixed, decodeGrayImage, { concurrency: 4, decodeInto: into })).rejects.toThrow(
      /tomo_sim_002: slice 'slice_0009\.jpg' is 53 x 77 but 'slice_0000\.jpg' is 192 x 192/,
    );
  });

  it('a bad slice among many in flight is named', async () => {
    const broken = files.map((f, i) => (i === 37 ? { ...f, read: () => f.read().subarray(0, 300) } : f));
    await expect(stackSliceFiles('tomo_sim_002', broken, decodeGrayImage, { concurrency: 4 })).rejects.toThrow(/tomo_sim_002: cannot decode 'slice_0037\.jpg'/);
  });
});
