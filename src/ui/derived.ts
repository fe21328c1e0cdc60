/** Values computed from a result once and shared by the view, the legend and the save buttons. */
import { argmaxLabels, channelRange, labelCount, labelCounts } from './overlay';
import type { ResultState } from './store';

interface Cache {
  labels?: { threshold: number; map: Uint8Array; counts: number[] };
  ranges: Map<number, [number, number]>;
}

const caches = new WeakMap<ResultState, Cache>();

function cacheOf(r: ResultState): Cache {
  let c = caches.get(r);
  if (!c) {
    c = { ranges: new Map() };
    caches.set(r, c);
  }
  return c;
}

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
