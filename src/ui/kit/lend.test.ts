/** Lending a large item to the worker for its run (src/ui/kit/lend.ts): which items, and what a read of one gets while and after it is lent. */
import { describe, expect, it } from 'vitest';
import { ItemCache, ReadQueue } from './cache';
import { LEND_BYTES, lendItem, lendable } from './lend';

const holders = () => ({ cache: new ItemCache<unknown>(() => 1), reads: new ReadQueue<unknown>() });
/** What ensureItem does first: the cache, then a pending read. */
const read = (h: ReturnType<typeof holders>, id: string): Promise<unknown> | unknown => h.cache.get(id) ?? h.reads.pending.get(id)?.promise;

describe('lendable', () => {
  it('lends the buffers of a large item once each, and copies small items or items without buffers', () => {
    const big = new ArrayBuffer(LEND_BYTES);
    expect(lendable([big, big])).toEqual([big]);
    expect(lendable([new ArrayBuffer(LEND_BYTES / 2), new ArrayBuffer(LEND_BYTES / 2)])?.length).toBe(2);
    expect(lendable([new ArrayBuffer(LEND_BYTES - 1)])).toBeNull();
    expect(lendable([])).toBeNull();
    expect(lendable(undefined)).toBeNull();
    expect(lendable([new ArrayBuffer(10)], 10)?.length).toBe(1);
  });
});

describe('lendItem', () => {
  it('takes the item out of the cache; a read waits for it and gets what came back, which is cached again', async () => {
    const h = holders();
    h.cache.set('a', { v: 1 });
    let readAgain = 0;
    const giveBack = lendItem(h, 'a', async () => (readAgain++, { v: 'read' }));
    expect(h.cache.has('a')).toBe(false);
    const waiting = read(h, 'a') as Promise<unknown>;
    expect(waiting).toBeInstanceOf(Promise);
    giveBack({ v: 2 });
    expect(await waiting).toEqual({ v: 2 });
    expect(h.cache.get('a')).toEqual({ v: 2 });
    expect(h.reads.pending.has('a')).toBe(false);
    giveBack(null); // a second give-back (the runner's finally) changes nothing
    expect(h.cache.get('a')).toEqual({ v: 2 });
    expect(readAgain).toBe(0);
  });

  it('an item that does not come back is read again for whoever waits for it, and only then', async () => {
    const h = holders();
    h.cache.set('a', { v: 1 });
    let readAgain = 0;
    const giveBack = lendItem(h, 'a', async () => (readAgain++, { v: 'read' }));
    const waiting = read(h, 'a') as Promise<unknown>;
    giveBack(null);
    expect(await waiting).toEqual({ v: 'read' });
    expect(readAgain).toBe(1);
    expect(h.reads.pending.has('a')).toBe(false);

    // nobody waits: nothing is read
    const h2 = holders();
    let again2 = 0;
    lendItem(h2, 'b', async () => (again2++, null))(null);
    await Promise.resolve();
    expect(again2).toBe(0);
    expect(read(h2, 'b')).toBeUndefined();
  });
});
