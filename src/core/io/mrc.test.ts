import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { type Affine, type Volume, type VoxelArray, dtypeOf, makeVolume } from '../volume';
import {
  expectArrayClose,
  expectInputError,
  expectSameVolume,
  fixture,
  python,
  randomBytes,
  runPython,
} from '../../../tests/io/helpers';
import { looksLikeMrc, readMrc, writeMrc } from './mrc';

function ramp<T extends VoxelArray>(ctor: new (n: number) => T, n: number, f: (i: number) => number): T {
  const a = new ctor(n);
  for (let i = 0; i < n; i++) a[i] = f(i);
  return a;
}

/** Voxel (x, y, z) = (1.5, 2, 2.5) Angstrom at origin (10, -20, 30.5); shape [nz, ny, nx] = [3, 4, 5]. */
const AFFINE: Affine = [
  [1.5, 0, 0, 10],
  [0, 2, 0, -20],
  [0, 0, 2.5, 30.5],
  [0, 0, 0, 1],
];
function testVolume(data: VoxelArray, shape = [3, 4, 5]): Volume {
  return makeVolume(data, shape, { spacing: [2.5, 2, 1.5], unit: 'angstrom', affine: AFFINE });
}

describe('writeMrc -> readMrc round trip', () => {
  it.each([
    ['float32', 2, ramp(Float32Array, 60, (i) => i * 0.37 - 5)],
    ['int16', 1, ramp(Int16Array, 60, (i) => i * 997 - 30000)],
    ['uint16', 6, ramp(Uint16Array, 60, (i) => i * 1000 + 5)],
    ['int8', 0, ramp(Int8Array, 60, (i) => i * 4 - 120)],
    ['uint8', 0, ramp(Uint8Array, 60, (i) => i * 4 + 3)],
  ] as const)('%s (mode %i)', (_, mode, data) => {
    const vol = testVolume(data);
    const bytes = writeMrc(vol);
    expect(bytes.length).toBe(1024 + data.byteLength);
    expect(new DataView(bytes.buffer).getInt32(12, true)).toBe(mode);
    const back = readMrc(bytes, 'rt.mrc');
    expectSameVolume(back, vol);
    expect(back.unit).toBe('angstrom');
    expectSameVolume(readMrc(gzipSync(bytes), 'rt.mrc.gz'), vol);
  });

  it.each([
    ['float64', ramp(Float64Array, 60, (i) => i * 0.1)],
    ['int32', ramp(Int32Array, 60, (i) => i * 1000 - 7)],
  ] as const)('%s is stored as float32', (_, data) => {
    const back = readMrc(writeMrc(testVolume(data)), 'wide.mrc');
    expect(dtypeOf(back.data)).toBe('float32');
    expectArrayClose(back.data, data, 1e-7);
  });

  it('[1, D, H, W] is written as [D, H, W]; more channels are refused', () => {
    const back = readMrc(writeMrc(testVolume(new Float32Array(60), [1, 3, 4, 5])), 'one.mrc');
    expect(back.shape).toEqual([3, 4, 5]);
    expect(() => writeMrc(testVolume(new Float32Array(120), [2, 3, 4, 5]))).toThrow(/one 3D volume/);
  });

  it('fills the statistics and stamps', () => {
    const bytes = writeMrc(testVolume(ramp(Float32Array, 60, (i) => i)));
    const v = new DataView(bytes.buffer);
    expect([76, 80, 84].map((o) => v.getFloat32(o, true))).toEqual([0, 59, 29.5]);
    expect(v.getFloat32(216, true)).toBeCloseTo(Math.sqrt((60 * 60 - 1) / 12), 5); // RMS deviation of 0..59
    expect(new TextDecoder().decode(bytes.subarray(208, 212))).toBe('MAP ');
    expect(Array.from(bytes.subarray(212, 216))).toEqual([0x44, 0x44, 0, 0]);
    expect(looksLikeMrc(bytes)).toBe(true);
  });
});

describe('MRC header details', () => {
  it('falls back to header plausibility when MACHST is missing', () => {
    for (const file of ['mode2_bigendian.mrc', 'mode2_float32.mrc']) {
      const bytes = fixture(file);
      const stamped = readMrc(bytes, file);
      const b = bytes.slice();
      b.fill(0, 212, 216);
      const guessed = readMrc(b, file);
      expectSameVolume(guessed, stamped);
    }
  });

  it('mode 0 is signed unless the IMOD stamp says unsigned', () => {
    const bytes = fixture('mode0_imod_uint8.mrc');
    expect(readMrc(bytes, 'u8.mrc').data).toBeInstanceOf(Uint8Array);
    const signedFlag = bytes.slice();
    new DataView(signedFlag.buffer).setInt32(156, 1, true);
    expect(readMrc(signedFlag, 's8.mrc').data).toBeInstanceOf(Int8Array);
    const noStamp = bytes.slice();
    noStamp.fill(0, 152, 160);
    expect(readMrc(noStamp, 's8.mrc').data).toBeInstanceOf(Int8Array);
  });

  it('a zero cell or grid gives voxel size 1', () => {
    const b = writeMrc(testVolume(new Float32Array(60)));
    b.fill(0, 28, 40); // MX, MY, MZ
    expect(readMrc(b, 'nogrid.mrc').spacing).toEqual([1, 1, 1]);
  });
});

describe('corrupt MRC input throws InputError naming the file', () => {
  const good = writeMrc(testVolume(ramp(Float32Array, 60, (i) => i)));

  it('empty file', () => {
    expectInputError(() => readMrc(new Uint8Array(0), 'empty.mrc'), 'empty.mrc', /empty/);
  });

  it.each([1, 100, 1023])('truncated header (%i bytes)', (n) => {
    expectInputError(() => readMrc(good.subarray(0, n), 'cut.mrc'), 'cut.mrc', /truncated header: MRC needs 1024 bytes, has \d+/);
  });

  it.each([1024, 1100, good.length - 1])('truncated data (%i bytes)', (n) => {
    expectInputError(() => readMrc(good.subarray(0, n), 'cut.rec'), 'cut.rec', /truncated data: needs 240 bytes, has \d+ \(5 x 4 x 3 mode-2/);
  });

  it('data cut short behind an extended header', () => {
    const bytes = fixture('mode2_exthdr_origin.mrc');
    expectInputError(() => readMrc(bytes.subarray(0, 1024 + 160), 'ext.mrc'), 'ext.mrc', /needs 240 bytes, has 0/);
  });

  it('truncated .mrc.gz and gzip garbage', () => {
    const gz = gzipSync(good);
    for (const n of [5, 30, gz.length >> 1, gz.length - 1]) {
      expectInputError(() => readMrc(gz.subarray(0, n), 'cut.mrc.gz'), 'cut.mrc.gz', /gzip|truncated/);
    }
    const junk = randomBytes(3000, 5);
    junk.set([0x1f, 0x8b, 8, 0]);
    expectInputError(() => readMrc(junk, 'junk.map.gz'), 'junk.map.gz', /bad gzip/);
  });

  it('random bytes', () => {
    for (const seed of [1, 2, 3, 4]) expectInputError(() => readMrc(randomBytes(4096, seed), 'random.map'), 'random.map');
  });

  it.each([
    [3, /mode 3 \(complex int16\) is not supported/],
    [16, /mode 16 \(RGB\)/],
    [99, /mode 99 is not supported; supported modes: 0/],
  ])('unknown mode %i', (mode, pattern) => {
    const b = good.slice();
    new DataView(b.buffer).setInt32(12, mode, true);
    expectInputError(() => readMrc(b, 'mode.mrc'), 'mode.mrc', pattern);
  });

  it.each([0, -5])('dimension %i', (nx) => {
    const b = good.slice();
    new DataView(b.buffer).setInt32(0, nx, true);
    expectInputError(() => readMrc(b, 'dims.mrc'), 'dims.mrc', /bad MRC dimensions/);
  });

  it('negative extended header length', () => {
    const b = good.slice();
    new DataView(b.buffer).setInt32(92, -8, true);
    expectInputError(() => readMrc(b, 'ext.mrc'), 'ext.mrc', /extended header length -8/);
  });
});

const py = python(['mrcfile', 'numpy']);

describe('mrcfile reads what writeMrc writes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'voxelbench-mrc-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const script = `
import io, json, sys, contextlib
import mrcfile, numpy as np
out = io.StringIO()
with contextlib.redirect_stdout(out):
    valid = mrcfile.validate(sys.argv[1])
with mrcfile.open(sys.argv[1]) as m:
    d = m.data
    print(json.dumps({
      'valid': bool(valid), 'problems': out.getvalue(), 'shape': list(d.shape), 'dtype': d.dtype.name,
      'voxel': [float(m.voxel_size.x), float(m.voxel_size.y), float(m.voxel_size.z)],
      'origin': [float(m.header.origin.x), float(m.header.origin.y), float(m.header.origin.z)],
      'sum': float(d.astype(np.float64).sum()), 'x1': float(d[0, 0, 1]),
    }))`;

  it.skipIf(!py).each([
    ['f32.mrc', ramp(Float32Array, 60, (i) => i * 0.5 - 3), 'float32'],
    ['i16.mrc', ramp(Int16Array, 60, (i) => i * 500 - 7000), 'int16'],
    ['u16.mrc', ramp(Uint16Array, 60, (i) => i * 1000), 'uint16'],
    ['i8.mrc', ramp(Int8Array, 60, (i) => i - 30), 'int8'],
  ] as const)('%s', (file, data, dtype) => {
    const path = join(dir, file);
    writeFileSync(path, writeMrc(testVolume(data)));
    const r = runPython(py!, script, [path]) as Record<string, never>;
    expect(r.valid, r.problems).toBe(true); // mrcfile.validate: a valid MRC2014 file
    expect(r.shape).toEqual([3, 4, 5]);
    expect(r.dtype).toBe(dtype);
    expect(r.voxel).toEqual([1.5, 2, 2.5]);
    expect(r.origin).toEqual([10, -20, 30.5]);
    let sum = 0;
    for (let i = 0; i < data.length; i++) sum += data[i];
    expect(r.sum).toBeCloseTo(sum, 4);
    expect(r.x1).toBe(data[1]);
  });
});
