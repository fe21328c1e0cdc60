/**
 * The sliding window's output bytes stay what they were before the stitching was made faster
 * (fused count pass, pipelined batches, in-place crop): SHA-256 of the float32 output on the three
 * MONAI parity geometries and a padded one, with a deterministic predictor (an integer hash plus
 * the window's own values, at zoom 1 and 0.5, 1 to 3 output channels). The hashes were recorded
 * with the code of before the change (main at 57a5727).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../src/core/io/npy';
import { slidingWindowInference, type Predictor, type SlidingWindowParams } from '../src/core/slidingWindow';

const P = resolve(import.meta.dirname, 'fixtures/parity');
const BEFORE: Record<string, string> = {
  "constant_basic c1 z1": "1x20x30x40 933718d20e4945b934aeea37b8326b0bf59cb553e33452cce66dcbf8f669bcb0",
  "constant_basic c3 z1": "3x20x30x40 10ef0a9fad2ea26e5efa9f5a7c20f35aec51e860525b0cdb6a3509ad81b70246",
  "constant_basic c2 z0.5": "2x10x15x20 c137b6b4c1bb1441dbc26e91af15b59b8d11e7db34840dd3bd2d74df6f8f5be9",
  "gaussian_batch c1 z1": "1x17x33x29 db950dfec484c556a62a576065e8fc1b47ba223c309bc9b3339343ec7a0a6279",
  "gaussian_batch c3 z1": "3x17x33x29 6b36faecce2983728bf0619faabd5d1bdad9e72a5319ea2d8dcea25e401d517a",
  "gaussian_batch c2 z0.5": "2x8x16x14 45bc3f513ee4048c219f3e3b3d027f972acdfa62f950239a353a4de85d3a5398",
  "byu_weight_map c1 z1": "1x24x32x32 da0323180b7cf29c8aada763f7bd65dd456c52c7326bd754368eef7b30bcf056",
  "byu_weight_map c3 z1": "3x24x32x32 67f7eefa08e318c47cbf0ba0f5617bbf7e079c9bbb1919a9e63e8ef70d220d5d",
  "padded c2 z1": "2x20x30x40 598c2b9e2f5aba827492f3827f2e29396d4c22f5f8e79948f9b17c58a309fd81",
  "padded c1 z0.5": "1x10x15x20 4b146881a4e1a350702cb83cb2355514156ba7bdc905ee9036232da25aa806c2"
};

/** output = a hash of the index plus the window's value, at the given zoom and channel count */
const predictor =
  (cOut: number, zoom: number): Predictor =>
  async (batch, shape) => {
    const [n, , ...sp] = shape;
    const os = sp.map((s) => Math.max(1, Math.trunc(s * zoom)));
    const q = os.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n * cOut * q);
    for (let i = 0; i < data.length; i++) data[i] = Math.fround(((Math.imul(i + 1, 2654435761) >>> 8) & 0xffff) / 4096 - 8 + batch[(i * 7) % batch.length]);
    return { data, shape: [n, cOut, ...os] };
  };

const hash = (d: Float32Array) => createHash('sha256').update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)).digest('hex');
const npy = (p: string) => readNpy(readFileSync(resolve(P, p)));

describe('sliding window output bytes are unchanged', () => {
  for (const name of ['constant_basic', 'gaussian_batch', 'byu_weight_map']) {
    for (const [cOut, zoom] of [[1, 1], [3, 1], [2, 0.5]]) {
      const key = `${name} c${cOut} z${zoom}`;
      if (!(key in BEFORE)) continue;
      it(key, async () => {
        const p = JSON.parse(readFileSync(resolve(P, name, 'params.json'), 'utf8'));
        const a = npy(`${name}/input.npy`);
        const params: SlidingWindowParams = { roi: p.roi, overlap: p.overlap, mode: p.mode, sigmaScale: p.sigma_scale, swBatch: p.sw_batch, cval: p.cval };
        if (p.weight_map) params.weightMap = Float32Array.from(npy(`${name}/${p.weight_map}`).data);
        const r = await slidingWindowInference({ data: a.data, shape: a.shape.length === 3 ? [1, ...a.shape] : a.shape }, predictor(cOut, zoom), params);
        expect(`${r.shape.join('x')} ${hash(r.data)}`).toBe(BEFORE[key]);
      });
    }
  }
  for (const [cOut, zoom] of [[2, 1], [1, 0.5]]) {
    it(`padded (roi larger than the image, cropped in place) c${cOut} z${zoom}`, async () => {
      const a = npy('constant_basic/input.npy');
      const params: SlidingWindowParams = { roi: [24, 16, 48], overlap: 0.25, mode: 'gaussian', sigmaScale: 0.125, swBatch: 2, cval: 0.25 };
      const r = await slidingWindowInference({ data: a.data, shape: [1, ...a.shape.slice(-3)], scale: 0.5, offset: 1 }, predictor(cOut, zoom), params);
      expect(r.data.length).toBe(r.shape.reduce((x, y) => x * y, 1));
      expect(`${r.shape.join('x')} ${hash(r.data)}`).toBe(BEFORE[`padded c${cOut} z${zoom}`]);
    });
  }
});
