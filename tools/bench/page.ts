/**
 * The `page` lines of `npm run bench` (issue 17): a competition-size JPEG slice folder (default
 * 300 x 959 x 928, VB_BENCH_PAGE=D,H,W) and MRC tomograms (default 500 x 1000 x 1000,
 * VB_BENCH_PAGE_MRC=D,H,W, `none` leaves them out; modes VB_BENCH_PAGE_MRC_MODES, default 1,2,12:
 * int16, float32, float16), made in a temp folder as tools/bench/tomograms.ts
 * makes the CLI's, each dropped on the motors page in Chromium and run on WASM with the bundled
 * model and its card:
 * - read time (drop to 'waiting': the page reads the files, the inference worker stacks the slices
 *   decoded by the page decode pool) against the model's time (resize, windows, TTA, peaks: the
 *   pipeline's own timings) and the run's wall time;
 * - for the JPEG folder, a second run after the page's cache let it go (as in a batch larger than the
 *   cache's budget): the read for the run alone (only the slices the resize reads, as the CLI)
 *   against that run's model time;
 * - peak memory of the page's renderer process (the page, the inference worker, the decode workers
 *   and onnxruntime's WASM heap all live in it): VmHWM from /proc/<pid>/status, reset
 *   (/proc/<pid>/clear_refs) before the read and again before the run, over the tomogram's uint8
 *   size; the renderer is found with CDP SystemInfo.getProcessInfo (the one the new page added).
 * The viewer keeps showing a tiny tomogram dropped first (as a user who looks at another one while
 * it reads): the big one is never drawn, so neither the viewer's copy of it nor software WebGL's
 * time (headless Chromium) is in the numbers.
 * Linux only for the memory columns (they read /proc); the times are measured anywhere.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ROOT } from './measure';
import { dims, volumeOf, writeJpegFolder, writeMrcFile } from './tomograms';

/** What is dropped: a JPEG slice folder, or an MRC file in a mode. */
export type PageInput = { kind: 'jpeg'; shape: [number, number, number] } | { kind: 'mrc'; mode: 1 | 2 | 12; shape: [number, number, number] };

/** The inputs `npm run bench` drops (VB_BENCH_PAGE, VB_BENCH_PAGE_MRC, VB_BENCH_PAGE_MRC_MODES). */
export function pageInputs(): PageInput[] {
  const mrc = process.env.VB_BENCH_PAGE_MRC;
  const modes = (process.env.VB_BENCH_PAGE_MRC_MODES ?? '1,2,12').split(',').map(Number) as (1 | 2 | 12)[];
  const mrcShape = dims(mrc, [500, 1000, 1000]);
  return [{ kind: 'jpeg', shape: dims(process.env.VB_BENCH_PAGE, [300, 959, 928]) }, ...(mrc === 'none' ? [] : modes.map((mode) => ({ kind: 'mrc' as const, mode, shape: mrcShape })))];
}

export interface PageRow {
  input: PageInput;
  shape: [number, number, number];
  fileMB: number;
  workers: number;
  readMs: number;
  runWallMs: number;
  modelMs: number;
  predictMs: number;
  /** A JPEG folder read again for its run alone (the slices the resize reads) and that run's model time; NaN for MRC. */
  rereadMs: number;
  rereadModelMs: number;
  /** Renderer RSS (MB) before the read, and its peaks during the read and during the run; NaN where /proc cannot be read. */
  baseMB: number;
  readPeakMB: number;
  runPeakMB: number;
  crossOriginIsolated: boolean;
}

function procKB(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** Sum over the page's renderer processes of VmRSS or VmHWM, in MB. */
const memMB = (pids: number[], field: 'VmHWM' | 'VmRSS'): number => pids.reduce((a, p) => a + procKB(p, field), 0) / 1024;

function resetPeak(pids: number[]): void {
  for (const p of pids) {
    try {
      writeFileSync(`/proc/${p}/clear_refs`, '5');
    } catch {
      /* not Linux, or not allowed: the peak then covers the page's whole life */
    }
  }
}

async function rendererPids(browser: Browser): Promise<number[]> {
  try {
    const cdp = await browser.newBrowserCDPSession();
    const r = (await cdp.send('SystemInfo.getProcessInfo')) as { processInfo: { type: string; id: number }[] };
    await cdp.detach();
    return r.processInfo.filter((p) => p.type === 'renderer').map((p) => p.id);
  } catch {
    return [];
  }
}

type Store = { getState(): { items: { id: string; status: string; error?: string; result?: { timings: { totalMs: number; predictMs: number } } }[]; batch: { status: string } } };
const state = (page: Page) =>
  page.evaluate(() => {
    const s = (window as unknown as { __voxelbenchMotors: { store: Store } }).__voxelbenchMotors.store.getState();
    return { batch: s.batch.status, items: s.items.map((t) => ({ id: t.id, status: t.status, error: t.error, timings: t.result?.timings })) };
  });

async function until<T>(f: () => Promise<T>, ok: (x: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const x = await f();
    if (ok(x)) return x;
    if (Date.now() - t0 > timeoutMs) throw new Error(`bench page: ${what} did not happen within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function benchPage(browser: Browser, origin: string, input: PageInput): Promise<PageRow> {
  const shape = input.shape;
  const dir = mkdtempSync(join(tmpdir(), 'vb-page-'));
  try {
    const id = `tomo_${shape.join('x')}`;
    const at = input.kind === 'jpeg' ? join(dir, 'jpeg', id) : join(dir, `${id}.mrc`);
    if (input.kind === 'jpeg') writeJpegFolder(at, shape, volumeOf(shape));
    else writeMrcFile(at, shape, input.mode, volumeOf(shape));
    const fileMB = Number(spawnSync('du', ['-sm', at], { encoding: 'utf8' }).stdout.split('\t')[0]);

    const before = new Set(await rendererPids(browser));
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${origin}/?preset=motors`);
    await page.waitForFunction(() => (window as unknown as { __voxelbenchMotors?: unknown }).__voxelbenchMotors !== undefined);
    const pids = (await rendererPids(browser)).filter((p) => !before.has(p));
    const isolated = await page.evaluate(() => self.crossOriginIsolated);
    const workers: string[] = [];
    // e.g. a stalled BYOB read of the MRC file that fell back to Blob.arrayBuffer
    page.on('console', (m) => {
      if ((m.type() === 'warning' || m.type() === 'error') && !/GL Driver Message/.test(m.text())) console.error(`bench page: the page said: ${m.text()}`);
    });
    page.on('worker', (w) => {
      if (/decodeSlice/.test(w.url())) workers.push(w.url());
    });
    await page.getByTestId('motor-model-input').setInputFiles([resolve(ROOT, 'public/models/motor_heatmap.onnx'), resolve(ROOT, 'public/models/motor_heatmap.json')]);
    await page.getByTestId(`motor-model-motor_heatmap.onnx`).waitFor();
    await page.getByTestId('motor-backend').selectOption('wasm');

    // the viewer shows a tiny tomogram first and keeps it (headless Chromium draws WebGL in software:
    // a first view of the big one would block the page's thread for a minute), so what is timed is the read
    await page.getByTestId('tomogram-file-input').setInputFiles(resolve(ROOT, 'tests/fixtures/io/mode0_imod_uint8.mrc'));
    await page.waitForFunction(() => ((window as unknown as { __voxelbench?: { nv: { volumes: unknown[] } } }).__voxelbench?.nv.volumes.length ?? 0) > 0, undefined, { timeout: 120_000 });
    const baseMB = memMB(pids, 'VmRSS');
    resetPeak(pids);
    const t0 = performance.now();
    if (input.kind === 'jpeg') await page.getByTestId('tomogram-folder-input').setInputFiles(join(dir, 'jpeg'));
    else await page.getByTestId('tomogram-file-input').setInputFiles(at);
    await until(() => state(page), (s) => s.items.some((t) => t.id === id && t.status !== 'loading'), 900_000, 'the read');
    const readMs = performance.now() - t0;
    const read = (await state(page)).items.find((t) => t.id === id)!;
    if (read.status !== 'waiting') throw new Error(`bench page: ${id} ${read.status}: ${read.error ?? ''}`);
    const readPeakMB = memMB(pids, 'VmHWM');

    resetPeak(pids);
    const t1 = performance.now();
    await page.getByTestId('motor-run').click();
    const done = await until(() => state(page), (s) => /done|cancelled|error/.test(s.batch), 900_000, 'the run');
    const runWallMs = performance.now() - t1;
    const runPeakMB = memMB(pids, 'VmHWM');
    const item = done.items.find((t) => t.id === id)!;
    if (item.status !== 'done' || !item.timings) throw new Error(`bench page: the run ended ${item.status}: ${item.error ?? ''}`);

    // a JPEG folder the page no longer holds (its cache let it go: a batch larger than its budget) is
    // read again for its run alone, the slices the resize reads: timed from the tiny one's end to
    // the big one's start in the store (the runner reads between the two), against its model time
    let rereadMs = NaN;
    let rereadModelMs = NaN;
    if (input.kind === 'jpeg') {
      await page.evaluate((big) => {
        type Items = ReturnType<Store['getState']>;
        type Held = { getState(): Items & { cache: { delete(id: string): void } }; subscribe(f: (s: Items) => void): () => void };
        const w = window as unknown as { __voxelbenchMotors: { store: Held }; __rerun: { tinyDone?: number; bigRunning?: number } };
        const store = w.__voxelbenchMotors.store;
        store.getState().cache.delete(big);
        const marks: { tinyDone?: number; bigRunning?: number } = (w.__rerun = {});
        let seenTinyRunning = false;
        store.subscribe((st) => {
          const tiny = st.items.find((t) => t.id !== big);
          if (tiny?.status === 'running') seenTinyRunning = true;
          if (seenTinyRunning && marks.tinyDone === undefined && tiny?.status === 'done') marks.tinyDone = performance.now();
          if (marks.bigRunning === undefined && st.items.find((t) => t.id === big)?.status === 'running') marks.bigRunning = performance.now();
        });
      }, id);
      await page.getByTestId('motor-run').click();
      const again = await until(() => state(page), (s) => /done|cancelled|error/.test(s.batch) && s.items.every((t) => t.status !== 'running'), 900_000, 'the second run');
      const big = again.items.find((t) => t.id === id)!;
      if (big.status !== 'done' || !big.timings) throw new Error(`bench page: the second run ended ${big.status}: ${big.error ?? ''}`);
      const marks = await page.evaluate(() => (window as unknown as { __rerun: { tinyDone?: number; bigRunning?: number } }).__rerun);
      if (marks.tinyDone === undefined || marks.bigRunning === undefined) throw new Error(`bench page: the second run's marks are missing: ${JSON.stringify(marks)}`);
      rereadMs = marks.bigRunning - marks.tinyDone;
      rereadModelMs = big.timings.totalMs;
    }
    await context.close();
    return {
      input,
      shape,
      fileMB,
      workers: workers.length,
      readMs,
      runWallMs,
      modelMs: item.timings.totalMs,
      predictMs: item.timings.predictMs,
      rereadMs,
      rereadModelMs,
      baseMB,
      readPeakMB,
      runPeakMB,
      crossOriginIsolated: isolated,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printPage(rows: PageRow[]): void {
  if (!rows.length) return;
  console.log('\nThe motors page in Chromium (WASM): a JPEG slice folder or an MRC file dropped, then run (renderer process: page + inference worker + decode workers)');
  console.log(
    ['tomogram', 'file MB', 'decode workers', 'read s', 'model s', 'read / model', 'run wall s (this and the tiny one)', 'read for the run alone s / model s (not held: JPEG)', 'its read / model', 'RSS before MB', 'peak read MB', 'peak run MB', 'peak read / uint8', 'peak run / uint8', '(peak - before) / uint8'].join(' | '),
  );
  for (const r of rows) {
    const uint8MB = (r.shape[0] * r.shape[1] * r.shape[2]) / 2 ** 20;
    const peak = Math.max(r.readPeakMB, r.runPeakMB);
    console.log(
      [
        `${r.input.kind === 'jpeg' ? 'JPEG folder' : `MRC mode ${r.input.mode}`} ${r.shape.join(' x ')}${r.crossOriginIsolated ? '' : ' (not cross-origin isolated)'}`,
        r.fileMB.toFixed(0),
        r.workers,
        (r.readMs / 1000).toFixed(2),
        (r.modelMs / 1000).toFixed(2),
        (r.readMs / r.modelMs).toFixed(2),
        (r.runWallMs / 1000).toFixed(2),
        Number.isNaN(r.rereadMs) ? '-' : `${(r.rereadMs / 1000).toFixed(2)} / ${(r.rereadModelMs / 1000).toFixed(2)}`,
        Number.isNaN(r.rereadMs) ? '-' : (r.rereadMs / r.rereadModelMs).toFixed(2),
        r.baseMB.toFixed(0),
        r.readPeakMB.toFixed(0),
        r.runPeakMB.toFixed(0),
        (r.readPeakMB / uint8MB).toFixed(2),
        (r.runPeakMB / uint8MB).toFixed(2),
        ((peak - r.baseMB) / uint8MB).toFixed(2),
      ].join(' | '),
    );
  }
}
