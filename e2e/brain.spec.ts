/**
 * The "Brain MRI" preset page (WASM), one MeshNet run on the demo T1 (256³, 8 windows at the card's
 * roi 192): `?demo=brain-mri` runs with no clicks; the table's voxel counts are the core test's
 * pinned counts (tests/brain.preset.test.ts, onnxruntime-node); the tissue labels are drawn over
 * the T1 (pixels) and follow the view's toggle; tissue_volumes.csv is core's CSV of the page's rows;
 * the labels NIfTI has the input's shape and affine and the table's counts; a saved session opens
 * again with the same table, values and pixels, without running.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { parseCsvRows } from '../src/core/io/csv';
import { readNifti } from '../src/core/io/nifti';
import { labelCounts } from '../src/core/labels';
import { expect, test, canvasPixels, kitProgress, ROOT, stallAfter, untilSettled, frameGaps, viewerSettled } from './util';

/** tests/brain.preset.test.ts: MeshNet at roi 192, overlap 0.5, gaussian, on the demo T1 (background, white matter, grey matter). */
const PINNED = [15523633, 518557, 735026];
const NAMES = ['background', 'white matter', 'grey matter'];
const TMP = mkdtempSync(join(tmpdir(), 'vb-brain-'));

interface BrainSummary {
  batch: string;
  items: { id: string; status: string; error?: string; backend?: string; shape?: number[]; voxels?: number[]; windows?: number; wallMs?: number }[];
}

const summary = (page: Page): Promise<BrainSummary> =>
  page.evaluate(() => {
    const s = window.__voxelbenchBrain!.store.getState();
    return {
      batch: s.batch.status,
      items: s.items.map((t) => ({
        id: t.id,
        status: t.status,
        error: t.error,
        backend: t.backend,
        shape: t.row?.shape,
        voxels: t.row?.tissues.map((x) => x.voxels),
        windows: t.row?.windows,
      })),
    };
  });

/** The voxel counts the table shows, per label (the page's own text). */
async function tableVoxels(page: Page, id: string): Promise<number[]> {
  const out: number[] = [];
  for (let k = 0; k < 3; k++) out.push(Number((await page.getByTestId(`brain-row-${id}-${k}`).getByTestId('cell-voxels').innerText()).replace(/,/g, '')));
  return out;
}

const frames = (page: Page) => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

test('brain MRI: the demo link runs with no clicks; pinned tissue counts, the labels drawn, CSV and NIfTI in the input space; the session opens without running', async ({ page }) => {
  test.setTimeout(900_000);
  const t0 = Date.now();
  const lap = (what: string) => console.log(`${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  // axial: software GL draws a 256³ 3D render slowly
  await page.goto('./?demo=brain-mri&backend=wasm&slice=axial');
  await page.waitForFunction(() => window.__voxelbenchBrain !== undefined && window.__voxelbenchShare !== undefined, null, { timeout: 60_000 });
  // the T1 alone, while the model runs: grey, only the crosshair is coloured
  await page.waitForFunction(() => (window.__voxelbench?.nv.volumes.length ?? 0) > 0, null, { timeout: 120_000 });
  await expect.poll(async () => (await canvasPixels(page)).sum, { timeout: 60_000 }).toBeGreaterThan(0);
  const t1Only = await canvasPixels(page);
  lap('T1 shown');
  // measured: opening the demo's files (the model, the card and the T1) up to the T1 drawn
  const openMs = Date.now() - t0;
  await page.evaluate(() => window.__voxelbenchShare!.linkOpened());
  await untilSettled(() => summary(page), { done: (x) => x.batch === 'done', progress: () => kitProgress(page, '__voxelbenchBrain'), stallMs: stallAfter(undefined), what: 'brain demo run' });
  const done = await summary(page);
  console.log(`brain-mri demo: ${((Date.now() - t0) / 1000).toFixed(1)} s from load to result`);
  expect(done.items).toHaveLength(1);
  const [t1] = done.items;
  expect(t1.status, t1.error).toBe('done');
  expect(t1).toMatchObject({ id: 't1', backend: 'wasm', shape: [256, 256, 256], windows: 8 });
  expect(t1.voxels).toEqual(PINNED);
  expect(await page.evaluate(() => window.__voxelbenchShare!.runCount())).toBe(1);
  expect(await page.evaluate(() => window.__voxelbenchShare!.values())).toMatchObject({ backend: 'wasm', slice: 'axial', volume: 't1', roi: [192, 192, 192] });

  // the table: voxels and mL (1 mm voxels) per label, with the card's names
  expect(await tableVoxels(page, 't1')).toEqual(PINNED);
  for (let k = 0; k < 3; k++) {
    const row = page.getByTestId(`brain-row-t1-${k}`);
    await expect(row).toContainText(NAMES[k]);
    await expect(row.getByTestId('cell-ml')).toHaveText((PINNED[k] / 1000).toFixed(1));
  }
  await expect(page.getByTestId('brain-legend')).toHaveText(NAMES.join(''));
  // the label names: a list shown whole in its box; renamed there (Enter applies it) the legend follows at
  // once; a list too short is refused, the field marked and the names kept
  const names = page.getByRole('textbox', { name: 'label names' });
  await expect(names).toHaveValue(NAMES.join(', '));
  await names.fill('background, WM, GM');
  await names.press('Enter');
  await expect(page.getByTestId('brain-legend')).toHaveText('backgroundWMGM');
  await names.fill('background');
  await names.press('Enter');
  await expect(names).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByTestId('brain-legend')).toHaveText('backgroundWMGM');
  await names.fill(NAMES.join(','));
  await names.press('Enter');
  await expect(names).toHaveAttribute('aria-invalid', 'false');
  await expect(page.getByTestId('brain-legend')).toHaveText(NAMES.join(''));
  await expect(names).toHaveValue(NAMES.join(', '));

  lap('table');
  // the labels over the T1: many more coloured pixels than the T1 alone (each re-upload of the
  // 256³ overlay is slow on software GL, so it is not toggled here)
  await expect.poll(async () => (await canvasPixels(page)).colored, { timeout: 120_000 }).toBeGreaterThan(t1Only.colored + 5000);

  lap('pixels');
  // the page keeps answering while the labels are hidden and shown, their opacity moves and the slice layout changes: no frame waits 200 ms
  await viewerSettled(page);
  const gaps = await frameGaps(
    page,
    'brain view changes',
    [
      ['labels off', () => page.getByTestId('brain-show-labels').uncheck()],
      ['labels on', () => page.getByTestId('brain-show-labels').check()],
      ['opacity', () => page.getByTestId('brain-opacity').fill('0.5')],
      ['coronal', () => page.getByTestId('brain-slice-coronal').click()],
      ['axial', () => page.getByTestId('brain-slice-axial').click()],
    ],
    () => viewerSettled(page),
  );
  for (const ms of Object.values(gaps)) expect(ms).toBeLessThan(200);
  lap('probe');

  // a click in the image reads the voxel there: its index, the T1's value and the tissue label, as the result has them
  const box = (await page.getByTestId('niivue-canvas').boundingBox())!;
  await page.mouse.click(box.x + box.width * 0.45, box.y + box.height * 0.4);
  const voxel = page.getByTestId('brain-readout-voxel');
  await expect(voxel).toBeVisible();
  const m = /^voxel \(i,j,k\) (\d+), (\d+), (\d+) value (\S+) (.+)$/.exec((await voxel.textContent())!.trim());
  expect(m, (await voxel.textContent()) ?? '').not.toBeNull();
  const [i, j, k] = [Number(m![1]), Number(m![2]), Number(m![3])];
  const at = await page.evaluate(
    ([idx]) => {
      const s = window.__voxelbenchBrain!.store.getState();
      const t = s.items[0];
      return { label: (t.result as { labels: Uint8Array }).labels[idx], value: (s.cache.get('t1') as { volume: { data: ArrayLike<number> } }).volume.data[idx] };
    },
    [(k * 256 + j) * 256 + i],
  );
  expect(Number(m![4])).toBe(at.value);
  expect(m![5]).toBe(NAMES[at.label]);
  // tissue_volumes.csv: exactly the page's CSV, with the pinned counts
  const [csvDl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('brain-download-0').click()]);
  expect(csvDl.suggestedFilename()).toBe('tissue_volumes.csv');
  const csv = readFileSync(await csvDl.path(), 'utf8');
  expect(csv).toBe(await page.evaluate(() => window.__voxelbenchBrain!.csv()));
  const lines = parseCsvRows(csv);
  expect(lines[0]).toEqual(['id', 'label', 'name', 'voxels', 'volume_ml', 'conformed_voxels', 'conformed_volume_ml']);
  expect(lines.slice(1).map((l) => [l[0], l[2], Number(l[3]), l[4]])).toEqual(PINNED.map((n, k) => ['t1', NAMES[k], n, (n / 1000).toFixed(3)]));

  // t1_labels.nii.gz: the input's shape and affine, uint8, the table's counts
  const input = readNifti(new Uint8Array(readFileSync(join(ROOT, 'public/demo/meshnet/t1.nii.gz'))), 't1.nii.gz');
  const [niiDl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('brain-download-item-0').click()]);
  expect(niiDl.suggestedFilename()).toBe('t1_labels.nii.gz');
  const labels = readNifti(new Uint8Array(readFileSync(await niiDl.path())), niiDl.suggestedFilename());
  expect(labels.shape).toEqual(input.shape);
  expect(labels.affine).toEqual(input.affine);
  expect(labels.spacing).toEqual(input.spacing);
  expect(labels.data).toBeInstanceOf(Uint8Array);
  expect(labelCounts(labels.data as Uint8Array, 3)).toEqual(PINNED);

  lap('downloads');
  // the session: saved, the page reloaded, opened again: the same table, values and pixels, nothing run
  const values = await page.evaluate(() => window.__voxelbenchShare!.values());
  await frames(page);
  const shot = await canvasPixels(page);
  await page.getByTestId('share-menu').click();
  const [sessionDl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('save-session').click()]);
  const file = join(TMP, 'brain.vbsession');
  await sessionDl.saveAs(file);
  lap('session saved');
  await page.goto('./?preset=brain');
  await page.waitForFunction(() => window.__voxelbenchBrain !== undefined && window.__voxelbenchShare !== undefined);
  await page.getByTestId('share-menu').click();
  await page.getByTestId('session-input').setInputFiles(file);
  // the session opens the same files again: a step may take as long as opening the demo did
  await untilSettled(() => summary(page), { done: (x) => x.items.length === 1 && x.items[0].status === 'done', progress: () => kitProgress(page, '__voxelbenchBrain'), stallMs: stallAfter(openMs, 3), what: 'brain session' });
  expect((await summary(page)).items.map((t) => t.status)).toEqual(['done']);
  lap('session opened');
  const restored = await summary(page);
  expect(restored.items[0].voxels).toEqual(PINNED);
  expect(restored.batch).toBe('done');
  expect(await page.evaluate(() => window.__voxelbenchShare!.runCount())).toBe(0);
  expect(await tableVoxels(page, 't1')).toEqual(PINNED);
  await expect.poll(() => page.evaluate(() => window.__voxelbenchShare!.values())).toEqual(values);
  await expect.poll(async () => (await canvasPixels(page)).colored, { timeout: 60_000 }).toBeGreaterThan(shot.colored * 0.95);
  expect(Math.abs((await canvasPixels(page)).colored - shot.colored)).toBeLessThan(shot.colored * 0.05);
  expect(await page.evaluate(() => window.__voxelbenchShare!.runCount())).toBe(0);
});

test('brain MRI: a CT in Hounsfield units is outside what the MeshNet card expects: one line with the numbers before any run', async ({ page }) => {
  await page.goto('./?preset=brain');
  await page.waitForFunction(() => window.__voxelbenchBrain !== undefined);
  // the card alone (no model needed to say it), then the small neck CT
  await page.getByTestId('brain-model-input').setInputFiles(join(ROOT, 'public/demo/meshnet/card.json'));
  await expect.poll(() => page.evaluate(() => window.__voxelbenchBrain!.store.getState().cards.map((c) => c.name))).toEqual(['card.json']);
  await page.getByTestId('brain-volume-input').setInputFiles(join(ROOT, 'public/samples/ct/sim_neck.nii.gz'));
  const line = 'sim_neck: outside what card.json expects: intensity -1024 to 700 (1st-99th percentile; expects >= 0); the results may not mean anything';
  await expect(page.getByTestId('brain-scope')).toHaveText(line);
  await expect(page.getByTestId('brain-queue')).toContainText(line);
  // said before any run: nothing has run
  expect(await page.evaluate(() => window.__voxelbenchBrain!.store.getState().batch.status)).toBe('idle');
});
