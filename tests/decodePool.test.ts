/**
 * The decode pool's core (src/core/motors/decodePool.ts, behind the CLI's worker threads and the
 * page's workers) with in-process workers: a folder stacked through it equals one decoded slice by
 * slice; a worker that dies rejects what it had in flight with an error naming the file (no promise
 * left hanging) and the pool goes on with a new worker; close() rejects what is pending.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeGrayImage } from '../src/core/motors/decode';
import { answerDecode, createDecodePool, type DecodeReply, type DecodeRequest, type PoolWorker } from '../src/core/motors/decodePool';
import { stackSliceFiles } from '../src/core/motors/tomogram';

const DIR = resolve(import.meta.dirname, '../public/samples/tomograms/tomo_sim_002');
const names = readdirSync(DIR).filter((n) => n.endsWith('.jpg')).sort();
const bytesOf = (n: string) => new Uint8Array(readFileSync(join(DIR, n)));

/** A worker in this thread: answers on a later turn; `dies(name)` makes it fail on that file instead. */
function fakeWorkers(dies: (name: string) => boolean = () => false, readPath?: (path: string, name: string) => Uint8Array) {
  const made: { terminated: boolean }[] = [];
  const spawn = (): PoolWorker => {
    const me = { terminated: false };
    made.push(me);
    let reply: (r: DecodeReply) => void = () => undefined;
    let error: (e: Error) => void = () => undefined;
    return {
      post: (req: DecodeRequest) => {
        setTimeout(() => {
          if (me.terminated) return;
          if (dies(req.name)) error(new Error('out of memory'));
          else reply(answerDecode(req, readPath).reply);
        }, 1);
      },
      listen: (r, e) => {
        reply = r;
        error = e;
      },
      terminate: () => {
        me.terminated = true;
      },
    };
  };
  return { made, spawn };
}

const files = () => names.map((n) => ({ name: `tomo/${n}`, read: () => bytesOf(n) }));

describe('decode pool', () => {
  it('workers that read files themselves (the CLI\'s threads) get paths, not bytes, and may reuse one buffer: the same volume', async () => {
    // one buffer for every read, as src/cli/decodeWorker.ts does; a stale byte would change the volume
    let buffer = new Uint8Array(0);
    const paths: string[] = [];
    const readPath = (path: string) => {
      paths.push(path);
      const b = readFileSync(path);
      if (b.length > buffer.length) buffer = new Uint8Array(b.length * 2).fill(7);
      buffer.set(b);
      return buffer.subarray(0, b.length);
    };
    const w = fakeWorkers(() => false, readPath);
    const pool = createDecodePool(2, w.spawn, { readsPaths: true });
    let mainReads = 0;
    const onDisk = names.map((n) => ({ name: `tomo/${n}`, localPath: join(DIR, n), read: () => (mainReads++, bytesOf(n)) }));
    const a = await stackSliceFiles('tomo', onDisk, pool.decode, { concurrency: pool.concurrency, decodeInto: pool.decodeInto });
    const b = await stackSliceFiles('tomo', files(), decodeGrayImage);
    expect(Buffer.from(a.tomogram.data).equals(Buffer.from(b.tomogram.data))).toBe(true);
    expect(mainReads).toBe(1); // the first slice (it sets the volume's size); the rest by path in the workers
    expect(paths.length).toBe(names.length - 1);
    // a file the worker cannot read is named, as a bad input
    const gone = onDisk.map((f, i) => (i === 5 ? { ...f, localPath: join(DIR, 'missing.jpg') } : f));
    await expect(stackSliceFiles('tomo', gone, pool.decode, { concurrency: pool.concurrency, decodeInto: pool.decodeInto })).rejects.toThrow(/tomo: cannot decode '.*slice_0005\.jpg'.*ENOENT/);
    pool.close();
  });

  it('workers that read blobs themselves (the page\'s) get the File, not its bytes, and decode into spare slice buffers sent out and back: the same volume, no more slice buffers made than decodes in flight', async () => {
    const sent = { without: 0, withSpare: 0, intoSpare: 0 };
    const spawn = (): PoolWorker => {
      let reply: (r: DecodeReply) => void = () => undefined;
      return {
        post: (req, transfer) => {
          expect(req.bytes).toBeUndefined();
          // as postMessage does: the transferred spare is detached on this side
          const got = structuredClone({ ...req, blob: undefined }, { transfer });
          if (got.into) sent.withSpare++;
          else sent.without++;
          void req.blob!.arrayBuffer().then((ab) => {
            const { reply: r, transfer: t } = answerDecode({ ...got, bytes: new Uint8Array(ab) });
            if (got.into && 'gray' in r && r.gray.buffer === got.into.data.buffer) sent.intoSpare++;
            reply(structuredClone(r, { transfer: t }));
          });
        },
        listen: (r) => {
          reply = r;
        },
        terminate: () => undefined,
      };
    };
    const pool = createDecodePool(2, spawn, { readsBlobs: true });
    let mainReads = 0;
    const asBlobs = names.map((n) => ({ name: `tomo/${n}`, blob: new Blob([bytesOf(n)]), read: () => (mainReads++, bytesOf(n)) }));
    const a = await stackSliceFiles('tomo', asBlobs, pool.decode, { concurrency: pool.concurrency, decodeFile: pool.decodeFile });
    const b = await stackSliceFiles('tomo', files(), decodeGrayImage);
    expect(Buffer.from(a.tomogram.data).equals(Buffer.from(b.tomogram.data))).toBe(true);
    expect(mainReads).toBe(0);
    // a new slice buffer for the first slice and for each other decode first in flight; every later decode gets a spare back
    expect(names.length).toBeGreaterThan(2 * pool.concurrency);
    expect(sent.without).toBe(pool.concurrency);
    expect(sent.withSpare).toBe(names.length - pool.concurrency);
    expect(sent.intoSpare).toBe(sent.withSpare);
    // without readsBlobs the pool reads the bytes here and sends a copy
    const bytesPool = createDecodePool(1, fakeWorkers().spawn);
    const c = await stackSliceFiles('tomo', asBlobs, bytesPool.decode, { concurrency: 1, decodeFile: bytesPool.decodeFile });
    expect(Buffer.from(c.tomogram.data).equals(Buffer.from(b.tomogram.data))).toBe(true);
    expect(mainReads).toBe(names.length);
    pool.close();
    bytesPool.close();
  });

  it('answerDecode: a PNG or JPEG into a spare of its size comes back in the spare\'s memory; a spare of another size is left, the pixels come back as usual', () => {
    for (const path of ['tests/fixtures/motors/png_rgb.png', 'tests/fixtures/motors/slice_gray.jpg']) {
      const bytes = new Uint8Array(readFileSync(resolve(import.meta.dirname, '..', path)));
      const ref = decodeGrayImage(bytes, path);
      const spare = new Uint8Array(ref.width * ref.height).fill(7);
      const fit = answerDecode({ id: 1, bytes, name: path, into: { data: spare, offset: 0, width: ref.width, height: ref.height } });
      expect(fit.transfer).toEqual([spare.buffer]);
      expect('gray' in fit.reply && fit.reply.gray.buffer === spare.buffer && Buffer.from(fit.reply.gray).equals(Buffer.from(ref.gray))).toBe(true);
      const other = new Uint8Array(ref.width * (ref.height + 1));
      const miss = answerDecode({ id: 2, bytes, name: path, into: { data: other, offset: 0, width: ref.width, height: ref.height + 1 } });
      expect('gray' in miss.reply && miss.reply.gray.buffer !== other.buffer && Buffer.from(miss.reply.gray).equals(Buffer.from(ref.gray))).toBe(true);
    }
  });

  it('a folder stacked through the pool equals one decoded slice by slice', async () => {
    const w = fakeWorkers();
    const pool = createDecodePool(3, w.spawn);
    const done: number[] = [];
    const a = await stackSliceFiles('tomo', files(), pool.decode, { concurrency: pool.concurrency, onSlice: (d) => done.push(d) });
    const b = await stackSliceFiles('tomo', files(), decodeGrayImage);
    expect(a.tomogram.shape).toEqual(b.tomogram.shape);
    expect(Buffer.from(a.tomogram.data).equals(Buffer.from(b.tomogram.data))).toBe(true);
    expect(done).toEqual(names.map((_, i) => i + 1));
    expect(w.made.length).toBe(3);
    pool.close();
    expect(w.made.every((m) => m.terminated)).toBe(true);
  });

  it('a worker that dies rejects its decodes naming the file; the pool goes on', async () => {
    const w = fakeWorkers((n) => n.endsWith('slice_0005.jpg'));
    const pool = createDecodePool(2, w.spawn);
    await expect(stackSliceFiles('tomo', files(), pool.decode, { concurrency: pool.concurrency })).rejects.toThrow(
      /^tomo: cannot decode 'slice_0005\.jpg': slice_0005\.jpg: the decode worker stopped while decoding it \(out of memory\)/,
    );
    expect(w.made[0].terminated || w.made[1].terminated).toBe(true);
    // later decodes go to a live or a new worker
    const img = await pool.decode(bytesOf(names[1]), names[1]);
    expect(img.gray).toEqual(decodeGrayImage(bytesOf(names[1]), names[1]).gray);
    pool.close();
  });

  it('every decode in flight on a dead worker rejects (none hangs)', async () => {
    const w = fakeWorkers(() => true);
    const pool = createDecodePool(1, w.spawn);
    const all = await Promise.allSettled(names.slice(0, 6).map((n) => pool.decode(bytesOf(n), `tomo/${n}`)));
    expect(all.map((r) => r.status)).toEqual(Array(6).fill('rejected'));
    expect((all[0] as PromiseRejectedResult).reason.message).toMatch(/^slice_0000\.jpg: the decode worker stopped/);
  });

  it('a worker that cannot be made rejects naming the file', async () => {
    const pool = createDecodePool(2, () => {
      throw new Error('Worker is not defined');
    });
    await expect(pool.decode(bytesOf(names[0]), names[0])).rejects.toThrow(/^slice_0000\.jpg: no decode worker could start \(Worker is not defined\)/);
  });

  it('warm() starts every worker before any decode, and the decodes use those (none is started twice); a worker that cannot be made leaves warm() quiet and the decode says why', async () => {
    const w = fakeWorkers();
    const pool = createDecodePool(3, w.spawn);
    pool.warm();
    expect(w.made.length).toBe(3);
    pool.warm();
    expect(w.made.length).toBe(3);
    const a = await stackSliceFiles('tomo', files(), pool.decode, { concurrency: pool.concurrency });
    const b = await stackSliceFiles('tomo', files(), decodeGrayImage);
    expect(Buffer.from(a.tomogram.data).equals(Buffer.from(b.tomogram.data))).toBe(true);
    expect(w.made.length).toBe(3);
    pool.close();
    expect(w.made.every((m) => m.terminated)).toBe(true);

    const broken = createDecodePool(2, () => {
      throw new Error('Worker is not defined');
    });
    expect(() => broken.warm()).not.toThrow();
    await expect(broken.decode(bytesOf(names[0]), names[0])).rejects.toThrow(/no decode worker could start \(Worker is not defined\)/);
  });

  it('close() rejects what is pending', async () => {
    const pool = createDecodePool(1, fakeWorkers().spawn);
    const p = pool.decode(bytesOf(names[0]), names[0]);
    pool.close();
    await expect(p).rejects.toThrow('the decode pool was closed');
  });
});
