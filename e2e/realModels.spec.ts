/**
 * Models exported from the real solutions in Chromium (issue 14), on tiny inputs:
 *  - for every test model of tools/make_real_models.py, the inspector's verdict (before and after
 *    `convert --webgpu`) is what happens on WebGPU (SwiftShader): 'will fail' fails, the others
 *    run, and after convert every model matches PyTorch (or onnxruntime on the original) on WebGPU;
 *  - one failed WebGPU session breaks the next one in the same JS context: what causes it, and
 *    what releases it (not a session release; a fresh worker / page); on a page of the app, the
 *    worker in which WebGPU failed is replaced before the next WebGPU run.
 */
import type { Page } from '@playwright/test';
import { writeNpy } from '../src/core/io/npy';
import { convertModel } from '../src/core/onnx/convert';
import { inspectModel } from '../src/core/onnx/model';
import { verdictFor } from '../src/core/onnx/webgpuOps';
import type { OpFeed, OpRun } from './opHarness';
import type { HarnessRun } from './harness';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withCardMetadata } from '../src/core/onnx/card';
import { expect, test, ROOT, serveFixtures } from './util';
import { realBytes, realInputs, realNpy, realPath, type Arr } from '../tests/realModels';

const FIX = '../fixtures/real_models/';

/** Serves generated files (converted models, volumes) under /generated/<name>. */
async function serveGenerated(page: Page, files: Map<string, Uint8Array>): Promise<void> {
  await page.route('**/generated/**', async (route) => {
    const name = decodeURIComponent(new URL(route.request().url()).pathname.split('/generated/')[1]);
    const body = files.get(name);
    await route.fulfill(body ? { body: Buffer.from(body), headers: { 'Cross-Origin-Resource-Policy': 'same-origin' } } : { status: 404, body: 'not found' });
  });
}

async function openHarness(page: Page): Promise<void> {
  await page.goto('e2e/harness.html');
  await page.waitForFunction(() => document.title === 'harness ready');
}

type H = {
  harness: {
    runOp(u: string, f: OpFeed[], b: string): Promise<OpRun>;
    run(r: HarnessRun): Promise<{ backend: string; backendReason: string; shape: number[]; data?: number[] }>;
    restartWorker(): void;
  };
};

const runOp = (page: Page, url: string, feeds: OpFeed[], backend: 'webgpu' | 'wasm'): Promise<OpRun> =>
  page.evaluate(([u, f, b]) => (window as unknown as H).harness.runOp(u, f, b), [url, feeds, backend] as const);

/** harness.run (the real inference worker) that returns the error instead of throwing. */
const workerRun = (page: Page, req: HarnessRun) =>
  page.evaluate(async (r) => {
    try {
      return { ok: true as const, ...(await (window as unknown as H).harness.run(r)) };
    } catch (e) {
      return { ok: false as const, error: e instanceof Error ? e.message : String(e) };
    }
  }, req);

const feed = (name: string, a: Arr): OpFeed => ({ name, type: 'float32', dims: a.shape, data: Array.from(a.data) });

/** The first roi (1, 1, 32, 64, 64) of the BYU volume, as the torch window reference was made. */
function byuWindow(): Arr {
  const b = realInputs.byu();
  const [, D, H, W] = b.shape;
  void D;
  const win = new Float32Array(32 * 64 * 64);
  for (let z = 0; z < 32; z++) for (let y = 0; y < 64; y++) win.set(b.data.subarray((z * H + y) * W, (z * H + y) * W + 64), (z * 64 + y) * 64);
  return { data: win, shape: [1, 1, 32, 64, 64] };
}

/** The first 32^3 window of the RSNA stage-1 input (1, 3, 32, 32, 32). */
function rsnaWindow(): Arr {
  const v = realInputs.rsnaSeg();
  const [C, D, H, W] = v.shape;
  void D;
  const out = new Float32Array(3 * 32 ** 3);
  for (let c = 0; c < C; c++) for (let z = 0; z < 32; z++) for (let y = 0; y < 32; y++) {
    const src = ((c * v.shape[1] + z) * H + y) * W;
    out.set(v.data.subarray(src, src + 32), ((c * 32 + z) * 32 + y) * 32);
  }
  return { data: out, shape: [1, 3, 32, 32, 32] };
}

interface Case {
  file: string;
  feeds: () => OpFeed[];
  /** PyTorch references in output order, or 'wasm': onnxruntime (WASM) on the original in the same page. */
  refs: string[] | 'wasm';
}

const CASES: Case[] = [
  { file: 'byu_unet3d.onnx', feeds: () => [feed('input', byuWindow())], refs: ['byu_window_torch.npy'] },
  { file: 'byu_unet3d_fixed.onnx', feeds: () => [feed('onnx::Div_0', byuWindow())], refs: ['byu_window_torch.npy'] },
  { file: 'hms_resnet34d.onnx', feeds: () => [feed('spectrogram', realInputs.hms())], refs: ['hms_logits_torch.npy'] },
  { file: 'rsna_seg3d.onnx', feeds: () => [feed('volume', rsnaWindow())], refs: 'wasm' },
  { file: 'rsna_cls_seq.onnx', feeds: () => [feed('crops', realInputs.rsnaCls())], refs: ['rsna_cls_slice_torch.npy', 'rsna_cls_vertebra_torch.npy'] },
  { file: 'rsna_cls_b15.onnx', feeds: () => [{ name: 'onnx::Unsqueeze_0', type: 'float32', dims: [15, 6, 224, 224], data: [], gen: 'hashU8/255' }], refs: ['rsna_cls_b15_slice_torch.npy', 'rsna_cls_b15_vertebra_torch.npy'] },
  { file: 'hpa_seresnext.onnx', feeds: () => [feed('input.1', realInputs.hpa())], refs: ['hpa_logits_torch.npy', 'hpa_maps_torch.npy'] },
];

function maxDiff(outputs: NonNullable<OpRun['outputs']>, names: string[], refs: Arr[]): number {
  let m = 0;
  names.forEach((n, i) => {
    const o = outputs[n];
    const r = refs[i];
    if (!o || o.dims.join() !== r.shape.join()) m = Infinity;
    else for (let k = 0; k < r.data.length; k++) m = Math.max(m, Math.abs(o.data[k] - r.data[k]));
  });
  return m;
}

for (const c of CASES) {
  test(`${c.file}: the verdict before and after convert --webgpu is what WebGPU does in Chromium; after convert it matches the reference`, async ({ page }) => {
    test.setTimeout(480_000);
    const files = new Map<string, Uint8Array>();
    await serveFixtures(page);
    await serveGenerated(page, files);
    const original = realBytes(c.file);
    const conv = convertModel(original, { webgpu: true });
    const name = c.file.replace(/\.onnx$/, '.webgpu.onnx');
    files.set(name, conv.bytes);
    const outNames = inspectModel(original).outputs.map((o) => o.name);
    const feeds = c.feeds();
    // a failed WebGPU kernel can break later sessions in the same JS context (see the test below): a fresh page per run
    await openHarness(page);
    const before = await runOp(page, FIX + c.file, feeds, 'webgpu');
    let refs: Arr[];
    if (c.refs === 'wasm') {
      await openHarness(page);
      const w = await runOp(page, FIX + c.file, feeds, 'wasm');
      expect(w.ok, w.error).toBe(true);
      refs = outNames.map((n) => ({ data: Float32Array.from(w.outputs![n].data), shape: w.outputs![n].dims }));
    } else refs = c.refs.map(realNpy);
    await openHarness(page);
    const after = await runOp(page, `../generated/${name}`, feeds, 'webgpu');
    const vBefore = verdictFor(inspectModel(original)).verdict;
    const vAfter = conv.after.verdict;
    const dBefore = before.ok ? maxDiff(before.outputs!, outNames, refs) : NaN;
    const dAfter = after.ok ? maxDiff(after.outputs!, outNames, refs) : NaN;
    // what happened: 'fail' (an error), 'wrong' (numbers off), else 'runs'
    const got = (r: OpRun, d: number) => (!r.ok ? 'fail' : d > 1e-4 ? 'wrong' : 'runs');
    const claim = (v: string) => (v === 'will fail' ? 'fail' : 'runs');
    console.log(
      `${c.file}\n  before: ${vBefore} / Chromium ${got(before, dBefore)}${before.ok ? ` (max diff ${dBefore.toExponential(1)})` : `: ${before.error?.slice(0, 120)}`}` +
        `\n  after:  ${vAfter} / Chromium ${got(after, dAfter)}${after.ok ? ` (max diff ${dAfter.toExponential(1)}, ${after.ms.toFixed(0)} ms)` : `: ${after.error?.slice(0, 120)}`}`,
    );
    // 'will fail' fails (with an error or wrong numbers); the other verdicts run
    expect(got(before, dBefore) === 'runs', `before convert: verdict '${vBefore}', Chromium: ${before.error ?? dBefore}`).toBe(claim(vBefore) === 'runs');
    expect(got(after, dAfter), `after convert: verdict '${vAfter}', Chromium: ${after.error ?? dAfter}`).toBe(claim(vAfter));
    // after convert every one of them runs on WebGPU and matches the reference
    expect(after.ok, after.error).toBe(true);
    expect(dAfter).toBeLessThan(1e-4);
  });
}

/**
 * onnxruntime-web (JSEP) keeps one WebGPU backend per JS context (ORT's WASM module is set up
 * once per page or worker). Its computeKernel sets `currentKernelId`, then parses the kernel's
 * attributes, and only then enters the try/finally that resets `currentKernelId`. A parser that
 * throws (AveragePool/MaxPool ceil_mode=1: 'ceil_mode ... is not yet implemented'; MaxPool
 * storage_order=1) leaves it set, so every later WebGPU kernel in that context, of any session,
 * fails with 'kernel "[Op] name" is not allowed to be called recursively'. Releasing the failed
 * session does not reset it; a new JS context (a fresh worker, or a reloaded page) does. A kernel
 * that fails inside its run (3D ConvTranspose, a 3D pool under NHWC) leaves nothing behind.
 */
test('one failed WebGPU session breaks the next in the same JS context; releasing the session does not help, a fresh context does', async ({ page }) => {
  test.setTimeout(300_000);
  await serveFixtures(page);
  await openHarness(page);
  // a small valid model that runs fully on WebGPU, checked against WASM in the same page
  const tinyUrl = '../fixtures/models/tiny3d.onnx';
  const tiny = [{ name: 'input', type: 'float32' as const, dims: [1, 1, 8, 8, 8], data: Array.from({ length: 512 }, (_, i) => Math.sin(i)) }];
  const ref = await runOp(page, tinyUrl, tiny, 'wasm');
  expect(ref.ok, ref.error).toBe(true);
  const refs = [{ data: Float32Array.from(ref.outputs!.output.data), shape: ref.outputs!.output.dims }];
  const tinyRuns = async () => {
    const r = await runOp(page, tinyUrl, tiny, 'webgpu');
    return { ...r, diff: r.ok ? maxDiff(r.outputs!, ['output'], refs) : NaN };
  };
  expect((await tinyRuns()).diff).toBeLessThan(1e-4);

  // a kernel failing inside its run (the 3D MaxPool of the BYU U-Net under NHWC) leaves nothing behind
  const byu = await runOp(page, FIX + 'byu_unet3d.onnx', [feed('input', byuWindow())], 'webgpu');
  expect(byu.ok).toBe(false);
  expect(byu.error).toMatch(/kernelShape.length > 2/);
  const ok1 = await tinyRuns();
  expect(ok1.ok, ok1.error).toBe(true);
  expect(ok1.diff).toBeLessThan(1e-4);

  // an attribute parser that throws (AveragePool ceil_mode=1 of resnet34d) breaks the context
  const bad = await runOp(page, FIX + 'hms_resnet34d.onnx', [feed('spectrogram', realInputs.hms())], 'webgpu');
  expect(bad.ok).toBe(false);
  expect(bad.error).toMatch(/ceil_mode/);
  // runOp released that session (finally: session.release()); the next, valid, model fails anyway
  const next = await tinyRuns();
  expect(next.ok).toBe(false);
  expect(next.error).toMatch(/is not allowed to be called recursively/);
  // WASM in the same context is unaffected
  expect((await runOp(page, tinyUrl, tiny, 'wasm')).ok).toBe(true);

  // a fresh JS context releases it
  await openHarness(page);
  const fresh = await tinyRuns();
  expect(fresh.ok, fresh.error).toBe(true);
  expect(fresh.diff).toBeLessThan(1e-4);
});

/** A (C, D, H, W) volume as .npy for harness.run. */
const npyOf = (a: Arr): Uint8Array => writeNpy({ shape: a.shape, data: a.data });

const TINY = { model: '../fixtures/models/tiny3d.onnx', volume: '../generated/tiny_in.npy', params: { roi: [8, 8, 8], overlap: [0], mode: 'constant' as const, sigmaScale: [0.125], swBatch: 1, cval: 0 } };

/** The harness page with the app's worker, after resnet34d failed on WebGPU in it (its first failing kernel: an AveragePool with ceil_mode=1, whose attribute parser throws). */
async function afterWorkerFailure(page: Page): Promise<void> {
  const files = new Map<string, Uint8Array>([
    ['hms_in.npy', npyOf({ data: realInputs.hms().data.subarray(0, 72 * 88), shape: [1, 72, 88] })],
    ['tiny_in.npy', npyOf({ data: Float32Array.from({ length: 8 * 8 * 8 }, (_, i) => Math.sin(i)), shape: [1, 8, 8, 8] })],
  ]);
  await serveFixtures(page);
  await serveGenerated(page, files);
  await openHarness(page);
  const bad = await workerRun(page, { model: FIX + 'hms_resnet34d.onnx', volume: '../generated/hms_in.npy', params: { ...TINY.params, roi: [72, 88] }, backend: 'webgpu' });
  expect(bad.ok).toBe(false);
  // ORT's WebGPU backend fails it one of two ways, depending on which kernel it reaches first
  expect(bad.ok ? '' : bad.error).toMatch(/ceil_mode|not allowed to be called recursively/);
}

test("in the app's worker: after a model fails on WebGPU, a fresh worker runs the next model on WebGPU", async ({ page }) => {
  test.setTimeout(300_000);
  await afterWorkerFailure(page);
  await page.evaluate(() => (window as unknown as H).harness.restartWorker());
  const gpu = await workerRun(page, { ...TINY, returnData: true, backend: 'webgpu' });
  const cpu = await workerRun(page, { ...TINY, returnData: true, backend: 'wasm' });
  if (!gpu.ok || !cpu.ok) throw new Error(`${gpu.ok ? '' : gpu.error} ${cpu.ok ? '' : cpu.error}`);
  expect(gpu.backend).toBe('webgpu');
  let m = 0;
  for (let i = 0; i < cpu.data!.length; i++) m = Math.max(m, Math.abs(cpu.data![i] - gpu.data![i]));
  expect(m).toBeLessThan(1e-4);
});

interface EegFile {
  id: string;
  status: string;
  error?: string;
  backend?: string;
  probabilities?: number[];
}

const eegFiles = (page: Page): Promise<{ batch: string; files: EegFile[]; messages: string[] }> =>
  page.evaluate(() => {
    const w = window as unknown as {
      __voxelbenchEeg: { store: { getState(): { batch: { status: string }; items: { id: string; status: string; error?: string; backend?: string; result?: { probabilities: number[] } }[] } } };
      __voxelbench?: { store: { getState(): { messages: { text: string }[] } } };
    };
    const s = w.__voxelbenchEeg.store.getState();
    return {
      batch: s.batch.status,
      files: s.items.map((f) => ({ id: f.id, status: f.status, error: f.error, backend: f.backend, probabilities: f.result?.probabilities })),
      messages: (w.__voxelbench?.store.getState().messages ?? []).map((m) => m.text),
    };
  });

async function eegRun(page: Page): Promise<EegFile> {
  await page.getByTestId('eeg-run').click();
  await expect.poll(async () => (await eegFiles(page)).batch, { timeout: 240_000 }).toMatch(/done|cancelled|error/);
  return (await eegFiles(page)).files[0];
}

test("in the app's worker: after a model fails on WebGPU, the next model runs on WebGPU (issue 14 item 6)", async ({ page }) => {
  // The EEG page (the kit): resnet34d (HMS) fails on WebGPU at its AveragePool with ceil_mode=1,
  // whose attribute parser throws and leaves onnxruntime-web's WebGPU backend broken in that
  // worker (the tests above). The worker says so (webgpuHealth) and the kit replaces it, with its
  // models loaded again, before the next WebGPU run: the next model runs on WebGPU and matches WASM.
  test.setTimeout(480_000);
  await page.goto('./?preset=eeg');
  await page.waitForFunction(() => (window as unknown as { __voxelbenchEeg?: unknown }).__voxelbenchEeg !== undefined);
  // a small input and no occlusion maps: WebGPU under SwiftShader is slow
  await page.evaluate(() => {
    const store = (window as unknown as { __voxelbenchEeg: { store: { getState(): { params: object }; setState(p: object): void } } }).__voxelbenchEeg.store;
    store.setState({ params: { ...store.getState().params, size: [64, 64], occlusion: false } });
  });
  await page.getByTestId('eeg-file-input').setInputFiles(join(ROOT, 'public/samples/eeg/real_eegmmidb_S001R03.parquet'));
  await page.getByTestId('eeg-model-input').setInputFiles(realPath('hms_resnet34d.onnx'));
  await expect(page.getByTestId('eeg-model-hms_resnet34d.onnx')).toBeVisible();
  await page.getByTestId('eeg-backend').selectOption('webgpu');
  const bad = await eegRun(page);
  expect(bad.status).toBe('error');
  // the onnxruntime error names the model, the input and what was fed
  expect(bad.error).toMatch(/hms_resnet34d\.onnx: onnxruntime failed on input 'spectrogram' \(declared \[batch, 1, height, width\]\) fed \[1, 1, 64, 64\]: .*ceil_mode/);

  await page.getByRole('button', { name: 'Remove hms_resnet34d.onnx' }).click();
  await page.getByTestId('eeg-model-input').setInputFiles(join(ROOT, 'tests/fixtures/eeg/tiny_eeg_6class.onnx'));
  await expect(page.getByTestId('eeg-model-tiny_eeg_6class.onnx')).toBeVisible();
  const gpu = await eegRun(page);
  const { messages } = await eegFiles(page);
  console.log(`next model after the failure: ${gpu.status === 'done' ? `ran on ${gpu.backend}` : gpu.error}`);
  expect(gpu.status, gpu.error).toBe('done');
  expect(gpu.backend).toBe('webgpu');
  expect(messages.some((m) => /^WebGPU failed in the worker \(hms_resnet34d\.onnx: .*\); it was restarted and its models loaded again/.test(m)), messages.join('\n')).toBe(true);
  await page.getByTestId('eeg-backend').selectOption('wasm');
  const cpu = await eegRun(page);
  expect(cpu.backend).toBe('wasm');
  let m = 0;
  cpu.probabilities!.forEach((v, i) => (m = Math.max(m, Math.abs(v - gpu.probabilities![i]))));
  expect(m).toBeLessThan(1e-4);
});

test('motors page: the fixed BYU export with its card stored inside: the card\'s values, input scaling none said once, the plan line; scores as the PyTorch pipeline (WASM)', async ({ page }) => {
  test.setTimeout(480_000);
  const refs = JSON.parse(readFileSync(realPath('pipeline_refs.json'), 'utf8')).motors as {
    params: { inputSize: number[]; roi: number[] };
    rows: Record<string, { file: string; score: number; point: number[] }>;
  };
  const dir = mkdtempSync(join(tmpdir(), 'voxelbench-real-e2e-'));
  const model = join(dir, 'byu_fixed_card.onnx');
  const card = { name: 'byu', preset: 'motors', inference: { inputSize: refs.params.inputSize, roi: refs.params.roi, swBatch: 2 } };
  writeFileSync(model, withCardMetadata(realBytes('byu_unet3d_fixed.onnx'), JSON.stringify(card)));
  const ids = Object.keys(refs.rows).sort();
  const toms = ids.map((id) => {
    const p = join(dir, `${id}.npy`);
    writeFileSync(p, realBytes(refs.rows[id].file));
    return p;
  });
  type W = {
    __voxelbenchMotors: { store: { getState(): { params: Record<string, unknown>; batch: { status: string }; items: { id: string; status: string; error?: string; backend?: string; row?: { score: number; point: number[] } }[] } } };
    __voxelbench?: { store: { getState(): { messages: { text: string }[] } } };
  };
  const state = () =>
    page.evaluate(() => {
      const w = window as unknown as W;
      const s = w.__voxelbenchMotors.store.getState();
      return { params: s.params, batch: s.batch.status, items: s.items, messages: (w.__voxelbench?.store.getState().messages ?? []).map((m) => m.text) };
    });
  await page.goto('./?preset=motors');
  await page.waitForFunction(() => (window as unknown as { __voxelbenchMotors?: unknown }).__voxelbenchMotors !== undefined);
  await page.getByTestId('motor-backend').selectOption('wasm');
  await page.getByTestId('motor-model-input').setInputFiles(model);
  await expect(page.getByTestId('motor-model-byu_fixed_card.onnx')).toBeVisible();
  await expect(page.getByTestId('params-from')).toContainText('byu_fixed_card.onnx (its own card)');
  const s0 = await state();
  expect(s0.params).toMatchObject({ inputSize: refs.params.inputSize, roi: refs.params.roi, swBatch: 2, inputScaling: 'none' });
  expect(s0.messages).toContain("Preset values from the card stored in byu_fixed_card.onnx (metadata_props 'voxelbench.card').");
  expect(s0.messages.filter((m) => m.includes('divides its input by 255 itself'))).toEqual(["byu_fixed_card.onnx divides its input by 255 itself (Div '/Div' by 255): input scaling none (0..255 fed as float)."]);
  await page.getByTestId('tomogram-file-input').setInputFiles(toms);
  const plan = page.getByTestId('motor-plan');
  await expect(plan).toContainText('60 windows per tomogram: 48×96×96 in windows of 32×64×64 (20 per pass) × 3 TTA passes × 1 model');
  await expect(plan).toContainText('the time per tomogram is estimated after its first steps');
  await expect(plan).toContainText('the input size in the form changes it');
  await page.getByTestId('motor-run').click();
  await expect.poll(async () => (await state()).batch, { timeout: 400_000 }).toMatch(/done|cancelled|error/);
  const done = await state();
  for (const id of ids) {
    const t = done.items.find((x) => x.id === id)!;
    expect(t.status, t.error).toBe('done');
    expect(t.backend).toBe('wasm');
    expect(Math.abs(t.row!.score - refs.rows[id].score), id).toBeLessThan(1e-5);
    t.row!.point.forEach((v, a) => expect(v).toBeCloseTo(refs.rows[id].point[a], 9));
  }
  // the next run's estimate comes from this one's pace
  await expect(plan).toContainText(/about \d+:\d\d per tomogram, \d+:\d\d for 3 tomograms \(at the last run's pace\)/);
});
