/**
 * Decoded tomograms kept in memory, least recently used first out, within a byte budget: a batch
 * of large tomograms (500 x 1000 x 1000 uint8 is 500 MB each) is decoded again when needed
 * instead of all being held at once.
 */
import type { Tomogram } from '../../core/motors/tomogram';

const BUDGET = 1 << 30;

const cache = new Map<string, Tomogram>();

export function cached(id: string): Tomogram | undefined {
  const t = cache.get(id);
  if (t) {
    cache.delete(id);
    cache.set(id, t);
  }
  return t;
}

export function remember(t: Tomogram): void {
  cache.delete(t.id);
  cache.set(t.id, t);
  let bytes = 0;
  for (const x of cache.values()) bytes += x.data.byteLength;
  for (const [id, x] of cache) {
    if (bytes <= BUDGET || id === t.id) break;
    cache.delete(id);
    bytes -= x.data.byteLength;
  }
}

export function forget(id?: string): void {
  if (id === undefined) cache.clear();
  else cache.delete(id);
}
