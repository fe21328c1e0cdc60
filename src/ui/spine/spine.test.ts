import { describe, expect, it } from 'vitest';
import { makeVolume } from '../../core/volume';
import { changedVoxels, displayCt, drawingToNative, labelsVolume, vertebraColormap, vertebraCounts, windowRange } from './display';

describe('display helpers', () => {
  it('colours C1..C7 and hides the unchecked ones', () => {
    const cm = vertebraColormap([true, false, true, true, true, true, true]);
    expect(cm.I).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(cm.A).toEqual([0, 255, 0, 255, 255, 255, 255, 255]);
    expect(cm.labels.slice(1)).toEqual(['C1', 'C2', 'C3', 'C4', 'C5', 'C6', 'C7']);
  });

  it('shows integer HU as int16 and keeps fractional values as float32', () => {
    const hu = makeVolume(Float32Array.from([-1024, 0, 1300, 5]), [1, 2, 2]);
    expect(displayCt(hu).data).toBeInstanceOf(Int16Array);
    expect(Array.from(displayCt(hu).data)).toEqual([-1024, 0, 1300, 5]);
    const frac = makeVolume(Float32Array.from([0.5, 0, 1, 2]), [1, 2, 2]);
    expect(displayCt(frac).data).toBeInstanceOf(Float32Array);
    expect(windowRange(400, 1800)).toEqual([-500, 1300]);
  });

  it('writes label maps on the CT grid and counts them', () => {
    const ct = makeVolume(new Float32Array(8), [2, 2, 2], { spacing: [3, 0.5, 0.5] });
    const labels = Uint8Array.from([0, 1, 1, 7, 0, 0, 2, 9]);
    const v = labelsVolume(ct, labels, 'x.nii');
    expect(v.shape).toEqual([2, 2, 2]);
    expect(v.affine).toEqual(ct.affine);
    expect(vertebraCounts(labels)).toEqual([2, 1, 0, 0, 0, 0, 1]);
    expect(changedVoxels(labels, Uint8Array.from([0, 1, 1, 7, 0, 0, 3, 9]))).toBe(1);
  });

  it('puts a RAS-ordered drawing back into the volume order (x flipped, y flipped)', () => {
    // native [D, H, W] = [2, 2, 3]; RAS order runs x and y backwards (as for an LPS DICOM)
    const [nx, ny, nz] = [3, 2, 2];
    const native = Uint8Array.from({ length: nx * ny * nz }, (_, i) => i);
    const step = [-1, -nx, nx * ny];
    const start = [nx - 1, (ny - 1) * nx, 0];
    const ras = new Uint8Array(native.length);
    let r = 0;
    for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) ras[r++] = native[start[0] + x * step[0] + start[1] + y * step[1] + start[2] + z * step[2]];
    expect(Array.from(ras.slice(0, 3))).toEqual([5, 4, 3]);
    expect(Array.from(drawingToNative(ras, { start, step, dimsRAS: [3, nx, ny, nz] }, native.length))).toEqual(Array.from(native));
  });
});
