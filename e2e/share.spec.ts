/**
 * Sharing (issue 8) as a researcher uses it, with the service worker allowed:
 * - motors: the demo clicked through, settings and view changed, "Copy link"; with the network off
 *   the link opened in a new page (app, ONNX runtime and demo files from the service worker's
 *   cache) gives the same table, values, view and pixels; "Save session", reload, "Open session"
 *   gives them again without running anything;
 * - workbench: a link with model and data URLs (another origin, CORS) gives what opening the same
 *   files and settings by hand gives; opened again offline, the bytes come from Cache Storage;
 * - brain MRI (its run is the slow one, so once): the gallery on the landing page, the demo
 *   clicked through, its link, and its session opened without running;
 * - a page with a local file says that a link cannot carry it and offers a session file.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import type { BrowserContext, Page } from '@playwright/test';
import { decode as decodePng } from 'fast-png';
import * as ort from 'onnxruntime-node';
import { readNifti } from '../src/core/io/nifti';
import { argmaxCounts } from '../src/core/labels';
import { relaxSpatialDims } from '../src/core/onnx/model';
import { sessionPredictor } from '../src/core/ortPredictor';
import { slidingWindowInference } from '../src/core/slidingWindow';
import { ORT_FILES } from '../src/worker/ortFiles';
import { expect, test, fixture, frameGaps, kitProgress, ROOT, setNumber, stallAfter, trustOrigins, untilSettled, viewerSettled } from './util';
import { existsSync, readFileSync } from 'node:fs';

test.use({ serviceWorkers: 'allow', permissions: ['clipboard-read', 'clipboard-write'] });

const TMP = mkdtempSync(join(tmpdir(), 'vb-share-'));

/** Fraction of canvas pixels that differ by more than `tol` in any channel between two screenshots. */
function pixelDiff(a: Buffer, b: Buffer, tol = 24): number {
  const pa = decodePng(a);
  const pb = decodePng(b);
  if (pa.width !== pb.width || pa.height !== pb.height) {
    console.log(`screenshots differ in size: ${pa.width}x${pa.height} vs ${pb.width}x${pb.height}`);
    return 1;
  }
  const ca = pa.channels;
  let diff = 0;
  const n = pa.width * pa.height;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      if (Math.abs(Number(pa.data[i * ca + c]) - Number(pb.data[i * pb.channels + c])) > tol) {
        diff++;
        break;
      }
    }
  }
  return diff / n;
}

/** Coloured (non-gray) pixels of a screenshot: the overlay is drawn. */
function colouredPixels(png: Buffer): number {
  const p = decodePng(png);
  let n = 0;
  for (let i = 0; i < p.width * p.height; i++) {
    const [r, g, b] = [0, 1, 2].map((c) => Number(p.data[i * p.channels + c]));
    if (Math.max(r, g, b) - Math.min(r, g, b) > 40) n++;
  }
  return n;
}

async function settled(page: Page): Promise<Buffer> {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  return page.getByTestId('niivue-canvas').screenshot();
}

const shareState = (page: Page) =>
  page.evaluate(() => ({ values: window.__voxelbenchShare!.values(), scene: window.__voxelbenchShare!.scene(), runs: window.__voxelbenchShare!.runCount() }));

async function copyLink(page: Page): Promise<string> {
  await page.getByTestId('share-menu').click();
  await page.getByTestId('copy-link').click();
  await expect(page.getByTestId('link-copied')).toBeVisible();
  const shown = await page.getByTestId('share-link').inputValue();
  const clip = await page.evaluate(() => navigator.clipboard.readText());
  expect(clip).toBe(shown);
  await page.keyboard.press('Escape');
  return shown;
}

async function saveSession(page: Page, name: string): Promise<string> {
  await page.getByTestId('share-menu').click();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('save-session').click()]);
  expect(download.suggestedFilename()).toMatch(/^voxelbench-\w+-\d+\.vbsession$/);
  const path = join(TMP, name);
  await download.saveAs(path);
  return path;
}

/** The legend's text once its counts are in (they are computed between frames; '…' until then). */
async function legendText(page: Page): Promise<string> {
  await expect.poll(async () => (await page.getByTestId('legend').innerText()).includes('…'), { timeout: 60_000 }).toBe(false);
  return page.getByTestId('legend').innerText();
}

async function openSession(page: Page, path: string): Promise<void> {
  await page.getByTestId('share-menu').click();
  await page.getByTestId('session-input').setInputFiles(path);
}

// ---------------------------------------------------------------------------------------------
// motors

interface MotorsSummary {
  batch: string;
  selected: string | null;
  rows: { id: string; status: string; score?: number; point?: number[]; heatmapSum?: number }[];
}

const motorsSummary = (page: Page): Promise<MotorsSummary> =>
  page.evaluate(() => {
    const s = window.__voxelbenchMotors!.store.getState();
    return {
      batch: s.batch.status,
      selected: s.selected,
      rows: s.items.map((t) => ({
        id: t.id,
        status: t.status,
        score: t.result?.score,
        point: t.result?.point,
        heatmapSum: t.result ? t.result.heatmap.reduce((a, b) => a + b, 0) : undefined,
      })),
    };
  });

/** Until the batch is done, for as long as the page's own progress moves (stallMs: how long it may stand still). */
async function motorsDone(page: Page, stallMs = stallAfter(undefined)): Promise<MotorsSummary> {
  await page.waitForFunction(() => window.__voxelbenchMotors !== undefined);
  return untilSettled(() => motorsSummary(page), { done: (s) => s.batch === 'done', progress: () => kitProgress(page, '__voxelbenchMotors'), stallMs, what: 'motors batch' });
}

test('motors: demo link = clicking through, offline; changed settings and view travel by link; a session restores them without running', async ({ page, context }) => {
  const t0 = Date.now();
  await page.goto('./?preset=motors');
  await page.getByTestId('motor-backend').selectOption('wasm'); // headless WebGPU is SwiftShader: far slower
  await page.getByTestId('motors-demo-hero').click(); // the demo from the page's empty view (the header has no demo buttons)
  const clicked = await motorsDone(page);
  expect(clicked.rows.length).toBe(4);
  const tClick = (Date.now() - t0) / 1000;

  // change settings (quantile and floor apply live) and the view: tomogram, slice, zoom, crosshair, opacity
  await setNumber(page, 'param-quantile', 0.3);
  await page.getByTestId('motor-row-tomo_sim_003').click();
  await page.getByTestId('motor-slice-axial').click();
  await page.getByTestId('motor-heatmap-floor').fill('0.3');
  await page.getByLabel('heatmap opacity').fill('0.8');
  await page.evaluate(() => {
    const nv = window.__voxelbench!.nv;
    nv.scene.pan2Dxyzmm[3] = 1.6;
    nv.scene.crosshairPos[2] = 0.4;
    nv.drawScene();
  });
  const before = await shareState(page);
  expect(before.values).toMatchObject({ quantile: 0.3, tomo: 'tomo_sim_003', slice: 'axial', floor: 0.3, opacity: 0.8, backend: 'wasm' });
  expect(before.scene.zoom).toBe(1.6);
  const table = await page.getByTestId('motor-table').innerText();
  const shot = await settled(page);

  const link = await copyLink(page);
  expect(link).toMatch(/\?v=1&demo=motors&/);
  for (const part of ['quantile=0.3', 'backend=wasm', 'tomo=tomo_sim_003', 'slice=axial', 'opacity=0.8', 'floor=0.3', 'zoom=1.6', 'xyz=']) expect(link).toContain(part);
  expect(link).not.toContain('roi='); // defaults (the demo card's values) are left out

  // keep what this first visit loaded, then go offline
  const cached = await page.evaluate(() => window.__voxelbenchShare!.cacheLoaded());
  expect(cached.failed).toBe(0);
  expect(cached.cached).toBeGreaterThan(250); // app, runtime, model, 4 x 64 slices
  // the app's shell holds its own files once: no index.html under an asset's name (an SPA fallback
  // followed from a wrongly resolved reference), no second copy of onnxruntime's WebAssembly
  const shell = await page.evaluate(async () => {
    const cache = await caches.open('voxelbench-shell-v1');
    const out: { path: string; type: string; bytes: number }[] = [];
    for (const req of await cache.keys()) {
      const res = (await cache.match(req))!;
      out.push({ path: new URL(req.url).pathname, type: res.headers.get('Content-Type') ?? '', bytes: (await res.arrayBuffer()).byteLength });
    }
    return out;
  });
  expect(shell.filter((e) => e.path !== '/' && e.type.includes('text/html'))).toEqual([]);
  expect(shell.filter((e) => e.path.startsWith('/ort/')).map((e) => e.path).sort()).toEqual(
    ORT_FILES.map((f) => `/ort/${f}`).sort(),
  );
  expect(shell.filter((e) => e.path.startsWith('/assets/') && e.path.endsWith('.wasm') && e.bytes > 1e6)).toEqual([]);
  await context.setOffline(true);

  // the link in a new page, offline: same results, values, view and pixels
  const t1 = Date.now();
  const b = await context.newPage();
  await b.goto(link);
  // measured: no step of the link's run (load, read, run) takes longer than the whole click-through did
  const stall = stallAfter(tClick * 1000, 2);
  const viaLink = await motorsDone(b, stall);
  await b.evaluate(() => window.__voxelbenchShare!.linkOpened());
  const tLink = (Date.now() - t1) / 1000;
  expect(await b.evaluate(() => fetch(`samples/not-cached-${Date.now()}.bin`).then((r) => `HTTP ${r.status}`, () => 'failed'))).toBe('failed');
  expect(viaLink.rows).toEqual(clicked.rows);
  expect(viaLink.selected).toBe('tomo_sim_003');
  const after = await shareState(b);
  expect(after.values).toEqual(before.values);
  expect(after.scene).toEqual(before.scene);
  expect(after.runs).toBe(1);
  expect(await b.getByTestId('motor-table').innerText()).toBe(table);
  const shotB = await settled(b);
  const d = pixelDiff(shot, shotB);
  console.log(`motors: click-through run ${tClick.toFixed(1)} s, offline link ${tLink.toFixed(1)} s, canvas pixels differing ${(100 * d).toFixed(3)} %`);
  expect(d).toBeLessThan(0.005);
  expect(colouredPixels(shotB)).toBeGreaterThan(50);

  // session: save, reload (still offline), open: the same without running
  const file = await saveSession(b, 'motors.vbsession');
  await b.goto('./?preset=motors');
  await b.waitForFunction(() => window.__voxelbenchShare !== undefined && window.__voxelbenchMotors !== undefined);
  await openSession(b, file);
  await untilSettled(() => motorsSummary(b), { done: (s) => s.rows.length === 4 && s.rows.every((r) => r.status === 'done'), progress: () => kitProgress(b, '__voxelbenchMotors'), stallMs: stall, what: 'motors session' });
  await expect(b.getByTestId('motor-row-tomo_sim_004')).toBeVisible();
  await expect.poll(async () => (await shareState(b)).values).toEqual(before.values);
  const restored = await motorsSummary(b);
  expect(restored.rows).toEqual(clicked.rows);
  expect(restored.batch).toBe('done');
  expect((await shareState(b)).runs).toBe(0); // nothing ran
  await expect.poll(async () => (await shareState(b)).scene).toEqual(before.scene);
  expect(await b.getByTestId('motor-table').innerText()).toBe(table);
  // the restored page can be shared again (its inputs are the demo's)
  expect(await b.evaluate(() => window.__voxelbenchShare!.link().url)).toBe(link);
  await expect.poll(async () => pixelDiff(shot, await settled(b)), { timeout: 10_000 }).toBeLessThan(0.005);
  await context.setOffline(false);
});

// ---------------------------------------------------------------------------------------------
// workbench

interface WorkbenchSummary {
  status: string;
  shape: number[];
  outputSum: number;
  counts: number[];
}

const workbenchSummary = (page: Page): Promise<WorkbenchSummary> =>
  page.evaluate(() => {
    const s = window.__voxelbench!.store.getState();
    const r = s.result;
    const counts: number[] = [];
    if (r) {
      const n = r.onInput.length / r.channels;
      for (let i = 0; i < n; i++) {
        let best = 0;
        if (r.channels === 1) best = r.onInput[i] > s.view.threshold ? 1 : 0;
        else for (let c = 1; c < r.channels; c++) if (r.onInput[c * n + i] > r.onInput[best * n + i]) best = c;
        counts[best] = (counts[best] ?? 0) + 1;
      }
    }
    return { status: s.runState.status, shape: r?.run.shape ?? [], outputSum: r ? r.run.data.reduce((a, b) => a + b, 0) : 0, counts };
  });

async function workbenchDone(page: Page, timeout = 240_000): Promise<WorkbenchSummary> {
  await page.waitForFunction(() => window.__voxelbench !== undefined);
  await expect.poll(async () => (await workbenchSummary(page)).status, { timeout }).toMatch(/done|error/);
  return workbenchSummary(page);
}

const REMOTE = 'https://vb-remote.example';

test('workbench: a link with model and data URLs = the same files opened by hand; opened again offline from the cache', async ({ page, context }) => {
  const served: string[] = [];
  await trustOrigins(context, REMOTE);
  await context.route(`${REMOTE}/**`, async (route) => {
    const url = route.request().url();
    served.push(url);
    const file = url.endsWith('.onnx') ? fixture('models/tiny3d.onnx') : fixture('volumes/ball_int16.nii.gz');
    await route.fulfill({ body: readFileSync(file), headers: { 'Access-Control-Allow-Origin': '*', 'Cross-Origin-Resource-Policy': 'cross-origin', 'Content-Type': 'application/octet-stream' } });
  });
  // by hand: open the files, set the values, run, then the view
  await page.goto('./');
  await page.getByTestId('volume-input').setInputFiles(fixture('volumes/ball_int16.nii.gz'));
  await page.getByTestId('model-input').setInputFiles(fixture('models/tiny3d.onnx'));
  await expect(page.getByTestId('model-name')).toContainText('tiny3d.onnx');
  await page.getByTestId('intensity').selectOption('div255');
  for (const a of ['d', 'h', 'w']) await setNumber(page, `roi-${a}`, 8);
  await page.getByTestId('backend').selectOption('wasm');
  await page.getByTestId('run').click();
  const byHand = await workbenchDone(page);
  expect(byHand.status).toBe('done');
  await page.getByTestId('slice-axial').click();
  await page.getByTestId('overlay-opacity').fill('0.4');
  const handValues = (await shareState(page)).values;
  const shot = await settled(page);
  const legend = await legendText(page);

  // the link a colleague would get for the same files on the web
  const link = `./?v=1&preset=workbench&model=${REMOTE}/m/tiny3d.onnx&data=${REMOTE}/d/ball_int16.nii.gz&roi=8,8,8&backend=wasm&intensity=div255&opacity=0.4&slice=axial`;
  const w = await context.newPage();
  await w.goto(link);
  const viaLink = await workbenchDone(w);
  await w.evaluate(() => window.__voxelbenchShare!.linkOpened());
  expect(served.length).toBe(2);
  expect(viaLink).toEqual(byHand);
  expect((await shareState(w)).values).toEqual(handValues);
  await expect.poll(() => legendText(w)).toBe(legend);
  expect(pixelDiff(shot, await settled(w))).toBeLessThan(0.005);
  // its own link names the URLs and the same values
  const copied = await copyLink(w);
  expect(copied).toContain(`model=${REMOTE}/m/tiny3d.onnx&data=${REMOTE}/d/ball_int16.nii.gz`);
  for (const part of ['preset=workbench', 'roi=8,8,8', 'backend=wasm', 'intensity=div255', 'opacity=0.4', 'slice=axial']) expect(copied).toContain(part);
  await w.getByTestId('share-menu').click();
  await expect(w.getByTestId('cache-size')).toHaveText(/\d+(\.\d)? (kB|MB) in \d+ files/);
  await w.keyboard.press('Escape');

  // offline: the app from the service worker, the model and volume from Cache Storage
  expect((await w.evaluate(() => window.__voxelbenchShare!.cacheLoaded())).failed).toBe(0);
  await context.setOffline(true);
  const o = await context.newPage();
  await o.goto(copied);
  const offline = await workbenchDone(o);
  await o.evaluate(() => window.__voxelbenchShare!.linkOpened());
  expect(served.length).toBe(2); // nothing fetched again
  expect(offline).toEqual(byHand);
  expect((await shareState(o)).values).toEqual(handValues);
  expect((await shareState(o)).scene).toEqual((await shareState(w)).scene);
  expect(pixelDiff(shot, await settled(o))).toBeLessThan(0.005);
  // Clear empties the cache
  await o.getByTestId('share-menu').click();
  await o.getByTestId('clear-cache').click();
  await expect(o.getByTestId('cache-size')).toHaveText('0 kB in 0 files');
  await context.setOffline(false);
});

// ---------------------------------------------------------------------------------------------
// brain MRI (workbench demo)

test('brain MRI: gallery landing page; the demo clicked through runs on WASM (counts within 1 % of the whole-volume run), gives its link, keeps answering while the view changes; its session opens without running', async ({ page }) => {
  await page.goto('./');
  await expect(page.getByTestId('gallery')).toBeVisible();
  for (const name of ['brain', 'motors']) {
    const card = page.getByTestId(`gallery-${name}`);
    await expect(card).toHaveAttribute('href', `./?demo=${name}`);
    await expect.poll(() => card.locator('img').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(100);
  }
  const t0 = Date.now();
  await page.getByTestId('backend').selectOption('wasm');
  await page.getByTestId('try-demo-hero').click(); // the landing page's demo button (the header has no demo buttons)
  const clicked = await workbenchDone(page, 600_000);
  console.log(`brain: click-through run ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  expect(clicked.status).toBe('done');
  expect(clicked.counts.length).toBe(3);
  // on WASM, and the grey/white matter counts of the tiled run within 1 % of the same model on the
  // whole volume (no tiling) in onnxruntime-node
  const t1 = readNifti(new Uint8Array(readFileSync(`${ROOT}/public/demo/meshnet/t1.nii.gz`)), 't1');
  const session = await ort.InferenceSession.create(relaxSpatialDims(new Uint8Array(readFileSync(`${ROOT}/public/demo/meshnet/model.onnx`))));
  const predictor = sessionPredictor(session, (d, dims) => new ort.Tensor('float32', d, dims), 'input', 'output');
  const whole = await slidingWindowInference({ data: t1.data, shape: [1, ...t1.shape], scale: 1 / 255 }, predictor, { roi: [-1, -1, -1], overlap: 0, mode: 'constant', sigmaScale: 0.125, swBatch: 1, cval: 0 });
  const ref = argmaxCounts(whole.data, whole.shape);
  await session.release();
  const run = await page.evaluate(() => {
    const { data, shape, backend } = window.__voxelbench!.store.getState().result!.run;
    const n = data.length / shape[0];
    const c = new Array(shape[0]).fill(0);
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let k = 1; k < shape[0]; k++) if (data[k * n + i] > data[best * n + i]) best = k;
      c[best]++;
    }
    return { counts: c, backend };
  });
  expect(run.backend).toBe('wasm');
  for (const k of [1, 2]) expect(Math.abs(run.counts[k] - ref[k]) / ref[k]).toBeLessThan(0.01);
  await expect(page.getByTestId('legend')).toContainText(/grey matter/i);
  await expect(page.getByTestId('legend')).toContainText(/white matter/i);
  await page.getByTestId('slice-axial').click();
  const legend = await legendText(page);
  const shot = await settled(page);
  const link = await copyLink(page);
  // the card's values (roi 192, overlap 0.5, min-max, relaxed dims) are the demo's and the
  // crosshair is still in the centre (xyz=0.5,0.5,0.5, zoom 1): all left out
  expect(link).toMatch(/\/\?v=1&demo=brain&backend=wasm&slice=axial$/);
  const state = await shareState(page);

  const file = await saveSession(page, 'brain.vbsession');

  // the page keeps answering while the view changes: a typed window, a click on the slices, the
  // overlay switched to a channel's heatmap, another channel, back to the labels (no frame waits 200 ms)
  await expect.poll(() => page.evaluate(() => window.__voxelbench!.viewer.info().overlay), { timeout: 120_000 }).toBe('labels');
  await viewerSettled(page);
  const box = (await page.getByTestId('niivue-canvas').boundingBox())!;
  const gaps = await frameGaps(
    page,
    'demo view changes',
    [
      ['window', () => setNumber(page, 'window-max', 150)],
      ['click', () => page.mouse.click(box.x + box.width * 0.3, box.y + box.height * 0.4)],
      ['heatmap', () => page.getByTestId('overlay-heatmap').click()],
      ['channel', () => page.getByTestId('overlay-channel').selectOption('2')],
      ['labels', () => page.getByTestId('overlay-labels').click()],
    ],
    () => viewerSettled(page),
  );
  expect(await page.evaluate(() => window.__voxelbench!.viewer.info())).toMatchObject({ overlay: 'labels', base: true });
  for (const ms of Object.values(gaps)) expect(ms).toBeLessThan(200);

  await page.reload();
  await page.waitForFunction(() => window.__voxelbenchShare !== undefined);
  await openSession(page, file);
  await expect(page.getByTestId('legend')).toBeVisible({ timeout: 120_000 }); // the model is parsed and loaded again
  const restored = await workbenchSummary(page);
  expect(restored).toEqual(clicked);
  expect((await shareState(page)).runs).toBe(0);
  await expect.poll(async () => (await shareState(page)).values).toEqual(state.values);
  await expect.poll(async () => (await shareState(page)).scene).toEqual(state.scene);
  await expect.poll(() => legendText(page)).toBe(legend);
  await expect.poll(async () => pixelDiff(shot, await settled(page)), { timeout: 10_000 }).toBeLessThan(0.005);
  expect(await page.evaluate(() => window.__voxelbenchShare!.link().url)).toBe(link);
});

test('a dropped local file cannot go into a link: the page says so and offers a session file; bad link values are named', async ({ page }) => {
  await page.goto('./?v=1&preset=workbench&roi=64,x,64&colour=red');
  await expect(page.getByText('roi: expected a number, got "x"; the default 96,96,96 is used.').first()).toBeVisible();
  await expect(page.getByText('Unknown setting "colour" in the link; ignored.').first()).toBeVisible();
  await page.getByTestId('volume-input').setInputFiles(join(ROOT, 'public/demo/meshnet/t1.nii.gz'));
  await expect(page.getByTestId('share-menu')).toBeEnabled();
  await page.getByTestId('share-menu').click();
  await page.getByTestId('copy-link').click();
  await expect(page.getByTestId('share-problem')).toContainText('t1.nii.gz was opened from this computer: a link cannot carry local files. Save a session file instead');
  await expect(page.getByTestId('share-link')).toHaveCount(0);
  await expect(page.getByTestId('save-session')).toHaveClass(/primary/);
  await expect(page.getByTestId('cache-size')).toHaveText(/\d+(\.\d)? (kB|MB|GB) in \d+ files/);
});

// ---------------------------------------------------------------------------------------------
// spine, EEG, protein: the demo clicked through = its link opened in a new page

type DemoName = 'spine' | 'eeg' | 'protein';
const DEMO_PAGES: Record<DemoName, { table: string; canvas: string }> = {
  spine: { table: 'spine-table', canvas: 'niivue-canvas' },
  eeg: { table: 'eeg-table', canvas: 'eeg-canvas' },
  protein: { table: 'protein-all-table', canvas: 'protein-canvas' },
};

/** The page's batch status (spine, EEG or protein store). */
const batchStatus = (page: Page, name: DemoName): Promise<string | null> =>
  page.evaluate((n) => {
    const st = n === 'spine' ? window.__voxelbenchSpine?.store.getState() : n === 'eeg' ? window.__voxelbenchEeg?.store.getState() : window.__voxelbenchProtein?.store.getState();
    return st ? st.batch.status : null;
  }, name);

async function demoResult(page: Page, name: DemoName): Promise<{ table: string; shot: Buffer }> {
  await expect.poll(() => batchStatus(page, name), { timeout: 120_000 }).toBe('done');
  const table = page.getByTestId(DEMO_PAGES[name].table);
  await expect(table).toBeVisible();
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  // run times differ between runs: left out
  const text = (await table.innerText()).replace(/\b\d+(\.\d+)? (s|ms)\b/g, '<time>');
  return { table: text, shot: await page.getByTestId(DEMO_PAGES[name].canvas).screenshot() };
}

for (const name of ['spine', 'eeg', 'protein'] as const) {
  test(`${name}: the demo clicked through = its ?demo=${name} link in a new page (result table and view pixels)`, async ({ page, context }) => {
    const t0 = Date.now();
    await page.goto(`./?preset=${name}&backend=wasm`); // headless WebGPU is SwiftShader: far slower
    await page.waitForFunction(() => window.__voxelbenchShare !== undefined);
    await page.getByTestId(`${name}-demo-hero`).click(); // the demo from the page's empty view
    const clicked = await demoResult(page, name);
    const tClick = (Date.now() - t0) / 1000;
    const link = await copyLink(page);
    expect(link).toMatch(new RegExp(`\\?v=1&demo=${name}&`));
    expect(link).toContain('backend=wasm');

    const t1 = Date.now();
    const b = await context.newPage();
    await b.goto(link);
    await b.waitForFunction(() => window.__voxelbenchShare !== undefined);
    const viaLink = await demoResult(b, name);
    await b.evaluate(() => window.__voxelbenchShare!.linkOpened());
    const tLink = (Date.now() - t1) / 1000;
    expect(viaLink.table).toBe(clicked.table);
    expect((await shareState(b)).values).toEqual((await shareState(page)).values);
    await b.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const shotB = await b.getByTestId(DEMO_PAGES[name].canvas).screenshot();
    const d = pixelDiff(clicked.shot, shotB);
    console.log(`${name}: click-through ${tClick.toFixed(1)} s, link ${tLink.toFixed(1)} s, view pixels differing ${(100 * d).toFixed(3)} %`);
    expect(d).toBeLessThan(0.005);
  });
}

// ---------------------------------------------------------------------------------------------
// spine, protein: links with model, data and labels URLs (another origin, CORS) = the demo

const FILES = 'https://vb-files.example';

/** Serves public/<path> at FILES/<path> (another origin, with CORS); returns the paths served. */
async function serveFromPublic(context: BrowserContext): Promise<string[]> {
  const served: string[] = [];
  await trustOrigins(context, FILES);
  await context.route(`${FILES}/**`, async (route) => {
    const path = new URL(route.request().url()).pathname.slice(1);
    served.push(path);
    const file = join(ROOT, 'public', path);
    const headers = { 'Access-Control-Allow-Origin': '*', 'Cross-Origin-Resource-Policy': 'cross-origin', 'Content-Type': 'application/octet-stream' };
    await route.fulfill(existsSync(file) ? { body: readFileSync(file), headers } : { status: 404, body: 'not found', headers });
  });
  return served;
}

/** What a link names, from its readable or compact (`z=`: deflated JSON) form. */
function linkParts(link: string): { preset?: string; model: string[]; data: string[]; labels?: string; values: Record<string, unknown> } {
  const q = new URL(link).searchParams;
  const z = q.get('z');
  if (z) return JSON.parse(inflateRawSync(Buffer.from(z, 'base64url')).toString('utf8')) as ReturnType<typeof linkParts>;
  const values = Object.fromEntries([...q].filter(([k]) => !['v', 'preset', 'demo', 'model', 'data', 'labels'].includes(k)));
  return { preset: q.get('preset') ?? undefined, model: q.getAll('model'), data: q.getAll('data'), labels: q.get('labels') ?? undefined, values };
}

const URL_LINKS: Record<'spine' | 'protein', { models: string[]; data: string[]; labels: string }> = {
  spine: {
    models: ['models/spine_seg.onnx', 'models/spine_fracture.onnx', 'models/spine_seg.json', 'models/spine_fracture.json'],
    data: (JSON.parse(readFileSync(join(ROOT, 'public/samples/ct/series.json'), 'utf8')) as { sim_neck: { files: string[] } }).sim_neck.files.map((f) => `samples/ct/sim_neck/${f}`),
    labels: 'samples/ct/sim_neck_labels.csv',
  },
  protein: {
    models: ['models/protein_localisation.onnx', 'models/protein_localisation.json'],
    data: ['sim_protein_001', 'sim_protein_002'].flatMap((id) => ['red', 'green', 'blue', 'yellow', 'cells'].map((c) => `samples/protein/${id}_${c}.png`)),
    labels: 'samples/protein/cell_labels.csv',
  },
};

for (const name of ['spine', 'protein'] as const) {
  test(`${name}: a link with model, data and labels URLs (another origin) = the ?demo=${name} link; its own link names the URLs`, async ({ page, context }) => {
    const served = await serveFromPublic(context);
    const t0 = Date.now();
    await page.goto(`./?v=1&demo=${name}&backend=wasm`);
    await page.waitForFunction(() => window.__voxelbenchShare !== undefined);
    const demo = await demoResult(page, name);
    await page.evaluate(() => window.__voxelbenchShare!.linkOpened());
    const tDemo = (Date.now() - t0) / 1000;
    const demoValues = (await shareState(page)).values;

    const u = URL_LINKS[name];
    const query = [...u.models.map((p) => `model=${FILES}/${p}`), ...u.data.map((p) => `data=${FILES}/${p}`), `labels=${FILES}/${u.labels}`].join('&');
    const t1 = Date.now();
    const b = await context.newPage();
    await b.goto(`./?v=1&preset=${name}&${query}&backend=wasm`);
    await b.waitForFunction(() => window.__voxelbenchShare !== undefined);
    const viaUrls = await demoResult(b, name);
    await b.evaluate(() => window.__voxelbenchShare!.linkOpened());
    const tUrls = (Date.now() - t1) / 1000;
    expect(served.length).toBe(u.models.length + u.data.length + 1);
    expect(viaUrls.table).toBe(demo.table);
    expect((await shareState(b)).values).toEqual(demoValues);
    await b.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const d = pixelDiff(demo.shot, await b.getByTestId(DEMO_PAGES[name].canvas).screenshot());
    console.log(`${name}: ?demo link ${tDemo.toFixed(1)} s, URL link ${tUrls.toFixed(1)} s (${served.length} files), view pixels differing ${(100 * d).toFixed(3)} %`);
    expect(d).toBeLessThan(0.005);
    // Copy link on that page: the same URLs (models seg before cls, then the cards), labels and values
    const copied = linkParts(await copyLink(b));
    expect(copied.preset).toBe(name);
    expect(copied.model).toEqual(u.models.map((p) => `${FILES}/${p}`));
    expect(copied.data).toEqual(u.data.map((p) => `${FILES}/${p}`));
    expect(copied.labels).toBe(`${FILES}/${u.labels}`);
    expect(copied.values.backend).toBe('wasm');
  });
}

test('protein: a link URL that fails is named in a message and nothing runs', async ({ page, context }) => {
  const served = await serveFromPublic(context);
  await page.goto(`./?v=1&preset=protein&model=${FILES}/models/protein_localisation.onnx&data=${FILES}/samples/protein/missing_red.png&backend=wasm`);
  await expect(page.getByText(`Could not open the link's file: ${FILES}/samples/protein/missing_red.png`).first()).toBeVisible();
  expect(served).toContain('models/protein_localisation.onnx');
  expect(await page.evaluate(() => window.__voxelbenchShare!.runCount())).toBe(0);
});
