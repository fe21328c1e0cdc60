/**
 * The spine preset's DICOM reader against pydicom (tools/make_spine_fixtures.py): the simulated
 * uncompressed series, the real JPEG 2000 lossless series (pydicom decodes it with Pillow's OpenJPEG,
 * the app with the OpenJPEG WASM build), implicit VR / big endian / RLE re-encodings, slice order
 * (file names shuffled and reversed), the affine against the sample's NIfTI, and bad input.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readDicomSeries, sliceGeometry, compareFileNumber, type DicomFile } from '../src/core/spine/dicom';
import { readVolume } from '../src/core/io';
import { InputError } from '../src/core/volume';

const ROOT = resolve(__dirname, '..');
const CT = resolve(ROOT, 'public/samples/ct');
const FIX = resolve(ROOT, 'tests/fixtures/spine');
const REF = JSON.parse(readFileSync(resolve(FIX, 'reference.json'), 'utf8'));

const folder = (dir: string): DicomFile[] => readdirSync(dir).map((n) => ({ name: n, bytes: new Uint8Array(readFileSync(resolve(dir, n))) }));
const sha = (a: ArrayBufferView): string => createHash('sha256').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex');

const SIM = folder(resolve(CT, 'sim_neck'));
const REAL = folder(resolve(CT, 'real_totalseg_j2k'));

interface RefFile { name: string; position: number[]; sum: number; min: number; max: number; hu_mean: number; sha256: string; corner: number[]; centre: number }

function checkAgainstPydicom(s: Awaited<ReturnType<typeof readDicomSeries>>['series'][0], ref: { files: RefFile[]; rows: number; cols: number; positionOrder: string[]; volumeSha256: string }) {
  const [n, rows, cols] = s.volume.shape;
  expect([rows, cols]).toEqual([ref.rows, ref.cols]);
  expect(n).toBe(ref.files.length);
  const plane = rows * cols;
  const byName = new Map(ref.files.map((f) => [f.name, f]));
  s.files.forEach((name, k) => {
    const r = byName.get(name) as RefFile;
    const px = s.stored.subarray(k * plane, (k + 1) * plane);
    let sum = 0;
    let lo = Infinity;
    let hi = -Infinity;
    let hu = 0;
    for (let i = 0; i < plane; i++) {
      sum += px[i];
      lo = Math.min(lo, px[i]);
      hi = Math.max(hi, px[i]);
      hu += s.volume.data[k * plane + i];
    }
    expect([sum, lo, hi]).toEqual([r.sum, r.min, r.max]);
    expect(hu / plane).toBeCloseTo(r.hu_mean, 6);
    expect(sha(px)).toBe(r.sha256);
    expect([px[0], px[1], px[2], px[cols], px[cols + 1], px[cols + 2]]).toEqual(r.corner);
  });
  expect(s.files).toEqual(ref.positionOrder);
  expect(sha(s.stored)).toBe(ref.volumeSha256);
}

describe('DICOM: the samples against pydicom', () => {
  it('sim_neck (explicit VR little endian, 92 slices): stored values, HU, order, spacing and the affine of sim_neck.nii.gz', async () => {
    const { series, skipped } = await readDicomSeries(SIM);
    expect(skipped).toEqual([]);
    expect(series).toHaveLength(1);
    const s = series[0];
    checkAgainstPydicom(s, REF.sim_neck);
    expect(s.studyUid).toBe(REF.sim_neck.studyUid);
    expect(s.warnings).toEqual([]);
    expect(s.files.slice(0, 3)).toEqual(['1.dcm', '2.dcm', '3.dcm']);
    // the NIfTI the training script wrote from the same geometry (HU, i = cols, j = rows, k = file order)
    const nii = readVolume(new Uint8Array(readFileSync(resolve(CT, 'sim_neck.nii.gz'))), 'sim_neck.nii.gz');
    expect(s.volume.shape).toEqual(nii.shape);
    for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) expect(s.volume.affine[r][c]).toBeCloseTo(nii.affine[r][c], 4);
    s.volume.spacing.forEach((v, k) => expect(v).toBeCloseTo(nii.spacing[k], 4));
    let maxDiff = 0;
    for (let i = 0; i < nii.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(s.volume.data[i] - nii.data[i]));
    expect(maxDiff).toBe(0); // HU = stored * 1 - 1024 exactly
    expect(s.stored).toBeInstanceOf(Uint16Array);
  });

  it('real_totalseg_j2k (JPEG 2000 lossless, 20 x 512 x 512) decodes to the same stored values as pydicom + Pillow', async () => {
    const { series, skipped } = await readDicomSeries(REAL);
    expect(REF.real_totalseg_j2k.transferSyntax).toBe('1.2.840.10008.1.2.4.90');
    expect(skipped).toEqual([{ name: 'ATTRIBUTION.md', reason: 'not a DICOM file (no DICM prefix)' }]);
    const s = series[0];
    checkAgainstPydicom(s, REF.real_totalseg_j2k);
    expect(s.volume.spacing).toEqual([2, 0.9765625, 0.9765625]);
    // LPS (-249.51, -437.51, -766.5) -> RAS; slices go down 2 mm each (head first)
    expect(s.volume.affine).toEqual([
      [-0.9765625, 0, 0, 249.51171875],
      [0, -0.9765625, 0, 437.51171875],
      [0, 0, -2, -766.5],
      [0, 0, 0, 1],
    ]);
    expect(s.warnings).toContain('no SeriesInstanceUID: all files without one were taken as one series');
  });

  it('implicit VR little endian, explicit VR big endian and RLE lossless give the slices of the original', async () => {
    const orig = (await readDicomSeries(SIM.filter((f) => ['30.dcm', '31.dcm', '32.dcm'].includes(f.name)))).series[0];
    for (const key of ['implicit', 'bigendian', 'rle']) {
      const { series } = await readDicomSeries(folder(resolve(FIX, 'syntaxes', key)));
      expect(series[0].files).toEqual(['30.dcm', '31.dcm', '32.dcm']);
      expect(sha(series[0].stored)).toBe(sha(orig.stored));
      expect(series[0].volume.affine).toEqual(orig.volume.affine);
    }
  });
});

describe('DICOM: slice order', () => {
  const renamed = (map: (i: number) => string): DicomFile[] =>
    SIM.map((f) => ({ name: map(Number(f.name.replace('.dcm', ''))), bytes: f.bytes }));

  it('shuffled file names: position order restores the series; file-name order follows the names and says so', async () => {
    // a fixed permutation of 1..92
    const perm = Array.from({ length: 92 }, (_, i) => ((i * 37) % 92) + 1);
    const files = renamed((i) => `${perm[i - 1]}.dcm`);
    const ref = (await readDicomSeries(SIM)).series[0];
    const pos = (await readDicomSeries(files)).series[0];
    expect(sha(pos.stored)).toBe(sha(ref.stored));
    expect(pos.volume.affine).toEqual(ref.volume.affine);
    expect(pos.warnings.join(' ')).toMatch(/does not follow the slice positions/);
    const byName = (await readDicomSeries(files, { order: 'filename' })).series[0];
    expect(byName.order).toBe('filename');
    expect(byName.files.slice(0, 3)).toEqual(['1.dcm', '2.dcm', '3.dcm']);
    expect(sha(byName.stored)).not.toBe(sha(ref.stored));
    expect(byName.warnings.join(' ')).toMatch(/does not follow the slice positions \(use position order\)/);
  });

  it('feet-first file names: position order is head first (reversed, with a warning); file-name order keeps feet first', async () => {
    const files = renamed((i) => `${93 - i}.dcm`);
    const ref = (await readDicomSeries(SIM)).series[0];
    const pos = (await readDicomSeries(files)).series[0];
    expect(sha(pos.stored)).toBe(sha(ref.stored));
    expect(pos.files[0]).toBe('92.dcm');
    expect(pos.warnings).toContain('the file names run feet first: slices reversed to head first (the model expects head first)');
    const byName = (await readDicomSeries(files, { order: 'filename' })).series[0];
    const plane = 160 * 160;
    // slice k of the file-name order is slice 91 - k of the head-first order
    for (const k of [0, 45, 91]) expect(sha(byName.stored.subarray(k * plane, (k + 1) * plane))).toBe(sha(ref.stored.subarray((91 - k) * plane, (92 - k) * plane)));
    expect(byName.warnings).toContain('the file-name order runs feet first; the model expects head first (use position order)');
    // the affine follows the order used: k now goes up (towards the head) by 1.5 mm
    expect(byName.volume.affine[2][2]).toBeCloseTo(1.5, 6);
  });

  it('file numbers compare numerically, any length (the J2K names carry 29-digit numbers)', () => {
    expect(['10.dcm', '9.dcm', '100.dcm', '1.dcm'].sort(compareFileNumber)).toEqual(['1.dcm', '9.dcm', '10.dcm', '100.dcm']);
    expect(compareFileNumber('CT.1.2.30000022120808113428000016574.dcm', 'CT.1.2.30000022120808113428000016573.dcm')).toBeGreaterThan(0);
  });

  it('gaps, uneven spacing and duplicate positions are reported', () => {
    const h = (name: string, z: number) => ({
      name, studyUid: 's', seriesUid: 'x', description: '', transferSyntax: '1.2.840.10008.1.2.1', rows: 2, cols: 2, bitsAllocated: 16, bitsStored: 16,
      pixelRepresentation: 0, samplesPerPixel: 1, photometric: 'MONOCHROME2', frames: 1, slope: 1, intercept: 0,
      position: [0, 0, z] as [number, number, number], orientation: [1, 0, 0, 0, 1, 0] as [number, number, number, number, number, number],
      pixelSpacing: [1, 1] as [number, number], sliceThickness: 1, instanceNumber: null,
    });
    const gap = sliceGeometry([h('1', 10), h('2', 9), h('3', 8), h('4', 5), h('5', 4)], 'position');
    expect(gap.spacing).toBe(1);
    expect(gap.warnings.join(' ')).toMatch(/1 gap\(s\) in the slice positions/);
    const uneven = sliceGeometry([h('1', 10), h('2', 9), h('3', 7.8), h('4', 6.8)], 'position');
    expect(uneven.warnings.join(' ')).toMatch(/uneven slice spacing: 1 \.\. 1\.2 mm/);
    const dup = sliceGeometry([h('1', 10), h('2', 9), h('3', 9), h('4', 8)], 'position');
    expect(dup.warnings.join(' ')).toMatch(/1 duplicate slice position/);
    const even = sliceGeometry([h('1', 8), h('2', 10), h('3', 9)], 'position');
    expect(even.order).toEqual([1, 2, 0]);
    expect(even.warnings.join(' ')).toMatch(/does not follow the slice positions/);
  });
});

/** Replaces the (0002,0010) transfer syntax of a Part 10 file (fixing the group length). */
function withTransferSyntax(bytes: Uint8Array, uid: string): Uint8Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 132;
  let groupLenAt = -1;
  while (dv.getUint16(p, true) === 0x0002) {
    const el = dv.getUint16(p + 2, true);
    const vr = String.fromCharCode(bytes[p + 4], bytes[p + 5]);
    const long = ['OB', 'OW', 'OF', 'SQ', 'UT', 'UN'].includes(vr);
    const len = long ? dv.getUint32(p + 8, true) : dv.getUint16(p + 6, true);
    const head = long ? 12 : 8;
    if (el === 0x0000) groupLenAt = p + head;
    if (el === 0x0010) {
      const v = uid.length % 2 ? uid + '\0' : uid;
      const out = new Uint8Array(bytes.length - len + v.length);
      out.set(bytes.subarray(0, p + head));
      out.set(new TextEncoder().encode(v), p + head);
      out.set(bytes.subarray(p + head + len), p + head + v.length);
      const odv = new DataView(out.buffer);
      odv.setUint16(p + 6, v.length, true);
      if (groupLenAt >= 0) odv.setUint32(groupLenAt, dv.getUint32(groupLenAt, true) - len + v.length, true);
      return out;
    }
    p += head + len;
  }
  throw new Error('no transfer syntax element');
}

describe('DICOM: bad input names the file', () => {
  const err = async (files: DicomFile[]): Promise<InputError> => {
    try {
      await readDicomSeries(files);
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      return e as InputError;
    }
    throw new Error('expected an InputError');
  };

  it('a folder without DICOM', async () => {
    const e = await err([{ name: 'notes.txt', bytes: new TextEncoder().encode('hello') }, { name: 'scan.png', bytes: new Uint8Array(300) }]);
    expect(e.message).toMatch(/no DICOM image among the 2 file\(s\) \(notes\.txt: not a DICOM file .*; scan\.png: not a DICOM file/);
  });

  it('an empty drop', async () => {
    expect((await err([])).message).toBe('no files were given');
  });

  it('a DICOM file without pixel data', async () => {
    const b = SIM[0].bytes;
    // cut the file at the (7FE0,0010) tag
    let at = -1;
    for (let i = b.length - 4; i > 132; i--) if (b[i] === 0xe0 && b[i + 1] === 0x7f && b[i + 2] === 0x10 && b[i + 3] === 0x00) { at = i; break; }
    const e = await err([{ name: 'nopixels.dcm', bytes: b.slice(0, at) }]);
    expect(e.message).toMatch(/nopixels\.dcm: a DICOM file without pixel data/);
  });

  it('a single slice', async () => {
    const e = await err([SIM[0]]);
    expect(e.message).toMatch(new RegExp(`${SIM[0].name.replace('.', '\\.')}: a single slice .*needs at least 2 slices`));
  });

  it('an unsupported transfer syntax (JPEG baseline) names the file and the syntax', async () => {
    const files = SIM.slice(0, 3).map((f) => ({ name: f.name, bytes: withTransferSyntax(f.bytes, '1.2.840.10008.1.2.4.50') }));
    const e = await err(files);
    expect(e.message).toMatch(/\.dcm: transfer syntax JPEG Baseline \(1\.2\.840\.10008\.1\.2\.4\.50\) is not supported/);
  });

  it('two series in one drop come back as two series (largest first), a stray file is skipped', async () => {
    const { series, skipped } = await readDicomSeries([...REAL, ...SIM.slice(0, 30)]);
    expect(series.map((s) => s.files.length)).toEqual([30, 20]);
    expect(series[0].seriesUid).toBe(REF.sim_neck.seriesUid);
    expect(skipped.map((s) => s.name)).toEqual(['ATTRIBUTION.md']);
  });

  it('a series whose slices differ in size is refused, naming the odd file', async () => {
    // the J2K slices have no SeriesInstanceUID; give one sim slice an empty UID so it joins them
    const strip = (b: Uint8Array): Uint8Array => {
      const s = new TextDecoder('latin1').decode(b);
      const uid = REF.sim_neck.seriesUid as string;
      const at = s.indexOf(uid);
      const out = b.slice();
      for (let i = 0; i < uid.length; i++) out[at + i] = 0x20; // spaces: an empty UI value after trimming
      return out;
    };
    const e = await err([...REAL.slice(0, 2), { name: 'odd.dcm', bytes: strip(SIM[5].bytes) }]);
    expect(e.message).toMatch(/160 x 160 pixels, but .* has 512 x 512 \(mixed series\)|512 x 512 pixels, but odd\.dcm has 160 x 160 \(mixed series\)/);
  });
});
