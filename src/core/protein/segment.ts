/**
 * A simple built-in cell segmentation for when no cell mask is given (NOT the HPA cell segmentator;
 * good enough for well-separated cultured cells, wrong for crowded or odd ones):
 * 1. nuclei: blue after a 5 x 5 box blur above Otsu's threshold (times a factor); 4-connected
 *    components, those smaller than minNucleusArea (at 512 x 512, scaled with the area) dropped;
 * 2. cell area: red + yellow + blue (each divided by its 99th percentile, box-blurred) above Otsu's
 *    threshold (times a factor), joined with the nuclei;
 * 3. cells: every cell-area pixel goes to the nucleus it reaches first growing inside the area
 *    (a geodesic Voronoi split by breadth-first search from all nuclei at once).
 */
import type { FieldOfView } from './images';
import type { ProteinSegmentationParams } from '../presets/protein';

function boxBlur(src: Float32Array, w: number, h: number, r: number): Float32Array {
  const tmp = new Float32Array(src.length);
  const out = new Float32Array(src.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      let n = 0;
      for (let d = -r; d <= r; d++) {
        const xx = x + d;
        if (xx >= 0 && xx < w) {
          s += src[y * w + xx];
          n++;
        }
      }
      tmp[y * w + x] = s / n;
    }
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      let n = 0;
      for (let d = -r; d <= r; d++) {
        const yy = y + d;
        if (yy >= 0 && yy < h) {
          s += tmp[yy * w + x];
          n++;
        }
      }
      out[y * w + x] = s / n;
    }
  }
  return out;
}

/** Otsu's threshold of values in [lo, hi] on a 256-bin histogram. */
export function otsu(v: Float32Array): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of v) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  if (!(hi > lo)) return hi;
  const bins = 256;
  const hist = new Float64Array(bins);
  const sc = (bins - 1) / (hi - lo);
  for (const x of v) hist[Math.round((x - lo) * sc)]++;
  const total = v.length;
  let sumAll = 0;
  for (let i = 0; i < bins; i++) sumAll += i * hist[i];
  let wB = 0;
  let sumB = 0;
  let best = 0;
  let bestT = 0;
  for (let t = 0; t < bins; t++) {
    wB += hist[t];
    if (wB === 0) continue;
    const wF = total - wB;
    if (wF === 0) break;
    sumB += t * hist[t];
    const mB = sumB / wB;
    const mF = (sumAll - sumB) / wF;
    const between = wB * wF * (mB - mF) * (mB - mF);
    if (between > best) {
      best = between;
      bestT = t;
    }
  }
  return lo + (bestT + 0.5) / sc;
}

function percentile99(v: ArrayLike<number>): number {
  const s = Float32Array.from(v).sort();
  return s[Math.min(s.length - 1, Math.floor(0.99 * (s.length - 1)))] || 1;
}

/** 4-connected components of a binary mask; labels 1..n in raster order of their first pixel. */
export function connectedComponents(mask: Uint8Array, w: number, h: number): { labels: Int32Array; count: number; areas: number[] } {
  const labels = new Int32Array(w * h);
  const stack = new Int32Array(w * h);
  const areas: number[] = [0];
  let count = 0;
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i] || labels[i]) continue;
    count++;
    let top = 0;
    stack[top++] = i;
    labels[i] = count;
    let area = 0;
    while (top > 0) {
      const p = stack[--top];
      area++;
      const y = Math.floor(p / w);
      const x = p - y * w;
      const nb = [x > 0 ? p - 1 : -1, x < w - 1 ? p + 1 : -1, y > 0 ? p - w : -1, y < h - 1 ? p + w : -1];
      for (const q of nb) {
        if (q >= 0 && mask[q] && !labels[q]) {
          labels[q] = count;
          stack[top++] = q;
        }
      }
    }
    areas.push(area);
  }
  return { labels, count, areas };
}

/** Cell label image (0 = background, 1..n) of a field of view by the simple method above. */
export function segmentCells(fov: Pick<FieldOfView, 'width' | 'height' | 'channels'>, p: ProteinSegmentationParams): Int32Array {
  const { width: w, height: h } = fov;
  const n = w * h;
  const r = Math.max(1, Math.round(2 * Math.sqrt(n / (512 * 512))));
  const chan = (c: number) => {
    const src = fov.channels[c];
    const s = percentile99(src);
    const f = new Float32Array(n);
    for (let i = 0; i < n; i++) f[i] = src[i] / s;
    return f;
  };
  const blue = boxBlur(chan(2), w, h, r);
  const tN = otsu(blue) * p.nucleusThresholdFactor;
  const nucMask = new Uint8Array(n);
  for (let i = 0; i < n; i++) nucMask[i] = blue[i] > tN ? 1 : 0;
  const cc = connectedComponents(nucMask, w, h);
  const minArea = p.minNucleusArea * (n / (512 * 512));
  const remap = new Int32Array(cc.count + 1);
  let k = 0;
  for (let i = 1; i <= cc.count; i++) if (cc.areas[i] >= minArea) remap[i] = ++k;
  const red = chan(0);
  const yellow = chan(3);
  const bl = fov.channels[2];
  const bs = percentile99(bl);
  const sum = new Float32Array(n);
  for (let i = 0; i < n; i++) sum[i] = red[i] + yellow[i] + bl[i] / bs;
  const area = boxBlur(sum, w, h, r);
  const tC = otsu(area) * p.cellThresholdFactor;
  const labels = new Int32Array(n);
  const queue = new Int32Array(n);
  let head = 0;
  let tail = 0;
  for (let i = 0; i < n; i++) {
    const l = remap[cc.labels[i]];
    if (l) {
      labels[i] = l;
      queue[tail++] = i;
    }
  }
  const inArea = (i: number) => area[i] > tC;
  while (head < tail) {
    const q = queue[head++];
    const y = Math.floor(q / w);
    const x = q - y * w;
    const l = labels[q];
    const grow = (r: number) => {
      if (!labels[r] && inArea(r)) {
        labels[r] = l;
        queue[tail++] = r;
      }
    };
    if (x > 0) grow(q - 1);
    if (x < w - 1) grow(q + 1);
    if (y > 0) grow(q - w);
    if (y < h - 1) grow(q + w);
  }
  return labels;
}
