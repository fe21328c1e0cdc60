/**
 * The ceiling of "Chromium WASM vs Node": onnxruntime-web's WASM kernels (its Node build: the
 * WASM-only WebAssembly, the same MLAS kernels compiled to WebAssembly SIMD as the page's worker
 * runs, there inside the default build's WebGPU-capable WebAssembly; in the same V8) against
 * onnxruntime-node (native MLAS, AVX2/AVX-512 where the CPU has them) on the same model and the
 * same window, same thread count, interleaved in one process. Nothing the page does outside
 * `session.run` can make it faster than this ratio: it is the kernels' own speed gap. Read with
 * the Chromium vs Node lines printed before it, it splits the page's gap into the kernels (this
 * ratio) and the browser (Chromium time / onnxruntime-web-in-Node time).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import { relaxSpatialDims } from '../../src/core/onnx/model';
import { median, ROOT } from './measure';

export interface CeilingRow {
  label: string;
  threads: number;
  nodeMs: number[];
  webMs: number[];
}

const CASES = [
  { label: 'motors model, one 64 x 128 x 128 window (the card roi)', model: 'public/models/motor_heatmap.onnx', dims: [1, 1, 64, 128, 128] },
  { label: 'MeshNet, one 128^3 window', model: 'public/demo/meshnet/model.onnx', dims: [1, 1, 128, 128, 128] },
];

export async function benchWasmCeiling(reps = Number(process.env.VB_BENCH_REPS ?? 5)): Promise<CeilingRow[]> {
  // the Node build of onnxruntime-web ('node' export condition): WASM kernels, no DOM
  const ortWeb = (await import('onnxruntime-web')) as unknown as typeof ortNode;
  // as the page's worker: min(8, cores) threads
  const threads = Math.max(1, Math.min(8, availableParallelism()));
  (ortWeb.env as unknown as { wasm: { numThreads: number } }).wasm.numThreads = threads;
  ortWeb.env.logLevel = 'error';
  const noSpin = { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } };
  const rows: CeilingRow[] = [];
  for (const c of CASES) {
    const model = relaxSpatialDims(new Uint8Array(readFileSync(resolve(ROOT, c.model))));
    const n = c.dims.reduce((a, b) => a * b, 1);
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = (Math.imul(i, 2654435761 | 0) >>> 24) / 255;
    const sn = await ortNode.InferenceSession.create(model, { graphOptimizationLevel: 'all', intraOpNumThreads: threads, extra: noSpin });
    const sw = await ortWeb.InferenceSession.create(model, { graphOptimizationLevel: 'all', executionProviders: ['wasm'] });
    const name = sn.inputNames[0];
    const row: CeilingRow = { label: c.label, threads, nodeMs: [], webMs: [] };
    const time = async (s: ortNode.InferenceSession, T: typeof ortNode.Tensor): Promise<number> => {
      const t = performance.now();
      await s.run({ [name]: new T('float32', x, c.dims) });
      return performance.now() - t;
    };
    await time(sn, ortNode.Tensor); // warm-up (first runs allocate the arenas)
    await time(sw, ortWeb.Tensor);
    for (let r = 0; r < reps; r++) {
      // interleaved, alternating which goes first
      if (r % 2 === 0) {
        row.nodeMs.push(await time(sn, ortNode.Tensor));
        row.webMs.push(await time(sw, ortWeb.Tensor));
      } else {
        row.webMs.push(await time(sw, ortWeb.Tensor));
        row.nodeMs.push(await time(sn, ortNode.Tensor));
      }
    }
    await sn.release();
    await sw.release();
    console.error(`wasm ceiling: ${c.label}: node ${median(row.nodeMs).toFixed(0)} ms, onnxruntime-web WASM ${median(row.webMs).toFixed(0)} ms`);
    rows.push(row);
  }
  return rows;
}

export function printWasmCeiling(rows: CeilingRow[]): void {
  if (!rows.length) return;
  console.log(
    `\nThe ceiling for the page: onnxruntime-web's WASM kernels (its Node build, the same WebAssembly the worker runs, same V8) vs onnxruntime-node (native) on one window, ${rows[0].threads} threads each, session.run only, median of interleaved runs`,
  );
  console.log(['case', 'onnxruntime-node ms', 'onnxruntime-web WASM ms', 'speed (node / wasm)'].join(' | '));
  for (const r of rows) {
    const n = median(r.nodeMs);
    const w = median(r.webMs);
    console.log([r.label, n.toFixed(0), w.toFixed(0), (n / w).toFixed(2)].join(' | '));
  }
}
