/**
 * The "Cervical spine" preset as a user drives it (WASM): a DICOM study folder with the demo models,
 * their cards and labels in; the C1..C7 overlay drawn over the CT; the vertebra table equal to
 * core's pipeline run in Node on the same files (onnxruntime-node); the masks NIfTI on the CT's grid;
 * submission.csv and the weighted log loss as the table; a corrected mask drawn with Niivue's pen;
 * the real JPEG 2000 series decoded and run (Esc cancels, Ctrl+Enter runs); ?demo=spine without
 * clicks; broken folders each get a message naming the file while the rest keeps working; the page
 * keeps answering while a 92-file series decodes (in the worker).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import * as ort from 'onnxruntime-node';
import { readNifti } from '../src/core/io/nifti';
import { sessionOutputsPredictor, sessionPredictor } from '../src/core/ortPredictor';
import { spineParamsFromCard, spinePreset, VERTEBRAE, type SpineParams } from '../src/core/presets/spine';
import { readDicomSeries } from '../src/core/spine/dicom';
import { parseSpineLabelsCsv, spineMetric, spineSubmissionCsv } from '../src/core/spine/export';
import { runSpinePipeline, type SpineResult, type VertebraRow } from '../src/core/spine/pipeline';
import { expect, test, canvasPixels, fixture, ROOT, setNumber, stablePixels, startFrameProbe, frameGaps, viewerSettled } from './util';

const CT = join(ROOT, 'public/samples/ct');
const SIM = join(CT, 'sim_neck');
const J2K = join(CT, 'real_totalseg_j2k');
const LABELS = join(CT, 'sim_neck_labels.csv');
const SEG = join(ROOT, 'public/models/spine_seg.onnx');
const SEG_CARD = join(ROOT, 'public/models/spine_seg.json');
const CLS = join(ROOT, 'public/models/spine_fracture.onnx');
const CLS_CARD = join(ROOT, 'public/models/spine_fracture.json');

interface SeriesView {
  key: string;
  status: string;
  error?: string;
  studyUid: string;
  shape?: number[];
  backend?: string;
  vertebrae?: VertebraRow[];
  patientOverall?: number;
  wallMs?: number;
  timings?: { preprocessMs: number; segMs: number; clsMs: number };
  edited?: number;
}

interface SpineView {
  batch: string;
  selected: string | null;
  series: SeriesView[];
}

function spineState(page: Page): Promise<SpineView> {
  return page.evaluate(() => {
    const s = window.__voxelbenchSpine!.store.getState();
    // the kit's queue: a series read and waiting to run is 'waiting' (the page says 'ready')
    return {
      batch: s.batch.status,
      selected: s.selected,
      series: s.items.map((t) => ({
        key: t.id,
        status: t.status === 'waiting' ? 'ready' : t.status,
        error: t.error,
        studyUid: t.row?.studyUid ?? t.meta?.studyUid ?? '',
        shape: t.meta?.shape,
        backend: t.backend,
        vertebrae: t.result?.vertebrae,
        patientOverall: t.result?.patientOverall,
        wallMs: t.wallMs,
        timings: t.result?.timings,
        edited: (t.edits as { changed: number } | undefined)?.changed,
      })),
    };
  });
}

async function openSpine(page: Page, query = '?preset=spine&backend=wasm'): Promise<void> {
  page.on('pageerror', (e) => console.log('pageerror:', e.message));
  await page.goto(`./${query}`);
  await page.waitForFunction(() => window.__voxelbenchSpine !== undefined);
  await expect(page.getByTestId('preset-spine')).toHaveClass(/on/);
}

async function addModels(page: Page): Promise<void> {
  await page.getByTestId('spine-model-input').setInputFiles([SEG, SEG_CARD, CLS, CLS_CARD]);
  await expect(page.getByTestId('spine-model-spine_seg.onnx')).toBeVisible({ timeout: 90_000 });
  await expect(page.getByTestId('spine-model-spine_fracture.onnx')).toBeVisible({ timeout: 90_000 });
  await expect(page.getByTestId('spine-params-from')).toContainText('spine_seg.json');
}

async function waitBatch(page: Page, timeout = 240_000): Promise<SpineView> {
  await expect.poll(async () => (await spineState(page)).batch, { timeout }).toMatch(/done|cancelled|error/);
  return spineState(page);
}

/** Pixels of the Niivue canvas as shown (a real screenshot) that are coloured (not gray). */
async function colouredPixels(page: Page): Promise<number> {
  const png = await page.getByTestId('niivue-canvas').screenshot();
  return page.evaluate(async (bytes) => {
    const bmp = await createImageBitmap(new Blob([new Uint8Array(bytes)], { type: 'image/png' }));
    const off = new OffscreenCanvas(bmp.width, bmp.height);
    const ctx = off.getContext('2d')!;
    ctx.drawImage(bmp, 0, 0);
    const d = ctx.getImageData(0, 0, bmp.width, bmp.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 40) n++;
    return n;
  }, [...png]);
}

/** The series' files as core reads them. */
function dicomFiles(dir: string): { name: string; bytes: Uint8Array }[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.dcm'))
    .map((n) => ({ name: n, bytes: new Uint8Array(readFileSync(join(dir, n))) }));
}

/** Core's pipeline in Node (onnxruntime-node) on the same files, models and card values as the page. */
async function nodeReference(params: SpineParams): Promise<{ result: SpineResult; shape: number[]; affine: number[][]; studyUid: string }> {
  const { series } = await readDicomSeries(dicomFiles(SIM), { order: params.order });
  const s = series[0];
  const makeTensor = (data: Float32Array, dims: readonly number[]) => new ort.Tensor('float32', data, dims);
  const seg = await ort.InferenceSession.create(SEG, { intraOpNumThreads: 2 });
  const cls = await ort.InferenceSession.create(CLS, { intraOpNumThreads: 2 });
  try {
    const result = await runSpinePipeline(
      s.stored,
      s.volume.shape as [number, number, number],
      [...s.volume.spacing],
      [sessionPredictor(seg, makeTensor, seg.inputNames[0], seg.outputNames[0])],
      [sessionOutputsPredictor(cls, makeTensor, cls.inputNames[0])],
      params,
    );
    return { result, shape: s.volume.shape, affine: s.volume.affine, studyUid: s.studyUid };
  } finally {
    await seg.release();
    await cls.release();
  }
}

const cardParams = (): SpineParams => ({
  ...spinePreset,
  ...spineParamsFromCard(JSON.parse(readFileSync(SEG_CARD, 'utf8'))),
  ...spineParamsFromCard(JSON.parse(readFileSync(CLS_CARD, 'utf8'))),
});

test('spine: a dropped DICOM study on WASM: overlay drawn, table as core in Node, masks NIfTI on the CT grid, submission.csv and log loss as the table, corrected mask', async ({ page }) => {
  await openSpine(page);
  const nodeRef = nodeReference(cardParams()); // runs in Node while the page works
  await page.getByTestId('study-folder-input').setInputFiles(SIM);
  await addModels(page);
  await page.getByTestId('spine-labels-input').setInputFiles(LABELS);
  await expect(page.getByTestId('spine-labels')).toContainText('sim_neck_labels.csv');
  await expect(page.getByTestId('series-status-sim_neck')).toHaveText('ready', { timeout: 60_000 });
  await page.getByTestId('spine-slice-coronal').click();
  await stablePixels(page);
  const before = await colouredPixels(page);

  const t0 = Date.now();
  await page.getByTestId('spine-run').click();
  const st = await waitBatch(page);
  const s = st.series[0];
  expect(s.status, s.error).toBe('done');
  expect(s.backend).toBe('wasm');
  const tm = s.timings!;
  console.log(
    `sim_neck (92 x 160 x 160) on WASM: click to table ${((Date.now() - t0) / 1000).toFixed(1)} s, page wall ${(s.wallMs! / 1000).toFixed(1)} s ` +
      `(preprocess ${tm.preprocessMs.toFixed(0)} ms, 128^3 segmentation ${tm.segMs.toFixed(0)} ms, 105 fracture crops ${tm.clsMs.toFixed(0)} ms)`,
  );

  // the table: 7 rows, the same numbers as core's pipeline in Node on the same files
  const ref = await nodeRef;
  expect(s.studyUid).toBe(ref.studyUid);
  await expect(page.getByTestId('spine-table').locator('tbody tr[data-testid^="spine-row-C"]')).toHaveCount(7);
  for (const [k, name] of VERTEBRAE.entries()) {
    const want = ref.result.vertebrae[k];
    const got = s.vertebrae![k];
    expect(got.name).toBe(name);
    expect(got.voxels).toBe(want.voxels);
    expect(got.sliceRange).toEqual(want.sliceRange);
    expect(Math.abs(got.meanProb - want.meanProb)).toBeLessThan(1e-4);
    expect(Math.abs(got.fracture! - want.fracture!)).toBeLessThan(1e-4);
    const row = page.getByTestId(`spine-row-${name}`);
    await expect(row.getByTestId('cell-volume')).toHaveText(want.volumeMl.toFixed(2));
    await expect(row.getByTestId('cell-slices')).toHaveText(`${want.sliceRange![0]}–${want.sliceRange![1]}`);
    await expect(row.getByTestId('cell-prob')).toHaveText(want.meanProb.toFixed(4));
    await expect(row.getByTestId('cell-fracture')).toHaveText(want.fracture!.toFixed(4));
  }
  await expect(page.getByTestId('spine-row-patient_overall').getByTestId('cell-fracture')).toHaveText(ref.result.patientOverall!.toFixed(4));

  // a row click centres the view on the vertebra (the readout names it)
  const c4 = ref.result.vertebrae[3].centre!.map((x) => Math.round(x));
  await page.getByTestId('spine-row-C4').click();
  await expect(page.getByTestId('spine-readout-voxel')).toContainText(c4.join(', '));

  // the overlay (coronal slice through C4): coloured pixels over the CT, gone when every vertebra is unchecked, back with one
  // (each toggle re-uploads the overlay: slow on software GL, so few of them)
  await expect.poll(() => colouredPixels(page), { timeout: 30_000 }).toBeGreaterThan(before + 200);
  const all = await colouredPixels(page);
  await page.getByTestId('spine-toggle-none').click();
  for (const v of VERTEBRAE) await expect(page.getByTestId(`spine-toggle-${v}`)).not.toBeChecked();
  await expect.poll(() => colouredPixels(page), { timeout: 30_000 }).toBeLessThan(all - 200);
  const none = await colouredPixels(page);
  await page.getByTestId('spine-toggle-C4').check();
  await expect.poll(() => colouredPixels(page), { timeout: 30_000 }).toBeGreaterThan(none + 50);
  expect(await colouredPixels(page)).toBeLessThan(all - 50);
  await page.getByTestId('spine-toggle-all').click();
  await expect(page.getByTestId('spine-legend')).toContainText('C7');

  // the masks: .nii.gz with the CT's shape and affine, voxel counts as the table, equal to Node's labels
  const ct = (await page.evaluate(() => window.__voxelbenchSpine!.ct('sim_neck')))!;
  expect(ct.shape).toEqual(ref.shape);
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-masks').click()]);
  expect(dl.suggestedFilename()).toBe(`${ref.studyUid}_vertebrae.nii.gz`);
  const masks = readNifti(new Uint8Array(readFileSync(await dl.path())), dl.suggestedFilename());
  expect(masks.shape).toEqual(ct.shape);
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) expect(Math.abs(masks.affine[r][c] - ct.affine[r][c])).toBeLessThan(1e-4);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) expect(Math.abs(masks.affine[r][c] - ref.affine[r][c])).toBeLessThan(1e-4);
  const counts = new Array<number>(8).fill(0);
  let differ = 0;
  for (let i = 0; i < masks.data.length; i++) {
    counts[masks.data[i]]++;
    if (masks.data[i] !== ref.result.labels[i]) differ++;
  }
  expect(counts.slice(1)).toEqual(ref.result.vertebrae.map((v) => v.voxels));
  expect(differ).toBe(0);

  // submission.csv: header + 8 rows, the same numbers as the table; exactly core's CSV of the page's rows
  const [csvDl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-submission').click()]);
  expect(csvDl.suggestedFilename()).toBe('submission.csv');
  const csv = readFileSync(await csvDl.path(), 'utf8');
  const lines = csv.trim().split('\n');
  expect(lines[0]).toBe('row_id,fractured');
  expect(lines).toHaveLength(9);
  const byId = new Map(lines.slice(1).map((l) => [l.split(',')[0], Number(l.split(',')[1])]));
  for (const name of VERTEBRAE) {
    const text = await page.getByTestId(`spine-row-${name}`).getByTestId('cell-fracture').innerText();
    expect(byId.get(`${ref.studyUid}_${name}`)!.toFixed(4)).toBe(text);
  }
  expect(byId.get(`${ref.studyUid}_patient_overall`)!.toFixed(4)).toBe(await page.getByTestId('spine-row-patient_overall').getByTestId('cell-fracture').innerText());
  const preds = [{ studyUid: s.studyUid, vertebrae: s.vertebrae!, patientOverall: s.patientOverall }];
  expect(csv).toBe(spineSubmissionCsv(preds));

  // the weighted log loss against the labels: core's metric on the same predictions
  const m = spineMetric(parseSpineLabelsCsv(readFileSync(LABELS, 'utf8')), preds);
  await expect(page.getByTestId('spine-logloss')).toHaveText(m.loss.toFixed(4));

  // editing: the labels as Niivue's drawing come back unchanged; a C3 stroke changes voxels to 3 only
  await page.getByTestId('spine-slice-axial').click();
  await page.getByTestId('spine-edit').click();
  await page.getByTestId('spine-edit-apply').click();
  expect((await spineState(page)).series[0].edited).toBeUndefined();
  await page.getByTestId('spine-pen-C3').click();
  const box = (await page.getByTestId('niivue-canvas').boundingBox())!;
  const [cx, cy] = [box.x + box.width / 2, box.y + box.height / 2];
  await page.mouse.move(cx - 40, cy - 10);
  await page.mouse.down();
  for (let i = 0; i <= 16; i++) await page.mouse.move(cx - 40 + 5 * i, cy - 10 + i);
  await page.mouse.up();
  await page.getByTestId('spine-edit-done').click();
  await expect.poll(async () => (await spineState(page)).series[0].edited ?? 0).toBeGreaterThan(10);
  await expect(page.getByTestId('spine-edited')).toContainText('voxels corrected');
  const [fixDl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('spine-download-corrected').click()]);
  expect(fixDl.suggestedFilename()).toBe(`${ref.studyUid}_vertebrae_corrected.nii.gz`);
  const fixed = readNifti(new Uint8Array(readFileSync(await fixDl.path())), fixDl.suggestedFilename());
  expect(fixed.shape).toEqual(ct.shape);
  expect(fixed.affine).toEqual(masks.affine);
  let changed = 0;
  for (let i = 0; i < fixed.data.length; i++) {
    if (fixed.data[i] === masks.data[i]) continue;
    changed++;
    expect(fixed.data[i]).toBe(3);
  }
  expect(changed).toBe((await spineState(page)).series[0].edited);
});

test('spine: the real JPEG 2000 series decodes and runs; Esc cancels the run and Ctrl+Enter runs it again', async ({ page }) => {
  await openSpine(page);
  await addModels(page);
  // Esc while decoding: cancelled, named in the row; dropping the folder again loads it
  await page.getByTestId('study-folder-input').setInputFiles(J2K);
  await expect(page.getByTestId('spine-loading-text')).toContainText('Decoding real_totalseg_j2k', { timeout: 30_000 });
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('series-status-real_totalseg_j2k')).toHaveText('cancelled');
  await expect(page.getByTestId('series-error-real_totalseg_j2k')).toContainText('decoding cancelled');
  await expect(page.getByTestId('spine-loading')).toHaveCount(0);
  await page.getByTestId('study-folder-input').setInputFiles(J2K);
  await expect(page.getByTestId('series-status-real_totalseg_j2k')).toHaveText('ready', { timeout: 120_000 });
  const st0 = await spineState(page);
  expect(st0.series).toHaveLength(1);
  expect(st0.series[0].shape).toEqual([20, 512, 512]);
  // HU as decoded in the page's worker = core's reader in Node on the same files
  const page0 = (await page.evaluate(() => window.__voxelbenchSpine!.ct('real_totalseg_j2k')))!;
  const node = (await readDicomSeries(dicomFiles(J2K))).series[0].volume;
  let [min, max, sum] = [Infinity, -Infinity, 0];
  for (let i = 0; i < node.data.length; i++) {
    min = Math.min(min, node.data[i]);
    max = Math.max(max, node.data[i]);
    sum += node.data[i];
  }
  expect([page0.min, page0.max, page0.sum]).toEqual([min, max, sum]);
  expect(page0.min).toBeLessThan(-900); // air
  expect(page0.max).toBeGreaterThan(300); // bone
  await expect(page.getByTestId('series-warnings-real_totalseg_j2k')).toContainText('ATTRIBUTION.md');
  // an abdominal CT of 20 slices is outside what the segmentation model's card declares: said in its row and the run panel, before the run
  const scope = 'real_totalseg_j2k: outside what spine_seg.json expects: 20 slices (expects >= 60); voxel spacing 2 x 0.9766 x 0.9766 mm (expects 0.25-1.6 mm)';
  await expect(page.getByTestId('series-scope-real_totalseg_j2k')).toContainText(scope);
  await expect(page.getByTestId('spine-scope')).toContainText(scope);

  // Esc while it runs: cancelled, nothing breaks
  await page.keyboard.press('Control+Enter');
  await expect.poll(async () => (await spineState(page)).series[0].status, { timeout: 30_000 }).toBe('running');
  await page.keyboard.press('Escape');
  await expect.poll(async () => (await spineState(page)).batch, { timeout: 30_000 }).toBe('cancelled');
  expect((await spineState(page)).series[0].status).toBe('cancelled');

  const t0 = Date.now();
  await page.keyboard.press('Control+Enter');
  await expect.poll(async () => (await spineState(page)).batch, { timeout: 30_000 }).toBe('running');
  const st = await waitBatch(page);
  const s = st.series[0];
  expect(s.status, s.error).toBe('done');
  console.log(`real JPEG 2000 series (20 x 512 x 512) on WASM: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  await expect(page.getByTestId('spine-table').locator('tbody tr[data-testid^="spine-row-C"]')).toHaveCount(7);
  const ct = (await page.evaluate(() => window.__voxelbenchSpine!.ct('real_totalseg_j2k')))!;
  const masks = (await page.evaluate(() => {
    const m = window.__voxelbenchSpine!.masks('real_totalseg_j2k', false);
    return m ? Array.from(m.bytes) : null;
  }))!;
  const vol = readNifti(new Uint8Array(masks), 'masks.nii.gz');
  expect(vol.shape).toEqual(ct.shape);
  // no StudyInstanceUID in these files: the folder is the study id; C2 has no mask, so 0.5 in the CSV
  await expect(page.getByTestId('download-submission')).toBeEnabled();
  const csv = await page.evaluate(() => window.__voxelbenchSpine!.submission());
  expect(csv.trim().split('\n')).toHaveLength(9);
  expect(csv).toContain('real_totalseg_j2k_patient_overall,');
  // ... and after it
  await expect(page.getByTestId('spine-scope')).toContainText(scope);
  // a vertebra marked "(not found)" gets no fracture value, and the CSV the value of a missing one
  const rows = await page.getByTestId('spine-table').locator('tbody tr[data-testid^="spine-row-C"]').all();
  let notFound = 0;
  for (const row of rows) {
    if (!(await row.innerText()).includes('(not found)')) continue;
    notFound++;
    await expect(row.getByTestId('cell-fracture')).toHaveText('–');
    const name = (await row.getAttribute('data-testid'))!.replace('spine-row-', '');
    expect(csv).toContain(`real_totalseg_j2k_${name},0.5\n`);
  }
  expect(notFound).toBeGreaterThan(0);
  // patient overall says what it used and what it left out
  await expect(page.getByTestId('patient-overall-basis')).toContainText(/1 - product of \(1 - C_k\) over .*; left out: .*\(not found\)/);
});

test('spine: ?demo=spine runs without clicks (a link value applied before the run)', async ({ page }) => {
  const t0 = Date.now();
  await openSpine(page, '?demo=spine&backend=wasm&threshold=0.3');
  const st = await waitBatch(page);
  expect(st.batch).toBe('done');
  expect(st.series).toHaveLength(1);
  expect(st.series[0].status, st.series[0].error).toBe('done');
  expect(st.series[0].vertebrae).toHaveLength(7);
  expect(st.series[0].backend).toBe('wasm');
  expect(await page.evaluate(() => window.__voxelbenchSpine!.store.getState().params.threshold)).toBe(0.3);
  await expect(page.getByTestId('spine-param-threshold')).toHaveValue('0.3');
  await expect(page.getByTestId('spine-table').locator('tbody tr[data-testid^="spine-row-C"]')).toHaveCount(7);
  await expect(page.getByTestId('spine-logloss')).toBeVisible();
  console.log(`?demo=spine: ${((Date.now() - t0) / 1000).toFixed(1)} s from the address to the table`);

  // window presets and typed numbers set the CT's display range (bone by default); the page keeps
  // answering meanwhile, and while rows are clicked, a vertebra is hidden and the masks toggled: no frame waits 200 ms
  const ctWindow = () => page.evaluate(() => [window.__voxelbench!.nv.volumes[0].cal_min, window.__voxelbench!.nv.volumes[0].cal_max]);
  expect(await ctWindow()).toEqual([-500, 1300]);
  await viewerSettled(page);
  const gaps = await frameGaps(
    page,
    'spine view changes',
    [
      [
        'lung',
        async () => {
          await page.getByTestId('spine-window-lung').click();
          await expect.poll(ctWindow).toEqual([-1350, 150]);
        },
      ],
      [
        'typed window',
        async () => {
          await setNumber(page, 'spine-window-level', 50);
          await setNumber(page, 'spine-window-width', 350);
          await expect.poll(ctWindow).toEqual([-125, 225]);
        },
      ],
      ['row C2', () => page.getByTestId('spine-row-C2').click()],
      ['row C6', () => page.getByTestId('spine-row-C6').click()],
      ['hide C3', () => page.getByTestId('spine-toggle-C3').uncheck()],
      ['masks off', () => page.getByTestId('spine-show-masks').uncheck()],
      ['masks on', () => page.getByTestId('spine-show-masks').check()],
      ['axial', () => page.getByTestId('spine-slice-axial').click()],
    ],
    () => viewerSettled(page),
  );
  for (const ms of Object.values(gaps)) expect(ms).toBeLessThan(200);
  await page.getByTestId('spine-toggle-C3').check();
  // the 3D render shows the vertebrae in colour
  await page.getByTestId('spine-slice-render').click();
  await expect.poll(() => colouredPixels(page), { timeout: 30_000 }).toBeGreaterThan(500);
});

/** Offset of a tag's value (explicit VR little endian, short VR) in a DICOM file. */
function tagValue(bytes: Buffer, group: number, element: number): number {
  const tag = Buffer.from([group & 0xff, group >> 8, element & 0xff, element >> 8]);
  const at = bytes.indexOf(tag, 132);
  if (at < 0) throw new Error(`tag ${group.toString(16)},${element.toString(16)} not found`);
  return at + 8;
}

test('spine: broken study folders each get a message naming the file; a NIfTI dropped next runs with small preset values', async ({ page }) => {
  const root = mkdtempSync(join(tmpdir(), 'spine-bad-'));
  const dir = join(root, 'studies');
  const sim = (n: number) => readFileSync(join(SIM, `${n}.dcm`));
  const put = (folder: string, name: string, bytes: Buffer | string) => {
    mkdirSync(join(dir, folder), { recursive: true });
    writeFileSync(join(dir, folder, name), bytes);
  };
  try {
    put('notes', 'readme.txt', 'no images here');
    // no pixel data: the files end before (7FE0,0010)
    for (const n of [1, 2]) {
      const b = sim(n);
      put('nopixels', `${n}.dcm`, b.subarray(0, b.indexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00]), 132)));
    }
    put('single', '1.dcm', sim(1));
    // mixed: one file of the series says it has 80 rows
    put('mixed', '1.dcm', sim(1));
    const m = Buffer.from(sim(2));
    m.writeUInt16LE(80, tagValue(m, 0x0028, 0x0010));
    put('mixed', '2.dcm', m);
    // an unsupported transfer syntax (same length as Explicit VR Little Endian's UID + pad)
    for (const n of [1, 2]) {
      const b = Buffer.from(sim(n));
      const at = b.indexOf(Buffer.from('1.2.840.10008.1.2.1\0'), 132);
      b.write('1.2.840.10008.1.2.99', at, 'latin1');
      put('syntax', `${n}.dcm`, b);
    }

    // two series in one folder (slices 4..6 get another SeriesInstanceUID): offered as a choice
    const seriesUid = Buffer.from('2.25.1092939278638132925011156452109207120');
    for (const n of [1, 2, 3, 4, 5, 6]) {
      const b = Buffer.from(sim(n));
      if (n > 3) {
        const at = b.indexOf(seriesUid, 132);
        b.write('9', at + seriesUid.length - 1, 'latin1');
      }
      put('two', `${n}.dcm`, b);
    }

    await openSpine(page);
    await page.getByTestId('study-folder-input').setInputFiles(dir);
    const choice = page.getByTestId('study-studies/two').locator('input[type=radio]');
    await expect(choice).toHaveCount(2);
    await expect(choice.nth(0)).toBeChecked();
    await choice.nth(1).check();
    await expect(choice.nth(0)).not.toBeChecked();
    const err = (id: string) => page.getByTestId(`series-error-studies/${id}`);
    await expect(err('notes')).toContainText(/no DICOM files.*readme\.txt/);
    await expect(err('nopixels')).toContainText(/1\.dcm.*without pixel data/);
    await expect(err('single')).toContainText(/1\.dcm.*single slice/);
    await expect(err('mixed')).toContainText(/2\.dcm.*80 x 160.*mixed series/);
    await expect(err('syntax')).toContainText(/\.dcm.*1\.2\.840\.10008\.1\.2\.99/);
    for (const id of ['notes', 'nopixels', 'single', 'mixed', 'syntax']) await expect(page.getByTestId(`series-status-studies/${id}`)).toHaveText('error');

    // the page still works: a NIfTI CT dropped on it loads and runs (32 slices, 32 x 32: quick)
    const nii = readFileSync(join(CT, 'sim_neck.nii.gz'));
    await page.evaluate(async (bytes) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(bytes)], 'sim_neck.nii.gz'));
      window.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, [...nii]);
    await expect(page.getByTestId('series-status-sim_neck')).toHaveText('ready');
    await page.getByTestId('spine-model-input').setInputFiles([SEG, SEG_CARD]);
    await expect(page.getByTestId('spine-model-spine_seg.onnx')).toBeVisible();
    // a preset value the model cannot take is named before anything runs (channels is an advanced value, under "more")
    await page.getByTestId('spine-param-group-segmentation').locator('summary').click();
    await setNumber(page, 'spine-param-channels', 1);
    await page.getByTestId('spine-run').click();
    await expect(page.getByTestId('banner')).toContainText(/spine_seg\.onnx: the model takes 3 channel\(s\); the preset repeats the volume to 1/);
    expect((await spineState(page)).batch).toBe('idle');
    await setNumber(page, 'spine-param-channels', 3);
    await setNumber(page, 'spine-param-slices', 32);
    await setNumber(page, 'spine-param-size', 32);
    await page.getByTestId('spine-run').click();
    const st = await waitBatch(page, 120_000);
    const nifti = st.series.find((t) => t.key === 'sim_neck')!;
    expect(nifti.status, nifti.error).toBe('done');
    expect(nifti.shape).toEqual([92, 160, 160]);
    expect(st.series.filter((t) => t.status === 'error')).toHaveLength(5);
    // the chosen series of the two-series folder ran too; the other one did not
    const two = st.series.filter((t) => t.key.startsWith('studies/two#'));
    expect(two.map((t) => t.status).sort()).toEqual(['done', 'ready']);
    await expect(page.getByTestId('spine-table').locator('tbody tr[data-testid^="spine-row-C"]')).toHaveCount(7);
    // no fracture model: no submission.csv, says why
    await expect(page.getByTestId('download-submission')).toBeDisabled();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('spine: a session file restores the series, the label volume and its correction, the vertebra table and the view without running', async ({ page, context }) => {
  test.slow();
  await openSpine(page, '?demo=spine&backend=wasm&threshold=0.3');
  const before = await waitBatch(page);
  expect(before.series[0].status, before.series[0].error).toBe('done');
  await page.getByTestId('spine-slice-axial').click();
  await page.evaluate(() => window.__voxelbenchSpine!.store.setState((s) => ({ view: { ...s.view, opacity: 0.8 } })));
  await expect(page.getByTestId('spine-table').locator('tbody tr[data-testid^="spine-row-C"]')).toHaveCount(7);
  // a correction (as the pen leaves one: the corrected masks and how many voxels differ; here in the first slice, off the view)
  const edited = await page.evaluate(() => {
    const { store } = window.__voxelbenchSpine!;
    const t = store.getState().items[0];
    const labels = t.result!.labels.slice();
    labels.fill(3, 0, 500);
    let changed = 0;
    for (let i = 0; i < labels.length; i++) if (labels[i] !== t.result!.labels[i]) changed++;
    store.setState((s) => ({ items: s.items.map((x) => (x.id === t.id ? { ...x, edits: { labels, changed } } : x)) }));
    return changed;
  });
  expect(edited).toBeGreaterThan(0);
  const labelSum = (p: Page) => p.evaluate(() => window.__voxelbenchSpine!.labels(window.__voxelbenchSpine!.store.getState().items[0].id)!.reduce((a, b) => a + b, 0));
  const correctedSum = await labelSum(page);
  const table = await page.getByTestId('spine-table').innerText();
  const pixels = await stablePixels(page);
  expect(pixels.colored).toBeGreaterThan(100); // the label overlay is drawn
  await page.getByTestId('share-menu').click();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('save-session').click()]);
  const path = await download.path();

  const p2 = await context.newPage();
  await openSpine(p2);
  await p2.getByTestId('share-menu').click();
  await p2.getByTestId('session-input').setInputFiles(path!);
  await expect.poll(async () => (await spineState(p2)).series.map((t) => t.status).join(','), { timeout: 60_000 }).toBe('done');
  const after = await spineState(p2);
  expect(after.series.map((t) => t.key)).toEqual(before.series.map((t) => t.key));
  expect(after.series[0].vertebrae).toEqual(before.series[0].vertebrae);
  expect(after.series[0].patientOverall).toBe(before.series[0].patientOverall);
  expect(after.series[0].edited).toBe(edited);
  expect(await labelSum(p2)).toBe(correctedSum);
  expect(await p2.evaluate(() => { const s = window.__voxelbenchSpine!.store.getState(); return [s.params.threshold, s.view.sliceType, s.view.opacity]; })).toEqual([0.3, 'axial', 0.8]);
  await expect.poll(() => p2.getByTestId('spine-table').innerText()).toBe(table);
  await p2.keyboard.press('Escape');
  await expect.poll(() => canvasPixels(p2), { timeout: 30_000 }).toEqual(pixels);
  expect(await p2.evaluate(() => window.__voxelbenchShare!.runCount())).toBe(0);
});

test('spine: the page keeps answering while a 92-file DICOM series decodes (in the worker: no pixel is read on the page)', async ({ page }) => {
  // count the page's own 16-bit reads: DICOM pixel data is read with DataView getInt16/getUint16 (the worker has its own DataView)
  await page.addInitScript(() => {
    const w = window as Window & { __pageReads?: number };
    w.__pageReads = 0;
    for (const name of ['getInt16', 'getUint16'] as const) {
      const own = DataView.prototype[name];
      DataView.prototype[name] = function (this: DataView, offset: number, littleEndian?: boolean) {
        w.__pageReads!++;
        return own.call(this, offset, littleEndian);
      };
    }
  });
  await openSpine(page);
  // a probe of the page's main thread: the longest wait between two animation frames, and how many quiet frames in a row
  const probe = await startFrameProbe(page);
  // the viewer first shows a tiny CT (16 x 20 x 12) and keeps showing it (headless Chromium draws WebGL
  // in software, seconds for a first view): what is measured below is the decoding alone
  await page.getByTestId('study-file-input').setInputFiles(fixture('volumes/ball_int16.nii.gz'));
  await expect(page.getByTestId('series-status-ball_int16')).toHaveText('ready');
  await page.waitForFunction(() => (window.__voxelbench?.nv.volumes.length ?? 0) > 0);
  await expect.poll(async () => (await probe.read()).quiet, { timeout: 60_000 }).toBeGreaterThan(30);
  // the count sees the page's reads: Niivue read the tiny CT's NIfTI header (int16 fields) on the page
  expect(await page.evaluate(() => (window as Window & { __pageReads?: number }).__pageReads)).toBeGreaterThan(0);

  await probe.reset();
  await page.evaluate(() => ((window as Window & { __pageReads?: number }).__pageReads = 0));
  const t0 = Date.now();
  await page.getByTestId('study-folder-input').setInputFiles(SIM);
  await expect(page.getByTestId('series-status-sim_neck')).toHaveText('ready', { timeout: 120_000 });
  const p = await probe.read();
  const pageReads = await page.evaluate(() => (window as Window & { __pageReads?: number }).__pageReads);
  console.log(`92 DICOM files decoded in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${p.frames} frames, longest wait between two ${p.longestMs.toFixed(0)} ms, ${pageReads} 16-bit reads on the page`);
  expect(p.frames).toBeGreaterThan(5);
  expect(p.longestMs).toBeLessThan(200);
  expect(pageReads).toBe(0);
  expect(await page.evaluate(() => window.__voxelbenchSpine!.store.getState().selected)).toBe('ball_int16');

  // what the worker read is the series: HU as core's reader gives them in Node on the same files
  const ct = (await page.evaluate(() => window.__voxelbenchSpine!.ct('sim_neck')))!;
  const node = (await readDicomSeries(dicomFiles(SIM))).series[0].volume;
  let sum = 0;
  for (let i = 0; i < node.data.length; i++) sum += node.data[i];
  expect(ct.shape).toEqual([92, 160, 160]);
  expect(ct.shape).toEqual(node.shape);
  expect(ct.sum).toBe(sum);
});
