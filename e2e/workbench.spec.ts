/**
 * The workbench as a user drives it: drop a volume and a model, run on WebGPU and WASM, see the
 * overlay, save the result; the bundled demo; bad input.
 */
import { readFileSync } from 'node:fs';
import type { Download, Page } from '@playwright/test';
import { readNifti } from '../src/core/io/nifti';
import { readNpy } from '../src/core/io/npy';
import { expect, test, canvasPixels, fixture, maxAbsDiff, perFrameAnimations, setNumber } from './util';

interface StoreView {
  status: string;
  backend?: string;
  reason?: string;
  shape?: number[];
  data?: number[];
  volumeName?: string;
  modelName?: string;
  error?: string;
  messages: { level: string; text: string }[];
}

/** Reads what the page's store holds (state, not pixels: pixels are checked separately). */
function storeView(page: Page, withData = false): Promise<StoreView> {
  return page.evaluate((withData) => {
    const s = window.__voxelbench!.store.getState();
    const r = s.result?.run;
    return {
      status: s.runState.status,
      backend: r?.backend,
      reason: r?.backendReason,
      shape: r?.shape,
      data: withData && r ? Array.from(r.data as Float32Array) : undefined,
      volumeName: s.volume?.fileName,
      modelName: s.model?.fileName,
      error: s.runState.error,
      messages: s.messages.map((m) => ({ level: m.level, text: m.text })),
    };
  }, withData);
}

async function waitForRun(page: Page, timeout = 120_000): Promise<StoreView> {
  await expect.poll(async () => (await storeView(page)).status, { timeout }).toMatch(/done|error|cancelled/);
  return storeView(page);
}

async function openApp(page: Page, query = ''): Promise<void> {
  await page.goto(`./${query}`);
  await page.waitForFunction(() => window.__voxelbench !== undefined);
}

async function downloadBytes(download: Download): Promise<Uint8Array> {
  const path = await download.path();
  return new Uint8Array(readFileSync(path));
}

test('drop a NIfTI and a model, run on WebGPU and on WASM: same output, overlay drawn, NIfTI saved in the input space', async ({ page }) => {
  await openApp(page);
  await page.getByTestId('volume-input').setInputFiles(fixture('volumes/ball_int16.nii.gz'));
  await page.getByTestId('model-input').setInputFiles(fixture('models/tiny3d.onnx'));
  await expect(page.getByTestId('volume-name')).toContainText('ball_int16.nii.gz');
  await expect(page.getByTestId('model-name')).toContainText('tiny3d.onnx');
  await page.getByTestId('intensity').selectOption('div255');
  await setNumber(page, 'roi-d', 8);
  await setNumber(page, 'roi-h', 8);
  await setNumber(page, 'roi-w', 8);

  const before = await canvasPixels(page);
  await page.getByTestId('backend').selectOption('webgpu');
  await page.getByTestId('run').click();
  const gpu = await waitForRun(page);
  expect(gpu.status).toBe('done');
  expect(gpu.backend).toBe('webgpu');
  await expect(page.getByTestId('backend-used')).toContainText(/webgpu/i);
  const gpuData = (await storeView(page, true)).data!;

  await page.getByTestId('backend').selectOption('wasm');
  await page.getByTestId('run').click();
  const cpu = await waitForRun(page);
  expect(cpu.status).toBe('done');
  expect(cpu.backend).toBe('wasm');
  const cpuData = (await storeView(page, true)).data!;
  expect(cpu.shape).toEqual([3, 12, 20, 16]);
  expect(maxAbsDiff(gpuData, cpuData)).toBeLessThan(1e-4);

  // the overlay changes the canvas: coloured pixels appear over the grey volume
  await expect.poll(async () => (await canvasPixels(page)).colored, { timeout: 20_000 }).toBeGreaterThan(before.colored + 100);

  // save the NIfTI and read it back: the input's grid and affine
  const input = readNifti(new Uint8Array(readFileSync(fixture('volumes/ball_int16.nii.gz'))), 'ball');
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('save-nifti').click()]);
  expect(dl.suggestedFilename()).toMatch(/\.nii\.gz$/);
  const saved = readNifti(await downloadBytes(dl), dl.suggestedFilename());
  expect(saved.shape).toEqual([3, 12, 20, 16]);
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) expect(saved.affine[r][c]).toBeCloseTo(input.affine[r][c], 4);
  expect(maxAbsDiff(saved.data, cpuData)).toBeLessThan(1e-6);

  // and the raw .npy
  const [dn] = await Promise.all([page.waitForEvent('download'), page.getByTestId('save-npy').click()]);
  const npy = readNpy(await downloadBytes(dn));
  expect(npy.shape).toEqual([3, 12, 20, 16]);
  expect(maxAbsDiff(npy.data, cpuData)).toBe(0);
});

test('bad input: a corrupt NIfTI, a file of unknown type and a model that is not ONNX give clear messages; what was loaded stays', async ({ page }) => {
  await openApp(page);
  await page.getByTestId('volume-input').setInputFiles(fixture('volumes/ball_int16.nii.gz'));
  await page.getByTestId('model-input').setInputFiles(fixture('models/tiny3d.onnx'));
  await expect(page.getByTestId('volume-name')).toContainText('ball_int16.nii.gz');

  const nii = readFileSync(fixture('volumes/ball_int16.nii.gz'));
  await page.getByTestId('volume-input').setInputFiles({ name: 'broken.nii.gz', mimeType: 'application/gzip', buffer: nii.subarray(0, 400) });
  const error = (text: RegExp) => expect(page.getByTestId('message-error').filter({ hasText: text })).toBeVisible();
  await error(/broken\.nii\.gz/);
  await page.getByTestId('volume-input').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
  await error(/notes\.txt.*unknown file type/);
  await page.getByTestId('model-input').setInputFiles({ name: 'fake.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from('this is not a model') });
  await error(/fake\.onnx/);

  // still loaded, and a run still works
  await expect(page.getByTestId('volume-name')).toContainText('ball_int16.nii.gz');
  await expect(page.getByTestId('model-name')).toContainText('tiny3d.onnx');
  await page.getByTestId('backend').selectOption('wasm');
  await page.getByTestId('run').click();
  expect((await waitForRun(page)).status).toBe('done');
});

// the landing page's one-click demo on WASM (counts against the whole-volume run, frame gaps while the
// view changes) is checked in share.spec.ts, with its link and session: one run of it for both

test('a long run shows progress and stops on Cancel (Esc); a failed run leaves the app working', async ({ page }) => {
  // auto takes SwiftShader as on a hardware adapter (it avoids a software adapter otherwise): the run below falls back from WebGPU
  await page.addInitScript(() => ((window as { __voxelbenchAutoUsesSoftwareAdapter?: boolean }).__voxelbenchAutoUsesSoftwareAdapter = true));
  await openApp(page);
  await page.getByTestId('volume-input').setInputFiles(fixture('volumes/ball_int16.nii.gz'));
  await page.getByTestId('model-input').setInputFiles(fixture('models/tiny3d.onnx'));
  await expect(page.getByTestId('model-name')).toContainText('tiny3d.onnx');
  await page.getByTestId('backend').selectOption('wasm');
  // many small windows: a run of thousands of batches
  await setNumber(page, 'roi-d', 4);
  await setNumber(page, 'roi-h', 4);
  await setNumber(page, 'roi-w', 4);
  await setNumber(page, 'overlap', 0.75);
  await page.getByTestId('run').click();
  await expect(page.getByTestId('progress-windows')).toContainText(/window \d+ \/ \d{4}/);
  await expect.poll(async () => page.evaluate(() => window.__voxelbench!.store.getState().runState.done)).toBeGreaterThan(5);
  // the bar steps with the progress, the status line's spinner turns in steps: nothing is drawn at
  // every frame while the model works
  await page.evaluate(() => window.__voxelbench!.store.setState({ busy: 'Reading…' }));
  await expect(page.locator('.spinner-text')).toBeVisible();
  expect(await perFrameAnimations(page)).toEqual([]);
  await page.evaluate(() => window.__voxelbench!.store.setState({ busy: null }));
  await page.keyboard.press('Escape');
  const cancelled = await waitForRun(page, 30_000);
  expect(cancelled.status).toBe('cancelled');
  // a soft cancel: the worker answered (no restart was needed)
  expect(cancelled.messages.map((m) => m.text).join('\n')).toMatch(/Run cancelled after \d+ of \d+ windows/);

  // a run that fails: ConvTranspose3d on WebGPU, with WebGPU forced (no fallback) ...
  await page.getByTestId('model-input').setInputFiles(fixture('models/tiny_convtranspose3d.onnx'));
  await expect(page.getByTestId('model-name')).toContainText('tiny_convtranspose3d.onnx');
  await setNumber(page, 'roi-d', 8);
  await setNumber(page, 'roi-h', 8);
  await setNumber(page, 'roi-w', 8);
  await page.getByTestId('backend').selectOption('webgpu');
  await page.getByTestId('run').click();
  const failed = await waitForRun(page);
  expect(failed.status).toBe('error');
  await expect(page.getByTestId('run-error')).toBeVisible();
  // ... and the next run works, on auto (falls back to WASM and says why)
  await page.getByTestId('backend').selectOption('auto');
  await page.getByTestId('run').click();
  const ok = await waitForRun(page);
  expect(ok.status).toBe('done');
  expect(ok.backend).toBe('wasm');
  expect(ok.reason).toMatch(/WebGPU failed at run time/);
  expect(ok.shape).toEqual([1, 24, 40, 32]);
});

test('a model with fixed spatial dims: the roi defaults to them, and a smaller roi offers to make them symbolic', async ({ page }) => {
  await openApp(page);
  await page.getByTestId('volume-input').setInputFiles(fixture('volumes/ball_int16.nii.gz'));
  await page.getByTestId('model-input').setInputFiles(fixture('models/tiny3d_fixed16.onnx'));
  await expect(page.getByTestId('model-name')).toContainText('tiny3d_fixed16.onnx');
  await expect(page.getByTestId('roi-d')).toHaveValue('16');
  // the 12-slice volume would be padded to the fixed 16: one sentence says what relaxing does and recommends it
  await expect(page.getByTestId('fixed-dims-advice')).toContainText(
    "The model declares a fixed input of 16×16×16 but the volume is 12×20×16, so it would run on the volume padded to 16×20×16; 'Make spatial dims symbolic'",
  );
  await expect(page.getByTestId('fixed-dims-advice')).toContainText('recommended');
  await setNumber(page, 'roi-d', 8);
  await expect(page.getByTestId('relax-dims-prompt').first()).toBeVisible();
  await page.getByTestId('relax-dims').first().click();
  await expect(page.getByTestId('model-panel')).toContainText(/relaxed/i);
  await expect(page.getByTestId('fixed-dims-advice')).toHaveCount(0);
  await page.getByTestId('backend').selectOption('wasm');
  await page.getByTestId('run').click();
  const r = await waitForRun(page);
  expect(r.status, r.error).toBe('done');
  expect(r.shape).toEqual([3, 12, 20, 16]);
});
