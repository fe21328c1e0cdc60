/**
 * The real worker in Chromium, through the UI-less harness page: WebGPU (SwiftShader) and WASM
 * give the same numbers, match PyTorch, and WebGPU falls back to WASM where it fails at run time.
 */
import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { readNpy } from '../src/core/io/npy';
import type { SlidingWindowParams, SlidingWindowStats } from '../src/core/slidingWindow';
import type { RuntimeInfo } from '../src/worker/protocol';
import { expect, test, fixture, maxAbsDiff, serveFixtures, setNumber } from './util';

interface HarnessResult {
  shape: number[];
  backend: string;
  backendReason: string;
  stats: SlidingWindowStats;
  data: number[];
}

/**
 * The harness page. `autoUsesSoftwareAdapter`: auto takes the software adapter (SwiftShader here)
 * like a hardware one, for the tests of auto's WebGPU fallbacks (auto avoids SwiftShader otherwise).
 */
async function openHarness(page: Page, opts: { autoUsesSoftwareAdapter?: boolean } = {}) {
  if (opts.autoUsesSoftwareAdapter) await page.addInitScript(() => ((window as { __voxelbenchAutoUsesSoftwareAdapter?: boolean }).__voxelbenchAutoUsesSoftwareAdapter = true));
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

test("auto avoids a software adapter (headless Chromium's SwiftShader): WASM with the reason, on the page too; WebGPU chosen runs on WebGPU", async ({ page }) => {
  const h = await openHarness(page);
  const rt = await h.runtime();
  expect(rt.webgpu.available, rt.webgpu.reason).toBe(true);
  expect(rt.webgpu.software, `adapter ${rt.webgpu.adapter}`).toMatch(/SwiftShader|fallback/);
  const common = { model: '../fixtures/models/tiny3d.onnx', volume: '../fixtures/volumes/ball_int16.nii.gz', scale: 1 / 255, params: tiled };
  const auto = await h.run({ ...common, backend: 'auto' });
  expect(auto.backend).toBe('wasm');
  expect(auto.backendReason).toMatch(/^auto chose WASM: the WebGPU adapter \(.+\) is a software one \(.+\), 50-100x slower than WASM; choose WebGPU to use it anyway$/);
  const gpu = await h.run({ ...common, backend: 'webgpu' });
  expect(gpu.backend).toBe('webgpu');
  expect(gpu.backendReason).toMatch(/^WebGPU adapter: .*swiftshader/i);
  expect(maxAbsDiff(gpu.data, auto.data)).toBeLessThan(1e-4);

  // the page says it before a run (header pill, the note under Backend) and after (the backend line); WebGPU is one click away
  await page.goto('./');
  await page.waitForFunction(() => window.__voxelbench !== undefined);
  await expect(page.getByTestId('webgpu-pill')).toHaveText('WebGPU software');
  await page.getByTestId('volume-input').setInputFiles(fixture('volumes/ball_int16.nii.gz'));
  await page.getByTestId('model-input').setInputFiles(fixture('models/tiny3d.onnx'));
  await expect(page.getByTestId('model-name')).toContainText('tiny3d.onnx');
  await expect(page.getByTestId('backend')).toHaveValue('auto');
  // the workbench's Backend is the presets' field: Auto, WebGPU, WASM, the chosen one explained under it
  const backendHint = page.locator('label:has([data-testid=backend]) .field-hint');
  await expect(backendHint).toHaveText('WebGPU on a hardware adapter, else WASM');
  await expect(page.getByTestId('backend').locator('option')).toHaveText(['Auto', 'WebGPU', 'WASM']);
  await expect(page.getByTestId('backend-note')).toContainText(/Auto runs on WASM: the WebGPU adapter \(.+\) is a software one/);
  await page.getByTestId('intensity').selectOption('div255');
  for (const ax of ['d', 'h', 'w']) await setNumber(page, `roi-${ax}`, 8);
  await page.getByTestId('run').click();
  await expect(page.getByTestId('backend-used')).toHaveText('WASM', { timeout: 120_000 });
  await expect(page.getByTestId('backend-reason')).toContainText('auto chose WASM');
  await page.getByTestId('backend-note-webgpu').click();
  await expect(page.getByTestId('backend')).toHaveValue('webgpu');
  await expect(page.getByTestId('backend-note')).toContainText('WebGPU as chosen');
  await page.getByTestId('run').click();
  await expect(page.getByTestId('backend-used')).toHaveText('WebGPU', { timeout: 120_000 });
  await expect(backendHint).toHaveCount(0);
  await page.getByTestId('backend').selectOption('wasm');
  await expect(backendHint).toHaveText(/^CPU, \d+ threads?$/);
  // a browser without WebGPU: its option is off here as on the presets' pages
  await page.evaluate(() => {
    const store = window.__voxelbench!.store;
    const rt = store.getState().runtime!;
    store.setState({ runtime: { ...rt, webgpu: { available: false, reason: 'no WebGPU in this browser' } } });
  });
  await expect(page.getByTestId('backend').locator('option[value=webgpu]')).toBeDisabled();

  // a preset page: the same note under its Backend field
  await page.goto('./?preset=motors');
  await expect(page.getByTestId('motor-backend-note')).toContainText('Auto runs on WASM');
  await page.getByTestId('motor-backend-note-webgpu').click();
  await expect(page.getByTestId('motor-backend')).toHaveValue('webgpu');
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
  const h = await openHarness(page, { autoUsesSoftwareAdapter: true });
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
  const h = await openHarness(page, { autoUsesSoftwareAdapter: true });
  const ref = readNpy(readFileSync(fixture('onnx/unet_output_ort.npy')));
  const whole: SlidingWindowParams = { ...tiled, roi: [-1, -1, -1] };
  const gpu = await h.run({ model: '../fixtures/onnx/unet_convtranspose3d.webgpu.onnx', volume: '../fixtures/onnx/unet_input.npy', params: whole, backend: 'webgpu' });
  expect(gpu.backend).toBe('webgpu');
  expect(gpu.shape).toEqual(ref.shape.slice(1));
  expect(maxAbsDiff(gpu.data, ref.data)).toBeLessThan(1e-4);
  // the original model cannot stay on WebGPU: auto (taking SwiftShader as on a hardware adapter) falls back to WASM and says why
  const orig = await h.run({ model: '../fixtures/onnx/unet_convtranspose3d.onnx', volume: '../fixtures/onnx/unet_input.npy', params: whole, backend: 'auto' });
  expect(orig.backend).toBe('wasm');
  expect(orig.backendReason).toMatch(/WebGPU failed at run time|WebGPU session creation failed/);
  expect(maxAbsDiff(orig.data, ref.data)).toBeLessThan(1e-4);
});
