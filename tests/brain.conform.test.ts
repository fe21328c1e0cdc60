/**
 * The Brain MRI conform step (src/core/brain/conform.ts) against the numpy reference of niivue's
 * conform (tools/make_brain_fixtures.py, tests/fixtures/brain/*.json) and against niivue's own
 * conform() run here from node_modules, on three real volumes: an int16 3 mm LPS MR, an oblique
 * anisotropic crop of it, and a uint8 2 mm RAS crop of the demo T1.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { conform, conformVolume, conformVox2Vox, firstVolume, isConformed, orientation, resample, type ConformParams } from '../src/core/brain/conform';
import { gunzipIfNeeded } from '../src/core/io/binary';
import { readNifti } from '../src/core/io/nifti';
import { readNpy } from '../src/core/io/npy';
import { spatialShape, type Volume } from '../src/core/volume';

const ROOT = join(import.meta.dirname, '..');
const FIX = join(ROOT, 'tests', 'fixtures', 'brain');
const T1 = join(ROOT, 'public', 'demo', 'meshnet', 't1.nii.gz');
const N = 256;

interface CaseRef {
  input: string;
  inputShape: number[];
  dtype: string;
  conformedAffine: number[][];
  invVox2Vox: number[];
  intensity: { srcMin: number; srcMax: number; scale: number };
  sha256: string;
  nonZero: number;
  sum: number;
  sliceSums: number[][];
  inputStats: { min: number; max: number; sum: number };
}

const CASES = ['mr', 'mr_oblique', 't1_ras_2mm'] as const;
const ref = (name: string): CaseRef => JSON.parse(readFileSync(join(FIX, `${name}.json`), 'utf8'));
const readVol = (path: string): Volume => readNifti(new Uint8Array(readFileSync(path)), path);
const npyGz = (name: string) => readNpy(gunzipIfNeeded(new Uint8Array(readFileSync(join(FIX, name))), name), name);
const sha = (a: Uint8Array): string => createHash('sha256').update(a).digest('hex');

export const ALWAYS: ConformParams = { conform: 'always', conformShape: [N, N, N], voxelSize: 1, interpolation: 'linear', robustRange: [0, 0.999] };

/** Sums over the other two axes, per z, y and x (the fixture's sliceSums). */
function sliceSums(u8: Uint8Array): number[][] {
  const s = [new Array(N).fill(0), new Array(N).fill(0), new Array(N).fill(0)];
  let p = 0;
  for (let z = 0; z < N; z++)
    for (let y = 0; y < N; y++)
      for (let x = 0; x < N; x++, p++) {
        const v = u8[p];
        s[0][z] += v;
        s[1][y] += v;
        s[2][x] += v;
      }
  return s;
}

/** Values of a [256]^3 array at voxels 3, 11, ..., 251 of each axis (the fixture's lattice). */
function lattice(a: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let z = 3; z < N; z += 8) for (let y = 3; y < N; y += 8) for (let x = 3; x < N; x += 8) out.push(a[(z * N + y) * N + x]);
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]) && Number.isNaN(b[i])) continue;
    m = Math.max(m, Math.abs(a[i] - b[i]));
  }
  return m;
}

describe.each(CASES)('conform %s', (name) => {
  const r = ref(name);
  const vol = readVol(join(ROOT, r.input));

  it('has the reference grid: LIA 256^3 affine and niivue output->input voxel map, bit for bit', () => {
    expect(spatialShape(vol)).toEqual(r.inputShape);
    const [D, H, W] = spatialShape(vol);
    const { affine, invVox2Vox } = conformVox2Vox(vol.affine, [W, H, D], [N, N, N], 1);
    expect(affine).toEqual(r.conformedAffine);
    expect(Array.from(invVox2Vox)).toEqual(r.invVox2Vox);
    expect(orientation(affine)).toBe('LIA');
  });

  it('gives the reference uint8 volume voxel for voxel and the reference [0, 1] model input', () => {
    const c = conform(vol, ALWAYS);
    expect(c.kept).toBe(false);
    expect(c.volume.shape).toEqual([N, N, N]);
    expect(c.volume.affine).toEqual(r.conformedAffine);
    expect(c.intensity).toEqual(r.intensity);
    const u8 = c.volume.data as Uint8Array;
    expect(u8).toBeInstanceOf(Uint8Array);
    const lat = npyGz(`${name}.lattice.npy.gz`);
    const n = 32 ** 3;
    // per-slice sums first: they say where a difference is if the hash differs
    expect(sliceSums(u8)).toEqual(r.sliceSums);
    expect(lattice(u8)).toEqual(Array.from(lat.data.subarray(n, 2 * n)));
    expect(sha(u8)).toBe(r.sha256);
    let nonZero = 0;
    for (const v of u8) if (v) nonZero++;
    expect(nonZero).toBe(r.nonZero);
    // the model input: exactly the reference float32 values
    expect(maxAbsDiff(lattice(c.input), lat.data.subarray(2 * n))).toBe(0);
    let lo = Infinity;
    let hi = -Infinity;
    let sum = 0;
    for (const v of c.input) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
      sum += v;
    }
    expect([lo, hi]).toEqual([r.inputStats.min, r.inputStats.max]);
    expect(sum).toBeCloseTo(r.inputStats.sum, 3);
  });

  it('resamples to the reference float32 values before the intensity scaling', () => {
    const [D, H, W] = spatialShape(vol);
    const { invVox2Vox } = conformVox2Vox(vol.affine, [W, H, D], [N, N, N], 1);
    const resampled = resample(firstVolume(vol), [D, H, W], [N, N, N], invVox2Vox, true);
    const lat = npyGz(`${name}.lattice.npy.gz`).data.subarray(0, 32 ** 3);
    const mine = lattice(resampled);
    expect(mine.map(Number.isNaN)).toEqual(Array.from(lat, Number.isNaN));
    expect(maxAbsDiff(mine, lat)).toBe(0);
  });
});

describe('conform against niivue conform() (node_modules/@niivue/niivue)', () => {
  it.each(CASES)('%s: every voxel and the affine equal niivue', async (name) => {
    // niivue's build runs in Node for NVImage and conform() (no canvas needed)
    const { Niivue, NVImage } = await import('@niivue/niivue');
    const path = join(ROOT, ref(name).input);
    const img = await NVImage.loadFromUrl({ url: new Uint8Array(readFileSync(path)), name: 'in.nii.gz' });
    // niivue 0.44.2 (niivue-onnx) takes src_min/src_max from all voxels; newer niivue from the central half
    // (calMinMax isBorder): set them as 0.44.2 has them
    let mn = Infinity;
    let mx = -Infinity;
    for (const v of img.img as Iterable<number>) {
      mn = Math.min(mn, v);
      mx = Math.max(mx, v);
    }
    Object.assign(img, { global_min: mn, global_max: mx });
    const P = Niivue.prototype;
    const theirs = await P.conform.call({ createNiftiArray: P.createNiftiArray, niftiArray2NVImage: P.niftiArray2NVImage } as unknown as InstanceType<typeof Niivue>, img, false);
    const mine = conformVolume(readVol(path), ALWAYS);
    const a = theirs.img as Uint8Array;
    let differ = 0;
    for (let i = 0; i < a.length; i++) if (a[i] !== mine.volume.data[i]) differ++;
    expect(differ).toBe(0);
    expect(theirs.hdr!.affine).toEqual(mine.volume.affine);
  }, 120_000);
});

describe('auto: a volume that already is 256^3 LIA is fed as it is (niivue-onnx ensureConformed)', () => {
  const t1 = readVol(T1);

  it('knows the orientations', () => {
    expect(orientation(t1.affine)).toBe('LIA');
    expect(orientation(readVol(join(ROOT, ref('mr').input)).affine)).toBe('LPS');
    expect(orientation(readVol(join(FIX, 't1_ras_2mm.nii.gz')).affine)).toBe('RAS');
    expect(isConformed(t1, [N, N, N])).toBe(true);
    expect(isConformed(t1, [N, N, 128])).toBe(false);
  });

  it('keeps the demo T1; conforming it anyway changes no voxel (uint8, min 0, already on the grid)', () => {
    const auto = conform(t1, { ...ALWAYS, conform: 'auto' });
    expect(auto.kept).toBe(true);
    expect(auto.intensity).toBeNull();
    expect(auto.volume.data).toBe(t1.data);
    const always = conform(t1, ALWAYS);
    expect(always.kept).toBe(false);
    expect(always.volume.affine).toEqual(t1.affine);
    expect(sha(always.volume.data as Uint8Array)).toBe(sha(t1.data as Uint8Array));
    // the model input: u8 / 255 (min 0, max 255), the same both ways
    expect(auto.input[(128 * N + 128) * N + 128]).toBe(Math.fround(t1.data[(128 * N + 128) * N + 128] * (1 / 255)));
    expect(maxAbsDiff(auto.input, always.input)).toBe(0);
  });
});
