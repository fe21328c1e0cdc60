/**
 * Stage-2 crops of the cervical-spine pipeline (spec section 2, spine_fracture card
 * `preprocessing.crops/channels`), as the original:
 * - mask_k = prob_k > 0.2 (fallback > 0.05) on the stage-1 grid; box per axis x1 = max(0, first - 1),
 *   x2 = min(S, last + 1);
 * - 15 series slices `linspace(int(z1 / S * n), int(z2 / S * n) - 1, 15)` truncated, and 15 grid slices
 *   `linspace(z1, z2 - 1, 15)` truncated for the mask;
 * - channels: stored slices ind-2 .. ind+2 (index -1 wraps to the last slice, as a Python list; past
 *   the end -> zeros), stacked, minus their min, / (max + 1e-4), * 255 -> uint8 (truncation), cropped
 *   to the box scaled to the series size (int), resized to 224 x 224 (cv2.INTER_LINEAR semantics:
 *   half-pixel centres, no antialiasing; float32 as torch's bilinear, then rounded half to even);
 *   6th channel = uint8(prob_k[box, ind_] * 255) resized the same way.
 */

/** Stage-1 probabilities on the model grid, slices first: [7, S, size, size]. */
export interface ProbGrid {
  data: Float32Array;
  /** [classes, slices, rows, cols]. */
  shape: [number, number, number, number];
}

export interface VertebraBox {
  /** Grid box [lo, hi) per axis (slices, rows, cols) as the original (hi = last + 1, not last + 2). */
  z: [number, number];
  y: [number, number];
  x: [number, number];
  /** The threshold that gave a non-empty mask. */
  threshold: number;
}

/** The vertebra's mask box on the grid, or null when neither threshold gives a voxel. */
export function vertebraBox(prob: ProbGrid, k: number, threshold: number, fallback: number): VertebraBox | null {
  const [, S, R, C] = prob.shape;
  const base = k * S * R * C;
  for (const t of [threshold, fallback]) {
    let z0 = Infinity, z1 = -1, y0 = Infinity, y1 = -1, x0 = Infinity, x1 = -1;
    for (let z = 0; z < S; z++) {
      for (let y = 0; y < R; y++) {
        const row = base + (z * R + y) * C;
        for (let x = 0; x < C; x++) {
          if (prob.data[row + x] > t) {
            if (z < z0) z0 = z;
            if (z > z1) z1 = z;
            if (y < y0) y0 = y;
            if (y > y1) y1 = y;
            if (x < x0) x0 = x;
            if (x > x1) x1 = x;
          }
        }
      }
    }
    if (z1 >= 0) {
      return {
        z: [Math.max(0, z0 - 1), Math.min(S, z1 + 1)],
        y: [Math.max(0, y0 - 1), Math.min(R, y1 + 1)],
        x: [Math.max(0, x0 - 1), Math.min(C, x1 + 1)],
        threshold: t,
      };
    }
    if (t === fallback) break;
  }
  return null;
}

/** numpy.linspace(a, b, n).astype(int) (truncation toward zero). */
export function linspaceInt(a: number, b: number, n: number): number[] {
  const out: number[] = [];
  const step = (b - a) / (n - 1);
  for (let i = 0; i < n; i++) out.push(Math.trunc(i === n - 1 ? b : step === 0 ? (i / (n - 1)) * (b - a) + a : i * step + a) + 0); // + 0: no -0
  return out;
}

const f32 = Math.fround;

function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  return d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
}

interface LinearAxis {
  i0: Int32Array;
  i1: Int32Array;
  l0: Float32Array;
  l1: Float32Array;
}

/**
 * torch upsample_bilinear2d (align_corners=False) indices and weights along one axis, as its CPU
 * kernel computes them: scale = float(in) / out in float32, source index in double
 * (scale * (o + 0.5) - 0.5, clamped at 0), weights rounded to float32.
 */
function linearAxis(nIn: number, nOut: number): LinearAxis {
  const scale = f32(nIn / nOut);
  const i0 = new Int32Array(nOut);
  const i1 = new Int32Array(nOut);
  const l0 = new Float32Array(nOut);
  const l1 = new Float32Array(nOut);
  for (let o = 0; o < nOut; o++) {
    const src = Math.max(scale * (o + 0.5) - 0.5, 0);
    const lo = Math.min(Math.trunc(src), nIn - 1);
    const lam = f32(Math.min(Math.max(src - lo, 0), 1));
    i0[o] = lo;
    i1[o] = lo < nIn - 1 ? lo + 1 : lo;
    l1[o] = lam;
    l0[o] = f32(1 - lam);
  }
  return { i0, i1, l0, l1 };
}

/**
 * Bilinear resize of uint8 images [n, h, w] to [n, size, size] (cv2.INTER_LINEAR geometry: half-pixel
 * centres, no antialiasing) with the numbers of torch's CPU kernel on float32 (N, 1, H, W) input, which
 * the training code used: the four corner weights h_i * w_j rounded to float32, the weighted sum in
 * double, rounded to float32; then rounded half to even (np.rint) and clipped to 0..255. Checked
 * bit for bit against torch 1.13 on random images.
 */
export function bilinearU8(src: Uint8Array, n: number, h: number, w: number, size: number, out = new Uint8Array(n * size * size), outOffset = 0): Uint8Array {
  const ay = linearAxis(h, size);
  const ax = linearAxis(w, size);
  for (let k = 0; k < n; k++) {
    const b = k * h * w;
    const ob = outOffset + k * size * size;
    for (let y = 0; y < size; y++) {
      const r0 = b + ay.i0[y] * w;
      const r1 = b + ay.i1[y] * w;
      const h0 = ay.l0[y];
      const h1 = ay.l1[y];
      for (let x = 0; x < size; x++) {
        const x0 = ax.i0[x];
        const x1 = ax.i1[x];
        const w0 = ax.l0[x];
        const w1 = ax.l1[x];
        const v = f32(src[r0 + x0] * f32(h0 * w0) + src[r0 + x1] * f32(h0 * w1) + src[r1 + x0] * f32(h1 * w0) + src[r1 + x1] * f32(h1 * w1));
        out[ob + y * size + x] = Math.min(255, Math.max(0, roundHalfEven(v)));
      }
    }
  }
  return out;
}

export interface CropParams {
  cropSlices: number;
  cropChannels: number;
  cropSize: number;
  threshold: number;
  fallbackThreshold: number;
}

export interface VertebraCrops {
  /** uint8 [cropSlices, cropChannels + 1, cropSize, cropSize]. */
  data: Uint8Array;
  /** Series slice indices (the centre of each 5-slice stack). */
  indices: number[];
  /** Grid slice indices of the mask channel. */
  gridIndices: number[];
  box: VertebraBox;
  /** The box in series pixels [rows lo, hi), [cols lo, hi). */
  pixelBox: { y: [number, number]; x: [number, number] };
}

/**
 * The crops of vertebra k. stored: [n, rows, cols] stored values in the slice order the model saw;
 * prob: the stage-1 probabilities on the grid (slices first). Returns null when the vertebra has no mask.
 */
export function vertebraCrops(stored: ArrayLike<number>, shape: readonly [number, number, number], prob: ProbGrid, k: number, p: CropParams): VertebraCrops | null {
  const [n, rows, cols] = shape;
  const [, S, R, C] = prob.shape;
  const box = vertebraBox(prob, k, p.threshold, p.fallbackThreshold);
  if (!box) return null;
  const [z1, z2] = box.z;
  const zz1 = Math.trunc((z1 / S) * n);
  const zz2 = Math.trunc((z2 / S) * n);
  const inds = linspaceInt(zz1, zz2 - 1, p.cropSlices);
  const inds_ = linspaceInt(z1, z2 - 1, p.cropSlices);
  const yy1 = Math.trunc((box.y[0] / R) * rows);
  const yy2 = Math.trunc((box.y[1] / R) * rows);
  const xx1 = Math.trunc((box.x[0] / C) * cols);
  const xx2 = Math.trunc((box.x[1] / C) * cols);
  const ch = p.cropChannels;
  const size = p.cropSize;
  const ph = yy2 - yy1;
  const pw = xx2 - xx1;
  const mh = box.y[1] - box.y[0];
  const mw = box.x[1] - box.x[0];
  const out = new Uint8Array(p.cropSlices * (ch + 1) * size * size);
  const plane = rows * cols;
  const stack = new Float64Array(ch * plane);
  const small = new Uint8Array(ch * ph * pw);
  const msk = new Uint8Array(mh * mw);
  const half = Math.floor(ch / 2);
  // Python: range(-ch // 2 + 1, ch // 2 + 1) -> floor(-ch / 2) + 1 .. floor(ch / 2)
  const first = Math.floor(-ch / 2) + 1;
  void half;
  for (let s = 0; s < p.cropSlices; s++) {
    const ind = inds[s];
    for (let c = 0; c < ch; c++) {
      let j = ind + first + c;
      const dst = c * plane;
      if (j >= n || j < -n) {
        stack.fill(0, dst, dst + plane);
        continue;
      }
      if (j < 0) j += n; // a Python list index: -1 is the last slice
      for (let i = 0; i < plane; i++) stack[dst + i] = stored[j * plane + i];
    }
    let lo = Infinity;
    for (let i = 0; i < stack.length; i++) if (stack[i] < lo) lo = stack[i];
    let hi = -Infinity;
    for (let i = 0; i < stack.length; i++) if (stack[i] - lo > hi) hi = stack[i] - lo;
    const d = hi + 1e-4;
    for (let c = 0; c < ch; c++) {
      for (let y = 0; y < ph; y++) {
        const src = c * plane + (yy1 + y) * cols + xx1;
        const o = (c * ph + y) * pw;
        for (let x = 0; x < pw; x++) small[o + x] = Math.trunc(((stack[src + x] - lo) / d) * 255);
      }
    }
    const base = s * (ch + 1) * size * size;
    if (ph > 0 && pw > 0) bilinearU8(small, ch, ph, pw, size, out, base);
    const zg = inds_[s];
    const pb = k * S * R * C + zg * R * C;
    for (let y = 0; y < mh; y++) {
      for (let x = 0; x < mw; x++) msk[y * mw + x] = Math.trunc(f32(prob.data[pb + (box.y[0] + y) * C + box.x[0] + x] * 255));
    }
    bilinearU8(msk, 1, mh, mw, size, out, base + ch * size * size);
  }
  return { data: out, indices: inds, gridIndices: inds_, box, pixelBox: { y: [yy1, yy2], x: [xx1, xx2] } };
}
