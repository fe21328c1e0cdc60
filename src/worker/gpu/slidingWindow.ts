/**
 * The GPU-resident sliding window: the volume is uploaded once as stored (in slabs when it is
 * larger than one buffer may be), each batch of windows is cut by a compute pass straight into the
 * model's input buffer, the model's output stays on the GPU, and a compute pass accumulates
 * pred * w and w per window, then divides and crops. Same window plan, importance map (clamped,
 * resized nearest-exact for zoomed outputs) and arithmetic as core/slidingWindow.ts, which stays the
 * reference; results agree within float32 rounding.
 *
 * The model is abstracted as a GpuModel (ortGpu.ts wraps an onnxruntime-web session), so the
 * kernels can be tested with any function of GPU buffers.
 */
import { outputGeometry, slabPlan, slabsForWindows, windowOrigins, type OutputGeometry, type SlabPlan } from '../../core/gpuPlan';
import {
  AbortError,
  clampImportance,
  importanceMap,
  planWindows,
  resizeNearestExact,
  type SlidingWindowParams,
  type SlidingWindowProgress,
  type SlidingWindowStats,
} from '../../core/slidingWindow';
import type { VoxelArray } from '../../core/volume';
import { dtypeOf } from '../../core/volume';
import { packInt4, packUniform, type GpuKernels } from './kernels';

/** The model's output for one batch, on the GPU. */
export interface GpuBatchOutput {
  buffer: GPUBuffer;
  /** [n, C, ...spatial] */
  dims: number[];
  /** Gives the buffer back to its owner once the passes that read it are submitted. */
  release(): void;
}

export interface GpuModel {
  /**
   * Runs the model on `input` ([n, C, ...roi] float32 at offset 0). When `staticBatch` is true,
   * it is always called with the full sw batch (unused windows hold stale data).
   */
  run(input: GPUBuffer, dims: number[]): Promise<GpuBatchOutput>;
  staticBatch?: boolean;
}

/** A volume uploaded once: [C, D, H, W] (3D with leading 1s), as stored, in slabs of z planes. */
export interface GpuVolume {
  shape: number[];
  dtype: number;
  slabs: SlabPlan;
  buffers: GPUBuffer[];
  bytes: number;
  destroy(): void;
}

const DTYPE_CODE: Record<string, number> = { uint8: 0, int8: 1, uint16: 2, int16: 3 };

/**
 * Uploads `data` ([C, ...spatial], C-order) once. uint8/int8/uint16/int16 stay as stored; other
 * types go up as float32. `maxSlabBytes` (default: the device's buffer limits) sets the slab size.
 */
export function uploadVolume(k: GpuKernels, data: VoxelArray, shape: number[], maxSlabBytes?: number, forcePlanes?: number): GpuVolume {
  const [C, ...spatial] = shape;
  const vol3 = [C, ...Array(3 - spatial.length).fill(1), ...spatial];
  const dt = dtypeOf(data);
  const code = DTYPE_CODE[dt] ?? 4;
  const src: VoxelArray = code === 4 && !(data instanceof Float32Array) ? Float32Array.from(data) : data;
  const bpe = src.BYTES_PER_ELEMENT;
  const lim = Math.min(k.device.limits.maxStorageBufferBindingSize, k.device.limits.maxBufferSize);
  const plan = slabPlan(vol3, bpe, Math.min(lim, maxSlabBytes ?? lim), forcePlanes);
  const [, D, H, W] = vol3;
  const plane = H * W;
  const buffers = plan.slabs.map((s, i) => {
    const b = k.buffer(s.bytes, `voxelbench volume slab ${i}`);
    const n = (s.z1 - s.z0) * plane;
    // [C, planes, H, W] for this slab, padded to 4 bytes
    const bytes = new Uint8Array(s.bytes);
    for (let c = 0; c < C; c++) {
      const from = c * D * plane + s.z0 * plane;
      const part = src.subarray(from, from + n);
      bytes.set(new Uint8Array(part.buffer, part.byteOffset, part.byteLength), c * n * bpe);
    }
    k.device.queue.writeBuffer(b, 0, bytes);
    return b;
  });
  return {
    shape: vol3,
    dtype: code,
    slabs: plan,
    buffers,
    bytes: plan.slabs.reduce((a, s) => a + s.bytes, 0),
    destroy: () => buffers.forEach((b) => b.destroy()),
  };
}

export interface GpuSlidingWindowInput {
  volume: GpuVolume;
  scale?: number;
  offset?: number;
  /** Read the volume mirrored along (D, H, W) (TTA flips): the same as flipping it first. */
  flip?: boolean[];
}

export interface GpuSlidingWindowOptions {
  signal?: AbortSignal;
  onProgress?: (p: SlidingWindowProgress) => void;
  /** Wait for the GPU after each model run so that predictMs holds the model's GPU time (benchmarks). */
  syncTiming?: boolean;
}

export interface GpuSlidingWindowResult {
  /** [C_out, ...crop] float32 on the GPU; owned by the caller (destroy when done). */
  buffer: GPUBuffer;
  shape: number[];
  stats: SlidingWindowStats;
  geometry: OutputGeometry;
}

const now = (): number => performance.now();
const prod = (a: number[]): number => a.reduce((x, y) => x * y, 1);

function perDim(v: number | number[], n: number): number[] {
  const a = Array.isArray(v) ? v : [v];
  return a.length === 1 ? Array(n).fill(a[0]) : a.slice();
}

/** The sliding window on the GPU (see the file comment). */
export async function gpuSlidingWindow(
  k: GpuKernels,
  model: GpuModel,
  input: GpuSlidingWindowInput,
  params: SlidingWindowParams,
  opts: GpuSlidingWindowOptions = {},
): Promise<GpuSlidingWindowResult> {
  const t0 = now();
  const { signal, onProgress } = opts;
  const dev = k.device;
  const vol = input.volume;
  const [C, D, H, W] = vol.shape;
  const nd = params.roi.length;
  const spatial = [D, H, W].slice(3 - nd);
  const plan = planWindows(spatial, params);
  const { roi, starts } = plan;
  const roiN = prod(roi);
  const sigma = [...Array(3 - nd).fill(0.125), ...perDim(params.sigmaScale, nd)];
  if (params.weightMap && params.weightMap.length !== roiN) {
    throw new Error(`weight map has ${params.weightMap.length} values, the roi [${roi.slice(3 - nd).join(', ')}] needs ${roiN}`);
  }
  const swBatch = Math.max(1, Math.trunc(params.swBatch));
  const total = starts.length;
  const origins = windowOrigins(plan);
  const flip = input.flip ?? [false, false, false];

  const winBuf = k.buffer(swBatch * C * roiN * 4, 'voxelbench window batch');
  const owned: GPUBuffer[] = [winBuf];
  let acc: GPUBuffer | null = null;
  let cnt: GPUBuffer | null = null;
  let wBuf: GPUBuffer | null = null;
  let accUniforms: GPUBuffer | null = null;
  let geo: OutputGeometry | null = null;
  let outOrigins: ReturnType<typeof windowOrigins> = [];
  let cOut = 0;
  let predictMs = 0;
  let batches = 0;
  const slot = 256;
  try {
    for (let b0 = 0; b0 < total; b0 += swBatch) {
      if (signal?.aborted) throw new AbortError();
      const n = Math.min(swBatch, total - b0);
      const runN = model.staticBatch ? swBatch : n;
      // cut: one pass per slab that holds planes of these windows
      const org = packInt4(origins.slice(b0, b0 + n).map((o) => [...o.image, 0]));
      const orgBuf = dev.createBuffer({ size: Math.max(16, org.byteLength), usage: 0x80 | 0x8, label: 'voxelbench origins' });
      dev.queue.writeBuffer(orgBuf, 0, org as Int32Array<ArrayBuffer>);
      const cutN = n * C * roiN;
      const need = slabsForWindows(vol.slabs.slabs, origins.slice(b0, b0 + n).map((o) => o.image[0]), roi[0], D, flip[0]);
      const enc = dev.createCommandEncoder();
      const pass = enc.beginComputePass();
      const uniforms: GPUBuffer[] = [orgBuf];
      for (const si of need.length ? need : [0]) {
        const s = vol.slabs.slabs[si];
        const u = k.uniform(
          packUniform(
            [D, H, W, C, roi[0], roi[1], roi[2], roiN, s.z0, s.z1, vol.dtype, (s.z1 - s.z0) * H * W, +flip[0], +flip[1], +flip[2], cutN, params.cval, input.scale ?? 1, input.offset ?? 0, 0],
            [16, 17, 18, 19],
          ),
          'voxelbench cut params',
        );
        uniforms.push(u);
        k.dispatch(pass, 'cut', [u, vol.buffers[si], orgBuf, winBuf], cutN);
      }
      pass.end();
      dev.queue.submit([enc.finish()]);
      for (const u of uniforms) u.destroy();

      const tp = now();
      const out = await model.run(winBuf, [runN, C, ...roi.slice(3 - nd)]);
      if (opts.syncTiming) await dev.queue.onSubmittedWorkDone();
      predictMs += now() - tp;
      batches++;
      try {
        if (signal?.aborted) throw new AbortError();
        const ps = out.dims;
        if (ps.length !== 2 + nd || ps[0] !== runN) {
          throw new Error(
            `the model returned shape [${ps.join(', ')}] for a batch of shape [${[runN, C, ...roi.slice(3 - nd)].join(', ')}]; expected [${runN}, C, ...] with ${nd} spatial dims`,
          );
        }
        if (!geo) {
          cOut = ps[1];
          geo = outputGeometry(plan, ps.slice(2));
          if (geo.single) {
            // one window over the whole unpadded image: the prediction is the result
            const size = cOut * prod(geo.outRoi) * 4;
            const res = k.buffer(size, 'voxelbench result');
            const e = dev.createCommandEncoder();
            e.copyBufferToBuffer(out.buffer, 0, res, 0, Math.ceil(size / 4) * 4);
            dev.queue.submit([e.finish()]);
            const totalMs = now() - t0;
            onProgress?.({ done: 1, total, elapsedMs: totalMs, etaMs: 0, predictMs });
            return {
              buffer: res,
              shape: [cOut, ...geo.outRoi.slice(3 - nd)],
              stats: { windows: 1, batches, totalMs, predictMs, overheadMs: totalMs - predictMs, zoom: geo.zoom.slice(3 - nd) },
              geometry: geo,
            };
          }
          const nOut = prod(geo.outPadded);
          acc = k.buffer(cOut * nOut * 4, 'voxelbench accumulator');
          cnt = k.buffer(nOut * 4, 'voxelbench weight sum');
          owned.push(acc, cnt);
          const clamped = clampImportance(params.weightMap ?? importanceMap(roi, params.mode, sigma));
          const wOut = geo.outRoi.every((o, i) => o === roi[i]) ? clamped : resizeNearestExact(clamped, roi, geo.outRoi);
          wBuf = k.buffer(wOut.byteLength, 'voxelbench importance map');
          dev.queue.writeBuffer(wBuf, 0, wOut as Float32Array<ArrayBuffer>);
          owned.push(wBuf);
          // accumulation params of every window, one 256-byte slot each
          outOrigins = windowOrigins(plan, geo.zoom);
          const qN = prod(geo.outRoi);
          const [oD, oH, oW] = geo.outPadded;
          const [qD, qH, qW] = geo.outRoi;
          const all = new Uint8Array(total * slot);
          outOrigins.forEach((o, w) => {
            const [oz, oy, ox] = o.output;
            const zz = Math.min(qD, oD - oz);
            const yy = Math.min(qH, oH - oy);
            const xx = Math.min(qW, oW - ox);
            const inBatch = w % swBatch;
            const words = [oD, oH, oW, cOut, qD, qH, qW, inBatch * cOut * qN, oz, oy, ox, 0, zz, yy, xx, Math.max(0, zz) * Math.max(0, yy) * Math.max(0, xx)];
            all.set(new Uint8Array(packUniform(words)), w * slot);
          });
          accUniforms = dev.createBuffer({ size: all.byteLength, usage: 0x40 | 0x8, label: 'voxelbench accumulate params' });
          dev.queue.writeBuffer(accUniforms, 0, all);
          owned.push(accUniforms);
        } else if (ps[1] !== cOut || ps.slice(2).some((v, i) => v !== geo!.outRoi[3 - nd + i])) {
          throw new Error(`the model's output shape changed between windows: [${ps.join(', ')}]`);
        }
        const enc2 = dev.createCommandEncoder();
        const pass2 = enc2.beginComputePass();
        const pipe = k.pipeline('accumulate');
        const layout = pipe.getBindGroupLayout(0);
        for (let w = 0; w < n; w++) {
          const bg = dev.createBindGroup({
            layout,
            entries: [
              { binding: 0, resource: { buffer: accUniforms!, offset: (b0 + w) * slot, size: 64 } },
              { binding: 1, resource: { buffer: out.buffer } },
              { binding: 2, resource: { buffer: wBuf! } },
              { binding: 3, resource: { buffer: acc! } },
              { binding: 4, resource: { buffer: cnt! } },
            ],
          });
          const o = outOrigins[b0 + w].output;
          const ext = geo.outRoi.map((q, i) => Math.max(0, Math.min(q, geo!.outPadded[i] - o[i])));
          k.dispatch(pass2, 'accumulate', [], prod(ext), bg);
        }
        pass2.end();
        dev.queue.submit([enc2.finish()]);
      } finally {
        out.release();
        orgBuf.destroy();
      }
      if (onProgress) {
        const done = b0 + n;
        const elapsed = now() - t0;
        onProgress({ done, total, elapsedMs: elapsed, etaMs: (elapsed / done) * (total - done), predictMs });
      }
    }
    if (!geo || !acc || !cnt) throw new Error('no windows were run');
    const g = geo;
    const resN = cOut * prod(g.cropSize);
    const res = k.buffer(resN * 4, 'voxelbench result');
    const enc3 = dev.createCommandEncoder();
    const pass3 = enc3.beginComputePass();
    const u = k.uniform(packUniform([...g.outPadded, cOut, ...g.cropLo, 0, ...g.cropSize, resN]), 'voxelbench normalize params');
    k.dispatch(pass3, 'normalize', [u, acc, cnt, res], resN);
    pass3.end();
    dev.queue.submit([enc3.finish()]);
    u.destroy();
    const totalMs = now() - t0;
    return {
      buffer: res,
      shape: [cOut, ...g.cropSize.slice(3 - nd)],
      stats: { windows: total, batches, totalMs, predictMs, overheadMs: totalMs - predictMs, zoom: g.zoom.slice(3 - nd) },
      geometry: g,
    };
  } finally {
    for (const b of owned) b.destroy();
  }
}

/** Reads a float32 result back to the CPU. */
export async function readFloat32(k: GpuKernels, buffer: GPUBuffer, length: number): Promise<Float32Array> {
  return new Float32Array(await k.read(buffer, length * 4));
}

/** Argmax over channels of a [C, ...] float32 GPU buffer, read back as a uint8 label map. */
export async function gpuLabels(k: GpuKernels, buffer: GPUBuffer, shape: number[]): Promise<Uint8Array> {
  const [c, ...sp] = shape;
  if (c > 255) throw new Error(`argmax to uint8 supports up to 255 channels, got ${c}`);
  const voxels = prod(sp);
  const words = Math.ceil(voxels / 4);
  const dst = k.buffer(words * 4, 'voxelbench labels');
  try {
    const enc = k.device.createCommandEncoder();
    const pass = enc.beginComputePass();
    const u = k.uniform(packUniform([voxels, c, words, 0]), 'voxelbench labels params');
    k.dispatch(pass, 'labels', [u, buffer, dst], words);
    pass.end();
    k.device.queue.submit([enc.finish()]);
    u.destroy();
    return new Uint8Array(await k.read(dst, voxels));
  } finally {
    dst.destroy();
  }
}

/** Max value and the first index holding it (NaN ignored) of a float32 GPU buffer; index -1 when none. */
export async function gpuArgmax(k: GpuKernels, buffer: GPUBuffer, length: number): Promise<{ index: number; value: number }> {
  const g = Math.min(1024, Math.max(1, Math.ceil(length / 256)));
  const pairs = k.buffer(g * 8, 'voxelbench argmax pairs');
  const final = k.buffer(16, 'voxelbench argmax');
  const dummy = k.buffer(16, 'voxelbench argmax dummy');
  try {
    const enc = k.device.createCommandEncoder();
    const pass = enc.beginComputePass();
    const u1 = k.uniform(packUniform([length, 0, 0, 0]), 'argmax 1');
    const u2 = k.uniform(packUniform([g, 1, 0, 0]), 'argmax 2');
    const pipe = k.pipeline('argmax');
    const bind = (u: GPUBuffer, vals: GPUBuffer, pin: GPUBuffer, pout: GPUBuffer) =>
      k.device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: [u, vals, pin, pout].map((b, binding) => ({ binding, resource: { buffer: b } })) });
    pass.setPipeline(pipe);
    pass.setBindGroup(0, bind(u1, buffer, dummy, pairs));
    pass.dispatchWorkgroups(g);
    pass.setBindGroup(0, bind(u2, dummy, pairs, final));
    pass.dispatchWorkgroups(1);
    pass.end();
    k.device.queue.submit([enc.finish()]);
    u1.destroy();
    u2.destroy();
    const r = new Uint32Array(await k.read(final, 8));
    const value = new Float32Array(r.buffer)[0];
    return r[1] === 0xffffffff ? { index: -1, value: NaN } : { index: r[1], value };
  } finally {
    pairs.destroy();
    final.destroy();
    dummy.destroy();
  }
}
