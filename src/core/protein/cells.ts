/**
 * Per-cell labels from image-level probabilities and class activation maps (pipeline 4):
 * for each class with p > minProbability, Q = the percentile of its CAM over the image, q = the
 * same percentile inside the cell, conf = clip(q p / Q, 0, p) (0 when Q = 0); the cell keeps the
 * class when conf / p > keepRatio. A cell that keeps nothing is Negative, with confidence
 * 1 - its largest conf over the tested classes (1 when none was tested).
 * Percentiles are numpy's default ('linear'), with numpy's float32 arithmetic for float32 data.
 */
import { normaliseClassMaps, resizeBilinear } from '../cam';

const f32 = Math.fround;

/**
 * numpy.percentile(values, q) with the default 'linear' method, for float32 data as numpy 1.24 computes
 * it: index (n - 1) q / 100, lerp(a, b, t) = a + (b - a) t, or b - (b - a)(1 - t) when t >= 0.5, in float32.
 * `sorted` must be sorted ascending.
 */
export function percentileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const vi = ((n - 1) * q) / 100;
  const lo = Math.min(Math.max(Math.floor(vi), 0), n - 1);
  const hi = Math.min(lo + 1, n - 1);
  const t = vi - lo;
  const a = sorted[lo];
  const b = sorted[hi];
  const d = f32(b - a);
  return t >= 0.5 ? f32(b - f32(d * (1 - t))) : f32(a + f32(d * t));
}

export function percentile(values: ArrayLike<number>, q: number): number {
  const s = Float32Array.from(values).sort();
  return percentileSorted(s, q);
}

/** One class map [h, w] normalised (relu / max) and resized to the image [H, W]. */
export function camAtImage(normalised: Float32Array, k: number, mapShape: readonly [number, number], H: number, W: number): Float32Array {
  const [h, w] = mapShape;
  const one = normalised.subarray(k * h * w, (k + 1) * h * w);
  if (h === H && w === W) return one.slice();
  return resizeBilinear(one, [1, h, w], H, W);
}

export interface CellLabel {
  /** Class index. */
  cls: number;
  confidence: number;
  /** The cell's CAM percentile (null for Negative given by the rule). */
  q: number | null;
}

export interface CellResult {
  /** Label value in the mask. */
  id: number;
  area: number;
  /** [y0, x0, y1, x1] inclusive. */
  bbox: [number, number, number, number];
  labels: CellLabel[];
}

export interface CellRuleParams {
  minProbability: number;
  percentile: number;
  keepRatio: number;
  negativeClass: number;
  camEps: number;
}

/** Pixel indices of each cell, by label (ascending), from a label image. */
export function cellPixels(labels: ArrayLike<number>, width: number): { ids: number[]; pixels: Map<number, Int32Array>; bbox: Map<number, [number, number, number, number]> } {
  const counts = new Map<number, number>();
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i];
    if (v !== 0) counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  const ids = [...counts.keys()].sort((a, b) => a - b);
  const pixels = new Map<number, Int32Array>();
  const fill = new Map<number, number>();
  const bbox = new Map<number, [number, number, number, number]>();
  for (const id of ids) {
    pixels.set(id, new Int32Array(counts.get(id)!));
    fill.set(id, 0);
    bbox.set(id, [Infinity, Infinity, -1, -1]);
  }
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i];
    if (v === 0) continue;
    const k = fill.get(v)!;
    pixels.get(v)![k] = i;
    fill.set(v, k + 1);
    const b = bbox.get(v)!;
    const y = Math.floor(i / width);
    const x = i - y * width;
    if (y < b[0]) b[0] = y;
    if (x < b[1]) b[1] = x;
    if (y > b[2]) b[2] = y;
    if (x > b[3]) b[3] = x;
  }
  return { ids, pixels, bbox };
}

/**
 * The per-cell rule on CAMs already at image size: `camAt(k)` gives class k's CAM [H * W] (called
 * only for tested classes). Returns the cells in label order.
 */
export function labelCells(
  probs: ArrayLike<number>,
  camAt: (k: number) => Float32Array,
  labels: ArrayLike<number>,
  width: number,
  p: CellRuleParams,
  signal?: AbortSignal,
): CellResult[] {
  const { ids, pixels, bbox } = cellPixels(labels, width);
  const kept = new Map<number, CellLabel[]>(ids.map((id) => [id, []]));
  const best = new Map<number, number>(ids.map((id) => [id, 0]));
  const tested = new Map<number, boolean>(ids.map((id) => [id, false]));
  let buf = new Float32Array(0);
  for (let k = 0; k < probs.length; k++) {
    const pk = probs[k];
    if (!(pk > p.minProbability)) continue;
    if (signal?.aborted) throw Object.assign(new Error('run cancelled'), { name: 'AbortError' });
    const cam = camAt(k);
    const Q = percentileSorted(cam.slice().sort(), p.percentile);
    for (const id of ids) {
      const px = pixels.get(id)!;
      if (buf.length < px.length) buf = new Float32Array(px.length);
      const v = buf.subarray(0, px.length);
      for (let i = 0; i < px.length; i++) v[i] = cam[px[i]];
      v.sort();
      const q = percentileSorted(v, p.percentile);
      const conf = Q > 0 ? Math.min(Math.max((q * pk) / Q, 0), pk) : 0;
      tested.set(id, true);
      if (conf > best.get(id)!) best.set(id, conf);
      if (conf / pk > p.keepRatio) kept.get(id)!.push({ cls: k, confidence: conf, q });
    }
  }
  return ids.map((id) => {
    const labelsOf = kept.get(id)!;
    return {
      id,
      area: pixels.get(id)!.length,
      bbox: bbox.get(id)!,
      labels: labelsOf.length > 0 ? labelsOf : [{ cls: p.negativeClass, confidence: tested.get(id) ? 1 - best.get(id)! : 1, q: null }],
    };
  });
}

/** The CAM of every class: relu(f - eps) / (max + eps) per class on the model's class maps [K, h, w]. */
export function camFromClassMaps(maps: Float32Array, shape: readonly [number, number, number], eps: number): Float32Array {
  return normaliseClassMaps(maps, shape, eps);
}
