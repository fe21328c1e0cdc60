import { useMemo } from 'react';
import { gpuModelFootprint, gpuOutputGuess, gpuPlanLine, gpuVoxelBytes, planGpuRun, summarizeGpuPlan, type GpuLimits } from '../core/gpuPlan';
import { channelsOf, dtypeOf, spatialShape } from '../core/volume';
import { inputSpec } from './overlay';
import { useStore } from './store';

/**
 * The GPU-resident run's memory plan (core/gpuPlan.ts) in one line, when WebGPU is chosen (or
 * auto with an adapter): what stays on the GPU (volume, windows, accumulators, model) in MiB, the
 * adapter's buffer limits, and whether the volume goes up in slabs. The same plan the worker checks
 * before a GPU-resident run.
 */
export function GpuPlanLine() {
  const volume = useStore((s) => s.volume);
  const model = useStore((s) => s.model);
  const backend = useStore((s) => s.settings.backend);
  const roi = useStore((s) => s.settings.roi);
  const overlap = useStore((s) => s.settings.overlap);
  const swBatch = useStore((s) => s.settings.swBatch);
  const gpu = useStore((s) => s.runtime?.webgpu);

  const line = useMemo(() => {
    if (!volume || !model || !gpu?.available || !gpu.maxStorageBufferBindingSize || !gpu.maxBufferSize) return null;
    if (backend === 'wasm') return null;
    if (inputSpec(model.loaded.info)?.spatialDims === 2) return null;
    const limits: GpuLimits = { maxStorageBufferBindingSize: gpu.maxStorageBufferBindingSize, maxBufferSize: gpu.maxBufferSize };
    try {
      const v = volume.volume;
      const spatial = spatialShape(v);
      const info = model.loaded.info;
      const r = roi.map((x, i) => (x <= 0 ? spatial[i] : x));
      const plan = planGpuRun(
        { shape: [channelsOf(v), ...spatial], voxelBytes: gpuVoxelBytes(dtypeOf(v.data)), roi: r, overlap, swBatch, ...gpuOutputGuess(info, r) },
        limits,
        gpuModelFootprint(info),
      );
      return { text: gpuPlanLine(plan, limits), summary: summarizeGpuPlan(plan) };
    } catch (e) {
      return { error: (e as Error).message };
    }
  }, [volume, model, backend, roi, overlap, swBatch, gpu]);

  if (!line) return null;
  if ('error' in line) {
    return (
      <div className="small muted" data-testid="gpu-plan">
        GPU plan unavailable: {line.error}
      </div>
    );
  }
  const s = line.summary;
  return (
    <div
      className={`small ${s.fits ? 'muted' : 'warn'}`}
      data-testid="gpu-plan"
      data-volume-bytes={s.volumeBytes}
      data-accumulator-bytes={s.accumulatorBytes}
      data-total-bytes={s.totalBytes}
      data-slabs={s.slabs}
      data-fits={s.fits}
      title="What the GPU-resident sliding window keeps on the GPU (src/core/gpuPlan.ts); model memory is estimated from the graph"
    >
      {line.text}
    </div>
  );
}
