/**
 * The presets' memory guard on the page (issue 15 item 4): a motors link whose input size would not
 * fit this browser (a device that says it has 4 GB: navigator.deviceMemory) is refused before
 * anything is read or allocated: every tomogram's row says why (the numbers, a smaller input size
 * that fits, the CLI), no 'Array buffer allocation failed', and the page stays usable: the form
 * takes a value that fits and the run button is there. No run happens.
 */
import { expect, test } from './util';

test('motors link with input size 1400³ on a 4 GB device: each tomogram is refused with the numbers, nothing allocated, the page stays usable', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.addInitScript(() => Object.defineProperty(Navigator.prototype, 'deviceMemory', { get: () => 4, configurable: true }));
  await page.goto('./?v=1&demo=motors&backend=wasm&inputSize=1400,1400,1400');
  await page.waitForFunction(() => window.__voxelbenchMotors !== undefined);
  // the link's run is refused up front: every tomogram's row has the refusal, none ran
  await page.waitForFunction(
    () => {
      const s = window.__voxelbenchMotors!.store.getState();
      return s.items.length === 4 && s.items.every((t) => t.status === 'error');
    },
    null,
    { timeout: 120_000 },
  );
  const rows = await page.evaluate(() => window.__voxelbenchMotors!.store.getState().items.map((t) => ({ status: t.status, error: t.error ?? '', result: t.result !== undefined })));
  for (const r of rows) {
    expect(r.result).toBe(false);
    expect(r.error).toMatch(/^This run would need about \d+\.\d+ GB \(.*resized 5\.49 GB.*\): .*more than this device's memory \(navigator\.deviceMemory: 4 GB\)/);
    expect(r.error).toMatch(/Use a smaller input size \(\d+×\d+×\d+ fits\)/);
    expect(r.error).toContain('voxelbench run motors');
  }
  expect(errors.filter((e) => /Array buffer allocation failed/i.test(e))).toEqual([]);
  // still usable: the rows say it where the user looks, and the run button is there for values that fit
  await expect(page.getByTestId('queue-error-tomo_sim_001')).toContainText('This run would need about');
  await expect(page.getByTestId('motor-run')).toBeEnabled();
  const batch = await page.evaluate(() => window.__voxelbenchMotors!.store.getState().batch.status);
  expect(batch).not.toBe('running');
});
