/**
 * Faults lose nothing: a worker that dies mid-run (or whose WebGPU device is lost) is noticed
 * within a second, replaced and given its models again; the page keeps its inputs and results and
 * re-runs the interrupted work with one click. And the memory guard: a run or a volume that this
 * browser cannot hold is refused before anything is replaced.
 */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import type { Page } from '@playwright/test';
import { expect, test, canvasPixels, fixture, maxAbsDiff, setNumber, trustOrigins } from './util';

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

  // Re-run from where the user looks: the run panel's button (enabled once the fresh worker has the model)
  await page.getByTestId('run-rerun').click();
  await expect.poll(() => runStatus(page), { timeout: 120_000 }).toBe('done');
  expect(maxAbsDiff(await resultData(page), normal)).toBe(0);
});

const MOTORS = 'public/samples/tomograms';

interface Tomo {
  id: string;
  status: string;
  error?: string;
  score?: number;
  point?: number[] | null;
}

function motors(page: Page): Promise<{ batch: string; currentId: string | null; items: Tomo[] }> {
  return page.evaluate(() => {
    const s = window.__voxelbenchMotors!.store.getState();
    return {
      batch: s.batch.status,
      currentId: s.currentId,
      items: s.items.map((t) => ({ id: t.id, status: t.status, error: t.error, score: t.result?.score, point: t.result?.point ? Array.from(t.result.point) : null })),
    };
  });
}

test('kit page (motors): the worker dies mid-batch; finished tomograms keep their results, the interrupted one is marked and re-runs with one click', async ({ page }) => {
  await page.goto('./?preset=motors');
  await page.waitForFunction(() => window.__voxelbenchMotors !== undefined && window.__voxelbench !== undefined);
  await page.getByTestId('tomogram-folder-input').setInputFiles(`${MOTORS}/tomo_sim_001`);
  await page.getByTestId('tomogram-folder-input').setInputFiles(`${MOTORS}/tomo_sim_002`);
  await page.getByTestId('tomogram-folder-input').setInputFiles(`${MOTORS}/tomo_sim_003`);
  await page.getByTestId('motor-model-input').setInputFiles(['public/models/motor_heatmap.onnx', 'public/models/motor_heatmap.json']);
  await expect(page.getByTestId('motor-model-motor_heatmap.onnx')).toBeVisible();
  await page.getByTestId('motor-backend').selectOption('wasm');
  await page.getByTestId('motor-run').click();
  await expect.poll(async () => (await motors(page)).batch, { timeout: 300_000 }).toBe('done');
  const normal = await motors(page);
  expect(normal.items.length).toBe(3);
  expect(normal.items.every((t) => t.status === 'done')).toBe(true);

  // again, killed once the first tomogram is done
  await page.getByTestId('motor-run').click();
  await expect
    .poll(async () => {
      const s = await motors(page);
      return s.batch === 'running' && s.items[0].status === 'done' && s.currentId !== null && s.currentId !== s.items[0].id;
    }, { timeout: 300_000 })
    .toBe(true);
  const { killedAt, interrupted } = await page.evaluate(async () => {
    const store = window.__voxelbenchMotors!.store;
    const interrupted = store.getState().currentId;
    // killed as the browser would (the page learns it from the worker's lock)
    const killedAt = await window.__voxelbench!.crashWorker('terminate', store as never);
    return { killedAt, interrupted };
  });
  await expect.poll(() => notice(page), { timeout: 10_000 }).not.toBeNull();
  const n = (await notice(page))!;
  expect(n.time - killedAt).toBeLessThan(1000);
  expect(n.text).toMatch(/The inference worker stopped \(its thread ended\); a fresh one is loaded, your inputs and results are kept — Re-run tomo_sim_00/);
  const after = await motors(page);
  expect(after.batch).toBe('cancelled');
  // the finished one keeps its result; the interrupted one says so
  expect(after.items[0].status).toBe('done');
  expect(after.items[0].score).toBe(normal.items[0].score);
  const bad = after.items.find((t) => t.id === interrupted)!;
  expect(bad.status).toBe('error');
  expect(bad.error).toMatch(/interrupted: the inference worker stopped/);
  expect(n.button).toBe(`Re-run ${interrupted}`);

  // Re-run from where the user looks: the interrupted row's button (enabled once the fresh worker has the models)
  await page.getByTestId(`queue-rerun-${interrupted}`).click();
  await expect.poll(async () => (await motors(page)).batch, { timeout: 300_000 }).toBe('done');
  const again = await motors(page);
  for (const [i, t] of again.items.entries()) {
    expect(t.status).toBe('done');
    expect(t.score).toBeCloseTo(normal.items[i].score!, 6);
    expect(t.point).toEqual(normal.items[i].point);
  }
});

const REMOTE = 'https://vb-remote.example';

/** A gzip of a NIfTI header that declares 1024^3 float32 voxels, with 1 MiB of zeros behind it. */
function niftiBomb(): Buffer {
  const h = Buffer.alloc(352);
  h.writeInt32LE(348, 0);
  [3, 1024, 1024, 1024, 1, 1, 1, 1].forEach((d, i) => h.writeInt16LE(d, 40 + 2 * i));
  h.writeInt16LE(16, 70); // float32
  h.writeInt16LE(32, 72);
  [1, 1, 1, 1].forEach((v, i) => h.writeFloatLE(v, 76 + 4 * i));
  h.writeFloatLE(352, 108);
  h.write('n+1\0', 344, 'latin1');
  return gzipSync(Buffer.concat([h, Buffer.alloc(1 << 20)]));
}

test('memory guard: a link with roi 1000³ on a small volume is refused with the numbers, the page stays usable; a NIfTI bomb leaves the loaded volume and result', async ({ page }) => {
  await page.route(`${REMOTE}/**`, async (route) => {
    const file = route.request().url().endsWith('.onnx') ? fixture('models/tiny3d.onnx') : fixture('volumes/ball_int16.nii.gz');
    await route.fulfill({ body: readFileSync(file), headers: { 'Access-Control-Allow-Origin': '*', 'Cross-Origin-Resource-Policy': 'cross-origin', 'Content-Type': 'application/octet-stream' } });
  });
  await trustOrigins(page.context(), REMOTE);
  await openApp(page, `?v=1&preset=workbench&model=${REMOTE}/m/tiny3d.onnx&data=${REMOTE}/d/ball_int16.nii.gz&roi=1000,1000,1000&backend=wasm&intensity=div255`);
  await expect(page.getByTestId('model-name')).toContainText('tiny3d.onnx', { timeout: 60_000 });
  await expect(page.getByTestId('volume-name')).toContainText('ball_int16.nii.gz');
  const refusal = page.getByTestId('banner').getByText(/This run would need about/);
  await expect(refusal).toBeVisible({ timeout: 30_000 });
  const text = await refusal.innerText();
  expect(text).toMatch(/about [\d.]+ GB \(input .*windows .*model .*accumulators .*result .*\)/);
  expect(text).toMatch(/The roi 1000×1000×1000 is larger than the volume 12×20×16/);
  expect(text).toMatch(/voxelbench infer/);
  expect(await runStatus(page)).toBe('idle');
  expect(await page.evaluate(() => window.__voxelbench!.store.getState().runs)).toBe(0);

  // still usable: a roi that fits runs
  for (const a of ['d', 'h', 'w']) await setNumber(page, `roi-${a}`, 8);
  await page.getByTestId('run').click();
  await expect.poll(() => runStatus(page), { timeout: 120_000 }).toBe('done');
  const result = await resultData(page);
  expect(result.length).toBe(3 * 12 * 20 * 16);

  // a 1 kB .nii.gz that declares 4 GiB: refused before anything is replaced
  await page.getByTestId('volume-input').setInputFiles({ name: 'bomb.nii.gz', mimeType: 'application/gzip', buffer: niftiBomb() });
  await expect(page.getByTestId('banner').getByText(/Could not open bomb\.nii\.gz: .*1024 x 1024 x 1024 float32/)).toBeVisible();
  await expect(page.getByTestId('volume-name')).toContainText('ball_int16.nii.gz');
  expect(await page.evaluate(() => window.__voxelbench!.store.getState().volume?.fileName)).toBe('ball_int16.nii.gz');
  expect(maxAbsDiff(await resultData(page), result)).toBe(0);
});

/** The tiny model on the ball volume with roi 8³, run once on `backend`. */
async function tinyRun(page: Page, backend: 'wasm' | 'webgpu'): Promise<void> {
  await openApp(page);
  await page.getByTestId('volume-input').setInputFiles(fixture('volumes/ball_int16.nii.gz'));
  await page.getByTestId('model-input').setInputFiles(fixture('models/tiny3d.onnx'));
  await expect(page.getByTestId('model-name')).toContainText('tiny3d.onnx');
  await page.getByTestId('intensity').selectOption('div255');
  for (const a of ['d', 'h', 'w']) await setNumber(page, `roi-${a}`, 8);
  await page.getByTestId('backend').selectOption(backend);
  await page.getByTestId('run').click();
  await expect.poll(() => runStatus(page), { timeout: 120_000 }).toBe('done');
}

test('WebGPU: the device is destroyed after a run; the notice comes within 1 s and the next run gives the same output on a fresh device', async ({ page }) => {
  await tinyRun(page, 'webgpu');
  const backend = () => page.evaluate(() => window.__voxelbench!.store.getState().result?.run.backend);
  expect(await backend()).toBe('webgpu');
  const first = await resultData(page);

  const killedAt = await page.evaluate(() => window.__voxelbench!.crashWorker('device'));
  await expect.poll(() => notice(page), { timeout: 10_000 }).not.toBeNull();
  const n = (await notice(page))!;
  expect(n.time - killedAt).toBeLessThan(1000);
  expect(n.text).toMatch(/The inference worker stopped \(its WebGPU device was lost: destroyed.*\); a fresh one is loaded, your inputs and results are kept\./);
  expect(maxAbsDiff(await resultData(page), first)).toBe(0);

  // the model is loaded again in a fresh worker (a fresh device): the same run gives the same output
  await expect(page.getByTestId('run')).toBeEnabled({ timeout: 60_000 });
  await page.getByTestId('run').click();
  await expect.poll(() => page.evaluate(() => window.__voxelbench!.store.getState().runs), { timeout: 10_000 }).toBe(2);
  await expect.poll(() => runStatus(page), { timeout: 120_000 }).toBe('done');
  expect(await backend()).toBe('webgpu');
  expect(maxAbsDiff(await resultData(page), first)).toBe(0);
});

test('WebGL: the view loses its context and gets it back; it says so and redraws the volume and result from the store', async ({ page }) => {
  await tinyRun(page, 'wasm');
  await expect.poll(async () => (await canvasPixels(page)).colored, { timeout: 20_000 }).toBeGreaterThan(100);
  const shown = await canvasPixels(page);

  expect(await page.evaluate(() => window.__voxelbench!.loseWebGl(300))).toBe(true);
  await expect.poll(() => page.evaluate(() => window.__voxelbench!.store.getState().messages.some((m) => m.key === 'webgl' && /lost its WebGL context/.test(m.text)))).toBe(true);
  await expect.poll(() => page.evaluate(() => window.__voxelbench!.store.getState().messages.some((m) => m.key === 'webgl' && /got its WebGL context back/.test(m.text))), { timeout: 20_000 }).toBe(true);
  // drawn again: the grey volume and the coloured overlay
  await expect.poll(async () => (await canvasPixels(page)).colored, { timeout: 20_000 }).toBeGreaterThan(shown.colored * 0.9);
  expect((await canvasPixels(page)).sum).toBeGreaterThan(shown.sum * 0.9);
});
