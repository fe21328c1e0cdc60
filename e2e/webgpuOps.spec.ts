/**
 * Keeps the WebGPU op table (src/core/onnx/webgpuOps.ts) honest: a one-op model per table entry
 * (tools/make_op_models.py -> tests/fixtures/onnx/ops/) runs on WebGPU (SwiftShader) and on WASM
 * in Chromium, and what happens (runs on WebGPU / on the CPU inside the WebGPU session / fails /
 * wrong numbers) must be what the inspector's verdict for that model (verdictFor) claims.
 */
import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { inspectModel } from '../src/core/onnx/model';
import { opSupport, verdictFor, WEBGPU_OPS } from '../src/core/onnx/webgpuOps';
import type { OpFeed, OpRun, Placement } from './opHarness';
import { expect, test, fixture, serveFixtures } from './util';

interface OpCase {
  case: string;
  key: string;
  file: string;
  feeds: OpFeed[];
  random?: boolean;
  tol?: number;
}

type Outcome = 'webgpu' | 'cpu' | 'mixed' | 'removed' | 'fail' | 'wrong';

const cases = JSON.parse(readFileSync(fixture('onnx/ops/manifest.json'), 'utf8')) as OpCase[];

/** What the table says happens to this model on WebGPU, through the inspector's verdict. */
function claim(c: OpCase): { outcome: Outcome; also: Outcome[]; why: string } {
  const info = inspectModel(new Uint8Array(readFileSync(fixture(`onnx/ops/${c.file}`))));
  const v = verdictFor(info);
  const row = opSupport(c.key, info.opset);
  // rows whose note says the node disappears or is computed on the CPU anyway
  const also: Outcome[] = [];
  if (/removed|folded/.test(row.note ?? '')) also.push('removed', 'cpu');
  if (/computed on the CPU/.test(row.note ?? '')) also.push('cpu');
  // ONNX functions that ORT expands into several ops: some on WebGPU, shape arithmetic on the CPU
  if (/expands it/.test(row.note ?? '')) also.push('mixed');
  const why = `${row.support}: ${v.verdict}${v.reasons.length ? ` (${v.reasons.join('; ')})` : ''}`;
  if (v.verdict === 'will fail') return { outcome: v.failing.some((f) => /wrong numbers|zeros/.test(f.reason)) ? 'wrong' : 'fail', also, why };
  return { outcome: v.verdict === 'runs with listed ops on CPU' ? 'cpu' : 'webgpu', also, why };
}

/** Where the one node ('n0') ran, from ORT's placement log. */
function placed(p: Placement[]): Outcome {
  if (p.length === 0 || p[0].count === 0) return 'removed';
  const main = p.filter((b) => b.nodes.some((n) => /\(n0\)$/.test(n)));
  const ep = main.length ? main[0].ep : p[0].all ? p[0].ep : null;
  if (!ep) return /n0/.test(JSON.stringify(p)) ? 'mixed' : p.every((b) => b.ep === p[0].ep) ? (p[0].ep === 'JsExecutionProvider' ? 'webgpu' : 'cpu') : 'mixed';
  return ep === 'JsExecutionProvider' ? 'webgpu' : 'cpu';
}

const placementText = (p: Placement[]): string => p.map((b) => `${b.ep}:${b.all ? 'all' : b.nodes.join('|')}`).join(' ');

function maxRelDiff(ref: NonNullable<OpRun['outputs']>, got: NonNullable<OpRun['outputs']>, shapesOnly: boolean): number {
  let m = 0;
  for (const [k, r] of Object.entries(ref)) {
    const g = got[k];
    if (!g || g.dims.join() !== r.dims.join()) return Infinity;
    if (shapesOnly) continue;
    for (let i = 0; i < r.data.length; i++) {
      const a = r.data[i];
      const b = g.data[i];
      if (Number.isNaN(a) && Number.isNaN(b)) continue;
      m = Math.max(m, Math.abs(a - b) / Math.max(1, Math.abs(a)));
    }
  }
  return m;
}

async function openHarness(page: Page): Promise<void> {
  await page.goto('e2e/harness.html');
  await page.waitForFunction(() => document.title === 'harness ready');
}

type Harness = { harness: { runOp(u: string, f: OpFeed[], b: string): Promise<OpRun> } };

const runOp = (page: Page, c: OpCase, backend: 'webgpu' | 'wasm'): Promise<OpRun> =>
  page.evaluate(([file, feeds, b]) => (window as unknown as Harness).harness.runOp(`../fixtures/onnx/ops/${file}`, feeds, b), [c.file, c.feeds, backend] as const);

test('every entry of the WebGPU op table: a one-op model runs (or fails) on WebGPU as the table says', async ({ page }) => {
  test.setTimeout(420_000);
  // every table row has at least one model
  const covered = new Set(cases.map((c) => c.key));
  const missing = [...WEBGPU_OPS.keys()].filter((k) => !covered.has(k));
  expect(missing, 'table entries without a one-op model in tools/make_op_models.py').toEqual([]);

  await serveFixtures(page);
  await openHarness(page);
  const rows: { case: string; claim: Outcome; also: Outcome[]; got: Outcome; why: string; detail: string; ms: number }[] = [];
  const t0 = Date.now();
  let reloads = 0;
  for (const c of cases) {
    const cpu = await runOp(page, c, 'wasm');
    let gpu = await runOp(page, c, 'webgpu');
    if (!gpu.ok && /recursively|device (is )?lost/i.test(gpu.error ?? '')) {
      // a WebGPU kernel that failed before can break later sessions in the same JS context: start afresh
      await openHarness(page);
      reloads++;
      gpu = await runOp(page, c, 'webgpu');
    }
    const want = claim(c);
    let got: Outcome;
    let detail: string;
    if (!gpu.ok) {
      got = 'fail';
      detail = gpu.error ?? '';
      if (!cpu.ok && want.outcome !== 'fail') detail = `WASM failed too (the test model is not valid for onnxruntime): ${cpu.error}`;
    } else if (!cpu.ok) {
      // ops with no CPU kernel in the WASM build (BiasAdd, BiasSplitGelu): placement only
      got = placed(gpu.placements);
      detail = `no WASM run to compare with (${cpu.error?.slice(0, 80)}); ${placementText(gpu.placements)}`;
    } else {
      const d = maxRelDiff(cpu.outputs!, gpu.outputs!, c.random ?? false);
      got = d > (c.tol ?? 1e-3) ? 'wrong' : placed(gpu.placements);
      detail = `max rel diff ${d.toExponential(2)}; ${placementText(gpu.placements)}`;
    }
    rows.push({ case: c.case, claim: want.outcome, also: want.also, got, why: want.why, detail, ms: Math.round(cpu.ms + gpu.ms) });
  }
  const wrong = rows.filter((r) => r.got !== r.claim && !r.also.includes(r.got));
  const seconds = (Date.now() - t0) / 1000;
  console.log(`${rows.length} one-op models on WebGPU and WASM in ${seconds.toFixed(1)} s (${reloads} page reloads after a failed kernel)`);
  for (const r of rows) console.log(`${r.got === r.claim ? ' ' : '*'} ${r.case.padEnd(36)} claim ${r.claim.padEnd(7)} got ${r.got.padEnd(7)} ${r.ms} ms  ${r.detail.slice(0, 160)}`);
  expect(wrong.map((r) => `${r.case}: table/verdict says ${r.claim} (${r.why}), but it ${r.got}: ${r.detail}`)).toEqual([]);
  // the conditional entries: the failing cases were included and do fail
  for (const k of ['AveragePool_3d', 'MaxPool_3d', 'GlobalAveragePool_3d', 'Conv_3d_unequal_pads', 'Conv_2d_no_kernel_shape', 'Conv_3d_same_lower', 'ConvTranspose_3d', 'MaxPool_ceil']) {
    expect(rows.find((r) => r.case === k)?.got, k).toBe('fail');
  }
  expect(rows.find((r) => r.case === 'Conv_3d_group2')?.got).toBe('wrong');
  expect(rows.find((r) => r.case === 'Conv_3d')?.got).toBe('webgpu');
  expect(rows.find((r) => r.case === 'PRelu')?.got).toBe('cpu');
});
