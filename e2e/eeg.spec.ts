/**
 * The "EEG spectrogram" preset in Chromium: ?demo=eeg runs without clicks; the three samples
 * (two simulated, the real EEG-derived 62-row file), the demo model and votes dropped as files and
 * run on WASM give the PyTorch probabilities (tools/make_eeg_fixtures.py) within 1e-4; the CAM
 * overlay changes the canvas where the CAM is high and differs between classes; submission.csv
 * and the KL; bad inputs named while the rest runs; a tiny model on WebGPU equals WASM.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, test, kitProgress, ROOT, setNumber, stallAfter, untilSettled, frameGaps } from './util';
import { CANVAS_H, CANVAS_W, LAYOUT, PLOT_H } from '../src/ui/eeg/display';

const SAMPLES = join(ROOT, 'public/samples/eeg');
const FIX = join(ROOT, 'tests/fixtures/eeg');
const MODEL = join(ROOT, 'public/models/eeg_spectrogram.onnx');
const FILES = ['sim_seizure_001', 'sim_lpd_002', 'real_eegmmidb_S001R03'];
const ref = JSON.parse(readFileSync(join(FIX, 'model.json'), 'utf8')) as { samples: Record<string, { probabilities: number[]; tiny6_probabilities: number[] }> };
const klRef = JSON.parse(readFileSync(join(FIX, 'kl.json'), 'utf8')) as { votes: { kl: number } };

interface FileView {
  id: string;
  status: string;
  error?: string;
  probabilities?: number[];
  folds?: number;
  backend?: string;
  cam?: string;
  warnings: string[];
}

function eegState(page: Page): Promise<{ batch: string; files: FileView[] }> {
  return page.evaluate(() => {
    const s = window.__voxelbenchEeg!.store.getState();
    return {
      batch: s.batch.status,
      files: s.items.map((f) => ({
        id: f.id,
        status: f.status,
        error: f.error,
        probabilities: f.result?.probabilities,
        folds: f.result?.folds.length,
        backend: f.backend,
        cam: f.result?.cam?.source,
        // reading warnings, then the run's
        warnings: [...f.warnings, ...(f.row?.warnings ?? [])],
      })),
    };
  });
}

/** Until the batch ends, for as long as the page's own progress moves (stallMs: how long it may stand still). */
function waitDone(page: Page, stallMs = stallAfter(undefined)) {
  return untilSettled(() => eegState(page), { done: (s) => /done|cancelled|error/.test(s.batch), progress: () => kitProgress(page, '__voxelbenchEeg'), stallMs, what: 'eeg batch' });
}

const maxDiff = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i])));

/** RGBA of the canvas's own pixels (not a screenshot), summed over a rectangle. */
function canvasRegion(page: Page, x: number, y: number, w: number, h: number): Promise<number[]> {
  return page.evaluate(
    ([x0, y0, ww, hh]) => {
      const c = document.querySelector('[data-testid="eeg-canvas"]') as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(x0, y0, ww, hh).data;
      return Array.from(d);
    },
    [x, y, w, h],
  );
}

test('?demo=eeg loads the three samples, votes and the model and runs without clicks', async ({ page }) => {
  await page.goto('./?demo=eeg&backend=wasm');
  await page.waitForFunction(() => window.__voxelbenchEeg !== undefined);
  const st = await waitDone(page);
  expect(st.batch).toBe('done');
  expect(st.files.map((f) => f.id).sort()).toEqual([...FILES].sort());
  for (const f of st.files) {
    expect(f.status).toBe('done');
    expect(maxDiff(f.probabilities!, ref.samples[f.id].probabilities)).toBeLessThan(1e-4);
  }
  await expect(page.getByTestId('eeg-kl-value')).toHaveText(klRef.votes.kl.toFixed(4));
  await expect(page.getByTestId('eeg-canvas')).toBeVisible();
  await page.screenshot({ path: 'test-results/eeg-demo.png' });
  // the page keeps answering while rows are clicked and the CAM's class, opacity and visibility change: no frame waits 200 ms
  const gaps = await frameGaps(page, 'eeg view changes', [
    ...FILES.map((id) => [`row ${id}`, () => page.getByTestId(`eeg-row-${id}`).click()] as const),
    ['class', () => page.getByTestId('eeg-cam-class').selectOption({ index: 2 })],
    ['opacity', () => page.getByTestId('eeg-opacity').fill('0.3')],
    ['cam off', () => page.getByTestId('eeg-show-cam').uncheck()],
    ['cam on', () => page.getByTestId('eeg-show-cam').check()],
  ]);
  expect(await page.evaluate(() => window.__voxelbenchEeg!.store.getState().selected)).toBe(FILES[2]);
  for (const ms of Object.values(gaps)) expect(ms).toBeLessThan(200);
  // a 60-row window from row 100 (start row editable): the PyTorch probabilities of that window
  await page.getByTestId('eeg-window-mode').selectOption('window');
  await setNumber(page, 'eeg-window-start', 100);
  await setNumber(page, 'eeg-window-rows', 60);
  await page.getByTestId('eeg-run').click();
  const w = await waitDone(page);
  const seiz = w.files.find((f) => f.id === 'sim_seizure_001')!;
  const wref = (ref.samples as unknown as Record<string, { probabilities: number[] }>).window.probabilities;
  expect(maxDiff(seiz.probabilities!, wref)).toBeLessThan(1e-4);
  expect(w.files.find((f) => f.id === 'real_eegmmidb_S001R03')!.warnings.join(' ')).toMatch(/runs past the end \(62 rows\); using rows 2\.\.61/);
});

async function openEeg(page: Page): Promise<void> {
  await page.goto('./?preset=eeg');
  await page.waitForFunction(() => window.__voxelbenchEeg !== undefined);
  await expect(page.getByTestId('preset-eeg')).toHaveClass(/on/);
}

/** Drops files on the page the way a browser does (DataTransfer + drop event). */
async function dropFiles(page: Page, files: { name: string; bytes: Uint8Array }[]): Promise<void> {
  // base64 strings: arrays of numbers are slow to pass to the page
  await page.evaluate(async (list) => {
    const dt = new DataTransfer();
    for (const f of list) dt.items.add(new File([Uint8Array.from(atob(f.b64), (ch) => ch.charCodeAt(0))], f.name));
    window.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, files.map((f) => ({ name: f.name, b64: Buffer.from(f.bytes).toString('base64') })));
}

/** Canvas (x, y) of the centre of class-map cell (i, j) of an [h, w] map over a whole file. */
function cellXY(i: number, j: number, h: number, w: number): [number, number] {
  const r = Math.floor(((i + 0.5) * 400) / h);
  const c = Math.floor(r / 100);
  const bin = r % 100;
  const y = LAYOUT.top + c * (LAYOUT.panelH + LAYOUT.gap) + (99 - bin);
  const x = LAYOUT.left + Math.floor(((j + 0.5) * LAYOUT.plotW) / w);
  return [x, y];
}

test('dropped samples, votes and model on WASM: PyTorch probabilities, CAM pixels, table, submission.csv, KL; bad files named', async ({ page }) => {
  await openEeg(page);
  await page.getByTestId('eeg-backend').selectOption('wasm');
  const read = (p: string) => new Uint8Array(readFileSync(p));
  await dropFiles(page, [
    ...FILES.map((f) => ({ name: `${f}.parquet`, bytes: read(join(SAMPLES, `${f}.parquet`)) })),
    { name: 'votes.csv', bytes: read(join(SAMPLES, 'votes.csv')) },
    { name: 'eeg_spectrogram.onnx', bytes: read(MODEL) },
    { name: 'wrong_columns.parquet', bytes: read(join(FIX, 'wrong_columns.parquet')) },
    { name: 'cut.parquet', bytes: read(join(SAMPLES, 'sim_lpd_002.parquet')).subarray(0, 200_000) },
  ]);
  await expect(page.getByTestId('eeg-model-eeg_spectrogram.onnx')).toBeVisible();
  await expect(page.getByTestId('eeg-file-error-wrong_columns')).toContainText('wrong_columns.parquet: not an HMS spectrogram: missing 2 columns: LL_0.59, RP_19.92; unexpected column: LL_0.6');
  await expect(page.getByTestId('eeg-file-error-cut')).toContainText('cut.parquet: the Parquet file is truncated');
  await expect(page.getByTestId('eeg-votes')).toContainText('votes.csv (2)');
  await page.keyboard.press('Control+Enter');
  const st = await waitDone(page);
  expect(st.batch).toBe('done');
  let worst = 0;
  for (const f of FILES) {
    const got = st.files.find((x) => x.id === f)!;
    expect(got.status, got.error).toBe('done');
    expect(got.backend).toBe('wasm');
    expect(got.cam).toBe('class_maps');
    worst = Math.max(worst, maxDiff(got.probabilities!, ref.samples[f].probabilities));
  }
  console.log(`eeg e2e: WASM vs PyTorch max |diff| ${worst.toExponential(2)}`);
  expect(worst).toBeLessThan(1e-4);
  expect(st.files.find((f) => f.id === 'real_eegmmidb_S001R03')!.warnings.join(' ')).toMatch(/62 rows .* trained on 300-row/);
  expect(st.files.filter((f) => f.status === 'error').map((f) => f.id).sort()).toEqual(['cut', 'wrong_columns']);
  // table: one row per file, KL column; overall KL = Python's
  await expect(page.getByTestId('eeg-row-sim_seizure_001')).toContainText('0.8746');
  await expect(page.getByTestId('eeg-row-sim_seizure_001')).toContainText('seizure');
  await expect(page.getByTestId('eeg-kl-value')).toHaveText(klRef.votes.kl.toFixed(4));

  // CAM overlay: the seizure sample's seizure map; pixels change where the map is high, not where it is 0
  await page.getByTestId('eeg-row-sim_seizure_001').click();
  const cam = await page.evaluate(() => {
    const f = window.__voxelbenchEeg!.store.getState().items.find((x) => x.id === 'sim_seizure_001')!;
    const c = f.result!.cam!;
    return { data: Array.from(c.data), shape: c.shape };
  });
  const [, h, w] = cam.shape;
  const seiz = cam.data.slice(0, h * w);
  const hi = seiz.indexOf(Math.max(...seiz));
  const lo = seiz.findIndex((v, k) => v === 0 && Math.floor(k / w) % 4 !== 0 && Math.floor(k / w) % 4 !== 3);
  const at = async (k: number) => {
    const [x, y] = cellXY(Math.floor(k / w), k % w, h, w);
    return canvasRegion(page, x - 1, y - 1, 3, 3);
  };
  const hiOn = await at(hi);
  const loOn = await at(lo);
  await page.getByTestId('eeg-show-cam').uncheck();
  const hiOff = await at(hi);
  const loOff = await at(lo);
  expect(maxDiff(hiOn, hiOff)).toBeGreaterThan(40);
  expect(maxDiff(loOn, loOff)).toBe(0);
  await page.getByTestId('eeg-show-cam').check();
  // the readout under the pointer: time, chain, frequency, power, CAM value
  const box = (await page.getByTestId('eeg-canvas').boundingBox())!;
  const [hx, hy] = cellXY(Math.floor(hi / w), hi % w, h, w);
  await page.getByTestId('eeg-canvas').hover({ position: { x: (hx * box.width) / CANVAS_W, y: (hy * box.height) / CANVAS_H } });
  await expect(page.getByTestId('eeg-readout')).toContainText(/row \d+ · \d+ s · (LL|RL|LP|RP) [\d.]+ Hz · power [\d.e+-]+ · CAM seizure (0\.9\d|1\.00)/);
  // another class gives another overlay (pixels compared in the page: the plot is 720 x 418)
  const plot = (keep: boolean) =>
    page.evaluate(
      ([x0, y0, ww, hh, k]) => {
        const c = document.querySelector('[data-testid="eeg-canvas"]') as HTMLCanvasElement;
        const d = c.getContext('2d')!.getImageData(x0, y0, ww, hh).data;
        const w = window as unknown as { __eegPlot?: Uint8ClampedArray };
        let changed = 0;
        if (w.__eegPlot) for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - w.__eegPlot[i]) > 30) changed++;
        if (k) w.__eegPlot = d;
        return changed;
      },
      [LAYOUT.left, LAYOUT.top, LAYOUT.plotW, PLOT_H, keep ? 1 : 0] as const,
    );
  await plot(true);
  await page.getByTestId('eeg-cam-class').selectOption('lpd');
  expect(await plot(false)).toBeGreaterThan(2000);
  // opacity 0 shows the bare spectrogram
  await page.getByTestId('eeg-opacity').fill('0');
  expect(maxDiff(await at(hi), hiOff)).toBe(0);

  // submission.csv as downloaded
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('eeg-export').click()]);
  expect(dl.suggestedFilename()).toBe('submission.csv');
  const text = readFileSync((await dl.path())!, 'utf8');
  const lines = text.trim().split('\n');
  expect(lines[0]).toBe('eeg_id,seizure_vote,lpd_vote,gpd_vote,lrda_vote,grda_vote,other_vote');
  expect(lines).toHaveLength(4);
  for (const l of lines.slice(1)) {
    const [id, ...v] = l.split(',');
    expect(maxDiff(v.map(Number), ref.samples[id].probabilities)).toBeLessThan(1e-4);
  }
});

test('a wrong class count is named; a logits-only model gets an occlusion map with progress; Esc cancels', async ({ page }) => {
  await openEeg(page);
  await page.getByTestId('eeg-backend').selectOption('wasm');
  const read = (p: string) => new Uint8Array(readFileSync(p));
  await page.getByTestId('eeg-model-input').setInputFiles(join(FIX, 'tiny_eeg_5class.onnx'));
  await expect(page.getByTestId('log')).toContainText('tiny_eeg_5class.onnx: the model gives 5 classes');
  await expect(page.getByTestId('eeg-models')).toHaveCount(0);
  await page.getByTestId('eeg-model-input').setInputFiles(join(FIX, 'tiny_eeg_logits.onnx'));
  await expect(page.getByTestId('eeg-model-tiny_eeg_logits.onnx')).toBeVisible();
  await dropFiles(page, [{ name: 'sim_lpd_002.parquet', bytes: read(join(SAMPLES, 'sim_lpd_002.parquet')) }]);
  await expect(page.getByTestId('eeg-file-sim_lpd_002')).toHaveAttribute('data-status', 'waiting');
  const t0 = Date.now();
  await page.getByTestId('eeg-run').click();
  await expect(page.getByTestId('eeg-progress-text')).toContainText(/occlusion \d+\/225/);
  const st = await waitDone(page);
  // measured: the time of one occlusion window here (a cancel waits for at most the windows in flight)
  const msPerWindow = (Date.now() - t0) / 225;
  const f = st.files[0];
  expect(f.status, f.error).toBe('done');
  expect(f.cam).toBe('occlusion');
  expect(maxDiff(f.probabilities!, ref.samples.sim_lpd_002.tiny6_probabilities)).toBeLessThan(1e-4);
  // run again with finer occlusion (more windows) and cancel with Esc
  await dropFiles(page, FILES.map((n) => ({ name: `${n}.parquet`, bytes: read(join(SAMPLES, `${n}.parquet`)) })));
  // square patches and strides (the form has an H and a W field for each)
  for (const axis of ['h', 'w']) {
    await setNumber(page, `eeg-occ-patch-${axis}`, 16);
    await setNumber(page, `eeg-occ-stride-${axis}`, 8);
  }
  await page.getByTestId('eeg-run').click();
  await expect(page.getByTestId('eeg-progress-text')).toContainText(/occlusion \d+\/3969/);
  await page.keyboard.press('Escape');
  const c = await waitDone(page, stallAfter(16 * msPerWindow));
  expect(c.batch).toBe('cancelled');
  expect(c.files.some((x) => x.status === 'cancelled')).toBe(true);
  // the page still runs afterwards; with the demo model as a second fold the softmax is averaged
  await page.getByTestId('eeg-model-input').setInputFiles(MODEL);
  await expect(page.getByTestId('eeg-model-eeg_spectrogram.onnx')).toBeVisible();
  await page.getByTestId('eeg-run').click();
  const again = await waitDone(page);
  expect(again.batch).toBe('done');
  expect(again.files.every((x) => x.status === 'done')).toBe(true);
  const twoRef = (ref.samples as unknown as Record<string, { two_fold_mean: number[] }>);
  for (const x of again.files) {
    expect(x.folds).toBe(2);
    expect(x.cam).toBe('class_maps');
    expect(maxDiff(x.probabilities!, twoRef[x.id].two_fold_mean)).toBeLessThan(1e-4);
  }
  // each fold's value is a dot on the bar chart (6 classes x 2 folds)
  await page.getByTestId('eeg-row-sim_lpd_002').click();
  await expect(page.getByTestId('eeg-chart').locator('circle')).toHaveCount(12);
});

test('WebGPU: a tiny 6-class CAM model gives the WASM probabilities (1e-4)', async ({ page }) => {
  await openEeg(page);
  const rt = await page.evaluate(async () => !!(navigator as Navigator & { gpu?: unknown }).gpu);
  expect(rt).toBe(true);
  await page.getByTestId('eeg-model-input').setInputFiles(join(FIX, 'tiny_eeg_6class.onnx'));
  await expect(page.getByTestId('eeg-model-tiny_eeg_6class.onnx')).toBeVisible();
  await page.getByTestId('eeg-file-input').setInputFiles(join(SAMPLES, 'real_eegmmidb_S001R03.parquet'));
  await expect(page.getByTestId('eeg-file-real_eegmmidb_S001R03')).toHaveAttribute('data-status', 'waiting');
  await page.getByTestId('eeg-backend').selectOption('webgpu');
  await page.getByTestId('eeg-run').click();
  const gpu = await waitDone(page, 300_000);
  const g = gpu.files[0];
  expect(g.status, g.error).toBe('done');
  expect(g.backend).toBe('webgpu');
  await page.getByTestId('eeg-backend').selectOption('wasm');
  await page.getByTestId('eeg-run').click();
  const cpu = await waitDone(page);
  const c = cpu.files[0];
  expect(c.backend).toBe('wasm');
  console.log(`eeg e2e: WebGPU vs WASM max |diff| ${maxDiff(g.probabilities!, c.probabilities!).toExponential(2)}, WASM vs PyTorch ${maxDiff(c.probabilities!, ref.samples.real_eegmmidb_S001R03.tiny6_probabilities).toExponential(2)}`);
  expect(maxDiff(g.probabilities!, c.probabilities!)).toBeLessThan(1e-4);
  expect(maxDiff(c.probabilities!, ref.samples.real_eegmmidb_S001R03.tiny6_probabilities)).toBeLessThan(1e-4);
});

test('share: a link carries the window, the picked file and the CAM view; a session restores the results without running', async ({ page, context }) => {
  test.slow();
  await page.goto('./?demo=eeg&backend=wasm');
  await page.waitForFunction(() => window.__voxelbenchEeg !== undefined);
  await waitDone(page);
  await page.getByTestId('eeg-window-mode').selectOption('window');
  await setNumber(page, 'eeg-window-start', 100);
  await setNumber(page, 'eeg-window-rows', 60);
  await page.getByTestId('eeg-run').click();
  const before = await waitDone(page);
  await page.getByTestId('eeg-row-sim_lpd_002').click();
  await page.getByTestId('eeg-cam-class').selectOption('lpd');
  await page.getByTestId('eeg-opacity').fill('0.3');
  await page.getByTestId('share-menu').click();
  await page.getByTestId('copy-link').click();
  const link = await page.getByTestId('share-link').inputValue();
  await page.keyboard.press('Escape');
  expect(link).toMatch(/demo=eeg/);
  expect(link).toMatch(/start=100/);
  expect(link).toMatch(/file=sim_lpd_002/);
  expect(link).toMatch(/cls=lpd/);

  const p2 = await context.newPage();
  await p2.goto(link);
  await p2.waitForFunction(() => window.__voxelbenchEeg !== undefined);
  const after = await waitDone(p2);
  for (const f of before.files) expect(maxDiff(after.files.find((x) => x.id === f.id)!.probabilities!, f.probabilities!)).toBeLessThan(1e-6);
  const v2 = await p2.evaluate(() => {
    const s = window.__voxelbenchEeg!.store.getState();
    return { selected: s.selected, view: s.view, start: s.params.windowStart, rows: s.params.windowRows, window: s.params.window };
  });
  expect(v2).toEqual({ selected: 'sim_lpd_002', view: { cls: 1, showCam: true, opacity: 0.3 }, start: 100, rows: 60, window: 'window' });

  // session file: saved, then opened on a fresh page: the same results, nothing run
  await p2.getByTestId('share-menu').click();
  const [download] = await Promise.all([p2.waitForEvent('download'), p2.getByTestId('save-session').click()]);
  const path = await download.path();
  const p3 = await context.newPage();
  await p3.goto('./?preset=eeg');
  await p3.waitForFunction(() => window.__voxelbenchEeg !== undefined);
  await p3.getByTestId('share-menu').click();
  await p3.getByTestId('session-input').setInputFiles(path!);
  await expect.poll(async () => (await eegState(p3)).files.filter((f) => f.status === 'done').length, { timeout: 60_000 }).toBe(3);
  const restored = await eegState(p3);
  for (const f of before.files) {
    const r = restored.files.find((x) => x.id === f.id)!;
    expect(maxDiff(r.probabilities!, f.probabilities!)).toBe(0);
    expect(r.cam).toBe('class_maps');
  }
  expect(await p3.evaluate(() => window.__voxelbenchShare!.runCount())).toBe(0);
  await expect(p3.getByTestId('eeg-canvas')).toBeVisible();
});
