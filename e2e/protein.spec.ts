/**
 * The "Protein localisation" preset as a user drives it: the two sample RGBY sets with their cell
 * masks dropped on the page, the demo model and card, a WASM run; probabilities vs PyTorch (the card
 * and logits.npy) and vs onnxruntime-node within 1e-4; the canvas pixels (composite + CAM overlay +
 * cell outlines) vs the same drawing computed here; the per-cell table; cells.csv vs Node. Then the
 * tiny model on WebGPU = WASM = PyTorch within 1e-4, bad inputs with their own messages while the
 * rest runs, and ?demo=protein running without clicks.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import * as ort from 'onnxruntime-node';
import { encode as encodePng } from 'fast-png';
import { readNpy } from '../src/core/io/npy';
import { sessionOutputsPredictor } from '../src/core/ortPredictor';
import { proteinParamsFromCard, proteinPreset } from '../src/core/presets/protein';
import { camAtImage } from '../src/core/protein/cells';
import { groupProteinFiles, readFovFiles } from '../src/core/protein/images';
import { cellRows, cellsCsv, runProteinFov, type ProteinFovResult } from '../src/core/protein/pipeline';
import { channelMax, initialView, renderFov } from '../src/ui/protein/render';
import { expect, test, canvasPixels as pixelMeasure, frameGaps, maxAbsDiff, ROOT } from './util';

const SAMPLES = join(ROOT, 'public/samples/protein');
const MODEL = join(ROOT, 'public/models/protein_localisation.onnx');
const CARD = join(ROOT, 'public/models/protein_localisation.json');
const FIX = join(ROOT, 'tests/fixtures/protein');
const IDS = ['sim_protein_001', 'sim_protein_002'];
const CH = ['red', 'green', 'blue', 'yellow'];
const card = JSON.parse(readFileSync(CARD, 'utf8'));
const params = proteinParamsFromCard(card, proteinPreset);

interface FovView {
  id: string;
  status: string;
  error?: string;
  probabilities?: number[];
  logits?: number[];
  backend?: string;
  cells?: { id: number; labels: { cls: number; confidence: number }[] }[];
  camSource?: string;
}

function proteinState(page: Page): Promise<{ batch: string; fovs: FovView[] }> {
  return page.evaluate(() => {
    const s = window.__voxelbenchProtein!.store.getState();
    return {
      batch: s.batch.status,
      fovs: s.items.map((f) => ({
        id: f.id,
        status: f.status,
        error: f.error,
        probabilities: f.result ? Array.from(f.result.probabilities) : undefined,
        logits: f.result ? Array.from(f.result.logits) : undefined,
        backend: f.backend,
        cells: f.result?.cellResults.map((c) => ({ id: c.id, labels: c.labels.map((l) => ({ cls: l.cls, confidence: l.confidence })) })),
        camSource: f.result?.camSource,
      })),
    };
  });
}

async function openProtein(page: Page, query = 'preset=protein'): Promise<void> {
  await page.goto(`./?${query}`);
  await page.waitForFunction(() => window.__voxelbenchProtein !== undefined);
}

/** Drops files on the page as a user would (a DataTransfer with File objects, dispatched as a drop). */
async function dropFiles(page: Page, files: { name: string; bytes: Uint8Array }[]): Promise<void> {
  const payload = files.map((f) => ({ name: f.name, data: Array.from(f.bytes) }));
  await page.evaluate((list) => {
    const dt = new DataTransfer();
    for (const f of list) dt.items.add(new File([new Uint8Array(f.data)], f.name));
    window.dispatchEvent(new DragEvent('dragenter', { dataTransfer: dt, bubbles: true }));
    window.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, payload);
}

const sampleFiles = (ids = IDS) => ids.flatMap((id) => [...CH, 'cells'].map((c) => ({ name: `${id}_${c}.png`, bytes: new Uint8Array(readFileSync(join(SAMPLES, `${id}_${c}.png`))) })));

async function runAndWait(page: Page, timeout = 180_000) {
  await page.getByTestId('protein-run').click();
  await expect.poll(async () => (await proteinState(page)).batch, { timeout }).toMatch(/done|cancelled|error/);
  return proteinState(page);
}

/** The same run in Node with onnxruntime-node. */
async function nodeRun(modelPath: string, ids = IDS): Promise<Map<string, ProteinFovResult & { fovChannels: Uint8Array[] | Uint16Array[] }>> {
  const session = await ort.InferenceSession.create(readFileSync(modelPath));
  const model = { name: 'm', outputs: sessionOutputsPredictor(session, (d, dims) => new ort.Tensor('float32', d, dims), session.inputNames[0]) };
  const out = new Map();
  for (const id of ids) {
    const { sets } = groupProteinFiles([...CH, 'cells'].map((c) => `${id}_${c}.png`), (f) => f);
    const { fov, cells } = await readFovFiles(sets[0], async (f) => new Uint8Array(readFileSync(join(SAMPLES, f))), (f) => f);
    const r = await runProteinFov(fov, cells, [model], params);
    out.set(id, { ...r, fovChannels: fov.channels });
  }
  await session.release();
  return out;
}

test('protein: dropped RGBY sets + masks, the demo model on WASM: probabilities vs PyTorch, CAM overlay and outlines on the canvas, cells.csv', async ({ page }) => {
  await openProtein(page);
  await expect(page.getByTestId('preset-protein')).toHaveClass(/on/);
  await page.getByTestId('protein-backend').selectOption('wasm');
  await dropFiles(page, [
    { name: 'protein_localisation.onnx', bytes: new Uint8Array(readFileSync(MODEL)) },
    { name: 'protein_localisation.json', bytes: new Uint8Array(readFileSync(CARD)) },
    { name: 'cell_labels.csv', bytes: new Uint8Array(readFileSync(join(SAMPLES, 'cell_labels.csv'))) },
    ...sampleFiles(),
  ]);
  await expect(page.getByTestId('protein-model-protein_localisation.onnx')).toBeVisible();
  for (const id of IDS) await expect(page.getByTestId(`fov-status-${id}`)).toHaveText('waiting');
  await expect(page.getByTestId('protein-gt')).toContainText('cell_labels.csv');

  const t0 = Date.now();
  const st = await runAndWait(page);
  console.log(`2 fields of view on WASM: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  expect(st.batch).toBe('done');
  const node = await nodeRun(MODEL);
  const logits1 = readNpy(readFileSync(join(ROOT, 'tests/fixtures/reference/protein_localisation/logits.npy')));
  for (const f of st.fovs) {
    expect(f.status, f.error).toBe('done');
    expect(f.backend).toBe('wasm');
    const pytorch = params.classes.map((c) => card.metrics.samples[f.id].probabilities[c] as number);
    const dCard = maxAbsDiff(f.probabilities!, pytorch);
    const dNode = maxAbsDiff(f.probabilities!, node.get(f.id)!.probabilities);
    console.log(`${f.id}: max |p_web - p_pytorch(card, 4 dp)| = ${dCard.toExponential(2)}, |p_web - p_ort-node| = ${dNode.toExponential(2)}`);
    expect(dCard).toBeLessThan(1e-4);
    expect(dNode).toBeLessThan(1e-4);
    if (f.id === 'sim_protein_001') {
      const d = maxAbsDiff(f.logits!, logits1.data);
      console.log(`${f.id}: max |logit_web - logit_pytorch| = ${d.toExponential(2)}`);
      expect(d).toBeLessThan(1e-4);
    }
    // the same cells and classes as Node
    const n = node.get(f.id)!;
    expect(f.cells!.map((c) => [c.id, c.labels.map((l) => l.cls)])).toEqual(n.cellResults.map((c) => [c.id, c.labels.map((l) => l.cls)]));
    f.cells!.forEach((c, i) => c.labels.forEach((l, j) => expect(Math.abs(l.confidence - n.cellResults[i].labels[j].confidence)).toBeLessThan(1e-5)));
  }
  // probabilities chart shows the values
  await expect(page.getByTestId('prob-value-14')).toHaveText(st.fovs[0].probabilities![14].toFixed(4));

  // canvas: select the CAM of class 17 (vesicles) by its bar; the pixels = composite + CAM + outlines drawn here
  await page.getByTestId('prob-17').click();
  await expect(page.getByTestId('protein-canvas')).toHaveAttribute('data-rendered', 'sim_protein_001:17:outlines');
  const canvasPixels = () =>
    page.evaluate(() => {
      const c = document.querySelector<HTMLCanvasElement>('[data-testid=protein-canvas]')!;
      return Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data);
    });
  const n1 = node.get('sim_protein_001')!;
  const expected = (withCam: boolean, outlines: boolean) =>
    renderFov(512, 512, n1.fovChannels, {
      channels: initialView.channels,
      channelMax: n1.fovChannels.map(channelMax),
      cam: withCam ? { data: camAtImage(n1.cam, 17, [16, 16], 512, 512), opacity: initialView.camOpacity } : null,
      outlines: outlines ? { labels: n1.cells, cells: n1.cellResults, selected: null } : null,
    });
  const got = await canvasPixels();
  const want = expected(true, true);
  let bad = 0;
  for (let i = 0; i < want.length; i++) if (Math.abs(got[i] - want[i]) > 1) bad++;
  console.log(`canvas vs Node drawing: ${bad} of ${want.length} RGBA values differ by more than 1`);
  expect(bad).toBeLessThan(want.length * 1e-4);
  // the CAM overlay changes pixels where the CAM is high; the outlines are the class colours at cell borders
  const noCam = expected(false, true);
  const cam17 = camAtImage(n1.cam, 17, [16, 16], 512, 512);
  let camChanged = 0;
  let camHigh = 0;
  for (let i = 0; i < cam17.length; i++) {
    if (cam17[i] > 0.5) {
      camHigh++;
      if (Math.abs(got[4 * i] - noCam[4 * i]) + Math.abs(got[4 * i + 1] - noCam[4 * i + 1]) + Math.abs(got[4 * i + 2] - noCam[4 * i + 2]) > 20) camChanged++;
    }
  }
  console.log(`CAM > 0.5 at ${camHigh} pixels; ${camChanged} of them visibly coloured by the overlay`);
  expect(camHigh).toBeGreaterThan(1000);
  expect(camChanged / camHigh).toBeGreaterThan(0.9);
  await page.getByTestId('show-outlines').uncheck();
  await expect(page.getByTestId('protein-canvas')).toHaveAttribute('data-rendered', 'sim_protein_001:17:plain');
  const plain = await canvasPixels();
  const plainWant = expected(true, false);
  let outlinePx = 0;
  for (let i = 0; i < plain.length; i += 4) if (Math.abs(plain[i] - got[i]) + Math.abs(plain[i + 1] - got[i + 1]) + Math.abs(plain[i + 2] - got[i + 2]) > 0) outlinePx++;
  let badPlain = 0;
  for (let i = 0; i < plainWant.length; i++) if (Math.abs(plain[i] - plainWant[i]) > 1) badPlain++;
  console.log(`cell outlines: ${outlinePx} pixels drawn`);
  expect(outlinePx).toBeGreaterThan(2000);
  expect(badPlain).toBeLessThan(plainWant.length * 1e-4);
  await page.getByTestId('show-outlines').check();

  // per-cell table and the all-images table
  await expect(page.getByTestId('protein-cell-table').locator('tbody tr')).toHaveCount(7);
  await expect(page.getByTestId('protein-all-table').locator('tbody tr')).toHaveCount(2);
  await page.getByTestId('cell-row-3').click();
  await expect(page.getByTestId('cell-row-3')).toHaveClass(/selected/);

  // cells.csv: the download = the page's text; the same rows as Node (masks exact, confidences within 1e-5)
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('protein-export-cells').click()]);
  expect(dl.suggestedFilename()).toBe('cells.csv');
  const csv = readFileSync(await dl.path(), 'utf8');
  expect(csv).toBe(await page.evaluate(() => window.__voxelbenchProtein!.cellsCsv()));
  const nodeCsv = cellsCsv(
    IDS.flatMap((id) => cellRows(node.get(id)!, params.classes, 'hpa')),
    new Map(IDS.map((id) => [id, [512, 512] as [number, number]])),
  );
  const rows = csv.trim().split('\n');
  const nrows = nodeCsv.trim().split('\n');
  expect(rows[0]).toBe('ImageID,CellID,Class,ClassName,Confidence,ImageWidth,ImageHeight,Mask');
  expect(rows.length).toBe(nrows.length);
  expect(rows.length - 1).toBe(st.fovs.reduce((a, f) => a + f.cells!.reduce((b, c) => b + c.labels.length, 0), 0));
  rows.slice(1).forEach((r, i) => {
    const a = r.split(',');
    const b = nrows[i + 1].split(',');
    expect([a[0], a[1], a[2], a[3], a[5], a[6], a[7]]).toEqual([b[0], b[1], b[2], b[3], b[5], b[6], b[7]]);
    expect(Math.abs(Number(a[4]) - Number(b[4]))).toBeLessThan(2e-6);
  });
  // the cell mAP against cell_labels.csv is shown
  await expect(page.getByTestId('protein-map')).toHaveText(/^\d\.\d{4}$/);
});

test('protein: the tiny model on WebGPU gives the WASM and PyTorch probabilities within 1e-4', async ({ page }) => {
  await openProtein(page);
  const gpu = await page.evaluate(async () => !!(await (navigator as Navigator & { gpu?: GPU }).gpu?.requestAdapter()));
  test.skip(!gpu, 'no WebGPU adapter in this browser');
  await page.getByTestId('protein-model-input').setInputFiles(join(FIX, 'tiny_protein.onnx'));
  await expect(page.getByTestId('protein-model-tiny_protein.onnx')).toBeVisible();
  await dropFiles(page, sampleFiles(['sim_protein_002']));
  await expect(page.getByTestId('fov-status-sim_protein_002')).toHaveText('waiting');
  const ref = JSON.parse(readFileSync(join(FIX, 'tiny_ref.json'), 'utf8')).sim_protein_002;
  await page.getByTestId('protein-backend').selectOption('wasm');
  const wasm = (await runAndWait(page)).fovs[0];
  expect(wasm.status, wasm.error).toBe('done');
  expect(wasm.backend).toBe('wasm');
  await page.getByTestId('protein-backend').selectOption('webgpu');
  const gpuRun = (await runAndWait(page, 300_000)).fovs[0];
  expect(gpuRun.status, gpuRun.error).toBe('done');
  expect(gpuRun.backend).toBe('webgpu');
  const d = maxAbsDiff(gpuRun.probabilities!, wasm.probabilities!);
  const dp = maxAbsDiff(gpuRun.probabilities!, ref.probs);
  console.log(`tiny model: max |p_webgpu - p_wasm| = ${d.toExponential(2)}, |p_webgpu - p_pytorch| = ${dp.toExponential(2)}`);
  expect(d).toBeLessThan(1e-4);
  expect(dp).toBeLessThan(1e-4);
  expect(maxAbsDiff(wasm.probabilities!, ref.probs)).toBeLessThan(1e-4);
});

test('protein: bad inputs get their own messages; the good field of view still runs', async ({ page }) => {
  await openProtein(page, 'preset=protein&backend=wasm');
  // a model with 5 classes is refused
  await page.getByTestId('protein-model-input').setInputFiles(join(FIX, 'tiny_protein_5cls.onnx'));
  await expect(page.getByTestId('banner')).toContainText('tiny_protein_5cls.onnx');
  await expect(page.getByTestId('banner')).toContainText('5 classes');
  await page.getByTestId('protein-model-input').setInputFiles(join(FIX, 'tiny_protein.onnx'));
  await expect(page.getByTestId('protein-model-tiny_protein.onnx')).toBeVisible();
  const png = (w: number, h: number) => encodePng({ width: w, height: h, data: new Uint8Array(w * h).fill(40), depth: 8, channels: 1 });
  await dropFiles(page, [
    ...sampleFiles(['sim_protein_001']),
    { name: 'nogreen_red.png', bytes: png(16, 16) },
    { name: 'nogreen_blue.png', bytes: png(16, 16) },
    { name: 'nogreen_yellow.png', bytes: png(16, 16) },
    { name: 'sizes_red.png', bytes: png(16, 16) },
    { name: 'sizes_green.png', bytes: png(16, 16) },
    { name: 'sizes_blue.png', bytes: png(8, 16) },
    { name: 'sizes_yellow.png', bytes: png(16, 16) },
    { name: 'fake_red.png', bytes: png(16, 16) },
    { name: 'fake_green.png', bytes: new TextEncoder().encode('GIF89a not a png') },
    { name: 'fake_blue.png', bytes: png(16, 16) },
    { name: 'fake_yellow.png', bytes: png(16, 16) },
    // good ones without masks (the simple segmentation runs): a 16-bit RGBY set and a 4-channel TIFF
    ...CH.map((c) => ({ name: `png16_${c}.png`, bytes: new Uint8Array(readFileSync(join(FIX, `png16_${c}.png`))) })),
    { name: 'tiff_rgba8.tif', bytes: new Uint8Array(readFileSync(join(FIX, 'tiff_rgba8.tif'))) },
  ]);
  await expect(page.getByTestId('fov-error-nogreen')).toContainText('missing the green channel (nogreen_green.png)');
  await expect(page.getByTestId('fov-error-sizes')).toContainText('different sizes');
  await expect(page.getByTestId('fov-error-sizes')).toContainText('sizes_blue.png 8 x 16');
  await expect(page.getByTestId('fov-error-fake')).toContainText('fake_green.png: not a PNG image');
  await expect(page.getByTestId('fov-status-sim_protein_001')).toHaveText('waiting');
  // Ctrl+Enter runs
  await page.locator('body').press('Control+Enter');
  await expect.poll(async () => (await proteinState(page)).batch, { timeout: 120_000 }).toBe('done');
  const st = await proteinState(page);
  for (const id of ['sim_protein_001', 'png16', 'tiff_rgba8']) expect(st.fovs.find((f) => f.id === id)!.status, id).toBe('done');
  await expect(page.getByTestId('fov-png16')).toContainText('600 x 544, 16-bit · no mask: simple segmentation');
  await expect(page.getByTestId('fov-tiff_rgba8')).toContainText('30 x 24, 8-bit');
  expect(st.fovs.filter((f) => f.status === 'error').map((f) => f.id).sort()).toEqual(['fake', 'nogreen', 'sizes']);
});

test('protein: ?demo=protein (a link with values) loads the samples, masks and model and runs without clicks', async ({ page }) => {
  await openProtein(page, 'demo=protein&backend=wasm&keepRatio=0.3&view.camOpacity=0.8');
  await expect.poll(async () => (await proteinState(page)).fovs.map((f) => f.status).join(','), { timeout: 180_000 }).toBe('done,done');
  const st = await proteinState(page);
  expect(st.fovs.map((f) => f.id)).toEqual(IDS);
  expect(st.fovs.every((f) => f.camSource === 'class_maps')).toBe(true);
  await expect(page.getByTestId('protein-canvas')).toBeVisible();
  await expect(page.getByTestId('protein-cell-table').locator('tbody tr')).toHaveCount(7);
  await expect(page.getByTestId('protein-map')).toHaveText(/^\d\.\d{4}$/);
  // the link's values: keep ratio 0.3 (every kept class has conf / p > 0.3; at 0.02 some have less), CAM opacity 0.8
  expect(await page.evaluate(() => [window.__voxelbenchProtein!.store.getState().params.keepRatio, window.__voxelbenchProtein!.store.getState().view.camOpacity])).toEqual([0.3, 0.8]);
  for (const f of st.fovs) for (const c of f.cells!) for (const l of c.labels) if (l.cls !== 18) expect(l.confidence / f.probabilities![l.cls]).toBeGreaterThan(0.3);

  // the page keeps answering while rows are clicked and the CAM class and opacity, a channel, its
  // contrast and the outlines change: no frame waits 200 ms
  const gaps = await frameGaps(page, 'protein view changes', [
    ...IDS.map((id) => [`row ${id}`, () => page.getByTestId(`all-row-${id}`).click()] as const),
    ['cell row', () => page.getByTestId('protein-cell-table').locator('tbody tr').first().click()],
    ['class', () => page.getByTestId('cam-class').selectOption({ index: 3 })],
    ['opacity', () => page.getByTestId('cam-opacity').fill('0.4')],
    ['channel', () => page.getByTestId('channel-yellow').uncheck()],
    ['contrast', () => page.getByTestId('contrast-green').fill('0.5')],
    ['outlines', () => page.getByTestId('show-outlines').uncheck()],
  ]);
  expect(await page.evaluate(() => window.__voxelbenchProtein!.store.getState().selected)).toBe(IDS[1]);
  for (const ms of Object.values(gaps)) expect(ms).toBeLessThan(200);
});

test('protein: a logits-only model gets an occlusion map with progress; Esc cancels, a new run finishes', async ({ page }) => {
  await openProtein(page, 'preset=protein&backend=wasm');
  await page.getByTestId('protein-model-input').setInputFiles(join(FIX, 'tiny_protein_logits.onnx'));
  await expect(page.getByTestId('protein-model-tiny_protein_logits.onnx')).toContainText('occlusion');
  await dropFiles(page, sampleFiles());
  for (const id of IDS) await expect(page.getByTestId(`fov-status-${id}`)).toHaveText('waiting');
  await page.getByTestId('protein-run').click();
  await expect(page.getByTestId('fov-progress-sim_protein_001')).toContainText('occlusion', { timeout: 60_000 });
  await page.locator('body').press('Escape');
  await expect.poll(async () => (await proteinState(page)).batch, { timeout: 30_000 }).toBe('cancelled');
  expect((await proteinState(page)).fovs.map((f) => f.status)).toEqual(['cancelled', 'cancelled']);
  const st = await runAndWait(page);
  expect(st.batch).toBe('done');
  const ref = JSON.parse(readFileSync(join(FIX, 'tiny_ref.json'), 'utf8'));
  for (const f of st.fovs) {
    expect(f.status, f.error).toBe('done');
    expect(f.camSource).toBe('occlusion');
    expect(maxAbsDiff(f.logits!, ref[f.id].logits_only_model)).toBeLessThan(1e-4);
  }
  await expect(page.getByTestId('protein-caption')).toContainText('an occlusion map');
});

test('protein: a session file restores the fields of view, the results, the cell table and the view without running', async ({ page, context }) => {
  test.slow();
  await openProtein(page, 'demo=protein&backend=wasm&keepRatio=0.3&view.camOpacity=0.8');
  await expect.poll(async () => (await proteinState(page)).fovs.map((f) => f.status).join(','), { timeout: 180_000 }).toBe('done,done');
  await page.evaluate(() => window.__voxelbenchProtein!.store.setState({ selected: 'sim_protein_002' }));
  await expect(page.getByTestId('protein-cell-table').locator('tbody tr').first()).toBeVisible();
  const before = await proteinState(page);
  const table = await page.getByTestId('protein-cell-table').innerText();
  const pixels = await pixelMeasure(page, 'protein-canvas');
  await page.getByTestId('share-menu').click();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('save-session').click()]);
  const path = await download.path();

  const p2 = await context.newPage();
  await openProtein(p2);
  await p2.getByTestId('share-menu').click();
  await p2.getByTestId('session-input').setInputFiles(path!);
  await expect.poll(async () => (await proteinState(p2)).fovs.map((f) => f.status).join(','), { timeout: 60_000 }).toBe('done,done');
  const after = await proteinState(p2);
  expect(after.fovs.map((f) => f.id)).toEqual(IDS);
  for (const f of before.fovs) {
    const r = after.fovs.find((x) => x.id === f.id)!;
    expect(maxAbsDiff(r.probabilities!, f.probabilities!)).toBe(0);
    expect(r.cells).toEqual(f.cells);
    expect(r.camSource).toBe(f.camSource);
  }
  expect(await p2.evaluate(() => { const s = window.__voxelbenchProtein!.store.getState(); return [s.selected, s.params.keepRatio, s.view.camOpacity]; })).toEqual(['sim_protein_002', 0.3, 0.8]);
  await expect.poll(() => p2.getByTestId('protein-cell-table').innerText()).toBe(table);
  await p2.keyboard.press('Escape');
  await expect.poll(() => pixelMeasure(p2, 'protein-canvas')).toEqual(pixels);
  expect(await p2.evaluate(() => window.__voxelbenchShare!.runCount())).toBe(0);
});

test('protein: a cell mask dropped after its field of view is added to it (read again with the mask)', async ({ page }) => {
  await openProtein(page);
  const [red, green, blue, yellow, cells] = sampleFiles(['sim_protein_001']);
  await dropFiles(page, [red, green, blue, yellow]);
  await expect(page.getByTestId('fov-sim_protein_001')).toContainText('no mask: simple segmentation');
  await dropFiles(page, [cells]);
  await expect(page.getByTestId('fov-sim_protein_001')).toContainText('512 x 512, 8-bit · cell mask');
  await expect(page.getByTestId('fov-status-sim_protein_001')).toHaveText('waiting');
  expect(await page.evaluate(() => window.__voxelbenchProtein!.store.getState().items.map((t) => t.source!.files.map((f) => f.path)))).toEqual([
    ['sim_protein_001_red.png', 'sim_protein_001_green.png', 'sim_protein_001_blue.png', 'sim_protein_001_yellow.png', 'sim_protein_001_cells.png'],
  ]);
});
