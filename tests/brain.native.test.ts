/**
 * Labels from the conformed grid back to the input grid (src/core/brain/native.ts): against the numpy
 * reference (tools/make_brain_fixtures.py), a round trip native -> conformed (nearest) -> native, and
 * the identity on a volume that already is conformed.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { conformVolume, type ConformParams } from '../src/core/brain/conform';
import { invertAffine, labelsToNative, multiplyAffine, voxelMl } from '../src/core/brain/native';
import { gunzipIfNeeded } from '../src/core/io/binary';
import { readNifti } from '../src/core/io/nifti';
import { readNpy } from '../src/core/io/npy';
import { labelCounts } from '../src/core/labels';
import { spatialShape, type Volume } from '../src/core/volume';

const ROOT = join(import.meta.dirname, '..');
const FIX = join(ROOT, 'tests', 'fixtures', 'brain');
const N = 256;
const ALWAYS: ConformParams = { conform: 'always', conformShape: [N, N, N], voxelSize: 1, interpolation: 'linear', robustRange: [0, 0.999] };
const readVol = (path: string): Volume => readNifti(new Uint8Array(readFileSync(path)), path);
const sha = (a: Uint8Array): string => createHash('sha256').update(a).digest('hex');

describe.each(['mr', 'mr_oblique'] as const)('labels to native: %s', (name) => {
  const ref = JSON.parse(readFileSync(join(FIX, `${name}.json`), 'utf8')) as { input: string; nativeLabels: { sha256: string; counts: number[] } };
  const vol = readVol(join(ROOT, ref.input));
  const c = conformVolume(vol, ALWAYS);
  const grid = { affine: c.volume.affine, shape: c.volume.shape };

  it('equals the numpy reference voxel for voxel (3 classes made from the conformed volume)', () => {
    const classes = (c.volume.data as Uint8Array).map((v) => Math.floor(v / 86));
    const native = labelsToNative(classes, grid, vol);
    const expected = readNpy(gunzipIfNeeded(new Uint8Array(readFileSync(join(FIX, `labels_${name}.npy.gz`))), name));
    expect(expected.shape).toEqual(spatialShape(vol));
    let differ = 0;
    for (let i = 0; i < native.length; i++) if (native[i] !== expected.data[i]) differ++;
    expect(differ).toBe(0);
    expect(sha(native)).toBe(ref.nativeLabels.sha256);
    expect(labelCounts(native, 3)).toEqual(ref.nativeLabels.counts);
  });

  it('round trip: native labels conformed by nearest neighbour come back unchanged wherever the grid covers them', () => {
    const [D, H, W] = spatialShape(vol);
    // blocks of 5 voxels, 4 labels, on the native grid
    const labels = new Uint8Array(D * H * W);
    for (let k = 0, p = 0; k < D; k++) for (let j = 0; j < H; j++) for (let i = 0; i < W; i++, p++) labels[p] = (Math.floor(i / 5) + Math.floor(j / 5) + Math.floor(k / 5)) % 4;
    const native: Volume = { ...vol, data: labels };
    const onGrid = conformVolume(native, { ...ALWAYS, interpolation: 'nearest' });
    expect(onGrid.intensity).toEqual({ srcMin: 0, srcMax: 3, scale: 1 }); // uint8: not rescaled
    const back = labelsToNative(onGrid.volume.data as Uint8Array, grid, vol);
    const covered = labelsToNative(new Uint8Array(N ** 3).fill(1), grid, vol);
    let inside = 0;
    let differ = 0;
    for (let i = 0; i < labels.length; i++) {
      if (!covered[i]) continue;
      inside++;
      if (back[i] !== labels[i]) differ++;
    }
    expect(inside).toBeGreaterThan(labels.length / 3);
    expect(differ).toBe(0);
  });
});

describe('labels to native on a conformed volume', () => {
  it('is the identity when the grid is the volume itself (the demo T1)', () => {
    const t1 = readVol(join(ROOT, 'public', 'demo', 'meshnet', 't1.nii.gz'));
    const labels = (t1.data as Uint8Array).map((v) => v >> 6);
    const back = labelsToNative(labels, { affine: t1.affine, shape: t1.shape }, t1);
    let differ = 0;
    for (let i = 0; i < back.length; i++) if (back[i] !== labels[i]) differ++;
    expect(back.length).toBe(labels.length);
    expect(differ).toBe(0);
  });

  it('inverts affines and gives millilitres from the spacing', () => {
    const a = readVol(join(FIX, 'mr_oblique.nii.gz')).affine;
    const id = multiplyAffine(invertAffine(a), a);
    for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) expect(id[r][c]).toBeCloseTo(r === c ? 1 : 0, 12);
    expect(voxelMl([3.5, 3, 2.5])).toBeCloseTo(0.02625, 15);
    expect(voxelMl([1, 1, 1])).toBe(0.001);
  });
});
