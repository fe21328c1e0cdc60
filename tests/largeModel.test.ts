/**
 * A model over 500 MB with external data (issue 5, "Large models"), built on the fly in a temp dir
 * (tools/largeModel.ts; nothing big is committed): the inspector sees its external weights and
 * the memory estimate counts them; it runs with onnxruntime-node from its path (side file read by
 * the runtime, as the CLI does) and with onnxruntime-web's WASM backend given the side file as the
 * `externalData` session option (as the page does above EXTERNAL_INLINE_LIMIT, 256 MiB, and the
 * only way past the 2 GB protobuf limit).
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { externalDataOption, externalDataRefs } from '../src/core/onnx/externalData';
import { estimateMemory } from '../src/core/onnx/memory';
import { inspectModel } from '../src/core/onnx/model';
import { bigValue, writeLargeModel, type LargeModel } from '../tools/largeModel';

const MB = 1e6;
let dir: string;
let m: LargeModel;
const x = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i - 7.5);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vb-large-'));
  m = writeLargeModel(dir, 520 * MB);
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** output = input * big[n - 1] */
function expectScaled(out: ArrayLike<number>, dims: readonly number[]): void {
  expect(dims).toEqual([1, 1, 2, 3, 4]);
  const f = m.factor;
  expect(f).toBe(bigValue(m.n - 1));
  for (let i = 0; i < x.length; i++) expect(out[i]).toBe(Math.fround(x[i] * f));
}

describe('a 520 MB model with external data', () => {
  it('is over 500 MB; the inspector lists the external tensor and the memory estimate counts it', () => {
    expect(statSync(m.data).size).toBeGreaterThan(500 * MB);
    const bytes = new Uint8Array(readFileSync(m.model));
    expect(bytes.length).toBeLessThan(4096);
    const info = inspectModel(bytes);
    expect(info.externalData).toEqual(['big']);
    expect(info.parameters).toBe(m.n + 1);
    expect(externalDataRefs(bytes)).toEqual([{ name: 'big', location: 'large.onnx.data', offset: 0, length: m.n * 4 }]);
    const est = estimateMemory(info, [2, 3, 4], 1);
    expect(est.weightBytes).toBeGreaterThanOrEqual(520 * MB);
  });

  it('runs in onnxruntime-node opened from its path', async () => {
    const s = await ortNode.InferenceSession.create(m.model);
    try {
      const out = await s.run({ input: new ortNode.Tensor('float32', x, [1, 1, 2, 3, 4]) });
      expectScaled(out.output.data as Float32Array, out.output.dims);
    } finally {
      await s.release();
    }
  }, 60_000);

  it('runs in onnxruntime-web (WASM) with the side file as externalData, as the page loads it', async () => {
    const bytes = new Uint8Array(readFileSync(m.model));
    const files = new Map([['large.onnx.data', new Uint8Array(readFileSync(m.data))]]);
    expect(() => externalDataOption(bytes, new Map(), { modelName: 'large.onnx' })).toThrow("large.onnx needs 'large.onnx.data' (520.0 MB): drop it together with the model");
    ortWeb.env.wasm.numThreads = 1;
    const w = await ortWeb.InferenceSession.create(bytes, { executionProviders: ['wasm'], externalData: externalDataOption(bytes, files, { modelName: 'large.onnx' }) });
    try {
      const out = await w.run({ input: new ortWeb.Tensor('float32', x, [1, 1, 2, 3, 4]) });
      expectScaled(out.output.data as Float32Array, out.output.dims);
    } finally {
      await w.release();
    }
  }, 120_000);
});
