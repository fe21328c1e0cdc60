/**
 * The GPU-resident sliding window in Node on Dawn's WebGPU (tools/nodeWebgpu.ts), against the
 * CPU-stitching path on the same WebGPU adapter and onnxruntime-node on the CPU.
 *
 *   tsx tools/gpuBench.ts check   equality at tiny sizes (MONAI parity cases, several volume slabs,
 *                                 dtypes, zoomed output, labels, graph capture, the motor pipeline
 *                                 with 3 TTA passes); exits 1 when a difference exceeds 1e-5
 *   tsx tools/gpuBench.ts bench   the benchmark table (tools/device-bench.sh); VB_BENCH=tiny runs
 *                                 every case at a tiny size (to prove the script on a CPU adapter)
 *
 * Columns: windows, ms per window, ms outside session.run (cutting, stitching, reductions,
 * readback), bytes read back to the CPU, total ms. The GPU-resident rows wait for the GPU after
 * each model run (syncTiming) so that "outside session.run" does not hide the model's GPU time.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { readVolume } from '../src/core/io';
import { readNpy } from '../src/core/io/npy';
import { argmax as labelArgmax } from '../src/core/labels';
import { detectMotors, type MotorDetection } from '../src/core/motors/pipeline';
import { zoomLinear } from '../src/core/motors/resize';
import { tomogramFromVolume, type Tomogram } from '../src/core/motors/tomogram';
import { inspectModel, relaxSpatialDims } from '../src/core/onnx/model';
import { toFloat16 } from '../src/core/onnx/float16';
import { sessionPredictor } from '../src/core/ortPredictor';
import { motorsParamsFromCard, type MotorsModelCard, type MotorsParams } from '../src/core/presets/motors';
import { planWindows, slidingWindowInference, type Predictor, type SlidingWindowParams, type SlidingWindowResult } from '../src/core/slidingWindow';
import type { VoxelArray } from '../src/core/volume';
import { gpuResidentMotors, gpuResidentRun, releaseGpuModel, type GpuModelSource, type Ort } from '../src/worker/gpu';
import { benchText, fmtBytes, summarizeBench, type BenchPath, type BenchRow } from './benchSummary';
import { ensureVulkan, exitNow, nodeWebgpu, type NodeWebgpu } from './nodeWebgpu';

const ROOT = resolve(import.meta.dirname, '..');
const PARITY = resolve(ROOT, 'tests/fixtures/parity');

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = d === d ? d : Infinity;
  }
  return m;
}

/** Counts the bytes a CPU-side predictor hands to the model (inputs) and gets back (outputs). */
function counting(p: Predictor): { predictor: Predictor; bytes: () => number; inputBytes: () => number } {
  let bytes = 0;
  let inputBytes = 0;
  return {
    predictor: async (b, s) => {
      inputBytes += b.byteLength;
      const o = await p(b, s);
      bytes += o.data.byteLength;
      return o;
    },
    bytes: () => bytes,
    inputBytes: () => inputBytes,
  };
}

/** The CPU-stitching path on WebGPU: what the worker does today (a new input tensor per batch, outputs read back). */
async function webgpuPredictor(ort: Ort, bytes: Uint8Array): Promise<{ predictor: Predictor; release(): Promise<void> }> {
  const s = await ort.InferenceSession.create(bytes, { executionProviders: ['webgpu'], graphOptimizationLevel: 'all' });
  return { predictor: sessionPredictor(s, (d, dims) => new ort.Tensor('float32', d, dims), s.inputNames[0], s.outputNames[0]), release: () => s.release() };
}

/** The CPU baseline the page falls back to: onnxruntime-web's WASM (threads: VB_THREADS, default 1). */
async function wasmPredictor(ort: Ort, bytes: Uint8Array): Promise<{ predictor: Predictor; release(): Promise<void> }> {
  const s = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  return { predictor: sessionPredictor(s, (d, dims) => new ort.Tensor('float32', d, dims), s.inputNames[0], s.outputNames[0]), release: () => s.release() };
}

type CpuPath = 'webgpu' | 'wasm' | 'node';
const predictorFor = (ort: Ort, bytes: Uint8Array, where: CpuPath) => (where === 'webgpu' ? webgpuPredictor(ort, bytes) : where === 'wasm' ? wasmPredictor(ort, bytes) : nodePredictor(bytes));

async function nodePredictor(bytes: Uint8Array): Promise<{ predictor: Predictor; release(): Promise<void> }> {
  // loaded on first use: the device pack (tools/pack-device-bench.sh) may leave onnxruntime-node out
  const ortNode = await import('onnxruntime-node').catch((e: Error) => {
    throw new Error(`onnxruntime-node cannot be loaded (left out of the pack?): ${e.message.split('\n')[0]}`);
  });
  const s = await ortNode.InferenceSession.create(bytes, { graphOptimizationLevel: 'all' });
  return { predictor: sessionPredictor(s, (d, dims) => new ortNode.Tensor('float32', d, dims), s.inputNames[0], s.outputNames[0]), release: () => s.release() };
}

interface SwCase {
  name: string;
  bytes: Uint8Array;
  data: VoxelArray;
  shape: number[];
  scale?: number;
  params: SlidingWindowParams;
  /** Compare against this reference too (MONAI's output). */
  expected?: { data: ArrayLike<number>; shape: number[] };
  maxSlabBytes?: number;
  graphCapture?: boolean;
  labels?: boolean;
  skipNode?: boolean;
}

/** CPU stitching (per-window upload on WebGPU, or a CPU path); upload: input bytes handed to the model + queue.writeBuffer bytes after session creation. */
async function runCpuStitch(ort: Ort, c: SwCase, where: CpuPath, written: () => number = () => 0): Promise<{ r: SlidingWindowResult; readback: number; upload: number }> {
  const m = await predictorFor(ort, c.bytes, where);
  try {
    const cp = counting(m.predictor);
    const w0 = written();
    const r = await slidingWindowInference({ data: c.data, shape: c.shape, scale: c.scale }, cp.predictor, c.params);
    return { r, readback: cp.bytes(), upload: cp.inputBytes() + written() - w0 };
  } finally {
    await m.release();
  }
}

async function runGpu(ort: Ort, c: SwCase, syncTiming = false) {
  const src: GpuModelSource = { name: c.name, bytes: c.bytes, info: inspectModel(c.bytes) };
  return gpuResidentRun(ort, src, { data: c.data, shape: c.shape, scale: c.scale, params: c.params, labels: c.labels }, { maxSlabBytes: c.maxSlabBytes, graphCapture: c.graphCapture, syncTiming });
}

// ---------------------------------------------------------------------------------------------
// check

function parityCases(): SwCase[] {
  return ['constant_basic', 'gaussian_batch', 'byu_weight_map'].map((name) => {
    const dir = resolve(PARITY, name);
    const p = JSON.parse(readFileSync(resolve(dir, 'params.json'), 'utf8'));
    const input = readNpy(readFileSync(resolve(dir, 'input.npy')));
    const expected = readNpy(readFileSync(resolve(dir, 'expected.npy')));
    return {
      name: `parity ${name}`,
      bytes: new Uint8Array(readFileSync(resolve(dir, 'model.onnx'))),
      data: input.data,
      shape: input.shape,
      params: {
        roi: p.roi,
        overlap: p.overlap,
        mode: p.mode,
        sigmaScale: p.sigma_scale,
        swBatch: p.sw_batch,
        cval: p.cval,
        weightMap: p.weight_map ? (readNpy(readFileSync(resolve(dir, p.weight_map))).data as Float32Array) : undefined,
      },
      expected: { data: expected.data, shape: expected.shape },
    };
  });
}

function extraCases(): SwCase[] {
  const tiny = new Uint8Array(readFileSync(resolve(ROOT, 'tests/fixtures/models/tiny3d.onnx')));
  const motor = motorFixture();
  const ball = readVolume(new Uint8Array(readFileSync(resolve(ROOT, 'tests/fixtures/volumes/ball_int16.nii.gz'))), 'ball_int16.nii.gz');
  const shape = [1, ...ball.shape];
  const tiled: SlidingWindowParams = { roi: [8, 8, 8], overlap: 0.5, mode: 'gaussian', sigmaScale: 0.125, swBatch: 2, cval: 0 };
  const u8 = Uint8Array.from(ball.data as ArrayLike<number>, (v) => Math.max(0, Math.min(255, v)));
  const f32 = Float32Array.from(ball.data as ArrayLike<number>, (v) => v * 0.5 - 3);
  return [
    { name: 'int16 volume, gaussian, sw batch 2, padding (roi > image on no axis)', bytes: tiny, data: ball.data, shape, scale: 1 / 255, params: tiled, labels: true },
    { name: 'int16 volume in 1-plane slabs', bytes: tiny, data: ball.data, shape, scale: 1 / 255, params: tiled, maxSlabBytes: shape[2] * shape[3] * 2 },
    { name: 'uint8 volume in 3-plane slabs, cval 0.25, roi larger than the image in D', bytes: tiny, data: u8, shape, scale: 1 / 255, params: { ...tiled, roi: [16, 8, 8], cval: 0.25 }, maxSlabBytes: shape[2] * shape[3] * 3 },
    { name: 'float32 volume, constant mode, sw batch 3 (a last partial batch)', bytes: tiny, data: f32, shape, scale: 0.01, params: { ...tiled, mode: 'constant', swBatch: 3 } },
    { name: 'whole volume in one window', bytes: tiny, data: ball.data, shape, scale: 1 / 255, params: { ...tiled, roi: [-1, -1, -1] } },
    {
      name: 'zoomed output (motor model, stride 4): gaussian map resized nearest-exact, padding in D',
      bytes: motor.bytes,
      data: zoomLinear(motor.tomo.data, motor.tomo.shape, [24, 64, 72]),
      shape: [1, 24, 64, 72],
      scale: 1 / 255,
      params: { roi: [32, 32, 32], overlap: [0.5, 0.5, 0.25], mode: 'gaussian', sigmaScale: 0.125, swBatch: 2, cval: 0 },
    },
    { name: 'graph capture (static windows, sw batch 3 with a partial last batch)', bytes: tiny, data: ball.data, shape, scale: 1 / 255, params: { ...tiled, swBatch: 3 }, graphCapture: true },
  ];
}

function motorFixture(): { bytes: Uint8Array; tomo: Tomogram; params: MotorsParams } {
  const src = tomogramFromVolume(readVolume(new Uint8Array(readFileSync(resolve(ROOT, 'public/samples/tomograms/tomo_sim_001.mrc'))), 'sample'), 'sample');
  const card = JSON.parse(readFileSync(resolve(ROOT, 'public/models/motor_heatmap.json'), 'utf8')) as MotorsModelCard;
  return {
    bytes: new Uint8Array(readFileSync(resolve(ROOT, 'public/models/motor_heatmap.onnx'))),
    tomo: { id: 'bench', shape: src.shape, data: src.data },
    params: motorsParamsFromCard(card),
  };
}

async function check(): Promise<number> {
  const env = await nodeWebgpu();
  const { ort } = env;
  console.log(`adapter: ${env.adapterName}; shader-f16: ${env.shaderF16}`);
  let failures = 0;
  const report = (name: string, d: number, tol: number, extra = '') => {
    const ok = d <= tol;
    if (!ok) failures++;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}: max |GPU-resident - CPU stitching| = ${d.toExponential(2)} (tolerance ${tol})${extra}`);
  };
  const filter = process.argv[3];
  for (const c of [...parityCases(), ...extraCases()].filter((x) => !filter || x.name.includes(filter))) {
    const cpu = await runCpuStitch(ort, c, 'webgpu');
    const gpu = await runGpu(ort, c);
    if (gpu.shape.join() !== cpu.r.shape.join()) {
      failures++;
      console.log(`FAIL ${c.name}: shape ${gpu.shape} vs ${cpu.r.shape}`);
      continue;
    }
    const ref = c.expected ? `, vs MONAI ${maxAbsDiff(gpu.data, c.expected.data).toExponential(2)}` : '';
    const notes = gpu.notes.length ? ` [${gpu.notes.join('; ')}]` : '';
    report(`${c.name} (${gpu.stats.windows} windows, read back ${gpu.readbackBytes} B vs ${cpu.readback} B)`, maxAbsDiff(gpu.data, cpu.r.data), 1e-5, ref + notes);
    if (c.expected && maxAbsDiff(gpu.data, c.expected.data) > 1e-4) {
      failures++;
      console.log(`FAIL ${c.name}: differs from MONAI's output by more than 1e-4`);
    }
    if (c.labels) {
      const want = labelArgmax(cpu.r.data, cpu.r.shape);
      const same = gpu.labels && gpu.labels.length === want.length && gpu.labels.every((v, i) => v === want[i] || Math.abs(cpu.r.data[i] - cpu.r.data[want[i] * want.length + i]) < 1e-5);
      if (!same) failures++;
      console.log(`${same ? 'ok  ' : 'FAIL'} ${c.name}: label map (argmax on the GPU) equals the CPU argmax`);
    }
    if (c.graphCapture && !gpu.notes.some((n) => /graph capture on/.test(n))) console.log(`note: ${c.name}: graph capture was not used (${gpu.notes.join('; ')})`);
    await releaseGpuModel(c.bytes);
  }

  // the motor pipeline at a tiny size: 3 TTA passes, overlapping windows in D, two slabs
  if (filter && !'motors'.includes(filter)) return finish(failures, env.close);
  const mf = motorFixture();
  const params: MotorsParams = { ...mf.params, inputSize: [40, 64, 64], roi: [32, 64, 64], overlap: [0.75, 0.25, 0.25], swBatch: 2, maxPeaks: 3 };
  const cpuModel = await webgpuPredictor(ort, mf.bytes);
  const cpu = await detectMotors(mf.tomo, [cpuModel.predictor, cpuModel.predictor], params);
  await cpuModel.release();
  const src: GpuModelSource = { name: 'motor', bytes: mf.bytes, info: inspectModel(mf.bytes) };
  const gpu = await gpuResidentMotors(ort, [src, src], mf.tomo, params, { maxSlabBytes: 64 * 64 * 16 });
  report(
    `motors, 2 models x 3 TTA passes, ${gpu.timings.windows} windows: heatmap (read back ${gpu.readbackBytes} B)`,
    maxAbsDiff(gpu.heatmap, cpu.heatmap),
    1e-5,
  );
  const samePeak = gpu.peaks.length === cpu.peaks.length && gpu.peaks.every((p, i) => p.index.join() === cpu.peaks[i].index.join()) && Math.abs(gpu.score - cpu.score) < 1e-5;
  if (!samePeak) failures++;
  console.log(`${samePeak ? 'ok  ' : 'FAIL'} motors: argmax/max on the GPU and the peaks equal the CPU path (score ${gpu.score.toFixed(6)} vs ${cpu.score.toFixed(6)}, index ${gpu.peaks[0].index} vs ${cpu.peaks[0].index})`);
  await releaseGpuModel(mf.bytes);
  return finish(failures, env.close);
}

function finish(failures: number, close: () => void): number {
  close();
  console.log(failures ? `${failures} check(s) failed` : 'all checks passed');
  return failures ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// bench

interface BenchCase extends SwCase {
  /** Paths to run: GPU-resident, per-window upload on WebGPU, onnxruntime-web WASM, onnxruntime-node. */
  paths: BenchPath[];
}

const failedRow = (name: string, path: BenchPath, e: unknown): BenchRow => ({ case: name, path, windows: 0, totalMs: NaN, predictMs: NaN, uploadBytes: 0, readbackBytes: 0, note: `failed: ${(e as Error).message.split('\n')[0]}` });

async function benchSw(env: NodeWebgpu, c: BenchCase, rows: BenchRow[]): Promise<void> {
  const { ort } = env;
  let ref: Float32Array | null = null;
  for (const p of c.paths) {
    try {
      if (p === 'gpu') {
        // warm-up run (pipelines, session), then the timed one; uploads counted on the timed run
        await runGpu(ort, c, true);
        const w0 = env.writtenBytes();
        const g = await runGpu(ort, c, true);
        rows.push({ case: c.name, path: 'gpu', variant: c.graphCapture ? 'graph capture' : undefined, windows: g.stats.windows, totalMs: g.stats.totalMs, predictMs: g.stats.predictMs, uploadBytes: env.writtenBytes() - w0, readbackBytes: g.readbackBytes, note: g.notes.join('; ') });
        ref ??= g.data;
        await releaseGpuModel(c.bytes);
      } else if (p !== 'webgpu' && estimateCpu()) {
        const plan = planWindows(c.shape.slice(1), c.params);
        rows.push(await estimateCpu1(c.name, p, () => predictorFor(ort, c.bytes, p), [Math.max(1, Math.trunc(c.params.swBatch)), c.shape[0], ...plan.roi.slice(3 - (c.shape.length - 1))], plan.starts.length));
      } else {
        const { r, readback, upload } = await runCpuStitch(ort, c, p, env.writtenBytes);
        const gpuSide = p === 'webgpu';
        rows.push({ case: c.name, path: p, windows: r.stats.windows, totalMs: r.stats.totalMs, predictMs: r.stats.predictMs, uploadBytes: gpuSide ? upload : 0, readbackBytes: gpuSide ? readback : 0, maxDiff: ref ? maxAbsDiff(r.data, ref) : undefined });
      }
    } catch (e) {
      rows.push(failedRow(c.name, p, e));
    }
    console.error(`done: ${c.name} / ${p}`);
  }
}

async function benchMotors(env: NodeWebgpu, size: [number, number, number], paths: BenchPath[], rows: BenchRow[]): Promise<void> {
  const { ort } = env;
  const mf = motorFixture();
  const tomo: Tomogram = { id: 'bench', shape: size, data: zoomLinear(mf.tomo.data, mf.tomo.shape, size) };
  const params: MotorsParams = { ...mf.params, inputSize: size, roi: [Math.min(64, size[0]), size[1], size[2]] };
  const name = `motors ${size.join('x')}, ${params.tta.length} TTA`;
  let ref: MotorDetection | null = null;
  for (const p of paths) {
    try {
      if (p === 'gpu') {
        const src: GpuModelSource = { name: 'motor', bytes: mf.bytes, info: inspectModel(mf.bytes) };
        await gpuResidentMotors(ort, [src], tomo, params, { syncTiming: true });
        const w0 = env.writtenBytes();
        const d = await gpuResidentMotors(ort, [src], tomo, params, { syncTiming: true });
        rows.push({ case: name, path: 'gpu', windows: d.timings.windows, totalMs: d.timings.totalMs, predictMs: d.timings.predictMs, uploadBytes: env.writtenBytes() - w0, readbackBytes: d.readbackBytes, maxDiff: ref ? maxAbsDiff(d.heatmap, ref.heatmap) : undefined, note: d.notes.join('; ') });
        ref ??= d;
        await releaseGpuModel(mf.bytes);
      } else if (p !== 'webgpu' && estimateCpu()) {
        const windows = planWindows(size, params).starts.length;
        rows.push(await estimateCpu1(name, p, () => predictorFor(ort, mf.bytes, p), [params.swBatch, 1, ...params.roi], windows * params.tta.length));
      } else {
        const m = await predictorFor(ort, mf.bytes, p);
        const cp = counting(m.predictor);
        const w0 = env.writtenBytes();
        const d = await detectMotors(tomo, [cp.predictor], params);
        const upload = cp.inputBytes() + env.writtenBytes() - w0;
        await m.release();
        const gpuSide = p === 'webgpu';
        rows.push({ case: name, path: p, windows: d.timings.windows, totalMs: d.timings.totalMs, predictMs: d.timings.predictMs, uploadBytes: gpuSide ? upload : 0, readbackBytes: gpuSide ? cp.bytes() : 0, maxDiff: ref ? maxAbsDiff(d.heatmap, ref.heatmap) : undefined });
        ref ??= d;
      }
    } catch (e) {
      rows.push(failedRow(name, p, e));
    }
    console.error(`done: ${name} / ${p}`);
  }
}

/** At full size the CPU paths take minutes per case: time one batch and scale (VB_CPU_FULL=1 runs them all). */
const estimateCpu = (): boolean => process.env.VB_BENCH !== 'tiny' && (process.env.VB_CPU_FULL ?? process.env.VB_NODE_FULL) !== '1';

async function estimateCpu1(name: string, path: BenchPath, make: () => Promise<{ predictor: Predictor; release(): Promise<void> }>, dims: number[], windows: number): Promise<BenchRow> {
  const m = await make();
  try {
    const n = dims.reduce((a, b) => a * b, 1);
    const batch = new Float32Array(n).map((_, i) => ((i * 2654435761) >>> 24) / 255);
    const t0 = performance.now();
    await m.predictor(batch, dims);
    const per = (performance.now() - t0) / dims[0];
    return { case: name, path, windows, totalMs: per * windows, predictMs: per * windows, uploadBytes: 0, readbackBytes: 0, estimated: true, note: `estimated: one batch of ${dims[0]} timed, x ${windows} windows (VB_CPU_FULL=1 runs it all)` };
  } finally {
    await m.release();
  }
}

/** The BYU-width ResNet3D U-Net, made by tools/make_resnet3d_unet.py with torch (random fixed weights), or null. */
function resnetUnet(layers: string, width: number, out: string): Uint8Array | null {
  if (!existsSync(out)) {
    const py = process.env.PYTHON ?? 'python3';
    const r = spawnSync(py, [resolve(ROOT, 'tools/make_resnet3d_unet.py'), '--layers', layers, '--width', String(width), '--out', out], { stdio: 'inherit' });
    if (r.status !== 0) return null;
  }
  return new Uint8Array(readFileSync(out));
}

const skippedRow = (name: string, path: BenchPath, why: string): BenchRow => ({ case: name, path, windows: 0, totalMs: NaN, predictMs: NaN, uploadBytes: 0, readbackBytes: 0, note: `skipped: ${why}` });

async function bench(): Promise<void> {
  const tiny = process.env.VB_BENCH === 'tiny';
  const env = await nodeWebgpu({ threads: Number(process.env.VB_THREADS ?? 1) });
  const { ort } = env;
  const limits = env.adapter.limits;
  const header = [
    `voxelbench device bench, ${new Date().toISOString()}; node ${process.version}; ${tiny ? 'TINY sizes (harness proof, not a measurement)' : 'full sizes'}`,
    `adapter: ${env.adapterName}; shader-f16: ${env.shaderF16}; maxStorageBufferBindingSize ${fmtBytes(limits.maxStorageBufferBindingSize)}; maxBufferSize ${fmtBytes(limits.maxBufferSize)}`,
    ...(process.env.VB_GPU_INFO ? [`nvidia-smi: ${process.env.VB_GPU_INFO}`] : []),
    `CPU paths: onnxruntime-web WASM with ${process.env.VB_THREADS ?? 1} thread(s), onnxruntime-node; ${estimateCpu() ? 'timed on one batch and scaled (VB_CPU_FULL=1 runs every window)' : 'every window run'}`,
  ];
  console.log(header.join('\n'));
  const rows: BenchRow[] = [];
  const only = (process.env.VB_CASES ?? 'meshnet,motors,resnet,fp16').split(',');
  const allPaths = (process.env.VB_PATHS ?? 'gpu,webgpu,wasm,node').split(',') as BenchPath[];

  if (only.includes('smoke')) {
    // the tiny test model on a 24^3 ball: proves the whole harness in seconds on a CPU adapter
    const tiny3d = new Uint8Array(readFileSync(resolve(ROOT, 'tests/fixtures/models/tiny3d.onnx')));
    const ball = readVolume(new Uint8Array(readFileSync(resolve(ROOT, 'tests/fixtures/volumes/ball_int16.nii.gz'))), 'ball_int16.nii.gz');
    const params: SlidingWindowParams = { roi: [8, 8, 8], overlap: 0.5, mode: 'gaussian', sigmaScale: 0.125, swBatch: 2, cval: 0 };
    await benchSw(env, { name: `smoke: tiny3d ${ball.shape.join('x')} roi 8`, bytes: tiny3d, data: ball.data, shape: [1, ...ball.shape], scale: 1 / 255, params, paths: allPaths }, rows);
  }

  // MeshNet 256^3 (tiny: a 32^3 crop)
  const meshBytes = relaxSpatialDims(new Uint8Array(readFileSync(resolve(ROOT, 'public/demo/meshnet/model.onnx'))));
  const n = tiny ? 32 : 256;
  const mesh = (name: string, params: SlidingWindowParams, extra: Partial<BenchCase> = {}): BenchCase => {
    const t1 = readVolume(new Uint8Array(readFileSync(resolve(ROOT, 'public/demo/meshnet/t1.nii.gz'))), 't1.nii.gz');
    return { name, bytes: meshBytes, data: tiny ? cropCube(t1.data, t1.shape, n) : t1.data, shape: [1, n, n, n], scale: 1 / 255, params, paths: allPaths, ...extra };
  };
  const base = { mode: 'gaussian' as const, sigmaScale: 0.125, swBatch: 1, cval: 0 };
  if (only.includes('meshnet')) {
    await benchSw(env, mesh(`MeshNet ${n}^3 whole`, { ...base, roi: [n, n, n], overlap: 0 }), rows);
    await benchSw(env, mesh(`MeshNet ${n}^3 roi ${n / 2}`, { ...base, roi: [n / 2, n / 2, n / 2], overlap: 0.5 }), rows);
    await benchSw(env, mesh(`MeshNet ${n}^3 roi ${n / 2}`, { ...base, roi: [n / 2, n / 2, n / 2], overlap: 0.5 }, { graphCapture: true, paths: ['gpu'] }), rows);
  }
  if (only.includes('fp16')) {
    // float16 weights: only on an adapter with shader-f16 (checked here, not assumed)
    const name = `MeshNet ${n}^3 roi ${n / 2}, float16 weights`;
    if (!env.shaderF16) rows.push(skippedRow(name, 'gpu', "the adapter has no 'shader-f16'"));
    else {
      const f16 = toFloat16(meshBytes).bytes;
      const c = mesh(name, { ...base, roi: [n / 2, n / 2, n / 2], overlap: 0.5 }, { bytes: f16, paths: ['gpu'] });
      const ref = await runGpu(ort, { ...c, bytes: meshBytes });
      await releaseGpuModel(meshBytes);
      const before = rows.length;
      await benchSw(env, c, rows);
      const g = await runGpu(ort, c);
      for (const r of rows.slice(before)) r.note = `${r.note ? `${r.note}; ` : ''}max diff vs float32 ${maxAbsDiff(g.data, ref.data).toExponential(1)}`;
      await releaseGpuModel(f16);
    }
  }
  if (only.includes('motors')) await benchMotors(env, tiny ? [32, 64, 64] : [128, 672, 672], allPaths, rows);
  if (only.includes('resnet')) {
    const layers = process.env.VB_RESNET_LAYERS ?? (tiny ? '1,1,1,1' : '3,24,36,3');
    const width = Number(process.env.VB_RESNET_WIDTH ?? (tiny ? 8 : 64));
    const dir = resolve(ROOT, '.bench');
    mkdirSync(dir, { recursive: true });
    const bytes = resnetUnet(layers, width, resolve(dir, `resnet3d_unet_${layers.replace(/,/g, '-')}_w${width}.onnx`));
    const roi = tiny ? [32, 64, 64] : [64, 672, 672];
    if (!bytes) rows.push(skippedRow(`ResNet3D U-Net [${layers}]`, 'gpu', 'no python3 with torch to make the model'));
    else {
      const size = tiny ? [40, 64, 64] : [128, 672, 672];
      const vol = new Uint8Array(size[0] * size[1] * size[2]).map((_, i) => (i * 2654435761) >>> 24);
      const c: BenchCase = {
        name: `ResNet3D U-Net Bottleneck [${layers}] width ${width}, ${size.join('x')} roi ${roi.join('x')}`,
        bytes,
        data: vol,
        shape: [1, ...size],
        scale: 1 / 255,
        params: { roi, overlap: [0.5, 0, 0], mode: 'constant', sigmaScale: 0.125, swBatch: 1, cval: 0 },
        paths: allPaths,
      };
      await benchSw(env, c, rows);
    }
  }
  env.close();
  const text = benchText(header, rows);
  console.log(`\n${text}`);
  // the report: VB_BENCH_DIR, else $OUT (the device tool brings that folder back), else bench-results/
  const dir = resolve(process.env.VB_BENCH_DIR ?? process.env.OUT ?? resolve(ROOT, 'bench-results'));
  mkdirSync(dir, { recursive: true });
  const json = JSON.stringify({ header, adapter: env.adapterName, limits: { maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize, maxBufferSize: limits.maxBufferSize }, shaderF16: env.shaderF16, tiny, rows, summary: summarizeBench(rows) }, null, 1);
  writeFileSync(resolve(dir, 'device-bench.json'), json);
  writeFileSync(resolve(dir, 'device-bench.txt'), `${text}\n`);
  if (process.env.VB_BENCH_OUT) writeFileSync(process.env.VB_BENCH_OUT, json);
  console.log(`\nwrote ${resolve(dir, 'device-bench.json')} and device-bench.txt`);
}

function cropCube(data: VoxelArray, shape: number[], n: number): Float32Array {
  const [D, H, W] = shape;
  const o = [D, H, W].map((s) => Math.max(0, Math.floor((s - n) / 2)));
  const out = new Float32Array(n * n * n);
  let p = 0;
  for (let z = 0; z < n; z++) for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) out[p++] = data[((o[0] + z) * H + o[1] + y) * W + o[2] + x];
  return out;
}

ensureVulkan();
const mode = process.argv[2] ?? 'check';
let code = 1;
try {
  code = mode === 'bench' ? (await bench(), 0) : await check();
} catch (e) {
  console.error(e);
}
exitNow(code);
