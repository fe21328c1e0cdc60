import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeGpuPlan, gpuPlanLine, gpuVoxelBytes, outputGeometry, planGpuRun, slabPlan, slabsForWindows, summarizeGpuPlan, windowOrigins } from './gpuPlan';
import { planWindows, slidingWindowInference, type Predictor, type SlidingWindowParams } from './slidingWindow';
import { estimateMemory } from './onnx/memory';
import { inspectModel } from './onnx/model';

const MiB = 2 ** 20;

describe('slab plan', () => {
  it('keeps the volume in one buffer when it fits', () => {
    const p = slabPlan([1, 10, 20, 30], 2, 1 << 30);
    expect(p.slabs).toEqual([{ z0: 0, z1: 10, bytes: 12000 }]);
  });

  it('splits into whole z planes (all channels), each within the limit and padded to 4 bytes', () => {
    // a plane of 2 channels x 5 x 3 uint8 = 30 bytes; 100 bytes hold 3 planes (90 -> 92 aligned)
    const p = slabPlan([2, 10, 5, 3], 1, 100);
    expect(p.planes).toBe(3);
    expect(p.slabs.map((s) => [s.z0, s.z1])).toEqual([
      [0, 3],
      [3, 6],
      [6, 9],
      [9, 10],
    ]);
    expect(p.slabs.map((s) => s.bytes)).toEqual([92, 92, 92, 32]);
    for (const s of p.slabs) expect(s.bytes).toBeLessThanOrEqual(100);
  });

  it('takes a 3D shape as one channel, and refuses a plane larger than the limit', () => {
    expect(slabPlan([4, 4, 4], 4, 64).slabs.length).toBe(4);
    expect(() => slabPlan([1, 4, 100, 100], 4, 1000)).toThrow(/one z plane/);
  });

  it('uploads uint8/int16 as stored and the rest as float32', () => {
    expect([gpuVoxelBytes('uint8'), gpuVoxelBytes('int16'), gpuVoxelBytes('uint16'), gpuVoxelBytes('float64'), gpuVoxelBytes('int32')]).toEqual([1, 2, 2, 4, 4]);
  });

  it('names the slabs a batch of windows reads, mirrored for a flip along z', () => {
    const slabs = slabPlan([1, 20, 4, 4], 4, 64 * 5).slabs; // 5 planes each: [0,5) [5,10) [10,15) [15,20)
    expect(slabsForWindows(slabs, [0], 8, 20)).toEqual([0, 1]);
    expect(slabsForWindows(slabs, [12], 8, 20)).toEqual([2, 3]);
    // flipped: window planes [0, 8) read source planes [12, 20)
    expect(slabsForWindows(slabs, [0], 8, 20, true)).toEqual([2, 3]);
    // padding outside the image reads nothing; a window straddling the padding reads its part
    expect(slabsForWindows(slabs, [-10], 8, 20)).toEqual([]);
    expect(slabsForWindows(slabs, [-4], 8, 20)).toEqual([0]);
  });
});

describe('window placement on the GPU = planWindows', () => {
  it('reads each window at start - padBefore and writes it at trunc(start * zoom)', () => {
    const plan = planWindows([6, 30, 41], { roi: [8, 16, 16], overlap: 0.5 });
    const o = windowOrigins(plan, [0.5, 0.5, 0.25]);
    expect(o.length).toBe(plan.starts.length);
    plan.starts.forEach((s, i) => {
      expect(o[i].image).toEqual([s[0] - plan.padBefore[0], s[1] - plan.padBefore[1], s[2] - plan.padBefore[2]]);
      expect(o[i].output).toEqual([Math.trunc(s[0] * 0.5), Math.trunc(s[1] * 0.5), Math.trunc(s[2] * 0.25)]);
    });
    // padding in D (6 < 8): windows start inside the padding
    expect(plan.padBefore[0]).toBe(1);
    expect(o[0].image[0]).toBe(-1);
  });

  /** A model that returns the window downsampled by 2 (every other voxel) with 2 channels. */
  const half: Predictor = async (b, shape) => {
    const [n, , D, H, W] = shape;
    const [d, h, w] = [D / 2, H / 2, W / 2];
    const out = new Float32Array(n * 2 * d * h * w);
    let p = 0;
    for (let k = 0; k < n; k++)
      for (let c = 0; c < 2; c++)
        for (let z = 0; z < d; z++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[p++] = b[k * D * H * W + ((2 * z) * H + 2 * y) * W + 2 * x] + c;
    return { data: out, shape: [n, 2, d, h, w] };
  };

  for (const [label, spatial, params] of [
    ['tiled with padding', [6, 30, 41], { roi: [8, 16, 16], overlap: 0.5 }],
    ['odd sizes, overlap per axis', [9, 17, 23], { roi: [4, 8, 8], overlap: [0.25, 0.5, 0.75] }],
    ['one window', [8, 16, 16], { roi: [8, 16, 16], overlap: 0 }],
  ] as const) {
    it(`gives the CPU path's output shape and zoom (${label})`, async () => {
      const sp = [...spatial];
      const n = sp.reduce((a, b) => a * b, 1);
      const swp: SlidingWindowParams = { roi: [...params.roi], overlap: Array.isArray(params.overlap) ? [...params.overlap] : (params.overlap as number), mode: 'constant', sigmaScale: 0.125, swBatch: 2, cval: 0 };
      const r = await slidingWindowInference({ data: new Float32Array(n), shape: [1, ...sp] }, half, swp);
      const plan = planWindows(sp, swp);
      const g = outputGeometry(plan, plan.roi.map((v) => v / 2));
      expect([2, ...g.cropSize]).toEqual(r.shape);
      expect(g.zoom).toEqual(r.stats.zoom);
      expect(g.single).toBe(plan.starts.length === 1 && plan.padBefore.every((p) => p === 0));
    });
  }
});

describe('GPU memory plan', () => {
  const limits = { maxStorageBufferBindingSize: 128 * MiB, maxBufferSize: 256 * MiB };

  it('lists the volume, window batch, output, accumulators and result, and fits small runs', () => {
    const p = planGpuRun({ shape: [1, 64, 64, 64], voxelBytes: 1, roi: [32, 32, 32], overlap: 0.5, swBatch: 2, outChannels: 3 }, limits);
    expect(p.fits).toBe(true);
    expect(p.proposal).toBeNull();
    const by = Object.fromEntries(p.buffers.map((b) => [b.name, b.bytes]));
    expect(by['volume']).toBe(64 ** 3);
    expect(by['window batch (model input)']).toBe(2 * 32 ** 3 * 4);
    expect(by['model output']).toBe(2 * 3 * 32 ** 3 * 4);
    expect(by['accumulator (pred x weight)']).toBe(3 * 64 ** 3 * 4);
    expect(by['weight sum']).toBe(64 ** 3 * 4);
    expect(p.windows).toBe(27);
    expect(p.readbackBytes).toBe(3 * 64 ** 3 * 4);
    expect(describeGpuPlan(p)).toMatch(/fits the adapter/);
  });

  it('splits a volume over the binding limit into slabs and still fits', () => {
    const p = planGpuRun({ shape: [1, 256, 512, 512], voxelBytes: 4, roi: [32, 64, 64], overlap: 0, swBatch: 1, outChannels: 1, labelsOnly: true }, { maxStorageBufferBindingSize: 128 * MiB, maxBufferSize: 1024 * MiB });
    // 256 MiB of float32 -> two 128 MiB slabs; the accumulators (256 MiB) do not fit one binding
    expect(p.slabs.slabs.length).toBe(2);
    expect(p.fits).toBe(false);
    expect(p.problems.join()).toMatch(/accumulator/);
    // nothing a roi or a batch can change: no proposal
    expect(p.proposal).toBeNull();
    expect(p.readbackBytes).toBe(256 * 512 * 512);
  });

  it('proposes a smaller sw batch, then a smaller roi, when the window batch is too large', () => {
    const req = { shape: [1, 128, 672, 672], voxelBytes: 1, roi: [64, 672, 672], overlap: [0.875, 0.25, 0.25], swBatch: 2, outChannels: 1, zoom: [0.25, 0.25, 0.25], extraOutputBuffers: 2 };
    const p = planGpuRun(req, { maxStorageBufferBindingSize: 128 * MiB, maxBufferSize: 1024 * MiB });
    expect(p.fits).toBe(false);
    expect(p.problems.join()).toMatch(/window batch/);
    expect(p.proposal).not.toBeNull();
    expect(p.proposal!.swBatch).toBe(1);
    const again = planGpuRun({ ...req, roi: p.proposal!.roi, swBatch: p.proposal!.swBatch }, { maxStorageBufferBindingSize: 128 * MiB, maxBufferSize: 1024 * MiB });
    expect(again.fits).toBe(true);
    // the motor pipeline reads back only the heatmap (one float map at output resolution)
    expect(p.readbackBytes).toBe(32 * 168 * 168 * 4);
    // with room for a batch of 2 the request fits as is
    expect(planGpuRun(req, { maxStorageBufferBindingSize: 1024 * MiB, maxBufferSize: 1024 * MiB }).fits).toBe(true);
  });

  it("counts the model's largest activation and weights (estimateMemory) and a total memory budget", () => {
    const info = inspectModel(new Uint8Array(readFileSync(resolve(__dirname, '../../tests/fixtures/models/tiny3d.onnx'))));
    const model = (roi: number[], b: number) => {
      const e = estimateMemory(info, roi, b);
      return { weightBytes: e.weightBytes, largestActivationBytes: e.largestActivation.bytes, peakActivationBytes: e.peakActivationBytes };
    };
    const req = { shape: [1, 96, 96, 96], voxelBytes: 2, roi: [96, 96, 96], overlap: 0, swBatch: 1, outChannels: 3 };
    const big = planGpuRun(req, { maxStorageBufferBindingSize: 1024 * MiB, maxBufferSize: 1024 * MiB }, model);
    const act = big.buffers.find((b) => b.name === 'largest model activation')!;
    expect(act.bytes).toBe(estimateMemory(info, [96, 96, 96], 1).largestActivation.bytes);
    expect(big.fits).toBe(true);
    // a budget below the total: a smaller roi is proposed and fits
    const budget = Math.floor(big.totalBytes * 0.8);
    const p = planGpuRun(req, { maxStorageBufferBindingSize: 1024 * MiB, maxBufferSize: 1024 * MiB, memoryBytes: budget }, model);
    expect(p.fits).toBe(false);
    expect(p.problems.join()).toMatch(/in all/);
    expect(p.proposal).not.toBeNull();
    expect(p.proposal!.roi.every((r, i) => r <= req.roi[i])).toBe(true);
    expect(planGpuRun({ ...req, roi: p.proposal!.roi }, { maxStorageBufferBindingSize: 1024 * MiB, maxBufferSize: 1024 * MiB, memoryBytes: budget }, model).fits).toBe(true);
  });
});

describe('GPU plan line (settings panel)', () => {
  it('sums the resident buffers by kind, names the adapter limits and says whether the volume goes up in slabs', () => {
    const limits = { maxStorageBufferBindingSize: 128 * MiB, maxBufferSize: 256 * MiB };
    const p = planGpuRun({ shape: [1, 64, 64, 64], voxelBytes: 1, roi: [32, 32, 32], overlap: 0.5, swBatch: 2, outChannels: 3 }, limits, () => ({ weightBytes: MiB, largestActivationBytes: 2 * MiB, peakActivationBytes: 5 * MiB }));
    const s = summarizeGpuPlan(p);
    expect(s.volumeBytes).toBe(64 ** 3);
    expect(s.windowBytes).toBe(2 * 32 ** 3 * 4 + 2 * 3 * 32 ** 3 * 4);
    expect(s.accumulatorBytes).toBe(3 * 64 ** 3 * 4 + 64 ** 3 * 4 + 32 ** 3 * 4);
    expect(s.modelBytes).toBe(MiB + 3 * MiB + 2 * MiB);
    expect(s.volumeBytes + s.windowBytes + s.accumulatorBytes + s.modelBytes).toBe(s.totalBytes);
    expect(s.slabs).toBe(1);
    expect(gpuPlanLine(p, limits)).toBe(
      `GPU-resident: volume 0.3 + windows 1.0 + accumulators 4.1 + model ≈ 6.0 = ${(s.totalBytes / MiB).toFixed(1)} MiB · adapter limits 128.0 MiB per binding, 256.0 MiB per buffer · volume in one buffer (no slabs) · fits`,
    );
  });

  it('says slabs and the proposal when a buffer limit is small', () => {
    // a uint8 volume over the limit, a stride-4 heatmap (small accumulators), a window batch over the limit
    const limits = { maxStorageBufferBindingSize: MiB, maxBufferSize: MiB };
    const p = planGpuRun({ shape: [1, 128, 128, 128], voxelBytes: 1, roi: [128, 128, 128], overlap: 0, swBatch: 1, outChannels: 1, zoom: [0.25, 0.25, 0.25] }, limits);
    expect(summarizeGpuPlan(p).slabs).toBe(2);
    const line = gpuPlanLine(p, limits);
    expect(line).toContain('volume in 2 slabs');
    expect(line).toMatch(/does not fit: try roi \d+×\d+×\d+, sw batch 1$/);
  });
});
