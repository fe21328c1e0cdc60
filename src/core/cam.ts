/**
 * Class-activation maps from a model's class-map output (Puzzle-CAM / HPA 2021 style), shared by
 * the 2D presets: relu, per-class division by the spatial max, bilinear resize to the image.
 */

/**
 * Per class c of maps [C, h, w]: `relu(f - eps) / (max_c + eps)` where max_c is the spatial max of
 * relu(f) for that class (the pipeline's normalisation). Returns a new array of the same shape.
 */
export function normaliseClassMaps(maps: Float32Array, shape: readonly [number, number, number], eps = 1e-5): Float32Array {
  const [c, h, w] = shape;
  const n = h * w;
  if (maps.length !== c * n) throw new Error(`class maps have ${maps.length} values; shape [${shape.join(', ')}] needs ${c * n}`);
  const out = new Float32Array(maps.length);
  for (let k = 0; k < c; k++) {
    let max = 0;
    for (let i = k * n; i < (k + 1) * n; i++) if (maps[i] > max) max = maps[i];
    const inv = 1 / (max + eps);
    for (let i = k * n; i < (k + 1) * n; i++) {
      const v = maps[i] - eps;
      out[i] = v > 0 ? v * inv : 0;
    }
  }
  return out;
}

/**
 * Bilinear resize of [C, h, w] to [C, outH, outW] with PyTorch's `F.interpolate(mode='bilinear',
 * align_corners=False)` sampling (no anti-aliasing): src = (dst + 0.5) * in / out - 0.5, clamped.
 */
export function resizeBilinear(data: Float32Array, shape: readonly [number, number, number], outH: number, outW: number): Float32Array {
  const [c, h, w] = shape;
  const out = new Float32Array(c * outH * outW);
  const axis = (outN: number, inN: number) => {
    const i0 = new Int32Array(outN);
    const i1 = new Int32Array(outN);
    const f = new Float32Array(outN);
    const scale = inN / outN;
    for (let o = 0; o < outN; o++) {
      const src = Math.max((o + 0.5) * scale - 0.5, 0);
      const lo = Math.min(Math.floor(src), inN - 1);
      i0[o] = lo;
      i1[o] = Math.min(lo + 1, inN - 1);
      f[o] = src - lo;
    }
    return { i0, i1, f };
  };
  const ys = axis(outH, h);
  const xs = axis(outW, w);
  for (let k = 0; k < c; k++) {
    const base = k * h * w;
    const obase = k * outH * outW;
    for (let y = 0; y < outH; y++) {
      const r0 = base + ys.i0[y] * w;
      const r1 = base + ys.i1[y] * w;
      const fy = ys.f[y];
      for (let x = 0; x < outW; x++) {
        const x0 = xs.i0[x];
        const x1 = xs.i1[x];
        const fx = xs.f[x];
        const top = data[r0 + x0] * (1 - fx) + data[r0 + x1] * fx;
        const bot = data[r1 + x0] * (1 - fx) + data[r1 + x1] * fx;
        out[obase + y * outW + x] = top * (1 - fy) + bot * fy;
      }
    }
  }
  return out;
}
