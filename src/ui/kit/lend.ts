/**
 * A large item lent to the worker for its run (issue 17): its buffers are transferred, not copied,
 * so that the page and the worker do not both hold a full copy of a tomogram while the worker
 * makes its resized one; the worker gives it back with the result (runPreset's `lend`).
 *
 * While it is lent the page's cache does not have it and `ensureItem` waits for it to come back
 * (a read entry stands in for it in the page's read queue): the view of the running item shows it
 * once the run ends, nothing reads a detached buffer. When it does not come back (the run failed or
 * was cancelled, the worker crashed or was restarted: its buffers are gone with the run), the entry
 * goes and whoever asks for it reads it again from its files (a re-run after a worker fault too).
 * Items under LEND_BYTES are copied as before: a second copy of those is cheap, and views that
 * share their buffers (a tomogram shown without decimation, under 96 Mi voxels: motors' display.ts;
 * a spectrogram drawn from its data) keep them.
 */
import type { ItemCache, PendingRead, ReadQueue } from './cache';

/** Items whose buffers weigh at least this are lent to the worker for their run instead of copied. */
export const LEND_BYTES = 128 * 2 ** 20;

/** The buffers to lend of an item (each once), or null when it is copied (no transferables, or smaller than `min`). */
export function lendable(buffers: readonly ArrayBuffer[] | undefined, min = LEND_BYTES): ArrayBuffer[] | null {
  const list = [...new Set(buffers ?? [])];
  const bytes = list.reduce((a, b) => a + b.byteLength, 0);
  return list.length > 0 && bytes >= min ? list : null;
}

/** The page's item stores, as the store holds them. */
export interface ItemHolders {
  cache: ItemCache<unknown>;
  reads: ReadQueue<unknown>;
}

/** A lent item: give it back with what the worker returned, or null when it is gone. */
export type GiveBack = (item: unknown) => void;

/**
 * Takes item `id` out of the page's cache while it is lent. Until `giveBack`, a read of it waits;
 * `giveBack(item)` caches what came back and answers the waiting reads with it, `giveBack(null)`
 * lets them read it again (`readAgain`, called only when something waits for it).
 */
export function lendItem(holders: ItemHolders, id: string, readAgain: () => Promise<unknown>): GiveBack {
  const { cache, reads } = holders;
  cache.delete(id);
  let back!: (item: unknown) => void;
  const returned = new Promise<unknown>((r) => (back = r));
  let answer: Promise<unknown> | null = null;
  const entry: PendingRead<unknown> = {
    readId: '',
    start: () => undefined,
    // made when someone first waits: an item that does not come back is read again only if it is wanted
    get promise() {
      answer ??= returned.then((item) => (item === null || item === undefined ? readAgain() : item));
      return answer as Promise<unknown>;
    },
  };
  reads.pending.set(id, entry);
  let done = false;
  return (item) => {
    if (done) return;
    done = true;
    if (reads.pending.get(id) === entry) reads.pending.delete(id);
    if (item !== null && item !== undefined && !cache.has(id)) cache.set(id, item);
    back(item ?? null);
  };
}
