/**
 * NIfTI input for the spine preset: an axial NIfTI stored feet first or with flipped in-plane axes is
 * flipped into DICOM pixel order (head first) for the model, and the labels go back voxel for voxel.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readVolume } from '../src/core/io';
import { flip3, orientHeadFirst } from '../src/core/spine/orient';
import type { Affine, Volume } from '../src/core/volume';

const CT = resolve(__dirname, '../public/samples/ct');
const nii = readVolume(new Uint8Array(readFileSync(resolve(CT, 'sim_neck.nii.gz'))), 'sim_neck.nii.gz');
const shape = nii.shape as [number, number, number];

/** The same CT stored with the axes marked true reversed (the affine updated so that world positions stay). */
function reversed(axes: [boolean, boolean, boolean]): Volume {
  const a = nii.affine.map((r) => [...r]) as Affine;
  // shape axis 0 = k (column 2), 1 = j (column 1), 2 = i (column 0)
  axes.forEach((f, ax) => {
    if (!f) return;
    const c = 2 - ax;
    const n = shape[ax];
    for (let r = 0; r < 3; r++) {
      a[r][3] += a[r][c] * (n - 1);
      a[r][c] = -a[r][c];
    }
  });
  return { ...nii, data: flip3(nii.data, shape, axes), affine: a };
}

describe('orientHeadFirst', () => {
  it('the sample (DICOM order already) is used as is', () => {
    const o = orientHeadFirst(nii);
    expect(o.flips).toEqual([false, false, false]);
    expect(o.data).toBe(nii.data);
    expect(o.warnings).toEqual([]);
  });

  it('feet first, and rows/columns flipped: back to the sample order; labels restored voxel for voxel', () => {
    for (const axes of [[true, false, false], [false, true, true], [true, true, false]] as [boolean, boolean, boolean][]) {
      const v = reversed(axes);
      const o = orientHeadFirst(v);
      expect(o.flips).toEqual(axes);
      expect(Buffer.from(o.data.buffer).equals(Buffer.from(nii.data.buffer))).toBe(true);
      const labels = new Uint8Array(nii.data.length).map((_, i) => i % 251);
      const back = o.restore(labels);
      expect(Buffer.from(back).equals(Buffer.from(flip3(labels, shape, axes)))).toBe(true);
      if (axes[0]) expect(o.warnings).toContain('slices run feet first: reversed to head first (the model expects head first)');
    }
  });

  it('a non-axial affine is used as stored, with a warning', () => {
    const a: Affine = [[0, 0, 1, 0], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1]];
    const o = orientHeadFirst({ ...nii, affine: a });
    expect(o.flips).toEqual([false, false, false]);
    expect(o.warnings[0]).toMatch(/not stored axially/);
  });
});
