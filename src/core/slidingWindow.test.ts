import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { readNpy } from './io/npy';
import { sessionPredictor } from './ortPredictor';
import {
  AbortError,
  importanceMap,
  planWindows,
  resizeNearestExact,
  roundHalfEven,
  slidingWindowInference,
  type Predictor,
  type SlidingWindowParams,
} from './slidingWindow';

const PARITY = resolve(__dirname, '../../tests/fixtures/parity');

/** Identity model: returns the window itself. */
const identity: Predictor = async (b, shape) => ({ data: b.slice(), shape });

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('MONAI parity cases', () => {
  for (const name of ['constant_basic', 'gaussian_batch', 'byu_weight_map']) {
    it(`reproduces ${name} within 1e-4`, async () => {
      const dir = resolve(PARITY, name);
      const p = JSON.parse(readFileSync(resolve(dir, 'params.json'), 'utf8'));
      const input = readNpy(readFileSync(resolve(dir, 'input.npy')));
      const expected = readNpy(readFileSync(resolve(dir, 'expected.npy')));
      const session = await ort.InferenceSession.create(resolve(dir, 'model.onnx'));
      const predictor = sessionPredictor(session, (d, dims) => new ort.Tensor('float32', d, dims), session.inputNames[0], session.outputNames[0]);
      const params: SlidingWindowParams = {
        roi: p.roi,
        overlap: p.overlap,
        mode: p.mode,
        sigmaScale: p.sigma_scale,
        swBatch: p.sw_batch,
        cval: p.cval,
        weightMap: p.weight_map ? (readNpy(readFileSync(resolve(dir, p.weight_map))).data as Float32Array) : undefined,
      };
      const r = await slidingWindowInference({ data: input.data, shape: input.shape }, predictor, params);
      expect(r.shape).toEqual(expected.shape);
      expect(maxAbsDiff(r.data, expected.data)).toBeLessThan(1e-4);
    });
  }
});

describe('window plan', () => {
  it('follows MONAI scan intervals and moves the last window back to the edge', () => {
    const plan = planWindows([20, 30, 40], { roi: [8, 16, 16], overlap: 0.5 });
    expect(plan.interval).toEqual([4, 8, 8]);
    // D: 0,4,8,12 (12+8=20 reaches the edge); H: 0,8,14 (16 -> moved back to 14); W: 0,8,16,24
    const ds = [...new Set(plan.starts.map((s) => s[0]))];
    const hs = [...new Set(plan.starts.map((s) => s[1]))];
    const ws = [...new Set(plan.starts.map((s) => s[2]))];
    expect(ds).toEqual([0, 4, 8, 12]);
    expect(hs).toEqual([0, 8, 14]);
    expect(ws).toEqual([0, 8, 16, 24]);
    expect(plan.starts.length).toBe(4 * 3 * 4);
    // last spatial dim varies fastest
    expect(plan.starts.slice(0, 2)).toEqual([[0, 0, 0], [0, 0, 8]]);
  });

  it('treats roi <= 0 as the whole dim and pads a roi larger than the image', () => {
    const plan = planWindows([5, 30, 40], { roi: [8, -1, 0], overlap: [0.25, 0.5, 0.5] });
    expect(plan.roi).toEqual([8, 30, 40]);
    expect(plan.paddedSize).toEqual([8, 30, 40]);
    expect(plan.padBefore).toEqual([1, 0, 0]);
    expect(plan.starts).toEqual([[0, 0, 0]]);
  });

  it('rejects overlap outside [0, 1)', () => {
    expect(() => planWindows([10, 10, 10], { roi: [4, 4, 4], overlap: 1 })).toThrow(/overlap/);
  });
});

describe('importance maps', () => {
  it('gaussian is the separable unnormalised product (even n: centre below 1)', () => {
    const m = importanceMap([4], 'gaussian', [0.125]);
    const s = 0.5; // 4 * 0.125
    const g = (x: number) => Math.exp(-(x * x) / (2 * s * s));
    expect(Array.from(m)).toEqual([g(-1.5), g(-0.5), g(0.5), g(1.5)].map((v) => Math.fround(v)));
    const m3 = importanceMap([2, 3, 4], 'gaussian', [0.125, 0.25, 0.5]);
    expect(m3.length).toBe(24);
    expect(Math.max(...m3)).toBeLessThan(1);
  });

  it('nearest-exact resize picks floor((dst + 0.5) * in / out)', () => {
    const src = Float32Array.from({ length: 8 }, (_, i) => i);
    expect(Array.from(resizeNearestExact(src, [1, 1, 8], [1, 1, 3]))).toEqual([1, 4, 6]);
  });

  it('rounds halves to even like Python', () => {
    expect([0.5, 1.5, 2.5, 3.5, -1.5, 2.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, 4, -2, 2, 3]);
  });
});

describe('stitching', () => {
  const vol = (shape: number[]) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i) * 10);

  it('an identity model gives the input back for any roi, overlap, mode and batch', async () => {
    const shape = [2, 9, 13, 11];
    const data = vol(shape);
    for (const p of [
      { roi: [4, 5, 6], overlap: 0.5, mode: 'gaussian' as const, swBatch: 3 },
      { roi: [9, 8, 3], overlap: [0, 0.3, 0.7], mode: 'constant' as const, swBatch: 1 },
      { roi: [12, 16, 4], overlap: 0.25, mode: 'gaussian' as const, swBatch: 2 }, // larger than the image: padding
    ]) {
      const r = await slidingWindowInference({ data, shape }, identity, { ...p, sigmaScale: 0.125, cval: -7 });
      expect(r.shape).toEqual(shape);
      expect(maxAbsDiff(r.data, data)).toBeLessThan(1e-4);
    }
  });

  it('applies the input scale and offset window by window, keeping uint8 input as is', async () => {
    const shape = [1, 6, 7, 8];
    const data = Uint8Array.from({ length: 6 * 7 * 8 }, (_, i) => i % 256);
    const r = await slidingWindowInference({ data, shape, scale: 1 / 255 }, identity, { roi: [4, 4, 4], overlap: 0.5, mode: 'constant', sigmaScale: 0.125, swBatch: 2, cval: 0 });
    expect(maxAbsDiff(r.data, Float32Array.from(data, (v) => v / 255))).toBeLessThan(1e-6);
  });

  it('handles a model whose output is at half resolution (zoom 0.5)', async () => {
    // predictor returns every other voxel: a stride-2 model
    const down: Predictor = async (b, shape) => {
      const [n, c, d, h, w] = shape;
      const [od, oh, ow] = [d / 2, h / 2, w / 2];
      const out = new Float32Array(n * c * od * oh * ow);
      let p = 0;
      for (let i = 0; i < n * c; i++)
        for (let z = 0; z < od; z++)
          for (let y = 0; y < oh; y++)
            for (let x = 0; x < ow; x++) out[p++] = b[((i * d + 2 * z) * h + 2 * y) * w + 2 * x];
      return { data: out, shape: [n, c, od, oh, ow] };
    };
    const shape = [1, 8, 12, 16];
    const data = vol(shape);
    const r = await slidingWindowInference({ data, shape }, down, { roi: [4, 4, 8], overlap: 0.5, mode: 'gaussian', sigmaScale: 0.125, swBatch: 4, cval: 0 });
    expect(r.shape).toEqual([1, 4, 6, 8]);
    expect(r.stats.zoom).toEqual([0.5, 0.5, 0.5]);
    const expected = new Float32Array(4 * 6 * 8);
    let p = 0;
    for (let z = 0; z < 4; z++) for (let y = 0; y < 6; y++) for (let x = 0; x < 8; x++) expected[p++] = data[(2 * z * 12 + 2 * y) * 16 + 2 * x];
    expect(maxAbsDiff(r.data, expected)).toBeLessThan(1e-5);
  });

  it('stitches every output channel exactly as it stitches that channel alone (channels fused in one pass, cropped in place or into a new array)', async () => {
    // channel c of a k-channel model = a one-channel model's output c: the sums and divisions per
    // value must be bit-identical whichever way the channels are walked
    const channelOf = (b: Float32Array, i: number, c: number) => Math.fround(Math.cos(b[i] * (c + 1)) * (c + 2) + c);
    const model = (channels: number[]): Predictor => async (b, shape) => {
      const [n, , d, h, w] = shape;
      const m = d * h * w;
      const out = new Float32Array(n * channels.length * m);
      for (let s = 0; s < n; s++) for (let k = 0; k < channels.length; k++) for (let i = 0; i < m; i++) out[(s * channels.length + k) * m + i] = channelOf(b, s * m + i, channels[k]);
      return { data: out, shape: [n, channels.length, d, h, w] };
    };
    for (const [shape, roi] of [
      [[1, 9, 13, 11], [4, 5, 6]], // uncropped
      [[1, 6, 10, 12], [8, 8, 8]], // padded: the crop keeps 6 / 8 of the output, in place
      [[1, 3, 10, 12], [8, 8, 8]], // padded: the crop keeps 3 / 8, into a new array
    ]) {
      const data = vol(shape);
      const params = { roi, overlap: 0.5, mode: 'gaussian' as const, sigmaScale: 0.125, swBatch: 2, cval: -3 };
      const alone = await Promise.all([0, 1, 2, 3, 4].map((c) => slidingWindowInference({ data, shape }, model([c]), params)));
      for (const k of [1, 2, 3, 4, 5]) {
        const r = await slidingWindowInference({ data, shape }, model([0, 1, 2, 3, 4].slice(0, k)), params);
        const n = alone[0].data.length;
        expect(r.shape).toEqual([k, ...alone[0].shape.slice(1)]);
        for (let c = 0; c < k; c++) expect(Array.from(r.data.subarray(c * n, (c + 1) * n)), `${k} channels, channel ${c}, shape ${shape.join('x')}`).toEqual(Array.from(alone[c].data));
      }
    }
  });

  it('crops a padded, zoomed output with Python rounding', async () => {
    const half: Predictor = async (_b, shape) => {
      const [n, c, d, h, w] = shape;
      return { data: new Float32Array(n * c * (d / 2) * h * w).fill(1), shape: [n, c, d / 2, h, w] };
    };
    // D = 6 < roi 8: pad 1 + 1, padded 8 -> output 4, crop round(0.5)=0 .. round(3.5)=4
    const r = await slidingWindowInference({ data: new Float32Array(6 * 2 * 2), shape: [1, 6, 2, 2] }, half, { roi: [8, 2, 2], overlap: 0, mode: 'constant', sigmaScale: 0.125, swBatch: 1, cval: 0 });
    expect(r.shape).toEqual([1, 4, 2, 2]);
  });

  it('one window over the whole image returns the model output as is (no blending pass)', async () => {
    const shape = [1, 6, 5, 4];
    const data = vol(shape);
    const r = await slidingWindowInference({ data, shape }, identity, { roi: [-1, -1, -1], overlap: 0.5, mode: 'gaussian', sigmaScale: 0.125, swBatch: 1, cval: 0 });
    expect(r.stats.windows).toBe(1);
    expect(Array.from(r.data)).toEqual(Array.from(data));
  });

  it('supports 2D images', async () => {
    const shape = [3, 17, 23];
    const data = vol(shape);
    const r = await slidingWindowInference({ data, shape }, identity, { roi: [8, 8], overlap: 0.25, mode: 'gaussian', sigmaScale: 0.125, swBatch: 5, cval: 0 });
    expect(r.shape).toEqual(shape);
    expect(maxAbsDiff(r.data, data)).toBeLessThan(1e-4);
  });
});

describe('memory', () => {
  it('keeps no batch output once it is stitched: while batch k + 1 runs, batch k\'s output can be collected (a stale reference held one more batch)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const outputs: WeakRef<Float32Array>[] = [];
    const heldWhileNextRan: boolean[] = [];
    const predictor: Predictor = async (b, shape) => {
      // the pipeline hands this batch over before it stitches the last one: wait until it has
      await new Promise((r) => setTimeout(r, 0));
      gc();
      if (outputs.length) heldWhileNextRan.push(outputs[outputs.length - 1].deref() !== undefined);
      const data = b.slice();
      outputs.push(new WeakRef(data));
      return { data, shape };
    };
    const shape = [1, 12, 12, 12];
    const data = Float32Array.from({ length: 12 ** 3 }, (_, i) => Math.cos(i));
    const r = await slidingWindowInference({ data, shape }, predictor, { roi: [6, 6, 6], overlap: 0.5, mode: 'gaussian', sigmaScale: 0.125, swBatch: 2, cval: 0 });
    expect(maxAbsDiff(r.data, data)).toBeLessThan(1e-5);
    expect(outputs.length).toBe(14); // 27 windows in batches of 2
    expect(heldWhileNextRan).toEqual(Array(13).fill(false));
  });
});

describe('progress and cancellation', () => {
  const params: SlidingWindowParams = { roi: [4, 4, 4], overlap: 0.5, mode: 'constant', sigmaScale: 0.125, swBatch: 2, cval: 0 };
  const input = { data: new Float32Array(8 * 8 * 8), shape: [1, 8, 8, 8] };

  it('reports progress once per batch with a time estimate', async () => {
    const seen: number[] = [];
    const r = await slidingWindowInference(input, identity, params, { onProgress: (p) => seen.push(p.done) });
    expect(r.stats.windows).toBe(27);
    expect(seen).toEqual([2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 27]);
    expect(r.stats.predictMs + r.stats.overheadMs).toBeCloseTo(r.stats.totalMs, 6);
  });

  it('stops with an AbortError when the signal fires, and runs again afterwards', async () => {
    const ac = new AbortController();
    let calls = 0;
    const slow: Predictor = async (b, s) => {
      calls++;
      if (calls === 3) ac.abort();
      return identity(b, s);
    };
    await expect(slidingWindowInference(input, slow, params, { signal: ac.signal })).rejects.toBeInstanceOf(AbortError);
    expect(calls).toBe(3);
    const again = await slidingWindowInference(input, identity, params);
    expect(again.stats.windows).toBe(27);
  });

  it('names the shapes when the model returns the wrong rank', async () => {
    const bad: Predictor = async (b) => ({ data: b, shape: [b.length] });
    await expect(slidingWindowInference(input, bad, params)).rejects.toThrow(/the model returned shape \[/);
  });
});
