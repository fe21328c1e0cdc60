/**
 * Values computed from a result once and shared by the view, the legend and the save buttons;
 * kept in the result's own cache (`ResultState.derived`), so they go when the result goes.
 * The label map and the channel ranges of a large output are computed in slices between frames
 * (labelsSoon, warmRanges); the store's `derivedSeq` says when one is ready.
 */
import { argmaxLabels, channelRange, labelCount, labelCounts, resampleToGrid } from './overlay';
import { spatialShape } from '../core/volume';
import { useStore, type ParityState, type ResultState } from './store';

const cacheOf = (r: ResultState) => r.derived;

/** Argmax label map on the input grid (one channel: value > threshold). */
export function labelsOf(r: ResultState, threshold: number): { map: Uint8Array; counts: number[] } {
  const c = cacheOf(r);
  const t = r.channels === 1 ? threshold : 0;
  if (!c.labels || c.labels.threshold !== t) {
    const map = argmaxLabels(r.onInput, r.channels, t);
    c.labels = { threshold: t, map, counts: labelCounts(map, labelCount(r.channels)) };
  }
  return c.labels;
}

/** Voxels per slice of the work done between two frames. */
const SLICE = 1 << 20;

const nextTask = (): Promise<void> => new Promise((r) => setTimeout(r, 0));
const ready = (): void => useStore.setState((s) => ({ derivedSeq: s.derivedSeq + 1 }));

/**
 * The label map when it is computed, else null (and it is being computed, in slices between
 * frames; `derivedSeq` moves on when it is ready).
 */
export function labelsSoon(r: ResultState, threshold: number): { map: Uint8Array; counts: number[] } | null {
  const c = cacheOf(r);
  const t = r.channels === 1 ? threshold : 0;
  if (c.labels && c.labels.threshold === t) return c.labels;
  if (c.labelsPending !== t) {
    c.labelsPending = t;
    void sliceLabels(r, t);
  }
  return null;
}

async function sliceLabels(r: ResultState, t: number): Promise<void> {
  const c = cacheOf(r);
  const n = r.onInput.length / r.channels;
  const map = new Uint8Array(n);
  const counts = new Array<number>(labelCount(r.channels)).fill(0);
  for (let s = 0; s < n; s += SLICE) {
    await nextTask();
    if (c.labelsPending !== t) return;
    if (c.labels?.threshold === t) {
      // computed at once meanwhile (labelsOf: a click's readout, a save): it does not tell the
      // store, and the legend and the overlay drawn while this was pending wait on derivedSeq
      c.labelsPending = undefined;
      ready();
      return;
    }
    const e = Math.min(n, s + SLICE);
    const part = argmaxLabels(r.onInput, r.channels, t, s, e);
    map.set(part, s);
    const k = labelCounts(part, counts.length);
    for (let i = 0; i < counts.length; i++) counts[i] += k[i];
  }
  if (c.labelsPending !== t) return;
  c.labelsPending = undefined;
  c.labels = { threshold: t, map, counts };
  ready();
}

/** Computes the range of every channel (up to 32) in slices between frames, for the threshold slider of each. */
export async function warmRanges(r: ResultState): Promise<void> {
  const c = cacheOf(r);
  const n = r.onInput.length / r.channels;
  for (let ch = 0; ch < Math.min(r.channels, 32); ch++) {
    if (c.ranges.has(ch)) continue;
    let lo = Infinity;
    let hi = -Infinity;
    for (let s = ch * n; s < (ch + 1) * n; s += SLICE) {
      await nextTask();
      const e = Math.min((ch + 1) * n, s + SLICE);
      for (let i = s; i < e; i++) {
        const v = r.onInput[i];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    if (!c.ranges.has(ch)) c.ranges.set(ch, lo <= hi ? [lo, hi] : [0, 0]);
  }
}

/** One channel of the output on the input grid (a view, no copy). */
export function channelOf(r: ResultState, channel: number): Float32Array {
  const n = r.onInput.length / r.channels;
  const ch = Math.max(0, Math.min(channel, r.channels - 1));
  return r.onInput.subarray(ch * n, (ch + 1) * n);
}

export function rangeOf(r: ResultState, channel: number): [number, number] {
  const c = cacheOf(r);
  let v = c.ranges.get(channel);
  if (!v) {
    v = channelRange(r.onInput, r.channels, Math.max(0, Math.min(channel, r.channels - 1)));
    c.ranges.set(channel, v);
  }
  return v;
}

export interface ParityStats {
  maxAbsDiff: number;
  meanAbsDiff: number;
  /** Largest |reference| (to read the differences against). */
  refMaxAbs: number;
  /** Why the reference cannot be compared (shape mismatch). */
  error?: string;
  /** |output - reference| [C, D', H', W'] on the output grid. */
  diff?: Float32Array;
}

/** Max/mean |output - reference|; the reference is [C, D, H, W] or [1, C, D, H, W] (or [D, H, W] for one channel). */
export function parityOf(r: ResultState, p: ParityState): ParityStats {
  const c = cacheOf(r);
  if (c.parity && c.parity.p.data === p.data) return c.parity.stats;
  const out = r.run.shape;
  let ref = p.shape.slice();
  while (ref.length > out.length && ref[0] === 1) ref = ref.slice(1);
  if (ref.length === out.length - 1 && out[0] === 1) ref = [1, ...ref];
  let stats: ParityStats;
  if (ref.length !== out.length || ref.some((d, i) => d !== out[i])) {
    stats = { maxAbsDiff: NaN, meanAbsDiff: NaN, refMaxAbs: NaN, error: `the reference is [${p.shape.join(', ')}], the output [${out.join(', ')}]` };
  } else {
    const a = r.run.data;
    const b = p.data;
    const diff = new Float32Array(a.length);
    let max = 0;
    let sum = 0;
    let refMax = 0;
    for (let i = 0; i < a.length; i++) {
      const d = Math.abs(a[i] - b[i]);
      diff[i] = d;
      if (!(d <= max)) max = d;
      sum += d;
      const m = Math.abs(b[i]);
      if (m > refMax) refMax = m;
    }
    stats = { maxAbsDiff: max, meanAbsDiff: sum / Math.max(1, a.length), refMaxAbs: refMax, diff };
  }
  c.parity = { p, stats };
  return stats;
}

/** |output - reference| of one channel on the input grid, for the overlay. */
export function diffOnInput(r: ResultState, p: ParityState, channel: number): Float32Array | null {
  const st = parityOf(r, p);
  if (!st.diff) return null;
  const out = r.run.shape.length === 3 ? [r.run.shape[0], 1, r.run.shape[1], r.run.shape[2]] : r.run.shape;
  const n = out[1] * out[2] * out[3];
  const ch = Math.max(0, Math.min(channel, out[0] - 1));
  const one = st.diff.subarray(ch * n, (ch + 1) * n);
  return resampleToGrid(one, 1, [out[1], out[2], out[3]], spatialShape(r.input));
}
