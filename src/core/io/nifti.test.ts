import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { type Affine, type Volume, type VoxelArray, makeVolume } from '../volume';
import {
  expectAffineClose,
  expectInputError,
  expectSameVolume,
  fixture,
  python,
  randomBytes,
  runPython,
} from '../../../tests/io/helpers';
import { affineToQuatern, isNifti, quaternToAffine, readNifti, writeNifti } from './nifti';

/** Rotation about z, then y, then x (radians), as a 3x3 row-major matrix. */
function rotation(ax: number, ay: number, az: number): number[][] {
  const [cx, sx, cy, sy, cz, sz] = [Math.cos(ax), Math.sin(ax), Math.cos(ay), Math.sin(ay), Math.cos(az), Math.sin(az)];
  const rx = [[1, 0, 0], [0, cx, -sx], [0, sx, cx]];
  const ry = [[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]];
  const rz = [[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]];
  const mul = (a: number[][], b: number[][]) => a.map((row) => [0, 1, 2].map((j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));
  return mul(rz, mul(ry, rx));
}

/** Affine with rotation r, voxel sizes (x, y, z) and translation t; flipK makes it left-handed. */
function affineOf(r: number[][], zooms: number[], t: number[], flipK = false): Affine {
  const a = [0, 1, 2].map((i) => [r[i][0] * zooms[0], r[i][1] * zooms[1], r[i][2] * zooms[2] * (flipK ? -1 : 1), t[i]]);
  return [a[0], a[1], a[2], [0, 0, 0, 1]];
}

function ramp<T extends VoxelArray>(ctor: new (n: number) => T, n: number, f: (i: number) => number): T {
  const a = new ctor(n);
  for (let i = 0; i < n; i++) a[i] = f(i);
  return a;
}

const ROTATED = affineOf(rotation(0.3, -0.2, 0.7), [0.8, 0.9, 1.5], [12.5, -30, 7.25], true);

function testVolume(data: VoxelArray, shape: number[] = [3, 4, 5]): Volume {
  return makeVolume(data, shape, { spacing: [1.5, 0.9, 0.8], unit: 'mm', affine: ROTATED });
}

const ALL_TYPES: [string, VoxelArray][] = [
  ['float32', ramp(Float32Array, 60, (i) => i * 0.37 - 5)],
  ['float64', ramp(Float64Array, 60, (i) => i * 1e-3 - Math.PI)],
  ['int8', ramp(Int8Array, 60, (i) => i * 4 - 120)],
  ['uint8', ramp(Uint8Array, 60, (i) => i * 4 + 3)],
  ['int16', ramp(Int16Array, 60, (i) => i * 997 - 30000)],
  ['uint16', ramp(Uint16Array, 60, (i) => i * 1000 + 5)],
  ['int32', ramp(Int32Array, 60, (i) => i * 70000 - 2e6)],
  ['uint32', ramp(Uint32Array, 60, (i) => i * 7e7)],
];

describe('writeNifti -> readNifti round trip', () => {
  it.each(ALL_TYPES)('%s, gzip and plain', (_, data) => {
    const vol = testVolume(data);
    for (const gzip of [true, false]) {
      const bytes = writeNifti(vol, { gzip });
      expect(bytes[0] === 0x1f && bytes[1] === 0x8b).toBe(gzip);
      if (!gzip) expect(bytes.length).toBe(352 + data.byteLength);
      const back = readNifti(bytes, gzip ? 'rt.nii.gz' : 'rt.nii');
      expectSameVolume(back, vol);
      expect(back.unit).toBe('mm');
    }
  });

  it('4D [C, D, H, W] is written with nt = C and read back the same', () => {
    const vol = testVolume(ramp(Int16Array, 2 * 60, (i) => i - 60), [2, 3, 4, 5]);
    const bytes = writeNifti(vol, { gzip: false });
    const view = new DataView(bytes.buffer);
    expect([0, 1, 2, 3, 4].map((i) => view.getInt16(40 + 2 * i, true))).toEqual([4, 5, 4, 3, 2]);
    expectSameVolume(readNifti(bytes, 'four.nii'), vol);
  });

  it('writes the description, units and codes', () => {
    const bytes = writeNifti(testVolume(new Float32Array(60)), { gzip: false, description: 'x'.repeat(100) });
    const view = new DataView(bytes.buffer);
    expect(new TextDecoder().decode(bytes.subarray(148, 228)).replace(/\0+$/, '')).toBe('x'.repeat(79));
    expect(bytes[123]).toBe(2); // mm
    expect([view.getInt16(252, true), view.getInt16(254, true)]).toEqual([1, 1]);
    expect(view.getFloat32(108, true)).toBe(352);
    expect(new TextDecoder().decode(bytes.subarray(344, 348))).toBe('n+1\0');
  });

  it('rejects dimensions NIfTI-1 cannot hold', () => {
    const vol = { ...testVolume(new Uint8Array(40000), [1, 1, 40000]) };
    expect(() => writeNifti(vol)).toThrow(/32767/);
  });
});

describe('qform from the affine', () => {
  const cases: [string, Affine][] = [
    ['identity', affineOf(rotation(0, 0, 0), [1, 1, 1], [0, 0, 0])],
    ['rotated, left-handed', ROTATED],
    ['rotated, right-handed', affineOf(rotation(-0.4, 1.1, 2.5), [2, 3, 4], [1, 2, 3])],
    ['LAS (x flipped)', affineOf([[-1, 0, 0], [0, 1, 0], [0, 0, 1]], [0.98, 0.98, 2], [250, -250, -800])],
    ['180 degrees about z (a = 0)', affineOf([[-1, 0, 0], [0, -1, 0], [0, 0, 1]], [3, 3, 3], [168.6, 166.4, 29])],
    ['180 degrees about x', affineOf([[1, 0, 0], [0, -1, 0], [0, 0, -1]], [1, 1, 1], [0, 0, 0])],
    ['LIA (axes permuted)', affineOf([[-1, 0, 0], [0, 0, 1], [0, -1, 0]], [1, 1, 1], [128, -128, 128])],
  ];
  it.each(cases)('%s: quaternion -> matrix gives the affine back', (_, affine) => {
    const q = affineToQuatern(affine);
    const zooms = [0, 1, 2].map((j) => Math.hypot(affine[0][j], affine[1][j], affine[2][j]));
    expectAffineClose(quaternToAffine([q.b, q.c, q.d], q.offset, zooms, q.qfac), affine, 1e-12);
  });

  it.each(cases)('%s: a file with only the qform (sform_code 0) reads back the affine', (_, affine) => {
    const zooms = [0, 1, 2].map((j) => Math.hypot(affine[0][j], affine[1][j], affine[2][j]));
    const vol = makeVolume(new Float32Array(60), [3, 4, 5], { spacing: [zooms[2], zooms[1], zooms[0]], affine });
    const bytes = writeNifti(vol, { gzip: false });
    new DataView(bytes.buffer).setInt16(254, 0, true); // sform_code = 0
    expectAffineClose(readNifti(bytes, 'q.nii').affine, affine, 1e-6);
  });

  it('a sheared affine keeps its sform exactly and gets the nearest rotation as qform', () => {
    const sheared: Affine = [
      [1, 0.2, 0, 5],
      [0, 1, 0, 6],
      [0, 0, 2, 7],
      [0, 0, 0, 1],
    ];
    const vol = makeVolume(new Float32Array(60), [3, 4, 5], { spacing: [2, Math.hypot(1, 0.2), 1], affine: sheared });
    expectAffineClose(readNifti(writeNifti(vol), 's.nii.gz').affine, sheared, 1e-7);
    const q = affineToQuatern(sheared);
    expect(Math.hypot(q.b, q.c, q.d)).toBeLessThan(0.2); // a small rotation about z
    expect(q.qfac).toBe(1);
  });
});

describe('corrupt NIfTI input throws InputError naming the file', () => {
  const good = writeNifti(testVolume(ramp(Int16Array, 60, (i) => i)), { gzip: false });
  const patched = (set: (v: DataView) => void) => {
    const b = good.slice();
    set(new DataView(b.buffer));
    return b;
  };

  it('empty file', () => {
    expectInputError(() => readNifti(new Uint8Array(0), 'empty.nii'), 'empty.nii', /empty/);
  });

  it.each([2, 100, 347])('truncated header (%i bytes)', (n) => {
    const name = `cut${n}.nii`;
    expectInputError(() => readNifti(good.subarray(0, n), name), name, n < 4 ? /not a NIfTI/ : /truncated header.*348 bytes, has/);
  });

  it.each([348, 352, 353, 400, good.length - 1])('truncated data (%i bytes)', (n) => {
    const name = `cut${n}.nii`;
    expectInputError(() => readNifti(good.subarray(0, n), name), name, /truncated data: needs 120 bytes, has \d+ \(5 x 4 x 3 int16/);
  });

  it('truncated .nii.gz (cut compressed stream)', () => {
    const gz = gzipSync(good);
    for (const n of [5, 20, gz.length >> 1, gz.length - 1]) {
      expectInputError(() => readNifti(gz.subarray(0, n), 'cut.nii.gz'), 'cut.nii.gz', /gzip|truncated/);
    }
  });

  it('gzip garbage', () => {
    const junk = randomBytes(500, 7);
    junk.set([0x1f, 0x8b, 8, 0]);
    expectInputError(() => readNifti(junk, 'junk.nii.gz'), 'junk.nii.gz', /bad gzip/);
  });

  it('random bytes', () => {
    for (const seed of [1, 2, 3]) expectInputError(() => readNifti(randomBytes(2000, seed), 'random.nii'), 'random.nii', /not a NIfTI/);
  });

  it('bad magic', () => {
    const b = good.slice();
    b.set([0x78, 0x79, 0x7a], 344);
    expectInputError(() => readNifti(b, 'magic.nii'), 'magic.nii', /bad magic "xyz"/);
  });

  it('.hdr of an .hdr/.img pair', () => {
    const b = good.slice();
    b[345] = 'i'.charCodeAt(0);
    expectInputError(() => readNifti(b, 'pair.hdr'), 'pair.hdr', /\.hdr\/\.img pair/);
  });

  it.each([
    ['zero dim[1]', 42, 0],
    ['negative dim[2]', 44, -3],
  ])('%s', (_, at, value) => {
    const b = patched((v) => v.setInt16(at, value, true));
    expectInputError(() => readNifti(b, 'dims.nii'), 'dims.nii', /bad NIfTI dimensions .* at least 1/);
  });

  it('bad dim[0]', () => {
    const b = patched((v) => v.setInt16(40, 0, true));
    expectInputError(() => readNifti(b, 'dim0.nii'), 'dim0.nii', /dim\[0\] = 0/);
  });

  it('unsupported datatype (RGB24)', () => {
    const b = patched((v) => v.setInt16(70, 128, true));
    expectInputError(() => readNifti(b, 'rgb.nii'), 'rgb.nii', /RGB24 is not supported/);
  });
});

describe('scaling and detection', () => {
  it('applies scl_slope / scl_inter into float32 and ignores the identity and NaN', () => {
    const base = writeNifti(testVolume(ramp(Int16Array, 60, (i) => i - 30)), { gzip: false });
    const withScale = (slope: number, inter: number) => {
      const b = base.slice();
      const v = new DataView(b.buffer);
      v.setFloat32(112, slope, true);
      v.setFloat32(116, inter, true);
      return readNifti(b, 'scaled.nii');
    };
    const s = withScale(2, -1);
    expect(s.data).toBeInstanceOf(Float32Array);
    expect(Array.from(s.data.subarray(0, 3))).toEqual([-61, -59, -57]);
    for (const [slope, inter] of [[1, 0], [0, 5], [NaN, NaN]]) expect(withScale(slope, inter).data).toBeInstanceOf(Int16Array);
  });

  it('isNifti', () => {
    const nii = writeNifti(testVolume(new Uint8Array(60)), { gzip: false });
    expect(isNifti(nii)).toBe(true);
    expect(isNifti(nii.subarray(0, 100))).toBe(true); // truncated, but recognisably NIfTI
    expect(isNifti(fixture('mode2_float32.mrc'))).toBe(false);
    expect(isNifti(gunzipSync(fixture('nifti1_4d_uint8.nii.gz')))).toBe(true);
    expect(isNifti(fixture('nifti2_float64.nii'))).toBe(true);
    expect(isNifti(fixture('nifti1_bigendian.nii'))).toBe(true);
  });
});

const py = python(['nibabel', 'numpy']);

describe('nibabel reads what writeNifti writes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'voxelbench-nifti-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const script = `
import json, sys
import nibabel as nib, numpy as np
img = nib.load(sys.argv[1])
data = np.asanyarray(img.dataobj)
print(json.dumps({
  'shape': list(img.shape), 'dtype': data.dtype.name, 'affine': img.affine.tolist(),
  'qform': img.get_qform().tolist(), 'codes': [int(img.header['qform_code']), int(img.header['sform_code'])],
  'zooms': [float(z) for z in img.header.get_zooms()], 'sum': float(data.astype(np.float64).sum()),
  'first': float(data.flat[0]), 'x1': float(data[(1,) + (0,) * (data.ndim - 1)]),
}))`;

  it.skipIf(!py).each([
    ['rot.nii.gz', true, [3, 4, 5]],
    ['rot.nii', false, [3, 4, 5]],
    ['rot4d.nii.gz', true, [2, 3, 4, 5]],
  ] as const)('%s', (file, gzip, shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const vol = testVolume(ramp(Int16Array, n, (i) => i * 3 - 50), [...shape]);
    const path = join(dir, file);
    writeFileSync(path, writeNifti(vol, { gzip }));
    const r = runPython(py!, script, [path]) as Record<string, never>;
    expect(r.shape).toEqual([...shape].reverse());
    expect(r.dtype).toBe('int16');
    expect(r.codes).toEqual([1, 1]);
    expectAffineClose(r.affine, ROTATED, 1e-6);
    expectAffineClose(r.qform, ROTATED, 1e-5); // the qform agrees with the sform
    expect((r.zooms as number[]).slice(0, 3)).toEqual([0.8, 0.9, 1.5].map(Math.fround));
    let sum = 0;
    for (let i = 0; i < n; i++) sum += vol.data[i];
    expect(r.sum).toBe(sum);
    expect(r.first).toBe(vol.data[0]);
    expect(r.x1).toBe(vol.data[1]); // x is the fastest axis in both
  });
});
