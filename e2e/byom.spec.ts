/**
 * Bring your own model, as a user does it in the workbench: the inspector's verdict for a 3D
 * U-Net with ConvTranspose3d, "Make it run on WebGPU" (checked on WASM), a WebGPU run that
 * matches onnxruntime on the original, a model with external data (with and without its data
 * file), and the parity check against a reference .npy.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { readNpy, writeNpy } from '../src/core/io/npy';
import { expect, test, fixture, maxAbsDiff, setNumber } from './util';

async function openApp(page: Page): Promise<void> {
  await page.goto('./');
  await page.waitForFunction(() => window.__voxelbench !== undefined);
}

function storeState(page: Page) {
  return page.evaluate(() => {
    const s = window.__voxelbench!.store.getState();
    return {
      status: s.runState.status,
      error: s.runState.error,
      backend: s.result?.run.backend,
      shape: s.result?.run.shape,
      modelName: s.model?.fileName,
      messages: s.messages.map((m) => `${m.level}: ${m.text}`),
    };
  });
}

/** unet_input.npy (1, 1, 16, 16, 16) squeezed to (1, 16, 16, 16): a volume the workbench reads. */
function inputVolume(): string {
  const a = readNpy(new Uint8Array(readFileSync(fixture('onnx/unet_input.npy'))));
  const dir = mkdtempSync(join(tmpdir(), 'byom-'));
  const path = join(dir, 'unet_input.npy');
  writeFileSync(path, writeNpy({ shape: a.shape.slice(1), data: a.data }));
  return path;
}

test('3D U-Net with ConvTranspose3d: verdict, rewrite checked on WASM, WebGPU run matches ORT; external data; parity', async ({ page }) => {
  await openApp(page);
  await page.getByTestId('volume-input').setInputFiles(inputVolume());
  await page.getByTestId('model-input').setInputFiles(fixture('onnx/unet_convtranspose3d.onnx'));
  await expect(page.getByTestId('model-name')).toContainText('unet_convtranspose3d.onnx');

  // the inspector: verdict and the ConvTranspose badge
  await expect(page.getByTestId('inspector')).toBeVisible();
  await expect(page.getByTestId('inspector-verdict')).toHaveAttribute('data-verdict', 'will fail');
  await expect(page.getByTestId('inspector-op-ConvTranspose')).toHaveAttribute('data-support', 'no');
  await expect(page.getByTestId('inspector-op-Relu')).toHaveAttribute('data-support', 'yes');
  await expect(page.getByTestId('memory-estimate')).toContainText('weights');

  // make it run on WebGPU: the check passes and the rewritten model is loaded
  await page.getByTestId('make-webgpu').click();
  await expect(page.getByTestId('rewrite-check')).toHaveAttribute('data-status', 'ok', { timeout: 60_000 });
  await expect(page.getByTestId('model-name')).toContainText('unet_convtranspose3d.webgpu.onnx');
  await expect(page.getByTestId('inspector-verdict')).not.toHaveAttribute('data-verdict', 'will fail');

  // run on WebGPU: one 16^3 window, so the output is the model's output
  await setNumber(page, 'roi-d', 16);
  await setNumber(page, 'roi-h', 16);
  await setNumber(page, 'roi-w', 16);
  await page.getByTestId('backend').selectOption('webgpu');
  await page.getByTestId('run').click();
  await expect.poll(async () => (await storeState(page)).status, { timeout: 60_000 }).toMatch(/done|error/);
  const st = await storeState(page);
  expect(st.status, `${st.error} ${st.messages.join('\n')}`).toBe('done');
  expect(st.backend).toBe('webgpu');
  expect(st.shape).toEqual([2, 16, 16, 16]);
  const out = await page.evaluate(() => Array.from(window.__voxelbench!.store.getState().result!.run.data));
  const ref = readNpy(new Uint8Array(readFileSync(fixture('onnx/unet_output_ort.npy'))));
  expect(maxAbsDiff(out, ref.data)).toBeLessThan(1e-4);

  // parity check in the page against the same reference ([1, 2, 16, 16, 16])
  await page.getByTestId('reference-input').setInputFiles(fixture('onnx/unet_output_ort.npy'));
  const stats = page.getByTestId('parity-stats');
  await expect(stats).toBeVisible();
  expect(Number(await stats.getAttribute('data-max-abs'))).toBeLessThan(1e-4);
  await page.getByTestId('parity-diff-map').check();
  await expect(page.getByTestId('parity-diff-map')).toBeChecked();

  // external data: without its data file, a message naming it; the loaded model stays
  await page.getByTestId('model-input').setInputFiles(fixture('onnx/external/unet_ext.onnx'));
  await expect
    .poll(async () => (await storeState(page)).messages.join('\n'))
    .toMatch(/unet_ext\.onnx needs .*unet_ext\.onnx\.data/);
  expect((await storeState(page)).modelName).toBe('unet_convtranspose3d.webgpu.onnx');

  // with it: loads, and the inspector shows the same verdict as for the self-contained model
  await page.getByTestId('model-input').setInputFiles([fixture('onnx/external/unet_ext.onnx'), fixture('onnx/external/unet_ext.onnx.data')]);
  await expect(page.getByTestId('model-name')).toContainText('unet_ext.onnx');
  await expect(page.getByTestId('inspector-verdict')).toHaveAttribute('data-verdict', 'will fail');
  // the .data file was not taken as a volume
  expect(await page.evaluate(() => window.__voxelbench!.store.getState().volume?.fileName)).toBe('unet_input.npy');
});
