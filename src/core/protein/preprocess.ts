/**
 * Pipeline 4 preprocessing, step by step, in float32 as tools/models/protein.py does it:
 *   scale      x / 65535 if the maximum over the four channels is > 255, else x / 255
 *   resize     torch.nn.functional.interpolate(mode='bilinear', align_corners=False, antialias=True)
 *              to the model input size (PIL-style separable triangle filter whose support grows with
 *              the reduction; width first, then height; a dimension that keeps its size is skipped)
 *   normalise  (x - mean) / std per channel
 *   layout     NCHW (1, 4, H, W), channels red, green, blue, yellow
 */
import type { FieldOfView } from './images';

const f32 = Math.fround;

/** The pipeline's divisor: 65535 when any value is above 255, else 255. */
export function scaleDivisor(channels: ArrayLike<number>[]): number {
  for (const ch of channels) for (let i = 0; i < ch.length; i++) if (ch[i] > 255) return 65535;
  return 255;
}

/** x / divisor in float32, channels concatenated ([C, H, W]). */
export function scaleChannels(channels: ArrayLike<number>[], divisor: number): Float32Array {
  const n = channels[0]?.length ?? 0;
  const out = new Float32Array(channels.length * n);
  const d = f32(divisor);
  channels.forEach((ch, c) => {
    for (let i = 0; i < n; i++) out[c * n + i] = ch[i] / d; // float32 store of the double quotient = float32 division
  });
  return out;
}

interface AxisWeights {
  /** First input index per output index. */
  start: Int32Array;
  size: Int32Array;
  /** Normalised weights, `maxSize` per output index. */
  weights: Float32Array;
  maxSize: number;
}

/** PyTorch's `_compute_weights_aa` for the bilinear (triangle) filter, in float32. */
function aaAxis(inSize: number, outSize: number): AxisWeights {
  const scale = f32(inSize / outSize);
  const support = scale >= 1 ? f32(1 * scale) : 1; // interp_size / 2 * scale
  const invscale = scale >= 1 ? f32(1 / scale) : 1;
  const maxSize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const size = new Int32Array(outSize);
  const weights = new Float32Array(outSize * maxSize);
  for (let i = 0; i < outSize; i++) {
    const center = f32(scale * f32(i + 0.5));
    const xmin = Math.max(Math.trunc(f32(f32(center - support) + 0.5)), 0);
    const xsize = Math.min(Math.trunc(f32(f32(center + support) + 0.5)), inSize) - xmin;
    let total = 0;
    for (let j = 0; j < xsize; j++) {
      const x = f32(f32(f32(j + xmin - center) + 0.5) * invscale);
      const a = Math.abs(x);
      const w = a < 1 ? f32(1 - a) : 0;
      weights[i * maxSize + j] = w;
      total = f32(total + w);
    }
    if (total !== 0) for (let j = 0; j < xsize; j++) weights[i * maxSize + j] = f32(weights[i * maxSize + j] / total);
    start[i] = xmin;
    size[i] = xsize;
  }
  return { start, size, weights, maxSize };
}

/**
 * Anti-aliased bilinear resize of [C, h, w] float32 to [C, outH, outW] (PyTorch `antialias=True`,
 * `align_corners=False`): horizontal pass, then vertical, each accumulated in float32.
 */
export function resizeAntialias(data: Float32Array, shape: readonly [number, number, number], outH: number, outW: number): Float32Array {
  const [c, h, w] = shape;
  if (data.length !== c * h * w) throw new Error(`resize input has ${data.length} values; [${shape.join(', ')}] needs ${c * h * w}`);
  let cur = data;
  let curW = w;
  if (outW !== w) {
    const ax = aaAxis(w, outW);
    const next = new Float32Array(c * h * outW);
    for (let row = 0; row < c * h; row++) {
      const src = row * w;
      const dst = row * outW;
      for (let x = 0; x < outW; x++) {
        const s0 = src + ax.start[x];
        const wo = x * ax.maxSize;
        let acc = f32(cur[s0] * ax.weights[wo]);
        for (let j = 1; j < ax.size[x]; j++) acc = f32(acc + f32(cur[s0 + j] * ax.weights[wo + j]));
        next[dst + x] = acc;
      }
    }
    cur = next;
    curW = outW;
  }
  if (outH !== h) {
    const ax = aaAxis(h, outH);
    const next = new Float32Array(c * outH * curW);
    for (let k = 0; k < c; k++) {
      const base = k * h * curW;
      const obase = k * outH * curW;
      for (let y = 0; y < outH; y++) {
        const wo = y * ax.maxSize;
        const y0 = ax.start[y];
        const n = ax.size[y];
        const dst = obase + y * curW;
        for (let x = 0; x < curW; x++) {
          let acc = f32(cur[base + y0 * curW + x] * ax.weights[wo]);
          for (let j = 1; j < n; j++) acc = f32(acc + f32(cur[base + (y0 + j) * curW + x] * ax.weights[wo + j]));
          next[dst + x] = acc;
        }
      }
    }
    cur = next;
  }
  return cur === data ? data.slice() : cur;
}

/** (x - mean[c]) / std[c] in float32, in place on [C, H, W]. */
export function normaliseChannels(data: Float32Array, channels: number, mean: readonly number[], std: readonly number[]): Float32Array {
  const n = data.length / channels;
  for (let c = 0; c < channels; c++) {
    const m = f32(mean[c]);
    const s = f32(std[c]);
    for (let i = c * n; i < (c + 1) * n; i++) data[i] = f32(data[i] - m) / s;
  }
  return data;
}

export interface ProteinInput {
  /** [1, 4, H, W] normalised. */
  data: Float32Array;
  shape: [1, 4, number, number];
  /** 255 or 65535. */
  divisor: number;
}

/** The whole preprocessing of one field of view (pipeline 4). */
export function preprocessFov(fov: Pick<FieldOfView, 'width' | 'height' | 'channels'>, p: { inputSize: readonly [number, number]; mean: readonly number[]; std: readonly number[] }): ProteinInput {
  const divisor = scaleDivisor(fov.channels);
  let x = scaleChannels(fov.channels, divisor);
  const [H, W] = p.inputSize;
  if (fov.height !== H || fov.width !== W) x = resizeAntialias(x, [4, fov.height, fov.width], H, W);
  normaliseChannels(x, 4, p.mean, p.std);
  return { data: x, shape: [1, 4, H, W], divisor };
}
