import { gunzipSync, gzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { type VoxelArray, dtypeOf, identityAffine, makeVolume } from '../volume';
import { expectInputError, expectSameVolume, fixture, randomBytes } from '../../../tests/io/helpers';
import { SUPPORTED_VOLUME_EXTENSIONS, readVolume, writeMrc, writeNifti, writeVolumeNpy } from './index';
import { writeNpy } from './npy';

function ramp<T extends VoxelArray>(ctor: new (n: number) => T, n: number, f: (i: number) => number): T {
  const a = new ctor(n);
  for (let i = 0; i < n; i++) a[i] = f(i);
  return a;
}

describe('readVolume detects the format', () => {
  const nii = writeNifti(makeVolume(ramp(Int16Array, 60, (i) => i), [3, 4, 5]), { gzip: false });
  const mrc = writeMrc(makeVolume(ramp(Float32Array, 60, (i) => i), [3, 4, 5]));
  const npy = writeNpy({ shape: [3, 4, 5], data: ramp(Uint8Array, 60, (i) => i) });

  it.each([
    ['nii', nii, 'nifti'],
    ['mrc', mrc, 'mrc'],
    ['npy', npy, 'npy'],
  ] as const)('%s by content, whatever the name, gzipped or not', (_, bytes, format) => {
    for (const name of ['upload.bin', 'noext', 'wrong.nii', 'wrong.mrc', 'wrong.npy']) {
      expect(readVolume(bytes, name).source).toEqual({ name, format });
      expect(readVolume(gzipSync(bytes), name + '.gz').source?.format).toBe(format);
    }
  });

  it('NIfTI-2 by content', () => {
    expect(readVolume(fixture('nifti2_float64.nii'), 'x').source?.format).toBe('nifti2');
  });

  it('MRC without the MAP stamp by extension', () => {
    const old = mrc.slice();
    old.fill(0, 208, 216); // no 'MAP ', no MACHST: a pre-2000 file
    for (const name of ['old.mrc', 'old.rec', 'old.map', 'old.st', 'old.ali', 'OLD.MRC']) {
      expect(readVolume(old, name).shape).toEqual([3, 4, 5]);
    }
    expect(readVolume(gzipSync(old), 'old.mrc.gz').shape).toEqual([3, 4, 5]);
    expectInputError(() => readVolume(old, 'old.bin'), 'old.bin', /unknown file type.*supported: \.nii, \.nii\.gz, \.mrc, \.rec, \.map, \.npy/);
  });

  it('real files', () => {
    expect(readVolume(fixture('totalseg_example_ct_sm.nii.gz'), 'ct.nii.gz').shape).toEqual([30, 101, 122]);
    expect(readVolume(fixture('emd_3197.map.gz'), 'emd_3197.map.gz').shape).toEqual([20, 20, 20]);
    const rec = readVolume(fixture('14pf_MT_derived_int16.rec'), '14pf.rec');
    expect(rec.shape).toEqual([44, 136, 84]);
    expect(rec.data).toBeInstanceOf(Int16Array);
  });

  it('lists the extensions', () => {
    for (const ext of ['.nii', '.nii.gz', '.mrc', '.rec', '.map', '.npy']) expect(SUPPORTED_VOLUME_EXTENSIONS).toContain(ext);
  });
});

describe('.npy volumes', () => {
  it.each([
    ['float64', ramp(Float64Array, 120, (i) => i / 7 - 3)],
    ['int16', ramp(Int16Array, 120, (i) => i * 250 - 15000)],
    ['uint8', ramp(Uint8Array, 120, (i) => i * 2)],
    ['int32', ramp(Int32Array, 120, (i) => i * 1e6 - 5e7)],
    ['float32', ramp(Float32Array, 120, (i) => Math.sin(i))],
  ] as const)('%s round trip through writeVolumeNpy, 3D and 4D', (_, data) => {
    for (const shape of [[4, 5, 6], [2, 3, 4, 5]]) {
      const vol = makeVolume(data, shape);
      const back = readVolume(writeVolumeNpy(vol), 'vol.npy');
      expectSameVolume(back, vol);
      expect(dtypeOf(back.data)).toBe(dtypeOf(data));
      expect(back.unit).toBe('unknown');
      expect(back.spacing).toEqual([1, 1, 1]);
      expect(back.affine).toEqual(identityAffine());
    }
  });

  it('rank 2 becomes a single slice [1, H, W]', () => {
    const back = readVolume(writeNpy({ shape: [4, 5], data: new Float32Array(20) }), 'slice.npy');
    expect(back.shape).toEqual([1, 4, 5]);
  });

  it.each([[[60]], [[1, 2, 3, 2, 5]]])('rank of shape %j is refused', (shape) => {
    const bytes = writeNpy({ shape, data: new Float32Array(60) });
    expectInputError(() => readVolume(bytes, 'bad.npy'), 'bad.npy', /2D, 3D or 4D array/);
  });

  it('gzipped .npy', () => {
    const vol = makeVolume(ramp(Uint16Array, 60, (i) => i), [3, 4, 5]);
    expectSameVolume(readVolume(gzipSync(writeVolumeNpy(vol)), 'vol.npy.gz'), vol);
  });
});

describe('corrupt or unknown input throws InputError naming the file', () => {
  const names = ['scan.nii', 'scan.nii.gz', 'tomo.mrc', 'tomo.rec', 'map.map.gz', 'arr.npy', 'mystery.dat'];

  it.each(names)('empty %s', (name) => {
    expectInputError(() => readVolume(new Uint8Array(0), name), name);
  });

  it.each(names)('random bytes named %s', (name) => {
    for (const n of [1, 3, 100, 400, 5000]) expectInputError(() => readVolume(randomBytes(n, n), name), name);
  });

  it.each(names)('gzip garbage named %s', (name) => {
    const junk = randomBytes(800, 9);
    junk.set([0x1f, 0x8b, 8, 0]);
    expectInputError(() => readVolume(junk, name), name, /bad gzip/);
  });

  it('unknown type message', () => {
    expectInputError(
      () => readVolume(new TextEncoder().encode('hello, this is text'), 'notes.txt'),
      'notes.txt',
      /notes\.txt: unknown file type .*supported: \.nii, \.nii\.gz, \.mrc, \.rec, \.map, \.npy/,
    );
  });

  it.each([
    ['totalseg_example_mr_sm.nii.gz', 'mr.nii'],
    ['EMD-3197.map', 'emd.map'],
    ['nifti2_float64.nii', 'n2.nii'],
    ['mode2_exthdr_origin.mrc', 'ext.mrc'],
  ])('%s truncated at several lengths, by name and without one', (file, name) => {
    const bytes = fixture(file);
    const raw = bytes[0] === 0x1f ? gunzipSync(bytes) : bytes;
    for (const n of [0, 1, 4, 200, 347, 352, 600, 1023, 1024, 1100, raw.length >> 1, raw.length - 1]) {
      if (n >= raw.length) continue;
      const cut = raw.subarray(0, n);
      expectInputError(() => readVolume(cut, name), name, /empty|truncated|not a|unknown/);
      expectInputError(() => readVolume(gzipSync(cut), name + '.gz'), name + '.gz');
    }
  });

  it('truncated npy', () => {
    const bytes = writeVolumeNpy(makeVolume(new Float32Array(60), [3, 4, 5]));
    for (const n of [8, 11, 60, bytes.length - 1]) expectInputError(() => readVolume(bytes.subarray(0, n), 'a.npy'), 'a.npy');
  });
});
