import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { checkRunMemory, jsBudget, JS_BUDGET_BYTES, WASM_HEAP_BYTES } from './memoryGuard';
import { estimateRunPeak } from './onnx/memory';
import { inspectModel } from './onnx/model';

const info = inspectModel(new Uint8Array(readFileSync(resolve(import.meta.dirname, '../../tests/fixtures/models/tiny3d.onnx'))));
const base = { info, shape: [1, 12, 20, 16], swBatch: 1, overlap: 0.25, inputBytes: 2, backend: 'wasm' as const };

describe('memory guard', () => {
  test('a small run fits; its peak is estimateRunPeak', () => {
    const v = checkRunMemory({ ...base, roi: [8, 8, 8] }, { deviceMemoryGb: 8 });
    expect(v.refusal).toBeNull();
    expect(v.peak).toEqual(estimateRunPeak(info, base.shape, [8, 8, 8], 1, 2));
  });

  test('roi 1000³ on a 12×20×16 volume is refused with the numbers and the roi that fits', () => {
    const v = checkRunMemory({ ...base, roi: [1000, 1000, 1000] }, { deviceMemoryGb: 8 });
    expect(v.peak.totalBytes).toBeGreaterThan(WASM_HEAP_BYTES);
    expect(v.refusal).toMatch(/^This run would need about [\d.]+ GB \(input [\d.]+ kB, windows 4\.00 GB, model .*, accumulators .*, result .*\): /);
    expect(v.refusal).toMatch(/more than wasm32's 4\.29 GB/);
    expect(v.refusal).toMatch(/The roi 1000×1000×1000 is larger than the volume 12×20×16: use at most 12×20×16/);
    expect(v.refusal).toMatch(/voxelbench infer .* --roi 1000,1000,1000 --sw-batch 1/);
  });

  test('a device with 1 GB refuses what a device with 8 GB runs, and suggests sw batch 1 when that fits', () => {
    // 3 channels of 400×400×400 float32 and a 2-channel output: about 1.8 GB of JS buffers
    const req = { ...base, shape: [1, 400, 400, 400], roi: [64, 64, 64], swBatch: 4 };
    expect(checkRunMemory(req, { deviceMemoryGb: 8 }).refusal).toBeNull();
    const small = checkRunMemory(req, { deviceMemoryGb: 1 });
    expect(small.refusal).toMatch(/more than this device's memory \(navigator\.deviceMemory: 1 GB\) \(1\.07 GB\)/);
  });

  test('jsBudget: under 8 GB the device, at 8 ("8 or more") the tab', () => {
    expect(jsBudget(4).bytes).toBe(4 * 2 ** 30);
    expect(jsBudget(8).bytes).toBe(JS_BUDGET_BYTES);
    expect(jsBudget(undefined).bytes).toBe(JS_BUDGET_BYTES);
  });

  test('WebGPU: a window batch over the adapter buffer limit is refused and a smaller roi proposed', () => {
    const gpu = { maxBufferSize: 2 ** 27, maxStorageBufferBindingSize: 2 ** 27 }; // 128 MiB
    const req = { ...base, shape: [1, 512, 512, 512], roi: [256, 256, 256], backend: 'webgpu' as const, inputBytes: 1 };
    const v = checkRunMemory(req, { deviceMemoryGb: 8, gpu });
    expect(v.refusal).toMatch(/window batch \(model input\) needs 64\.0 MiB|largest model activation needs/);
    expect(v.refusal).toMatch(/Use a smaller roi \(\d+×\d+×\d+ fits\)/);
    expect(checkRunMemory({ ...req, roi: [64, 64, 64] }, { deviceMemoryGb: 8, gpu }).refusal).toBeNull();
  });
});
