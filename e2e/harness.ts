/**
 * A page without UI that drives the real inference worker, for benchmarks and for e2e
 * checks that compare backends. Exposed as window.harness.
 */
import { createWorkerClient } from '../src/worker/client';
import { readVolume } from '../src/core/io';
import { readNpy } from '../src/core/io/npy';
import type { SlidingWindowParams } from '../src/core/slidingWindow';
import type { BackendChoice } from '../src/worker/protocol';
import { argmaxCounts } from '../src/core/labels';
import { tomogramFromVolume } from '../src/core/motors/tomogram';
import { zoomLinear } from '../src/core/motors/resize';
import { motorsParamsFromCard, type MotorsModelCard, type MotorsParams } from '../src/core/presets/motors';
import { opLog, runOp } from './opHarness';
import { pageDecodePool } from '../src/worker/decodePool';
import { stackSliceFiles } from '../src/core/motors/tomogram';

let client = createWorkerClient();

async function fetchBytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

export interface HarnessRun {
  model: string;
  volume: string;
  params: SlidingWindowParams;
  backend: BackendChoice;
  scale?: number;
  relaxDims?: boolean;
  /** Return the raw output values (small outputs only). */
  returnData?: boolean;
  /** WebGPU: false stitches on the CPU (default: the GPU-resident path). */
  gpuResident?: boolean;
}

export interface HarnessMotors {
  model: string;
  card: string;
  /** A sample tomogram (MRC) resized to `size` (uint8) to make a tomogram of that size. */
  tomogram: string;
  size: [number, number, number];
  backend: BackendChoice;
  /** WebGPU: false runs windows, stitching and reductions on the CPU. */
  gpuResident?: boolean;
  /** Overrides of the card's values (tiny runs). */
  params?: Partial<MotorsParams>;
  /** Return the heatmap (small tomograms only). */
  returnData?: boolean;
}

async function sha256(b: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', b.slice()));
  return Array.from(d, (x) => x.toString(16).padStart(2, '0')).join('');
}

const harness = {
  /**
   * Slices decoded by the page's decode pool (src/worker/decodePool.ts): a slice folder stacked
   * (`folder`: its slice URLs) and single files (`files`: name -> base64), as SHA-256 of the gray bytes.
   */
  async decodePool(req: { id: string; folder: string[]; files: Record<string, string> }) {
    const pool = pageDecodePool();
    try {
      const t0 = performance.now();
      const { tomogram } = await stackSliceFiles(req.id, req.folder.map((u) => ({ name: `${req.id}/${u.slice(u.lastIndexOf('/') + 1)}`, read: () => fetchBytes(u) })), pool.decode, {
        concurrency: pool.concurrency,
      });
      const ms = performance.now() - t0;
      const [d, h, w] = tomogram.shape;
      const planes: string[] = [];
      for (let z = 0; z < d; z++) planes.push(await sha256(tomogram.data.subarray(z * h * w, (z + 1) * h * w)));
      const files: Record<string, { shape: number[]; sha256: string } | { error: string }> = {};
      for (const [name, b64] of Object.entries(req.files)) {
        try {
          const img = await pool.decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)), name);
          files[name] = { shape: [img.height, img.width], sha256: await sha256(img.gray) };
        } catch (e) {
          files[name] = { error: `${(e as Error).name}: ${(e as Error).message}` };
        }
      }
      return { shape: tomogram.shape, volume: await sha256(tomogram.data), planes, files, ms, workers: pool.size };
    } finally {
      pool.close();
    }
  },

  /** One-op model on one backend, with ORT's node placements (e2e/webgpuOps.spec.ts). */
  runOp,
  opLog,

  /** One tomogram of `size` through the motor pipeline with the model card's values. */
  async motors(req: HarnessMotors) {
    const src = tomogramFromVolume(readVolume(await fetchBytes(req.tomogram), req.tomogram), 'bench');
    const data = zoomLinear(src.data, src.shape, req.size);
    const card = (await (await fetch(req.card)).json()) as MotorsModelCard;
    const model = await client.api.loadModelUrl(new URL(req.model, location.href).href);
    try {
      const t0 = performance.now();
      const r = await client.api.runMotors({
        tomogram: { id: 'bench', shape: req.size, data },
        modelIds: [model.id],
        params: { ...motorsParamsFromCard(card), ...req.params },
        backend: req.backend,
        gpuResident: req.gpuResident,
      });
      return {
        wallMs: performance.now() - t0,
        timings: r.timings,
        score: r.score,
        point: r.point,
        peaks: r.peaks,
        backend: r.backend,
        backendReason: r.backendReason,
        heatmap: req.returnData ? Array.from(r.heatmap) : undefined,
        heapMB: (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize
          ? (performance as Performance & { memory: { usedJSHeapSize: number } }).memory.usedJSHeapSize / 2 ** 20
          : undefined,
      };
    } finally {
      await client.api.unloadModel(model.id);
    }
  },

  /** A fresh inference worker (the old one is terminated; loaded models are gone). */
  restartWorker(): void {
    client.terminate();
    client = createWorkerClient();
  },

  runtime: () => client.api.runtime(),
  async run(req: HarnessRun) {
    const bytes = await fetchBytes(req.volume);
    // a raw (1, C, D, H, W) .npy input as PyTorch would save it: drop the batch axis
    const npy = req.volume.endsWith('.npy') ? readNpy(bytes, req.volume) : null;
    const vol = npy
      ? { data: npy.data, shape: npy.shape.length === 5 && npy.shape[0] === 1 ? npy.shape.slice(1) : npy.shape }
      : readVolume(bytes, req.volume);
    const model = await client.api.loadModelUrl(new URL(req.model, location.href).href, req.relaxDims ?? false);
    try {
      const r = await client.run({
        modelId: model.id,
        data: vol.data,
        shape: vol.shape,
        scale: req.scale,
        params: req.params,
        backend: req.backend,
        gpuResident: req.gpuResident,
      });
      return {
        shape: r.shape,
        backend: r.backend,
        backendReason: r.backendReason,
        stats: r.stats,
        sessionMs: r.sessionMs,
        loadMs: model.loadMs,
        labelCounts: argmaxCounts(r.data, r.shape),
        data: req.returnData ? Array.from(r.data) : undefined,
        heapMB: (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize
          ? (performance as Performance & { memory: { usedJSHeapSize: number } }).memory.usedJSHeapSize / 2 ** 20
          : undefined,
      };
    } finally {
      await client.api.unloadModel(model.id);
    }
  },
};

(window as unknown as { harness: typeof harness }).harness = harness;
document.title = 'harness ready';
