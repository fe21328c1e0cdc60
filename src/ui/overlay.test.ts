import { describe, expect, it } from 'vitest';
import type { ModelInfo } from '../core/onnx/model';
import { makeVolume } from '../core/volume';
import {
  argmaxLabels,
  defaultRoi,
  inputSpec,
  intensityTransform,
  invertAffine,
  labelColormap,
  labelCounts,
  relaxPrompt,
  resampleToGrid,
  runProblems,
  voxelAt,
  worldToVoxel,
} from './overlay';

function model(inDims: (number | string)[], outDims: (number | string)[] = ['n', 2, 'd', 'h', 'w'], ops: Record<string, number> = { Conv: 2 }): ModelInfo {
  return {
    irVersion: 8,
    opset: 17,
    producer: 'test',
    inputs: [{ name: 'input', type: 'float32', dims: inDims }],
    outputs: [{ name: 'output', type: 'float32', dims: outDims }],
    ops,
    parameters: 10,
    weightBytes: 40,
    externalData: [],
    metadata: {},
  };
}

const vol = (shape: number[]) => makeVolume(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);

describe('resampleToGrid', () => {
  it('returns the same array when the grids match', () => {
    const d = new Float32Array(8);
    expect(resampleToGrid(d, 1, [2, 2, 2], [2, 2, 2])).toBe(d);
  });
  it('upsamples nearest per channel (zoom 0.5)', () => {
    // 2 channels of [1, 1, 2] -> [1, 2, 4]
    const d = new Float32Array([1, 2, 10, 20]);
    const out = resampleToGrid(d, 2, [1, 1, 2], [1, 2, 4]);
    expect(Array.from(out)).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 10, 10, 20, 20, 10, 10, 20, 20]);
  });
  it('downsamples nearest (zoom 2)', () => {
    const d = new Float32Array([0, 1, 2, 3]);
    expect(Array.from(resampleToGrid(d, 1, [1, 1, 4], [1, 1, 2]))).toEqual([1, 3]);
  });
});

describe('labels', () => {
  it('argmax takes the first maximum', () => {
    // 3 channels x 3 voxels
    const d = new Float32Array([5, 0, 1, /**/ 1, 3, 1, /**/ 0, 3, 1]);
    expect(Array.from(argmaxLabels(d, 3))).toEqual([0, 1, 0]);
  });
  it('a single channel is thresholded', () => {
    expect(Array.from(argmaxLabels(new Float32Array([-1, 0.2, 3]), 1, 0.5))).toEqual([0, 0, 1]);
  });
  it('argmax over a range of voxels (computed in slices) equals the slice of the whole map', () => {
    const n = 1000;
    const d = new Float32Array(3 * n).map((_, i) => Math.sin(i * 12.9898) * 43758.5453 % 1);
    const whole = argmaxLabels(d, 3);
    const parts = [argmaxLabels(d, 3, 0, 0, 333), argmaxLabels(d, 3, 0, 333, 700), argmaxLabels(d, 3, 0, 700, n)];
    expect(parts.map((p) => p.length)).toEqual([333, 367, 300]);
    expect(Array.from(parts.flatMap((p) => Array.from(p)))).toEqual(Array.from(whole));
    expect(new Set(whole).size).toBe(3);
    expect(Array.from(argmaxLabels(new Float32Array([-1, 0.2, 3, 0.7]), 1, 0.5, 1, 4))).toEqual([0, 1, 1]);
  });
  it('counts labels', () => {
    expect(labelCounts(new Uint8Array([0, 2, 2, 1, 2]), 3)).toEqual([1, 1, 3]);
  });
  it('makes a label colormap with transparent background and names', () => {
    const cm = labelColormap(3, ['bg', 'a', 'b']);
    expect(cm.A).toEqual([0, 255, 255]);
    expect(cm.I).toEqual([0, 1, 2]);
    expect(cm.labels).toEqual(['bg', 'a', 'b']);
  });
});

describe('intensityTransform', () => {
  it('maps min-max to [0, 1]', () => {
    const { scale, offset } = intensityTransform('minmax', [10, 30]);
    expect(10 * scale + offset).toBeCloseTo(0);
    expect(30 * scale + offset).toBeCloseTo(1);
  });
  it('divides by 255 and leaves constant data finite', () => {
    expect(intensityTransform('div255', [0, 1])).toEqual({ scale: 1 / 255, offset: 0 });
    const c = intensityTransform('minmax', [4, 4]);
    expect(Number.isFinite(c.scale) && Number.isFinite(c.offset)).toBe(true);
  });
});

describe('model checks', () => {
  it('defaults the roi to fixed dims, else min(volume, 128)', () => {
    expect(defaultRoi(inputSpec(model([1, 1, 64, 64, 32])), vol([200, 100, 300]))).toEqual([64, 64, 32]);
    expect(defaultRoi(inputSpec(model(['n', 1, 'd', 'h', 'w'])), vol([200, 100, 300]))).toEqual([128, 100, 128]);
    expect(defaultRoi(inputSpec(model(['n', 1, 'h', 'w'])), vol([1, 100, 300]))).toEqual([1, 100, 128]);
  });
  it('rejects a wrong rank and a channel mismatch', () => {
    expect(runProblems(model(['n', 'x', 'y']), false, vol([4, 4, 4]), [4, 4, 4])[0].text).toMatch(/rank 3/);
    const p = runProblems(model(['n', 1, 'd', 'h', 'w']), false, vol([2, 4, 4, 4]), [4, 4, 4]);
    expect(p).toHaveLength(1);
    expect(p[0].text).toMatch(/expects 1 input channel but the volume has 2/);
  });
  it('offers to relax fixed dims that differ from the roi', () => {
    const info = model([1, 1, 256, 256, 256]);
    const p = runProblems(info, false, vol([256, 256, 256]), [128, 128, 128]);
    expect(p).toHaveLength(1);
    expect(p[0].action).toBe('relax-dims');
    expect(p[0].text).toMatch(/fixed input size 256×256×256 but is fully convolutional/);
    expect(runProblems(info, true, vol([256, 256, 256]), [128, 128, 128])).toHaveLength(0);
    expect(runProblems(info, false, vol([256, 256, 256]), [256, 256, 256])).toHaveLength(0);
    expect(relaxPrompt(model([1, 1, 8, 8, 8], undefined, { Conv: 1, Gemm: 1 }), [4, 4, 4])).toMatch(/contains Gemm/);
  });
  it('accepts 2D models only for single-slice volumes', () => {
    expect(runProblems(model(['n', 1, 'h', 'w']), false, vol([1, 32, 32]), [1, 16, 16])).toHaveLength(0);
    expect(runProblems(model(['n', 1, 'h', 'w']), false, vol([5, 32, 32]), [1, 16, 16])[0].text).toMatch(/2D images/);
  });
});

describe('world to voxel', () => {
  const affine = [
    [-2, 0, 0, 90],
    [0, 2, 0, -126],
    [0, 0, 3, -72],
    [0, 0, 0, 1],
  ];
  it('inverts an affine', () => {
    const inv = invertAffine(affine)!;
    expect(inv[0][0]).toBeCloseTo(-0.5);
    expect(inv[0][3]).toBeCloseTo(45);
  });
  it('finds the voxel of a world point and null outside', () => {
    // voxel i=3, j=4, k=5 -> world (90-6, -126+8, -72+15)
    expect(worldToVoxel(affine, [84, -118, -57], [10, 10, 10])).toEqual([3, 4, 5]);
    expect(worldToVoxel(affine, [84, -118, 100], [10, 10, 10])).toBeNull();
  });
  it('gives the voxel of a world point with its index in C-order data (x fastest)', () => {
    // [D, H, W] = [6, 8, 10]: voxel (i, j, k) = (3, 4, 5) is at (5 * 8 + 4) * 10 + 3
    expect(voxelAt(affine, [84, -118, -57], [6, 8, 10])).toEqual({ ijk: [3, 4, 5], index: 443 });
    expect(voxelAt(affine, [84, -118, 100], [6, 8, 10])).toBeNull();
  });
});
