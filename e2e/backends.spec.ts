/**
 * The real worker in Chromium, through the UI-less harness page: WebGPU (SwiftShader) and WASM
 * give the same numbers, match PyTorch, and WebGPU falls back to WASM where it fails at run time.
 */
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { readNpy } from '../src/core/io/npy';
import type { SlidingWindowParams, SlidingWindowStats } from '../src/core/slidingWindow';
import type { RuntimeInfo } from '../src/worker/protocol';
import { fixture, maxAbsDiff, serveFixtures } from './util';

interface HarnessResult {
  shape: number[];
  backend: string;
  backendReason: string;
  stats: SlidingWindowStats;
  data: number[];
}

async function openHarness(page: Page) {
  await serveFixtures(page);
  await page.goto('e2e/harness.html');
  await page.waitForFunction(() => document.title === 'harness ready');
  return {
    runtime: () => page.evaluate(() => (window as unknown as { harness: { runtime(): Promise<RuntimeInfo> } }).harness.runtime()),
    run: (req: { model: string; volume: string; params: SlidingWindowParams; backend: string; scale?: number }) =>
      page.evaluate(
        (r) => (window as unknown as { harness: { run(x: unknown): Promise<HarnessResult> } }).harness.run({ ...r, returnData: true }),
        req,
      ),
  };
}

const tiled: SlidingWindowParams = { roi: [8, 8, 8], overlap: 0.5, mode: 'gaussian', sigmaScale: 0.125, swBatch: 2, cval: 0 };

test('the page is cross-origin isolated, WASM runs threaded, and a WebGPU adapter is found', async ({ page }) => {
  const h = await openHarness(page);
  const rt = await h.runtime();
  expect(rt.crossOriginIsolated).toBe(true);
  expect(rt.threads).toBeGreaterThan(1);
  expect(rt.webgpu.available, rt.webgpu.reason).toBe(true);
});

test('tiled inference gives the same output on WebGPU and WASM (1e-4), and matches PyTorch on the whole volume', async ({ page }) => {
  const h = await openHarness(page);
  const common = { model: '../fixtures/models/tiny3d.onnx', volume: '../fixtures/volumes/ball_int16.nii.gz', scale: 1 / 255 };
  const gpu = await h.run({ ...common, params: tiled, backend: 'webgpu' });
  const cpu = await h.run({ ...common, params: tiled, backend: 'wasm' });
  expect(gpu.backend).toBe('webgpu');
  expect(gpu.backendReason).toMatch(/WebGPU adapter/);
  expect(cpu.backend).toBe('wasm');
  expect(gpu.shape).toEqual([3, 12, 20, 16]);
  expect(gpu.stats.windows).toBe(cpu.stats.windows);
  expect(gpu.stats.windows).toBeGreaterThan(1);
  expect(maxAbsDiff(gpu.data, cpu.data)).toBeLessThan(1e-4);

  // one window over the whole volume = PyTorch's output on the whole volume
  const whole = await h.run({ ...common, params: { ...tiled, roi: [-1, -1, -1] }, backend: 'wasm' });
  const ref = readNpy(readFileSync(fixture('volumes/ball_int16_tiny3d_whole.npy')));
  expect(whole.shape).toEqual(ref.shape);
  expect(maxAbsDiff(whole.data, ref.data)).toBeLessThan(1e-4);
});

test('a model with ConvTranspose3d falls back from WebGPU to WASM at run time, and says why', async ({ page }) => {
  const h = await openHarness(page);
  const common = { model: '../fixtures/models/tiny_convtranspose3d.onnx', volume: '../fixtures/volumes/ball_int16.nii.gz', scale: 1 / 255 };
  const auto = await h.run({ ...common, params: tiled, backend: 'auto' });
  expect(auto.backend).toBe('wasm');
  expect(auto.backendReason).toMatch(/WebGPU failed at run time/);
  // output at twice the resolution (zoom 2), stitched on the output grid
  expect(auto.shape).toEqual([1, 24, 40, 32]);
  expect(auto.stats.zoom).toEqual([2, 2, 2]);
  const cpu = await h.run({ ...common, params: tiled, backend: 'wasm' });
  expect(maxAbsDiff(auto.data, cpu.data)).toBeLessThan(1e-5);
});

test('a 3D U-Net with ConvTranspose3d and MaxPool3d runs on WebGPU after the rewrite and matches onnxruntime on the original (1e-4)', async ({ page }) => {
  const h = await openHarness(page);
  const ref = readNpy(readFileSync(fixture('onnx/unet_output_ort.npy')));
  const whole: SlidingWindowParams = { ...tiled, roi: [-1, -1, -1] };
  const gpu = await h.run({ model: '../fixtures/onnx/unet_convtranspose3d.webgpu.onnx', volume: '../fixtures/onnx/unet_input.npy', params: whole, backend: 'webgpu' });
  expect(gpu.backend).toBe('webgpu');
  expect(gpu.shape).toEqual(ref.shape.slice(1));
  expect(maxAbsDiff(gpu.data, ref.data)).toBeLessThan(1e-4);
  // the original model cannot stay on WebGPU: auto falls back to WASM and says why
  const orig = await h.run({ model: '../fixtures/onnx/unet_convtranspose3d.onnx', volume: '../fixtures/onnx/unet_input.npy', params: whole, backend: 'auto' });
  expect(orig.backend).toBe('wasm');
  expect(orig.backendReason).toMatch(/WebGPU failed at run time|WebGPU session creation failed/);
  expect(maxAbsDiff(orig.data, ref.data)).toBeLessThan(1e-4);
});
