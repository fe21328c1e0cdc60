/**
 * src/core/occlusion.ts: exact drops for a linear scorer (closed form), Captum-style per-pixel
 * averaging, batching invariance, fill modes, progress and cancel; and the EEG demo model through
 * onnxruntime-node: its occlusion map for a class agrees with its own class map (high where the CAM is high).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { occlusionMap, occlusionWindows } from '../src/core/occlusion';
import type { Predictor } from '../src/core/slidingWindow';

/** logits_k = sum of x over the region of class k (class 0: top half, class 1: left half), any channel count */
function linearScorer(c: number, h: number, w: number): Predictor {
  return async (batch, shape) => {
    const n = shape[0];
    const out = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      for (let ch = 0; ch < c; ch++) {
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            const v = batch[((i * c + ch) * h + y) * w + x];
            if (y < h / 2) out[i * 2] += v;
            if (x < w / 2) out[i * 2 + 1] += v;
          }
        }
      }
    }
    return { data: out, shape: [n, 2] };
  };
}

describe('occlusionMap', () => {
  it('window starts cover the image and end flush with the edge', () => {
    expect(occlusionWindows(10, 7, { patch: [4, 3], stride: [3, 3] })).toEqual({ y: [0, 3, 6], x: [0, 3, 4] });
    expect(occlusionWindows(4, 4, { patch: [8, 8], stride: [2, 2] })).toEqual({ y: [0], x: [0] });
    expect(() => occlusionWindows(4, 4, { patch: [0, 2], stride: [1, 1] })).toThrow(/positive integers/);
  });

  it('gives the exact score drops of a linear model, the same for every batch size', async () => {
    const [c, h, w] = [2, 8, 8];
    const data = Float32Array.from({ length: c * h * w }, (_, i) => ((i * 37) % 11) / 10);
    const ref = await occlusionMap({ data, shape: [c, h, w] }, linearScorer(c, h, w), { patch: [4, 4], stride: [2, 2], fill: 0, batch: 1, activation: 'none' });
    expect(ref.gridShape).toEqual([2, 3, 3]);
    // window (y0, x0): drop of class 0 = sum of x in the window and the top half
    ref.starts.y.forEach((y0, iy) =>
      ref.starts.x.forEach((x0, ix) => {
        let top = 0;
        let left = 0;
        for (let ch = 0; ch < c; ch++) {
          for (let y = y0; y < y0 + 4; y++) {
            for (let x = x0; x < x0 + 4; x++) {
              const v = data[(ch * h + y) * w + x];
              if (y < 4) top += v;
              if (x < 4) left += v;
            }
          }
        }
        expect(ref.grid[iy * 3 + ix]).toBeCloseTo(top, 4);
        expect(ref.grid[9 + iy * 3 + ix]).toBeCloseTo(left, 4);
      }),
    );
    // per pixel: mean over covering windows; pixel (0,0) is covered by window (0,0) only
    expect(ref.maps[0]).toBeCloseTo(ref.grid[0], 5);
    // pixel (3,3) is covered by windows (0,0), (0,2), (2,0), (2,2)
    const mean = (ref.grid[0] + ref.grid[1] + ref.grid[3] + ref.grid[4]) / 4;
    expect(ref.maps[3 * w + 3]).toBeCloseTo(mean, 5);
    for (const b of [2, 4, 100]) {
      const r = await occlusionMap({ data, shape: [c, h, w] }, linearScorer(c, h, w), { patch: [4, 4], stride: [2, 2], fill: 0, batch: b, activation: 'none' });
      expect(Array.from(r.grid)).toEqual(Array.from(ref.grid));
    }
  });

  it("fills with the channel mean: a constant image gives no drop", async () => {
    const data = new Float32Array(3 * 6 * 6).fill(2.5);
    const r = await occlusionMap({ data, shape: [3, 6, 6] }, linearScorer(3, 6, 6), { patch: [3, 3], stride: [3, 3], fill: 'mean', activation: 'none' });
    expect(Math.max(...r.grid.map(Math.abs))).toBeLessThan(1e-5);
    const z = await occlusionMap({ data, shape: [3, 6, 6] }, linearScorer(3, 6, 6), { patch: [3, 3], stride: [3, 3], fill: [0, 0, 0], activation: 'none' });
    expect(z.grid[0]).toBeCloseTo(3 * 9 * 2.5, 4);
    await expect(occlusionMap({ data, shape: [3, 6, 6] }, linearScorer(3, 6, 6), { fill: [0, 0] })).rejects.toThrow(/3 channels/);
  });

  it('reports progress and stops on abort', async () => {
    const data = new Float32Array(16 * 16);
    const seen: number[] = [];
    const ac = new AbortController();
    const p = occlusionMap({ data, shape: [1, 16, 16] }, linearScorer(1, 16, 16), { patch: [4, 4], stride: [4, 4], batch: 2 }, {
      signal: ac.signal,
      onProgress: (q) => {
        seen.push(q.done);
        expect(q.total).toBe(16);
        if (q.done === 4) ac.abort();
      },
    });
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).toEqual([2, 4]);
  });
});

describe('occlusionMap on the EEG demo model (onnxruntime-node)', () => {
  it("is high where the model's own class map is high", async () => {
    const root = resolve(__dirname, '..');
    const s = await ort.InferenceSession.create(readFileSync(resolve(root, 'public/models/eeg_spectrogram.onnx')));
    const npyBuf = readFileSync(resolve(root, 'tests/fixtures/reference/eeg_spectrogram/input.npy'));
    const { readNpy } = await import('../src/core/io/npy');
    const x = readNpy(npyBuf, 'input.npy');
    const full = Float32Array.from(x.data);
    // 128 x 128 input (the model resizes to 128 itself; a 2x2-average of 512 keeps the test fast)
    const small = new Float32Array(128 * 128);
    for (let y = 0; y < 128; y++) for (let xx = 0; xx < 128; xx++) {
      let a = 0;
      for (let dy = 0; dy < 4; dy++) for (let dx = 0; dx < 4; dx++) a += full[(y * 4 + dy) * 512 + xx * 4 + dx];
      small[y * 128 + xx] = a / 16;
    }
    const predict: Predictor = async (batch, shape) => {
      const out = await s.run({ input: new ort.Tensor('float32', batch, shape) }, ['logits']);
      return { data: out.logits.data as Float32Array, shape: [...out.logits.dims] };
    };
    const r = await occlusionMap({ data: small, shape: [1, 128, 128] }, predict, { patch: [32, 32], stride: [16, 16], batch: 8, activation: 'none' });
    const camOut = await s.run({ input: new ort.Tensor('float32', small, [1, 1, 128, 128]) }, ['class_maps']);
    const cam = camOut.class_maps.data as Float32Array; // [1, 6, 16, 16]
    const lpd = 1;
    // Pearson correlation between the class map and the occlusion map (pooled to 16 x 16)
    const occ = new Float64Array(256);
    for (let y = 0; y < 128; y++) for (let xx = 0; xx < 128; xx++) occ[(y >> 3) * 16 + (xx >> 3)] += r.maps[lpd * 128 * 128 + y * 128 + xx] / 64;
    const a = Array.from(cam.subarray(lpd * 256, lpd * 256 + 256));
    const b = Array.from(occ);
    const ma = a.reduce((s1, v) => s1 + v, 0) / 256;
    const mb = b.reduce((s1, v) => s1 + v, 0) / 256;
    let num = 0;
    let da = 0;
    let db = 0;
    for (let i = 0; i < 256; i++) {
      num += (a[i] - ma) * (b[i] - mb);
      da += (a[i] - ma) ** 2;
      db += (b[i] - mb) ** 2;
    }
    const corr = num / Math.sqrt(da * db);
    expect(corr).toBeGreaterThan(0.5);
  }, 120_000);
});
