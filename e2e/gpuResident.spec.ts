/**
 * The GPU-resident sliding window (src/worker/gpu) in the real worker, Chromium on SwiftShader:
 * the same numbers as the CPU-stitching path on the same WebGPU adapter (1e-5) on the MONAI parity
 * cases and the motor demo at a tiny size, and a fallback that says why.
 */
import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { readNpy } from '../src/core/io/npy';
import type { SlidingWindowParams, SlidingWindowStats } from '../src/core/slidingWindow';
import { expect, test, fixture, maxAbsDiff, serveFixtures } from './util';

interface RunOut {
  shape: number[];
  backend: string;
  backendReason: string;
  stats: SlidingWindowStats;
  data: number[];
}

interface MotorsOut {
  score: number;
  point: number[];
  peaks: { index: number[]; score: number }[];
  backend: string;
  backendReason: string;
  heatmap: number[];
  timings: { windows: number };
}

type Harness = { run(x: unknown): Promise<RunOut>; motors(x: unknown): Promise<MotorsOut> };

async function openHarness(page: Page) {
  await serveFixtures(page);
  await page.goto('e2e/harness.html');
  await page.waitForFunction(() => document.title === 'harness ready');
  return {
    run: (req: { model: string; volume: string; params: SlidingWindowParams; weightMap?: number[]; backend: string; gpuResident?: boolean; scale?: number }) =>
      page.evaluate(
        ({ weightMap, ...r }) =>
          (window as unknown as { harness: Harness }).harness.run({ ...r, params: { ...r.params, weightMap: weightMap ? new Float32Array(weightMap) : undefined }, returnData: true }),
        req,
      ),
    motors: (req: Record<string, unknown>) => page.evaluate((r) => (window as unknown as { harness: Harness }).harness.motors({ ...r, returnData: true }), req),
  };
}

test('MONAI parity cases: the GPU-resident path equals CPU stitching on the same WebGPU adapter (1e-5) and MONAI (1e-4)', async ({ page }) => {
  const h = await openHarness(page);
  for (const name of ['constant_basic', 'gaussian_batch', 'byu_weight_map']) {
    const p = JSON.parse(readFileSync(fixture(`parity/${name}/params.json`), 'utf8'));
    const expected = readNpy(readFileSync(fixture(`parity/${name}/expected.npy`)));
    const req = {
      model: `../fixtures/parity/${name}/model.onnx`,
      volume: `../fixtures/parity/${name}/input.npy`,
      params: { roi: p.roi, overlap: p.overlap, mode: p.mode, sigmaScale: p.sigma_scale, swBatch: p.sw_batch, cval: p.cval },
      weightMap: p.weight_map ? Array.from(readNpy(readFileSync(fixture(`parity/${name}/${p.weight_map}`))).data) : undefined,
      backend: 'webgpu',
    };
    const gpu = await h.run(req);
    const cpu = await h.run({ ...req, gpuResident: false });
    expect(gpu.backend, name).toBe('webgpu');
    expect(gpu.backendReason, name).toMatch(/GPU-resident sliding window \(read back/);
    expect(cpu.backend).toBe('webgpu');
    expect(cpu.backendReason).not.toMatch(/GPU-resident/);
    expect(gpu.shape).toEqual(expected.shape);
    expect(gpu.stats.windows).toBe(cpu.stats.windows);
    expect(gpu.stats.windows).toBeGreaterThan(1);
    expect(maxAbsDiff(gpu.data, cpu.data), name).toBeLessThan(1e-5);
    expect(maxAbsDiff(gpu.data, expected.data), name).toBeLessThan(1e-4);
  }
});

test('motor demo at a tiny size (3 TTA passes, 2 peaks): the GPU-resident heatmap and point equal the CPU path (1e-5)', async ({ page }) => {
  const h = await openHarness(page);
  const req = {
    model: '../models/motor_heatmap.onnx',
    card: '../models/motor_heatmap.json',
    tomogram: '../samples/tomograms/tomo_sim_001.mrc',
    size: [40, 64, 64],
    params: { inputSize: [40, 64, 64], roi: [32, 64, 64], overlap: [0.75, 0.25, 0.25], swBatch: 2, maxPeaks: 2 },
    backend: 'webgpu',
  };
  const gpu = await h.motors(req);
  const cpu = await h.motors({ ...req, gpuResident: false });
  expect(gpu.backendReason).toMatch(/GPU-resident sliding window/);
  expect(cpu.backendReason).not.toMatch(/GPU-resident/);
  expect(gpu.timings.windows).toBe(cpu.timings.windows);
  // D: 40 with roi 32 and overlap 0.75 gives windows at 0 and 8, H and W one each; 3 TTA passes
  expect(gpu.timings.windows).toBe(2 * 3);
  expect(gpu.heatmap.length).toBe(10 * 16 * 16);
  expect(maxAbsDiff(gpu.heatmap, cpu.heatmap)).toBeLessThan(1e-5);
  expect(Math.abs(gpu.score - cpu.score)).toBeLessThan(1e-5);
  expect(gpu.point).toEqual(cpu.point);
  expect(gpu.peaks.map((p) => p.index)).toEqual(cpu.peaks.map((p) => p.index));
  // another input scaling (min-max: a scale and an offset) is applied on the GPU as on the CPU (it once fed x / 255 whatever was asked)
  const mm = { ...req, params: { ...req.params, inputScaling: 'minmax' as const } };
  const gpuMm = await h.motors(mm);
  const cpuMm = await h.motors({ ...mm, gpuResident: false });
  expect(gpuMm.backendReason).toMatch(/GPU-resident sliding window/);
  expect(maxAbsDiff(cpuMm.heatmap, cpu.heatmap)).toBeGreaterThan(1e-3);
  expect(maxAbsDiff(gpuMm.heatmap, cpuMm.heatmap)).toBeLessThan(1e-5);
});

test('a model WebGPU cannot run: the GPU-resident path falls back to the CPU path and says why', async ({ page }) => {
  // auto takes this machine's software adapter as a hardware one would be taken (else it picks WASM and never tries the GPU path)
  await page.addInitScript(() => ((window as { __voxelbenchAutoUsesSoftwareAdapter?: boolean }).__voxelbenchAutoUsesSoftwareAdapter = true));
  const h = await openHarness(page);
  const common = { model: '../fixtures/models/tiny_convtranspose3d.onnx', volume: '../fixtures/volumes/ball_int16.nii.gz', scale: 1 / 255 };
  const params: SlidingWindowParams = { roi: [8, 8, 8], overlap: 0.5, mode: 'gaussian', sigmaScale: 0.125, swBatch: 2, cval: 0 };
  const auto = await h.run({ ...common, params, backend: 'auto' });
  expect(auto.backend).toBe('wasm');
  expect(auto.backendReason).toMatch(/GPU-resident path not used: it failed \(.*\); windows were stitched on the CPU/);
  const cpu = await h.run({ ...common, params, backend: 'wasm' });
  expect(cpu.backendReason).not.toMatch(/GPU-resident/);
  expect(maxAbsDiff(auto.data, cpu.data)).toBeLessThan(1e-5);
});
