/**
 * The flagellar-motor pipeline (core/motors/pipeline.ts detectMotors) with everything after the
 * resize on the GPU: the resized uint8 tomogram is uploaded once; each TTA pass reads it mirrored
 * (no flipped copy), its stitched logits are flipped back and summed on the GPU, the sigmoid of the
 * mean is summed over models on the GPU, and the argmax and max are reduced there. Only the
 * heatmap (shown and exported) and the peak come back. Further peaks (maxPeaks > 1) are found on
 * the CPU from that heatmap with core's findPeaks.
 */
import {
  checkMotorsRequest,
  findPeaks,
  FLIP_AXES,
  heatmapShapeError,
  heatmapToOriginal,
  motorsInputMap,
  motorsWindowParams,
  resizeForModel,
  singleChannelError,
  type MotorDetection,
  type MotorPeak,
  type MotorsProgress,
  type Point3,
} from '../../core/motors/pipeline';
import type { Tomogram } from '../../core/motors/tomogram';
import type { MotorsParams } from '../../core/presets/motors';
import { AbortError, planWindows } from '../../core/slidingWindow';
import { InputError } from '../../core/volume';
import { packUniform, type GpuKernels } from './kernels';
import { gpuArgmax, gpuSlidingWindow, readFloat32, uploadVolume, type GpuModel } from './slidingWindow';

export interface GpuMotorsOptions {
  signal?: AbortSignal;
  onProgress?: (p: MotorsProgress) => void;
  syncTiming?: boolean;
  /** Largest slab of the uploaded tomogram in bytes (tests force several slabs). */
  maxSlabBytes?: number;
}

const now = (): number => performance.now();

export async function detectMotorsGpu(k: GpuKernels, models: readonly GpuModel[], tomo: Tomogram, params: MotorsParams, opts: GpuMotorsOptions = {}): Promise<MotorDetection> {
  const t0 = now();
  const { signal, onProgress } = opts;
  checkMotorsRequest(tomo, models.length, params);
  const { size, resized } = resizeForModel(tomo, params);
  const resizeMs = now() - t0;
  // the input scaling the card or the page asks for, as on the CPU path (one map for every flip)
  const { scale, offset } = motorsInputMap(params, resized);
  if (signal?.aborted) throw new AbortError();
  const sw = motorsWindowParams(params);
  const perRun = planWindows(size, sw).starts.length;
  const total = perRun * models.length * params.tta.length;
  const dev = k.device;
  const volume = uploadVolume(k, resized, [1, ...size], opts.maxSlabBytes);
  const tPredict = now();
  let predictMs = 0;
  let logits: GPUBuffer | null = null;
  let heat: GPUBuffer | null = null;
  let hShape: Point3 | null = null;
  let run = 0;
  const n = params.tta.length;
  try {
    for (let m = 0; m < models.length; m++) {
      for (let t = 0; t < n; t++) {
        const axes = FLIP_AXES[params.tta[t]];
        const base = run * perRun;
        const r = await gpuSlidingWindow(k, models[m], { volume, scale, offset, flip: axes }, sw, {
          signal,
          syncTiming: opts.syncTiming,
          onProgress: onProgress
            ? (p) => {
                const done = base + p.done;
                const el = now() - tPredict;
                onProgress({ model: m, tta: t, done, total, elapsedMs: now() - t0, etaMs: (el / done) * (total - done) });
              }
            : undefined,
        });
        run++;
        predictMs += r.stats.predictMs;
        try {
          if (r.shape.length !== 4 || r.shape[0] !== 1) throw singleChannelError(m, [sw.swBatch, ...r.shape], [sw.swBatch, 1, ...sw.roi]);
          const shp = r.shape.slice(1) as Point3;
          if (!hShape) hShape = shp;
          else if (shp.some((v, i) => v !== hShape![i])) throw heatmapShapeError(m, shp, hShape);
          const len = shp[0] * shp[1] * shp[2];
          logits ??= k.buffer(len * 4, 'voxelbench motor logits');
          heat ??= k.buffer(len * 4, 'voxelbench motor heatmap');
          const enc = dev.createCommandEncoder();
          const pass = enc.beginComputePass();
          const u1 = k.uniform(packUniform([...shp, len, +axes[0], +axes[1], +axes[2], t === 0 ? 1 : 0]), 'flip add');
          k.dispatch(pass, 'flipAdd', [u1, r.buffer, logits], len);
          let u2: GPUBuffer | null = null;
          if (t === n - 1) {
            u2 = k.uniform(packUniform([len, m === 0 ? 1 : 0, 0, 0, n, 0, 0, 0], [4]), 'sigmoid add');
            k.dispatch(pass, 'sigmoidAdd', [u2, logits, heat], len);
          }
          pass.end();
          dev.queue.submit([enc.finish()]);
          u1.destroy();
          u2?.destroy();
        } finally {
          r.buffer.destroy();
        }
      }
    }
    const hs = hShape!;
    const len = hs[0] * hs[1] * hs[2];
    const top = await gpuArgmax(k, heat!, len);
    if (top.index < 0) throw new InputError(`${tomo.id}: the heatmap is empty or all NaN`);
    const heatmap = await readFloat32(k, heat!, len);
    const index: Point3 = [Math.floor(top.index / (hs[1] * hs[2])), Math.floor(top.index / hs[2]) % hs[1], top.index % hs[2]];
    const first: MotorPeak = { score: top.value, point: heatmapToOriginal(index, hs, tomo.shape), index };
    const maxPeaks = Math.max(1, Math.trunc(params.maxPeaks));
    const peaks = maxPeaks > 1 ? [first, ...findPeaks(heatmap, hs, tomo.shape, maxPeaks, params.minPeakDistance).slice(1)] : [first];
    const det: MotorDetection = {
      id: tomo.id,
      heatmap,
      heatmapShape: hs,
      score: first.score,
      point: first.point,
      peaks,
      originalShape: [...tomo.shape] as Point3,
      inputShape: size,
      timings: { totalMs: now() - t0, predictMs, resizeMs, windows: total },
    };
    if (tomo.spacing !== undefined) det.spacing = tomo.spacing;
    return det;
  } finally {
    volume.destroy();
    logits?.destroy();
    heat?.destroy();
  }
}
