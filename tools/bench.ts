/**
 * npm run bench: the MeshNet demo (256^3 T1) at two roi sizes and as one whole-volume window,
 * in onnxruntime-node and in Chromium (WASM backend, through the real worker). Prints time per
 * window, total time and the share of time spent outside session.run (padding, copying windows,
 * stitching), and the tiled/whole ratios measured in this one run. No pass/fail: speed targets
 * are read here, never asserted in tests. Then (issue 4) one 128 x 672 x 672 tomogram through the
 * motor demo model with its card values, in both: seconds, share outside session.run, peak heap.
 * Last, the GPU-resident path against CPU stitching on the WebGPU adapter Chromium finds (a ratio on
 * SwiftShader here; tools/device-bench.sh measures a real GPU).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { spawn } from 'node:child_process';
import * as ort from 'onnxruntime-node';
import { chromium } from 'playwright-core';
import { readVolume } from '../src/core/io';
import { relaxSpatialDims } from '../src/core/onnx/model';
import { sessionPredictor } from '../src/core/ortPredictor';
import { planWindows, slidingWindowInference, type SlidingWindowParams, type SlidingWindowStats } from '../src/core/slidingWindow';
import { chromiumArgs } from '../playwright.config';
import { detectMotors } from '../src/core/motors/pipeline';
import { tomogramFromVolume } from '../src/core/motors/tomogram';
import { zoomLinear } from '../src/core/motors/resize';
import { motorsParamsFromCard, type MotorsModelCard } from '../src/core/presets/motors';
import { benchPage, pageInputs, type PageRow } from './bench/page';
import { benchRatios } from './bench/ratios';

const ROOT = resolve(import.meta.dirname, '..');
const MODEL = resolve(ROOT, 'public/demo/meshnet/model.onnx');
const T1 = resolve(ROOT, 'public/demo/meshnet/t1.nii.gz');
const PORT = Number(process.env.VB_PORT ?? 4191);
const only = process.argv[2];

interface Case {
  label: string;
  params: SlidingWindowParams;
}
const base = { mode: 'gaussian' as const, sigmaScale: 0.125, swBatch: 1, cval: 0 };
const CASES: Case[] = [
  { label: 'whole volume (roi 256)', params: { ...base, roi: [256, 256, 256], overlap: 0 } },
  { label: 'roi 128, overlap 0.5', params: { ...base, roi: [128, 128, 128], overlap: 0.5 } },
  { label: 'roi 192, overlap 0.5', params: { ...base, roi: [192, 192, 192], overlap: 0.5 } },
];

interface Row {
  where: string;
  label: string;
  windows: number;
  voxelsRatio: number;
  stats: SlidingWindowStats;
}

function voxelRatio(p: SlidingWindowParams): number {
  const plan = planWindows([256, 256, 256], p);
  return (plan.starts.length * plan.roi.reduce((a, b) => a * b, 1)) / 256 ** 3;
}

function print(rows: Row[]): void {
  if (!rows.length) return;
  console.log('\nMeshNet on the bundled T1 (each side after one warm-up run of the whole volume)');
  const whole = new Map(rows.filter((r) => r.label.startsWith('whole')).map((r) => [r.where, r.stats.totalMs]));
  console.log(
    ['where', 'case', 'windows', 'voxels fed / volume', 'ms / window', 'total s', 'outside session.run', 'x whole-volume time'].join(' | '),
  );
  for (const r of rows) {
    const s = r.stats;
    console.log(
      [
        r.where,
        r.label,
        r.windows,
        r.voxelsRatio.toFixed(2),
        (s.totalMs / s.windows).toFixed(0),
        (s.totalMs / 1000).toFixed(2),
        `${((100 * s.overheadMs) / s.totalMs).toFixed(1)} %`,
        (s.totalMs / (whole.get(r.where) ?? NaN)).toFixed(2),
      ].join(' | '),
    );
  }
}

async function benchNode(): Promise<Row[]> {
  const vol = readVolume(new Uint8Array(readFileSync(T1)), 't1.nii.gz');
  const session = await ort.InferenceSession.create(relaxSpatialDims(new Uint8Array(readFileSync(MODEL))), { graphOptimizationLevel: 'all' });
  const predictor = sessionPredictor(session, (d, dims) => new ort.Tensor('float32', d, dims), session.inputNames[0], session.outputNames[0]);
  const rows: Row[] = [];
  // one warm-up run, not reported (the first run pays for onnxruntime's first allocations)
  await slidingWindowInference({ data: vol.data, shape: [1, ...vol.shape], scale: 1 / 255 }, predictor, CASES[0].params);
  for (const c of CASES) {
    const r = await slidingWindowInference({ data: vol.data, shape: [1, ...vol.shape], scale: 1 / 255 }, predictor, c.params);
    rows.push({ where: 'node', label: c.label, windows: r.stats.windows, voxelsRatio: voxelRatio(c.params), stats: r.stats });
    console.error(`node: ${c.label}: ${(r.stats.totalMs / 1000).toFixed(2)} s`);
  }
  await session.release();
  return rows;
}

async function benchChromium(motorRows: MotorRow[]): Promise<Row[]> {
  const server = spawn('npx', ['vite', 'preview', '--port', String(PORT), '--strictPort'], { cwd: ROOT, stdio: 'ignore', detached: true });
  try {
    const url = `http://localhost:${PORT}/e2e/harness.html`;
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(url)).ok) break;
      } catch {
        /* not up yet */
      }
      if (i > 100) throw new Error('vite preview did not start');
      await new Promise((r) => setTimeout(r, 300));
    }
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: [...chromiumArgs, '--enable-precise-memory-info'],
    });
    const page = await browser.newPage();
    await page.goto(url);
    await page.waitForFunction(() => document.title === 'harness ready');
    const rt = await page.evaluate(() => (window as unknown as { harness: { runtime(): Promise<unknown> } }).harness.runtime());
    console.error('chromium runtime:', JSON.stringify(rt));
    const rows: Row[] = [];
    const meshnetCases = only === 'gpu' || only === 'page' || only === 'motors' ? [] : CASES;
    // one warm-up run, not reported, as in Node (the first also pays for compiling the WebAssembly and starting its threads)
    for (const c of meshnetCases.length ? [null, ...meshnetCases] : []) {
      const r = await page.evaluate(
        (p) =>
          (window as unknown as { harness: { run(x: unknown): Promise<{ stats: SlidingWindowStats; heapMB?: number }> } }).harness.run({
            model: '../demo/meshnet/model.onnx',
            volume: '../demo/meshnet/t1.nii.gz',
            params: p,
            backend: 'wasm',
            scale: 1 / 255,
            relaxDims: true,
          }),
        (c ?? CASES[0]).params,
      );
      if (!c) continue;
      rows.push({ where: 'chromium-wasm', label: c.label, windows: r.stats.windows, voxelsRatio: voxelRatio(c.params), stats: r.stats });
      console.error(`chromium: ${c.label}: ${(r.stats.totalMs / 1000).toFixed(2)} s, JS heap ${r.heapMB?.toFixed(0)} MB`);
    }
    if (only !== 'gpu' && only !== 'page') motorRows.push(await benchMotorsChromium(page));
    if (only !== 'page' && only !== 'motors') gpuRows.push(...(await benchGpuResident(page)));
    // issue 17: a competition-size JPEG folder through the motors page (tools/bench/page.ts)
    if (only === 'page' || (only !== 'gpu' && only !== 'motors' && !skipParts.has('page'))) for (const input of pageInputs()) pageRows.push(await benchPage(browser, `http://localhost:${PORT}`, input));
    await browser.close();
    return rows;
  } finally {
    if (server.pid) process.kill(-server.pid);
  }
}

const MOTOR_MODEL = resolve(ROOT, 'public/models/motor_heatmap.onnx');
const MOTOR_CARD = resolve(ROOT, 'public/models/motor_heatmap.json');
const MOTOR_SAMPLE = resolve(ROOT, 'public/samples/tomograms/tomo_sim_001.mrc');
const TOMO_SIZE: [number, number, number] = [128, 672, 672];

interface MotorRow {
  where: string;
  totalMs: number;
  predictMs: number;
  heapMB: number;
}

/** Issue 4: one 128 x 672 x 672 uint8 tomogram through the demo model with its card's values. */
async function benchMotorsNode(): Promise<MotorRow> {
  const src = tomogramFromVolume(readVolume(new Uint8Array(readFileSync(MOTOR_SAMPLE)), 'sample'), 'sample');
  const tomo = { id: 'bench', shape: TOMO_SIZE, data: zoomLinear(src.data, src.shape, TOMO_SIZE) };
  const params = motorsParamsFromCard(JSON.parse(readFileSync(MOTOR_CARD, 'utf8')) as MotorsModelCard);
  const session = await ort.InferenceSession.create(MOTOR_MODEL);
  const predictor = sessionPredictor(session, (d, dims) => new ort.Tensor('float32', d, dims), session.inputNames[0], session.outputNames[0]);
  let peak = 0;
  const det = await detectMotors(tomo, [predictor], params, {
    onProgress: () => {
      peak = Math.max(peak, process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers);
    },
  });
  await session.release();
  return { where: 'node', totalMs: det.timings.totalMs, predictMs: det.timings.predictMs, heapMB: peak / 2 ** 20 };
}

async function benchMotorsChromium(page: import('playwright-core').Page): Promise<MotorRow> {
  const r = await page.evaluate(
    (size) =>
      (window as unknown as { harness: { motors(x: unknown): Promise<{ timings: { totalMs: number; predictMs: number }; heapMB?: number }> } }).harness.motors({
        model: '../models/motor_heatmap.onnx',
        card: '../models/motor_heatmap.json',
        tomogram: '../samples/tomograms/tomo_sim_001.mrc',
        size,
        backend: 'wasm',
      }),
    TOMO_SIZE,
  );
  return { where: 'chromium-wasm', totalMs: r.timings.totalMs, predictMs: r.timings.predictMs, heapMB: r.heapMB ?? NaN };
}

function printMotors(rows: MotorRow[]): void {
  if (!rows.length) return;
  console.log(`\nmotors: one ${TOMO_SIZE.join(' x ')} tomogram, demo model, card values (resize, tiles, TTA)`);
  console.log(['where', 's / tomogram', 'outside session.run', 'peak JS heap + buffers MB'].join(' | '));
  for (const r of rows) {
    console.log([r.where, (r.totalMs / 1000).toFixed(2), `${((100 * (r.totalMs - r.predictMs)) / r.totalMs).toFixed(1)} %`, r.heapMB.toFixed(0)].join(' | '));
  }
}

interface GpuRow {
  path: string;
  totalMs: number;
  predictMs: number;
  windows: number;
  backendReason: string;
}

/**
 * The GPU-resident path (src/worker/gpu) against CPU stitching, both on the WebGPU adapter the page
 * finds (SwiftShader in headless Chromium here: a ratio on the same adapter, not a speed claim),
 * through the motor pipeline on a small tomogram (3 TTA passes). Real-GPU numbers: tools/device-bench.sh.
 */
async function benchGpuResident(page: import('playwright-core').Page): Promise<GpuRow[]> {
  const rows: GpuRow[] = [];
  for (const gpuResident of [true, false]) {
    const r = await page.evaluate(
      (g) =>
        (window as unknown as { harness: { motors(x: unknown): Promise<{ timings: { totalMs: number; predictMs: number; windows: number }; backendReason: string }> } }).harness.motors({
          model: '../models/motor_heatmap.onnx',
          card: '../models/motor_heatmap.json',
          tomogram: '../samples/tomograms/tomo_sim_001.mrc',
          size: [64, 128, 128],
          params: { inputSize: [64, 128, 128], roi: [32, 128, 128], overlap: [0.5, 0.25, 0.25], swBatch: 2 },
          backend: 'webgpu',
          gpuResident: g,
        }),
      gpuResident,
    );
    rows.push({ path: gpuResident ? 'GPU-resident' : 'CPU stitching', totalMs: r.timings.totalMs, predictMs: r.timings.predictMs, windows: r.timings.windows, backendReason: r.backendReason });
    console.error(`chromium webgpu motors 64x128x128, ${rows[rows.length - 1].path}: ${(r.timings.totalMs / 1000).toFixed(2)} s`);
  }
  return rows;
}

function printGpu(rows: GpuRow[]): void {
  if (!rows.length) return;
  console.log(`\nGPU-resident vs CPU stitching on the page's WebGPU adapter (${rows[0].backendReason.split(';')[0]}): motors, 64 x 128 x 128, 3 TTA passes`);
  console.log(['path', 'windows', 's', 'outside session.run', 'x CPU stitching'].join(' | '));
  const cpu = rows.find((r) => r.path === 'CPU stitching')?.totalMs ?? NaN;
  for (const r of rows) console.log([r.path, r.windows, (r.totalMs / 1000).toFixed(2), `${((100 * (r.totalMs - r.predictMs)) / r.totalMs).toFixed(1)} %`, (r.totalMs / cpu).toFixed(2)].join(' | '));
}

const gpuRows: GpuRow[] = [];
const motorRows: MotorRow[] = [];
const pageRows: PageRow[] = [];
const skipParts = new Set((process.env.VB_BENCH_SKIP ?? '').split(',').filter(Boolean));
// `tsx tools/bench.ts node|chromium|gpu|page|motors` runs one part (gpu: only the GPU-resident ratio in Chromium; page: only the
// motors page line; motors: only the motors tomogram in Node and in Chromium, and their speed ratio)
const chromiumOnly = only === 'chromium' || only === 'gpu' || only === 'page';
const rows = [...(chromiumOnly || only === 'motors' ? [] : await benchNode())];
if (!chromiumOnly) motorRows.push(await benchMotorsNode());
if (only !== 'node') rows.push(...(await benchChromium(motorRows)));
print(rows);
printMotors(motorRows);
printGpu(gpuRows);
// issue 17: CLI vs bare ORT, decode vs model, RSS / tomogram, Chromium vs Node, PyTorch + MONAI (tools/bench/)
await benchRatios(rows, motorRows, pageRows, only);
