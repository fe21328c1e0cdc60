/**
 * Order-1 (trilinear) corner-aligned resize of a uint8 volume that reproduces
 * `scipy.ndimage.zoom(x, out / in, order=1, grid_mode=False)` (mode 'constant', cval 0) on uint8
 * input bit for bit, as scipy 1.10's `NI_ZoomShift` computes it:
 *
 * - per axis, zoom = (in - 1) / (out - 1) (1 when out is 1); output index k samples the input at
 *   c = k * zoom (double);
 * - weights: f = c - floor(c), w0 = 1 - f, w1 = 1 - w0 (scipy's spline weights for order 1);
 * - the value is the sum over the 8 neighbours, z slowest and x fastest, each term computed as
 *   ((v * wz) * wy) * wx and added in that order in double;
 * - uint8 output: t > 0 ? t + 0.5 : 0, clipped to 255 and truncated (round half up);
 * - scipy quirk kept on purpose: where k * zoom lands one ulp beyond in - 1 (e.g. 8 -> 26), mode
 *   'constant' treats the sample as outside and the whole output plane is 0 (cval). The reference
 *   pipeline ran on such inputs, so they are reproduced.
 *
 * Memory: reads the uint8 input and writes a uint8 output; no float copy of either.
 */
import { InputError } from '../volume';
import { roundHalfEven } from '../slidingWindow';

export type Shape3 = [number, number, number];

interface AxisPlan {
  /** Lower neighbour index. */
  i0: Int32Array;
  /** Upper neighbour index (clamped; its weight is 0 at the last sample). */
  i1: Int32Array;
  w0: Float64Array;
  w1: Float64Array;
  /** 1 where the sample is outside the input (-> cval 0). */
  zero: Uint8Array;
}

function axisPlan(nIn: number, nOut: number): AxisPlan {
  const zoom = nOut - 1 !== 0 ? (nIn - 1) / (nOut - 1) : 1;
  const p: AxisPlan = {
    i0: new Int32Array(nOut),
    i1: new Int32Array(nOut),
    w0: new Float64Array(nOut),
    w1: new Float64Array(nOut),
    zero: new Uint8Array(nOut),
  };
  for (let k = 0; k < nOut; k++) {
    const c = k * zoom;
    if (c > nIn - 1 || c < 0) {
      p.zero[k] = 1;
      continue;
    }
    const i = Math.floor(c);
    const w0 = 1 - (c - i);
    p.i0[k] = i;
    p.i1[k] = Math.min(i + 1, nIn - 1);
    p.w0[k] = w0;
    p.w1[k] = 1 - w0;
  }
  return p;
}

/**
 * Which of `nIn` input z planes zoomLinear reads to make `nOut` (1: some output plane takes it with
 * a weight above zero). The others never change the resized volume, so a caller that only resizes
 * (the CLI's motors runs) need not decode them: 126 of 300 slices for 300 -> 64.
 */
export function zoomSourcePlanes(nIn: number, nOut: number): Uint8Array {
  const p = axisPlan(nIn, nOut);
  const used = new Uint8Array(nIn);
  for (let k = 0; k < nOut; k++) {
    if (p.zero[k]) continue;
    if (p.w0[k] !== 0) used[p.i0[k]] = 1;
    if (p.w1[k] !== 0) used[p.i1[k]] = 1;
  }
  return used;
}

/** scipy's conversion of a double to uint8 output: round half up, clip to [0, 255]. */
function toUint8(t: number): number {
  t = t > 0 ? t + 0.5 : 0;
  return t > 255 ? 255 : Math.trunc(t);
}

/** One output row (fixed z, y) of the trilinear sum; the hot loop, kept small for V8. */
function zoomRow(
  src: Uint8Array,
  dst: Uint8Array,
  o: number,
  r00: number,
  r01: number,
  r10: number,
  r11: number,
  wz0: number,
  wz1: number,
  wy0: number,
  wy1: number,
  px: AxisPlan,
  nx: number,
): void {
  const { i0, i1, w0, w1, zero } = px;
  for (let x = 0; x < nx; x++) {
    if (zero[x]) {
      dst[o + x] = 0;
      continue;
    }
    const a = i0[x];
    const b = i1[x];
    const wx0 = w0[x];
    const wx1 = w1[x];
    let t = 0;
    t += src[r00 + a] * wz0 * wy0 * wx0;
    t += src[r00 + b] * wz0 * wy0 * wx1;
    t += src[r01 + a] * wz0 * wy1 * wx0;
    t += src[r01 + b] * wz0 * wy1 * wx1;
    t += src[r10 + a] * wz1 * wy0 * wx0;
    t += src[r10 + b] * wz1 * wy0 * wx1;
    t += src[r11 + a] * wz1 * wy1 * wx0;
    t += src[r11 + b] * wz1 * wy1 * wx1;
    dst[o + x] = toUint8(t);
  }
}

/**
 * Resizes a C-order uint8 volume of `inShape` (D, H, W) to `outShape` like
 * `scipy.ndimage.zoom(src, outShape / inShape, order=1, grid_mode=False)`.
 * `onPlane`, when given, is called after each output z plane (for progress and cancellation).
 */
export function zoomLinear(src: Uint8Array, inShape: readonly number[], outShape: readonly number[], onPlane?: (z: number, nz: number) => void): Uint8Array {
  if (inShape.length !== 3 || outShape.length !== 3) throw new InputError(`resize needs 3D shapes, got [${inShape.join(', ')}] -> [${outShape.join(', ')}]`);
  for (const s of [...inShape, ...outShape]) {
    if (!Number.isInteger(s) || s < 1) throw new InputError(`resize: sizes must be positive integers, got [${inShape.join(', ')}] -> [${outShape.join(', ')}]`);
  }
  const [iD, iH, iW] = inShape;
  const [oD, oH, oW] = outShape;
  if (src.length !== iD * iH * iW) throw new InputError(`resize: ${src.length} voxels do not match shape [${inShape.join(', ')}]`);
  const dst = new Uint8Array(oD * oH * oW);
  if (iD === oD && iH === oH && iW === oW) {
    dst.set(src);
    return dst;
  }
  const pz = axisPlan(iD, oD);
  const py = axisPlan(iH, oH);
  const px = axisPlan(iW, oW);
  const plane = iH * iW;
  for (let z = 0; z < oD; z++) {
    const zBase = z * oH * oW;
    if (pz.zero[z]) {
      dst.fill(0, zBase, zBase + oH * oW);
    } else {
      const z0 = pz.i0[z] * plane;
      const z1 = pz.i1[z] * plane;
      for (let y = 0; y < oH; y++) {
        const o = zBase + y * oW;
        if (py.zero[y]) {
          dst.fill(0, o, o + oW);
          continue;
        }
        const y0 = py.i0[y] * iW;
        const y1 = py.i1[y] * iW;
        zoomRow(src, dst, o, z0 + y0, z0 + y1, z1 + y0, z1 + y1, pz.w0[z], pz.w1[z], py.w0[y], py.w1[y], px, oW);
      }
    }
    onPlane?.(z, oD);
  }
  return dst;
}

/** The output shape scipy's zoom gives for a zoom factor per axis: Python round(in * factor). */
export function zoomOutputShape(inShape: readonly number[], factors: readonly number[]): number[] {
  return inShape.map((s, i) => roundHalfEven(s * factors[i]));
}
