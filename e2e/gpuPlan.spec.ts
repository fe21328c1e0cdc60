/**
 * The GPU memory plan in the workbench's settings (src/ui/GpuPlanLine.tsx, core/gpuPlan.ts): with
 * the brain demo's T1 (256^3 uint8) and MeshNet (3 classes) on WebGPU (SwiftShader in headless
 * Chromium), one line with the resident MiB by kind, the adapter's limits and the slab verdict;
 * none on WASM. No run: the plan is shown before one.
 */
import { expect, test, setNumber } from './util';

const MiB = 2 ** 20;

test('the GPU plan line: volume, windows, accumulators in MiB, the adapter limits, and slabs when a buffer limit is small', async ({ page }) => {
  await page.goto('./');
  await page.waitForFunction(() => window.__voxelbench !== undefined);
  await page.getByTestId('volume-input').setInputFiles('public/demo/meshnet/t1.nii.gz');
  await page.getByTestId('model-input').setInputFiles('public/demo/meshnet/model.onnx');
  await expect(page.getByTestId('model-name')).toContainText('model.onnx');
  await page.getByTestId('backend').selectOption('wasm');
  await expect(page.getByTestId('memory-estimate')).toBeVisible();
  await expect(page.getByTestId('gpu-plan')).toHaveCount(0);

  await page.getByTestId('backend').selectOption('webgpu');
  for (const id of ['roi-d', 'roi-h', 'roi-w']) await setNumber(page, id, 128);
  const line = page.getByTestId('gpu-plan');
  // the adapter's limits as the worker read them
  const limits = await page.evaluate(() => window.__voxelbench!.store.getState().runtime!.webgpu);
  const lim = (b: number) => (b / MiB).toFixed(1);
  await expect(line).toContainText(`adapter limits ${lim(limits.maxStorageBufferBindingSize!)} MiB per binding, ${lim(limits.maxBufferSize!)} MiB per buffer`);
  // 256^3 uint8 uploaded as stored: 16 MiB; roi 128, overlap 0.5: accumulators (3 classes + weight sum) over 256^3 + the 128^3 importance map
  await expect(line).toHaveAttribute('data-volume-bytes', String(256 ** 3));
  await expect(line).toHaveAttribute('data-accumulator-bytes', String((3 + 1) * 256 ** 3 * 4 + 128 ** 3 * 4));
  await expect(line).toContainText('volume 16.0 + windows 32.0 + accumulators 264.0');
  await expect(line).toContainText('volume in one buffer (no slabs)');
  await expect(line).toHaveAttribute('data-slabs', '1');
  await expect(line).toContainText(/= \d+\.\d MiB/);

  // a small adapter (8 MiB per binding): the volume goes up in 2 slabs; the accumulators do not fit
  await page.evaluate(() => {
    const s = window.__voxelbench!.store;
    const rt = s.getState().runtime!;
    s.setState({ runtime: { ...rt, webgpu: { ...rt.webgpu, maxStorageBufferBindingSize: 8 * 2 ** 20 } } });
  });
  await expect(line).toHaveAttribute('data-slabs', '2');
  await expect(line).toContainText('volume in 2 slabs');
  await expect(line).toContainText('adapter limits 8.0 MiB per binding');
  await expect(line).toContainText('does not fit');
  await expect(line).toHaveAttribute('data-fits', 'false');
});
